"""A model as it will be served: chat prompts in, answers out, timed, in the artifact's own runtime.

Every export format opens its artifact as a :class:`Runtime`; a run directory
or a plain model folder opens as a transformers runtime.  The prompt goes in as
a dialogue and the runtime puts it through *its own* chat template: a broken
template in an export changes the answers here, which is how the export gate
and the quality re-check see it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass
class Generation:
    text: str  # the answer, stripped
    new_tokens: int  # tokens generated, end-of-turn included
    seconds: float  # wall time from the prompt to the last token

    @property
    def tokens_per_second(self) -> float:
        return self.new_tokens / self.seconds if self.seconds > 0 else 0.0


class Runtime(Protocol):
    name: str

    def generate(self, messages: list[dict], max_new_tokens: int = 32) -> Generation:
        """One greedy answer to a dialogue."""

    def stream(self, messages: list[dict], max_new_tokens: int = 256) -> Iterator[str]:
        """The same answer, piece by piece as it is generated."""

    def close(self) -> None:
        """Free the model (a runtime is not used after this)."""


class TransformersRuntime:
    """A transformers model and tokenizer; greedy decoding, one prompt at a time (as a server answers)."""

    def __init__(self, model: Any, tokenizer: Any, name: str):
        self.model, self.tokenizer, self.name = model.eval(), tokenizer, name

    def _inputs(self, messages: list[dict]):
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        device = next(self.model.parameters()).device
        return self.tokenizer(text, return_tensors="pt", add_special_tokens=False).to(device)

    def _settings(self, max_new_tokens: int) -> dict:
        return {"max_new_tokens": max_new_tokens, "do_sample": False, "pad_token_id": self.tokenizer.pad_token_id,
                "eos_token_id": self.tokenizer.eos_token_id}

    def generate(self, messages: list[dict], max_new_tokens: int = 32) -> Generation:
        import torch

        inputs = self._inputs(messages)
        began = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(**inputs, **self._settings(max_new_tokens))
        seconds = time.perf_counter() - began
        new = out[0, inputs["input_ids"].shape[1]:]
        return Generation(self.tokenizer.decode(new, skip_special_tokens=True).strip(), int(new.numel()), seconds)

    def stream(self, messages: list[dict], max_new_tokens: int = 256) -> Iterator[str]:
        import torch
        from transformers import TextIteratorStreamer

        inputs = self._inputs(messages)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)

        def run():
            with torch.inference_mode():
                self.model.generate(**inputs, **self._settings(max_new_tokens), streamer=streamer)

        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        yield from (piece for piece in streamer if piece)
        worker.join()

    def close(self) -> None:
        self.model = None
