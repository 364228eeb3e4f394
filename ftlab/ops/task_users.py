"""Simulated users that talk to a running ``ftlab serve`` over HTTP: they ask a built-in task's held-out questions,
check each answer against the task's reference, and send the outcome back (``POST /v1/feedback``).

Where :mod:`ftlab.ops.simulate` writes request logs with win rates chosen in
advance, these users measure the served versions themselves: a win is an
exactly right answer, so an A/B test on their traffic compares what the two
models really do.  They speak plain HTTP with the standard library (a client
of the OpenAI API needs nothing more; :func:`ftlab.serving.background.post_json`), several at a time as real
users would.
"""

from __future__ import annotations

import urllib.error
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ftlab.errors import FtlabError


@dataclass
class Exchange:
    """One question a simulated user asked and what came back."""

    user: str
    question: str
    reference: str
    answer: str
    version: str  # the x-ftlab-version header: which version answered
    id: str  # the response id, which the request log records
    win: bool


def _post(url: str, body: dict, timeout: float) -> tuple[dict, dict]:
    from ftlab.serving.background import post_json

    try:
        return post_json(url, body, timeout)
    except urllib.error.HTTPError as error:
        raise FtlabError(f"POST {url} answered {error.code}: {error.read().decode(errors='replace')}") from None


def ask(base_url: str, model: str, user: str, question: str, reference: str, feedback: bool = True,
        max_tokens: int = 32, timeout: float = 60) -> Exchange:
    """One chat request as ``user``; with ``feedback``, the outcome (exactly right or not) is sent back."""
    body = {"model": model, "messages": [{"role": "user", "content": question}], "max_tokens": max_tokens,
            "user": user}
    reply, headers = _post(f"{base_url}/v1/chat/completions", body, timeout)
    answer = reply["choices"][0]["message"]["content"].strip()
    win = answer == reference.strip()
    if feedback:
        _post(f"{base_url}/v1/feedback", {"id": reply["id"], "win": win}, timeout)
    version = {k.lower(): v for k, v in headers.items()}.get("x-ftlab-version", model)
    return Exchange(user, question, reference, answer, version, reply["id"], win)


def task_questions(task: str, n: int, seed: int = 0, split: str = "test") -> list[tuple[str, str]]:
    """(question, reference) pairs from a built-in task's held-out split."""
    from ftlab.data.tasks import build_splits

    records = build_splits(task, seed=seed, n_train=1, n_validation=n if split == "validation" else 0,
                           n_test=n if split == "test" else 0)[split]
    return [(r.messages[-2]["content"], r.messages[-1]["content"]) for r in records]


def run_users(base_url: str, model: str, questions: list[tuple[str, str]], users: int, per_user: int = 2,
              feedback: bool = True, concurrency: int = 4, prefix: str = "user") -> list[Exchange]:
    """``users`` users (``user-0``...) asking ``per_user`` questions each, taken in turn from ``questions``,
    ``concurrency`` users at a time."""
    if not questions:
        raise FtlabError("run_users needs at least one (question, reference) pair to ask.")
    jobs = [(f"{prefix}-{u}", *questions[(u * per_user + k) % len(questions)])
            for u in range(users) for k in range(per_user)]
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(lambda job: ask(base_url, model, *job, feedback=feedback), jobs))
