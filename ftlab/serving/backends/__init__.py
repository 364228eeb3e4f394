"""The registry of serving backends: where ``ftlab serve --backend NAME`` runs the app, one file per backend.

A backend takes the command's :class:`ftlab.serving.settings.ServeSettings`,
opens the models where they will answer (this process, or each Ray Serve
replica) and serves :func:`ftlab.serving.app.build_app` until SIGTERM or
Ctrl-C, then drains: no new connections, the requests in flight (streams
included) answered, the models closed, and ``run`` returns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ftlab.registry import Registry
from ftlab.serving.runtime_models import open_runtime_models
from ftlab.serving.settings import ServeSettings


@dataclass(frozen=True)
class Backend:
    name: str
    help: str
    run: Callable[[ServeSettings], None]
    # the served models by id (each with ``submit`` and ``close``), opened where they answer
    open_models: Callable[[ServeSettings], dict[str, Any]] = open_runtime_models
    # a reason this backend cannot run on this machine right now (a missing package, no GPU), or None
    unavailable: Callable[[], str | None] = lambda: None
    order: int = 100


BACKENDS: Registry[Backend] = Registry("serving backend", __name__, sort_key=lambda b: (b.order, b.name))
