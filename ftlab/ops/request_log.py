"""The request log: one JSON line per answered request, and outcome lines that arrive later.

A server appends a :class:`RequestRecord` when it has answered (time, user,
the version that answered, prompt and answer with their token counts,
latency).  How good the answer was is often known only later (a user's
thumbs-up, a judge, a task check), so an outcome may be written in the same
line or appended afterwards as ``{"kind": "outcome", "id": ..., "score": ...,
"win": ...}``; :func:`read_requests` joins them, a later outcome replacing an
earlier one.  The A/B analysis (:mod:`ftlab.ops.ab_test`) and the drift
summary (:mod:`ftlab.ops.drift`) read nothing else.

Lines are appended under a lock with one write each (:func:`ftlab.files.append_jsonl`):
threads of one server never interleave, and a killed writer leaves at most one
torn last line, which the reader skips.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ftlab.errors import FtlabError
from ftlab.files import append_jsonl, read_jsonl

OUTCOME = "outcome"
REQUIRED = ("time", "user", "version", "prompt", "answer")


@dataclass
class RequestRecord:
    """One answered request.

    ``version`` is what answered (a registry version such as ``"2"``, or any
    label); ``model`` the registered name or model label; ``experiment`` the
    A/B test that routed it, if any.  ``score`` (higher is better) and ``win``
    (the answer did what the user wanted) are outcomes, None until known.
    """

    user: str
    version: str
    prompt: str
    answer: str
    prompt_tokens: int = 0
    answer_tokens: int = 0
    latency_s: float = 0.0
    time: float = field(default_factory=time.time)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    model: str | None = None
    experiment: str | None = None
    score: float | None = None
    win: bool | None = None

    def outcome(self, metric: str) -> float | None:
        """The outcome ``metric`` ("win" or "score") as a number, None when not known."""
        value = self.win if metric == "win" else self.score
        return None if value is None else float(value)


_FIELDS = {f.name for f in fields(RequestRecord)}


class RequestLog:
    """Appends records and outcomes to one JSON-lines file (created with its folder on first write)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def write(self, record: RequestRecord) -> RequestRecord:
        self._append(asdict(record))
        return record

    def write_outcome(self, request_id: str, score: float | None = None, win: bool | None = None) -> None:
        """An outcome known after the answer, for the request with id ``request_id``."""
        if score is None and win is None:
            raise FtlabError(f"outcome for request {request_id}: give a score, a win, or both.")
        self._append({"kind": OUTCOME, "id": request_id, "time": time.time(),
                      **({"score": float(score)} if score is not None else {}),
                      **({"win": bool(win)} if win is not None else {})})

    def _append(self, row: dict) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            append_jsonl(self.path, row)

    def read(self) -> list[RequestRecord]:
        return read_requests(self.path)


def read_requests(path: str | Path) -> list[RequestRecord]:
    """The records of a request log in time order, each with its latest outcome."""
    path = Path(path)
    if not path.is_file():
        raise FtlabError(f"{path}: no request log here; a server writes one with `ftlab serve ... --log FILE`, "
                         "or write one with ftlab.ops.request_log.RequestLog.")
    records: dict[str, RequestRecord] = {}
    outcomes: list[dict] = []
    for line, row in enumerate(read_jsonl(path), 1):
        if row.get("kind") == OUTCOME:
            outcomes.append(row)
            continue
        missing = [name for name in REQUIRED if name not in row]
        if missing:
            raise FtlabError(f"{path}: record {line} has no {', '.join(map(repr, missing))}; every request line "
                             f"needs {', '.join(REQUIRED)} (see ftlab.ops.request_log.RequestRecord).")
        record = RequestRecord(**{k: v for k, v in row.items() if k in _FIELDS})
        record.user, record.version = str(record.user), str(record.version)
        records[record.id] = record
    for row in outcomes:
        record = records.get(row.get("id"))
        if record is None:
            continue  # the outcome of a request logged elsewhere (another server's log)
        if "score" in row:
            record.score = row["score"]
        if "win" in row:
            record.win = row["win"]
    return sorted(records.values(), key=lambda r: r.time)
