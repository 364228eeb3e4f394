"""One model behind a bounded queue and one worker thread: how a runtime is served.

A runtime answers one prompt at a time (one model, one set of weights, greedy
decoding), so concurrent requests wait in a queue in arrival order and a
single thread feeds them to the model; the server's event loop never blocks
on a model.  The queue has a fixed size: when it is full a new request is
answered at once with 503 and the reason (how many wait, the limit, what to
change) instead of piling up without bound or being dropped.  Everything that
touches the runtime (rendering the prompt, counting its tokens, generating)
happens on the worker thread, because tokenizers are not safe to share
between threads.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

from ftlab.export.runtime import Runtime
from ftlab.serving.answer import Answer
from ftlab.serving.wire import ApiError, context_error

DEFAULT_QUEUE_SIZE = 64


def context_window(runtime: Any) -> int | None:
    """The most tokens (prompt and answer) the runtime's model takes, or None where it does not say."""
    config = getattr(getattr(runtime, "model", None), "config", None)
    for key in ("max_position_embeddings", "n_positions", "max_sequence_length"):
        if isinstance(getattr(config, key, None), int):
            return getattr(config, key)
    llm = getattr(runtime, "llm", None)  # llama.cpp (GGUF)
    return int(llm.n_ctx()) if llm is not None and hasattr(llm, "n_ctx") else None


class QueuedModel:
    """A runtime served under a model id: ``submit`` enqueues, the worker thread answers in order."""

    def __init__(self, runtime: Runtime, name: str, max_tokens: int, queue_size: int = DEFAULT_QUEUE_SIZE):
        self.runtime, self.name, self.max_tokens, self.queue_size = runtime, name, max_tokens, queue_size
        self.context = context_window(runtime)
        self._jobs: queue.Queue = queue.Queue(maxsize=queue_size)
        self._worker = threading.Thread(target=self._work, name=f"ftlab-serve {name}", daemon=True)
        self._worker.start()

    @property
    def waiting(self) -> int:
        return self._jobs.qsize()

    def submit(self, messages: list[dict], max_tokens: int | None) -> Answer:
        answer = Answer(asyncio.get_running_loop())
        try:
            self._jobs.put_nowait((messages, max_tokens, answer))
        except queue.Full:
            raise ApiError(503, f"The server is busy: {self.queue_size} requests are already waiting for "
                           f"'{self.name}' (the queue's limit, ftlab serve --queue-size). Retry shortly, or "
                           "serve with more replicas (--backend ray --replicas N).", code="server_busy",
                           kind="server_error") from None
        return answer

    def _budget(self, prompt_tokens: int, max_tokens: int | None) -> int:
        if self.context is not None and prompt_tokens + (max_tokens or 1) > self.context:
            raise context_error(self.context, prompt_tokens, max_tokens)
        if max_tokens is not None:
            return max_tokens
        room = self.context - prompt_tokens if self.context is not None else self.max_tokens
        return min(self.max_tokens, room)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            messages, max_tokens, answer = job
            try:
                prompt_tokens = len(self.runtime.encode(self.runtime.render(messages)))
                budget = self._budget(prompt_tokens, max_tokens)
                answer.start(prompt_tokens, budget)
                pieces = self.runtime.stream(messages, budget)
                while True:
                    try:
                        answer.piece(next(pieces))
                    except StopIteration as end:
                        generation = end.value
                        break
                answer.finish(generation.new_tokens, truncated=generation.new_tokens >= budget)
            except ApiError as error:
                answer.fail(error)
            except Exception as exc:  # noqa: BLE001 - the request gets a 500 that says what broke; the server goes on
                answer.fail(ApiError(500, f"The model '{self.name}' failed on this request: "
                                     f"{type(exc).__name__}: {exc}", kind="server_error", code="model_error"))

    def close(self) -> None:
        """Answer what is queued, then stop the worker and free the model."""
        self._jobs.put(None)
        self._worker.join()
        self.runtime.close()
