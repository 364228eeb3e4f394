"""What the prompt methods share: the setting they read and the virtual tokens they add to every sequence."""

from __future__ import annotations

from typing import Any

PROMPT_SETTINGS = ("num_virtual_tokens",)


def virtual_tokens(settings: Any) -> int:
    return settings.num_virtual_tokens
