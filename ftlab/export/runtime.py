"""A model as it will be served: chat prompts in, answers out, timed, in the artifact's own runtime.

Every export format opens its artifact as a :class:`Runtime`; a run directory
or a plain model folder opens as a transformers runtime.  The prompt goes in as
a dialogue and the runtime puts it through *its own* chat template: a broken
template in an export changes the answers here, which is how the export gate
and the quality re-check see it.

Besides answering, a runtime shows what the export gate compares with the
trained model (:mod:`ftlab.export.gate`): the prompt text its template renders,
its tokenizer (``encode`` / ``decode``), its end-of-turn token and the token ids
generation stops on.  A GGUF runtime answers these from the GGUF file's own
metadata and vocabulary, a transformers runtime from the artifact's tokenizer
and generation config, so the gate checks what a server would load.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
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

    def stream(self, messages: list[dict], max_new_tokens: int = 256) -> Generator[str, None, Generation]:
        """The same answer, piece by piece as it is generated; the generator returns the whole
        :class:`Generation` (its ``StopIteration.value``), so a caller that shows the pieces also gets the
        token count and time without generating twice."""

    def close(self) -> None:
        """Free the model (a runtime is not used after this)."""

    # What the export gate compares with the trained model:
    def render(self, messages: list[dict]) -> str:
        """The prompt text this runtime's chat template makes of a dialogue, the assistant turn opened."""

    def encode(self, text: str) -> list[int]:
        """Token ids of plain text (no special tokens added)."""

    def decode(self, ids: list[int]) -> str:
        """Text of token ids, special tokens kept."""

    @property
    def eos(self) -> tuple[int | None, str | None]:
        """(id, text) of the end-of-turn token the tokenizer declares."""

    @property
    def stop_token_ids(self) -> list[int]:
        """The token ids generation stops on as the artifact is configured (e.g. its generation config)."""


def _as_list(ids: Any) -> list[int]:
    if ids is None:
        return []
    return [int(i) for i in ids] if isinstance(ids, (list, tuple)) else [int(ids)]


class TransformersRuntime:
    """A transformers model and tokenizer; greedy decoding, one prompt at a time (as a server answers).

    Generation stops on the ids of the model's generation config (what ``model.generate`` and servers
    reading ``generation_config.json`` stop on) and on the tokenizer's end-of-turn token.
    """

    def __init__(self, model: Any, tokenizer: Any, name: str):
        self.model, self.tokenizer, self.name = model.eval(), tokenizer, name

    def render(self, messages: list[dict]) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    @property
    def eos(self) -> tuple[int | None, str | None]:
        return self.tokenizer.eos_token_id, self.tokenizer.eos_token

    @property
    def stop_token_ids(self) -> list[int]:
        config = getattr(self.model, "generation_config", None)
        return _as_list(getattr(config, "eos_token_id", None))

    def _inputs(self, messages: list[dict]):
        device = next(self.model.parameters()).device
        return self.tokenizer(self.render(messages), return_tensors="pt", add_special_tokens=False).to(device)

    def _settings(self, max_new_tokens: int) -> dict:
        stops = list(dict.fromkeys(self.stop_token_ids + _as_list(self.tokenizer.eos_token_id)))
        return {"max_new_tokens": max_new_tokens, "do_sample": False, "pad_token_id": self.tokenizer.pad_token_id,
                "eos_token_id": stops or None}

    def generate(self, messages: list[dict], max_new_tokens: int = 32) -> Generation:
        import torch

        inputs = self._inputs(messages)
        began = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(**inputs, **self._settings(max_new_tokens))
        seconds = time.perf_counter() - began
        new = out[0, inputs["input_ids"].shape[1]:]
        return Generation(self.tokenizer.decode(new, skip_special_tokens=True).strip(), int(new.numel()), seconds)

    def stream(self, messages: list[dict], max_new_tokens: int = 256) -> Generator[str, None, Generation]:
        import torch
        from transformers import TextIteratorStreamer

        inputs = self._inputs(messages)
        # transformers' streamer hands text on as soon as it cannot change: letters, digits, spaces and CJK at
        # once, runs of symbols at the next space (a byte-level token may be half a character).
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        done: dict = {}

        def run():
            try:
                with torch.inference_mode():
                    done["out"] = self.model.generate(**inputs, **self._settings(max_new_tokens), streamer=streamer)
            except Exception as exc:  # noqa: BLE001 - re-raised in the caller's thread; end() lets its loop end
                done["error"] = exc
                streamer.end()

        began = time.perf_counter()
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        pieces = []
        for piece in streamer:
            if piece:
                pieces.append(piece)
                yield piece
        worker.join()
        if "error" in done:
            raise done["error"]
        new_tokens = int(done["out"].shape[1] - inputs["input_ids"].shape[1])
        return Generation("".join(pieces).strip(), new_tokens, time.perf_counter() - began)

    def close(self) -> None:
        self.model = None
