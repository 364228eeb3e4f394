"""One request's answer as it is produced: filled by whoever runs the model, read by the HTTP handler.

A model runs in a thread of its own (a runtime) or in an engine's own loop
(vLLM); the handler runs on the server's event loop.  An :class:`Answer` is
the hand-over between them: the producer calls :meth:`start`, :meth:`piece`
and :meth:`finish` (or :meth:`fail`) from any thread, and the handler awaits
:meth:`started` (the prompt's token count, or the request's 4xx error, before
any byte of the response is sent) and then iterates :meth:`pieces`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from ftlab.serving.wire import ApiError


class Answer:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self._loop = loop
        self._events: asyncio.Queue = asyncio.Queue()
        self.prompt_tokens = 0
        self.completion_tokens = 0  # tokens generated, end-of-turn included (as the model spent them)
        self.budget = 0  # the most tokens this answer was allowed
        self.truncated = False  # generation stopped at the budget, not at an end-of-turn token

    # producer side: safe from any thread
    def _put(self, event: tuple) -> None:
        self._loop.call_soon_threadsafe(self._events.put_nowait, event)

    def start(self, prompt_tokens: int, budget: int) -> None:
        self._put(("start", prompt_tokens, budget))

    def piece(self, text: str) -> None:
        self._put(("piece", text))

    def finish(self, completion_tokens: int, truncated: bool) -> None:
        self._put(("done", completion_tokens, truncated))

    def fail(self, error: ApiError) -> None:
        self._put(("error", error))

    # consumer side: on the event loop
    async def started(self) -> None:
        event = await self._events.get()
        if event[0] == "error":
            raise event[1]
        _, self.prompt_tokens, self.budget = event

    async def pieces(self) -> AsyncIterator[str]:
        while True:
            event = await self._events.get()
            if event[0] == "piece":
                yield event[1]
            elif event[0] == "done":
                _, self.completion_tokens, self.truncated = event
                return
            else:
                raise event[1]


class StopCutter:
    """Cuts streamed text at the first stop sequence, holding back a tail that may be a stop's beginning."""

    def __init__(self, stops: list[str]):
        self.stops, self.stopped, self._held = stops, False, ""

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        text = self._held + piece
        found = [i for i in (text.find(s) for s in self.stops) if i >= 0]
        if found:
            self.stopped, self._held = True, ""
            return text[:min(found)]
        keep = max((k for s in self.stops for k in range(1, len(s)) if text.endswith(s[:k])), default=0)
        self._held = text[len(text) - keep:] if keep else ""
        return text[:len(text) - keep]

    def flush(self) -> str:
        held, self._held = self._held, ""
        return "" if self.stopped else held
