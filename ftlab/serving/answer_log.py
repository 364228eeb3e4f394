"""The server's side of the request log (``ftlab serve --log FILE``): every answer appended as a record, and
feedback on an answer (``POST /v1/feedback``) checked and appended as its outcome.

A record's id is the response's id (``chatcmpl-...``, ``cmpl-...``), the one
thing a client holds that names an answer, so feedback needs nothing else.
Feedback that names no answer in the log is refused with 404 rather than
written where no analysis would ever join it.  Several processes (Ray Serve
replicas) append to one file and any of them may get the feedback, so an id
this process did not answer recently is looked up in the file.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections import OrderedDict
from pathlib import Path

from ftlab.ops.request_log import RequestLog, RequestRecord
from ftlab.serving.wire import ApiError, GenerationRequest, invalid

RECENT_IDS = 100_000  # ids of this process's latest answers, checked before the file is read
FEEDBACK_FIELDS = ("id", "score", "win")


def last_user_turn(messages: list[dict]) -> str:
    return next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")


class AnswerLog:
    """Appends the answers of one server process to ``path`` and records feedback on them."""

    def __init__(self, path: str | Path):
        self.log = RequestLog(path)
        self._recent: OrderedDict[str, None] = OrderedDict()

    @property
    def path(self) -> Path:
        return self.log.path

    def answered(self, request: GenerationRequest, rid: str, user: str, version: str, model: str,
                 experiment: str | None, text: str, prompt_tokens: int, answer_tokens: int, began: float) -> None:
        try:
            self.log.write(RequestRecord(
                user=user, version=version, prompt=last_user_turn(request.messages), answer=text,
                prompt_tokens=prompt_tokens, answer_tokens=answer_tokens,
                latency_s=round(time.monotonic() - began, 6), id=rid, model=model, experiment=experiment))
        except OSError as exc:  # the user still gets the answer; the operator is told what the log misses
            print(f"ftlab: request {rid} answered but not logged: cannot append to {self.path} ({exc}).",
                  file=sys.stderr, flush=True)
            return
        self._recent[rid] = None
        if len(self._recent) > RECENT_IDS:
            self._recent.popitem(last=False)

    def _in_file(self, rid: str) -> bool:
        needle = f'"id": "{rid}"'
        if not self.path.is_file():
            return False
        with self.path.open(encoding="utf-8", errors="replace") as lines:
            return any(needle in line for line in lines)

    async def feedback(self, body: dict) -> dict:
        """Append the outcome ``body`` gives for an answer; the reply's body."""
        rid, score, win = parse_feedback(body)
        if rid not in self._recent and not await asyncio.to_thread(self._in_file, rid):
            raise ApiError(404, f"No answer with id '{rid}' in this server's request log ({self.path}); send the "
                           "\"id\" of a response this server gave (feedback on a stream is taken once its last chunk "
                           "is sent).", "id", "answer_not_found")
        self.log.write_outcome(rid, score, win)
        return {"id": rid, "recorded": True}


def parse_feedback(body: dict) -> tuple[str, float | None, bool | None]:
    """(response id, score, win) from a feedback body, or the 400 that says what to send."""
    for name in body:
        if name not in FEEDBACK_FIELDS:
            raise invalid(f"Unrecognized feedback field: {name}; send 'id' with 'score', 'win' or both.", name,
                          "unknown_parameter")
    rid, score, win = body.get("id"), body.get("score"), body.get("win")
    if rid is None:
        raise invalid("'id' is required: the \"id\" of the response the feedback is about (e.g. chatcmpl-...).",
                      "id")
    if not isinstance(rid, str) or not rid:
        raise invalid(f"'id' must be a response's \"id\" (a non-empty string), got {rid!r}.", "id")
    if score is None and win is None:
        raise invalid("Feedback needs an outcome: 'score' (a number, higher is better), 'win' (true or false), or "
                      "both.")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float)) or
                              not math.isfinite(score)):
        raise invalid(f"'score' must be a finite number (higher is better), got {score!r}.", "score")
    if win is not None and not isinstance(win, bool):
        raise invalid(f"'win' must be true or false, got {win!r}.", "win")
    return rid, score, win
