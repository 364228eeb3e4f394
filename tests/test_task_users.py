"""Simulated users against a real ftlab serve: they ask a task's held-out questions, judge each answer against the
reference, and their outcomes reach the server's request log."""

import pytest

from ftlab.errors import FtlabError
from ftlab.export.opening import open_runtime
from ftlab.ops.request_log import read_requests
from ftlab.ops.task_users import ask, run_users, task_questions
from ftlab.serving.background import BackgroundServer

MODEL = "ftlab/tiny-chat"


def test_task_questions_are_the_task_held_out_prompts_with_their_references():
    questions = task_questions("cipher", 5)
    assert len(questions) == 5 and len(set(questions)) == 5
    for question, reference in questions:
        word = question.removeprefix("Encrypt with the shift-3 cipher: ")
        assert reference == "".join(chr((ord(c) - 97 + 3) % 26 + 97) for c in word)


def test_users_get_the_model_answers_and_their_outcomes_are_logged(tmp_path):
    runtime = open_runtime(MODEL)
    questions = [("Repeat: apple", "apple"), ("Repeat: kiwi", "pear")]  # the second reference is wrong on purpose
    expected = [runtime.generate([{"role": "user", "content": q}], 32).text for q, _ in questions]
    runtime.close()
    log = tmp_path / "requests.jsonl"
    with BackgroundServer(MODEL, "--log", str(log), log=tmp_path / "serve.log") as server:
        exchanges = run_users(server.url, MODEL, questions, users=3, per_user=2, concurrency=2)
        with pytest.raises(FtlabError, match=r"POST http://127.0.0.1:\d+/v1/chat/completions answered 404: "):
            ask(server.url, "no-such-model", "u", "Repeat: apple", "apple")
    assert [(e.user, e.question) for e in exchanges] == [
        (f"user-{u}", questions[(2 * u + k) % 2][0]) for u in range(3) for k in range(2)]
    for exchange in exchanges:
        index = [q for q, _ in questions].index(exchange.question)
        assert exchange.answer == expected[index]
        assert exchange.win == (expected[index] == questions[index][1])
    records = {r.id: r for r in read_requests(log)}
    assert set(records) == {e.id for e in exchanges}  # every answer logged once, under the response id
    assert all(records[e.id].win == e.win and records[e.id].user == e.user for e in exchanges)


def test_users_need_questions():
    with pytest.raises(FtlabError, match="run_users needs at least one"):
        run_users("http://127.0.0.1:9", "m", [], users=1)
