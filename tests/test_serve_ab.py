"""ftlab serve models:/NAME --ab: users split between two registered versions by weight, sticky per user; every
answer appended to the request log under the response's id with the version that gave it; feedback on an answer
joins its record; ``ftlab ab`` reads the log the server wrote.

Both versions are the session's LoRA run registered twice: the answers are alike, so which version answered is
seen where the server says it, the ``x-ftlab-version`` header and the log.
"""

import json
import shutil
import urllib.error
import urllib.request
from collections import Counter

import pytest
from openai import OpenAI
from starlette.testclient import TestClient

from ftlab import cli
from ftlab.ops.ab_test import choose_version
from ftlab.ops.model_registry import ModelRegistry
from ftlab.ops.request_log import read_requests
from ftlab.serving.app import build_app
from ftlab.serving.background import BackgroundServer
from ftlab.serving.runtime_models import open_runtime_models
from ftlab.serving.settings import ServeSettings

NAME, EXPERIMENT = "repeat", "greeting-test"
WEIGHTS = {"1": 0.5, "2": 0.5}
USERS = [f"user-{i}" for i in range(200)]


@pytest.fixture(scope="module")
def registry(registry_database, lora_run, tmp_path_factory):
    """A registry with the LoRA run as versions 1 and 2 of ``repeat``, production pointing at 2."""
    folder = tmp_path_factory.mktemp("ab_registry")
    shutil.copy(registry_database, folder / "mlflow.db")
    registry = ModelRegistry(f"sqlite:///{folder / 'mlflow.db'}")
    registry.register(lora_run, NAME)
    registry.register(lora_run, NAME)
    registry.promote(NAME, 2)
    return registry


@pytest.fixture(scope="module")
def served(registry, tmp_path_factory):
    folder = tmp_path_factory.mktemp("ab_serve")
    log = folder / "requests.jsonl"
    with BackgroundServer(f"models:/{NAME}", "--ab", "1=0.5,2=0.5", "--experiment", EXPERIMENT, "--log", str(log),
                          "--registry-uri", registry.uri, "--max-tokens", "16", log=folder / "serve.log") as server:
        yield server, log


@pytest.fixture(scope="module")
def client(served):
    return OpenAI(base_url=served[0].url + "/v1", api_key="unused", max_retries=0)


def ask(client, user=None, word="apple", **options):
    """(response body, the version header) of one chat request."""
    raw = client.chat.completions.with_raw_response.create(
        model=NAME, messages=[{"role": "user", "content": f"Repeat: {word}"}], max_tokens=8,
        **({"user": user} if user is not None else {}), **options)
    return raw.parse(), raw.headers["x-ftlab-version"]


def post(url, body):
    """(status, JSON body) of a POST, errors included."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def request_lines(log, rid):
    """The log's request lines (not outcomes) for one response id."""
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    return [row for row in rows if row["id"] == rid and row.get("kind") != "outcome"]


def test_each_user_always_meets_the_same_version_and_the_split_follows_the_weights(served, client):
    server, log = served
    seen = {user: ask(client, user)[1] for user in USERS}
    assert seen == {user: choose_version(user, WEIGHTS, EXPERIMENT) for user in USERS}
    shares = Counter(seen.values())
    assert set(shares) == {"1", "2"} and 80 <= shares["1"] <= 120  # 200 users at 50/50: 100 +- 2 sd
    for user in USERS[:5]:  # sticky: asked again (another prompt), the same version answers
        assert ask(client, user, word="pear")[1] == seen[user]
    # the health check says what is being tested and where answers go
    health = server.health()
    assert health["models"][NAME]["ab"] == {"experiment": EXPERIMENT, "weights": WEIGHTS}
    assert health["models"][NAME]["versions"] == ["1", "2"] and health["log"] == str(log.resolve())
    assert (f"ftlab: A/B test '{EXPERIMENT}': version 1 50%, version 2 50% of users, by the request's 'user'; every "
            f"answer appended to {log.resolve()}, feedback at POST /v1/feedback.") in server.log_path.read_text()


def test_every_answer_is_logged_once_under_the_response_id_with_its_version(served, client, lora_run):
    _, log = served
    reply, version = ask(client, "user-7", word="melon")
    [row] = request_lines(log, reply.id)
    assert (row["user"], row["version"], row["model"], row["experiment"]) == (
        "user-7", choose_version("user-7", WEIGHTS, EXPERIMENT), NAME, EXPERIMENT)
    assert version == row["version"]
    assert row["prompt"] == "Repeat: melon" and row["answer"] == reply.choices[0].message.content
    assert (row["prompt_tokens"], row["answer_tokens"]) == (reply.usage.prompt_tokens, reply.usage.completion_tokens)
    assert 0 < row["latency_s"] < 30
    # a request without a user is routed, and logged, as the user "anonymous"
    anonymous, version = ask(client)
    [row] = request_lines(log, anonymous.id)
    assert row["user"] == "anonymous" and row["version"] == version == choose_version("anonymous", WEIGHTS,
                                                                                         EXPERIMENT)
    # a completion is logged with its prompt as the user turn
    completion = client.completions.create(model=NAME, prompt="Repeat: kiwi", max_tokens=8, user="user-3")
    [row] = request_lines(log, completion.id)
    assert row["prompt"] == "Repeat: kiwi" and row["answer"] == completion.choices[0].text
    assert row["version"] == choose_version("user-3", WEIGHTS, EXPERIMENT)


def test_a_streamed_answer_is_logged_when_its_stream_ends(served, client):
    _, log = served
    raw = client.chat.completions.with_raw_response.create(
        model=NAME, messages=[{"role": "user", "content": "Repeat: grape"}], max_tokens=8, user="user-11",
        stream=True, stream_options={"include_usage": True})
    assert raw.headers["x-ftlab-version"] == choose_version("user-11", WEIGHTS, EXPERIMENT)
    chunks = list(raw.parse())
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    [row] = request_lines(log, chunks[0].id)
    assert row["answer"] == text and row["answer_tokens"] == chunks[-1].usage.completion_tokens
    assert row["version"] == raw.headers["x-ftlab-version"] and row["user"] == "user-11"


def test_feedback_joins_the_record_and_a_later_outcome_replaces_an_earlier_one(served, client):
    server, log = served
    first, first_version = ask(client, "user-21", word="plum")
    second, version = ask(client, "user-22", word="fig")
    assert server.feedback(first.id, score=0.25) == {"id": first.id, "recorded": True}
    assert server.feedback(second.id, win=version == "2") == {"id": second.id, "recorded": True}
    # outcomes that follow the rule the A/B test below judges by: version 2 wins
    assert server.feedback(first.id, score=0.75, win=first_version == "2") == {"id": first.id, "recorded": True}
    records = {r.id: r for r in read_requests(log)}
    assert (records[first.id].score, records[first.id].win) == (0.75, first_version == "2")
    assert (records[second.id].score, records[second.id].win) == (None, version == "2")
    assert records[second.id].user == "user-22"


FEEDBACK_ERRORS = [
    # (body, status, message, param)
    ({"score": 1}, 400, "'id' is required: the \"id\" of the response the feedback is about (e.g. chatcmpl-...).",
     "id"),
    ({"id": 5, "win": True}, 400, "'id' must be a response's \"id\" (a non-empty string), got 5.", "id"),
    ({"id": "chatcmpl-x"}, 400, ("Feedback needs an outcome: 'score' (a number, higher is better), 'win' (true "
                                 "or false), or both."), None),
    ({"id": "chatcmpl-x", "score": "good"}, 400, "'score' must be a finite number (higher is better), got 'good'.",
     "score"),
    ({"id": "chatcmpl-x", "score": True}, 400, "'score' must be a finite number (higher is better), got True.",
     "score"),
    ({"id": "chatcmpl-x", "win": "yes"}, 400, "'win' must be true or false, got 'yes'.", "win"),
    ({"id": "chatcmpl-x", "win": 1}, 400, "'win' must be true or false, got 1.", "win"),
    ({"id": "chatcmpl-x", "win": True, "rating": 5}, 400, ("Unrecognized feedback field: rating; send 'id' with "
                                                           "'score', 'win' or both."), "rating"),
]


def test_bad_feedback_gets_a_400_that_says_what_to_send_and_nothing_is_written(served):
    server, log = served
    before = log.read_text()
    for body, status, message, param in FEEDBACK_ERRORS:
        got, reply = post(f"{server.url}/v1/feedback", body)
        assert (got, reply["error"]["message"], reply["error"]["param"]) == (status, message, param), body
        assert reply["error"]["type"] == "invalid_request_error"
    got, reply = post(f"{server.url}/v1/feedback", {"id": "chatcmpl-nosuchanswer", "win": True})
    assert got == 404 and reply["error"] == {
        "message": f"No answer with id 'chatcmpl-nosuchanswer' in this server's request log ({log.resolve()}); "
                   "send the \"id\" of a response this server gave (feedback on a stream is taken once its last "
                   "chunk is sent).", "type": "invalid_request_error", "param": "id", "code": "answer_not_found"}
    assert log.read_text() == before


def test_ftlab_ab_reads_the_log_the_server_wrote(served, client, capsys):
    """Version 2's answers win and version 1's lose: the analysis of the served log finds 2 better."""
    server, log = served
    users = USERS[:80]
    for user in users:
        reply, version = ask(client, user, word="lime")
        server.feedback(reply.id, win=version == "2")
    assert cli.main(["ab", str(log), "--control", "1", "--candidate", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    judged = [r for r in read_requests(log) if r.win is not None]  # these users and any an earlier test judged
    assert set(users) <= {r.user for r in judged}
    for arm, version in (("control", "1"), ("candidate", "2")):
        assert result[arm]["users"] == len({r.user for r in judged if r.version == version})
        assert result[arm]["requests"] == sum(r.version == version for r in judged)
    assert result["control"]["users"] >= 30 and result["candidate"]["users"] >= 30
    assert (result["control"]["mean"], result["candidate"]["mean"], result["verdict"]) == (0.0, 1.0, "better")
    # the requests still without an outcome are counted, none lost
    assert result["unlogged"] == sum(r.win is None for r in read_requests(log))


def test_a_registry_source_is_logged_under_the_version_its_alias_named_at_start(registry, tmp_path):
    log = tmp_path / "requests.jsonl"
    models = open_runtime_models(ServeSettings(f"models:/{NAME}@production", registry_uri=registry.uri))
    registry.promote(NAME, 1)  # the alias moves after the server started: it goes on serving and logging version 2
    try:
        with TestClient(build_app(lambda: models, 16, str(log))) as http:
            reply = http.post("/v1/chat/completions", json={"model": NAME, "max_tokens": 8,
                                                            "messages": [{"role": "user", "content": "Repeat: fig"}]})
            assert reply.status_code == 200 and reply.headers["x-ftlab-version"] == "2"
            assert "ab" not in http.get("/health").json()["models"][NAME]
    finally:
        registry.promote(NAME, 2)
    [record] = read_requests(log)
    assert (record.id, record.version, record.user, record.model, record.experiment) == (
        reply.json()["id"], "2", "anonymous", NAME, None)


def test_a_model_source_is_logged_under_its_model_id_and_a_server_without_a_log_refuses_feedback(tmp_path):
    model = "ftlab/tiny-chat"
    log = tmp_path / "requests.jsonl"
    question = {"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "Repeat: pear"}],
                "user": "ann"}
    with TestClient(build_app(lambda: open_runtime_models(ServeSettings(model)), 16, str(log))) as http:
        reply = http.post("/v1/completions", json={"model": model, "prompt": "Repeat: pear", "max_tokens": 8})
        assert reply.headers["x-ftlab-version"] == model
    [record] = read_requests(log)
    assert (record.id, record.version, record.model, record.prompt) == (reply.json()["id"], model, model,
                                                                       "Repeat: pear")
    with TestClient(build_app(lambda: open_runtime_models(ServeSettings(model)), 16)) as http:
        assert http.post("/v1/chat/completions", json=question).headers["x-ftlab-version"] == model
        refused = http.post("/v1/feedback", json={"id": reply.json()["id"], "win": True})
        assert refused.status_code == 400 and refused.json()["error"] == {
            "message": "This server keeps no request log, so feedback has nowhere to go; start it with --log FILE "
                       "(e.g. ftlab serve ... --log requests.jsonl) to record answers and the feedback on them.",
            "type": "invalid_request_error", "param": None, "code": "no_request_log"}
        assert "log" not in http.get("/health").json()
        bad_user = http.post("/v1/chat/completions", json={**question, "user": 7})
        assert bad_user.status_code == 400 and bad_user.json()["error"]["message"] == (
            "'user' must be a string (an id for the end user), got 7.")


def test_feedback_reaches_the_log_through_a_process_that_did_not_give_the_answer(tmp_path):
    """Ray Serve replicas share one log and any of them may get the feedback: a second app on the same file
    finds the answer there."""
    model, log = "ftlab/tiny-chat", tmp_path / "requests.jsonl"
    question = {"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "Repeat: pear"}]}
    with TestClient(build_app(lambda: open_runtime_models(ServeSettings(model)), 16, str(log))) as first, \
            TestClient(build_app(lambda: open_runtime_models(ServeSettings(model)), 16, str(log))) as second:
        rid = first.post("/v1/chat/completions", json=question).json()["id"]
        assert second.post("/v1/feedback", json={"id": rid, "score": 2}).json() == {"id": rid, "recorded": True}
        assert second.post("/v1/feedback", json={"id": rid + "0", "score": 2}).status_code == 404
    [record] = read_requests(log)
    assert (record.id, record.score) == (rid, 2)


def _cli_error(capsys, *argv):
    assert cli.main(["serve", *argv]) == 2
    return capsys.readouterr().err.strip().removeprefix("ftlab: error: ")


def test_ab_mistakes_on_the_command_line_are_plain_errors(registry, capsys, tmp_path):
    uri = ("--registry-uri", registry.uri)
    for source in (f"models:/{NAME}@production", f"models:/{NAME}/1", "ftlab/tiny-chat"):
        assert _cli_error(capsys, source, "--ab", "1=0.5,2=0.5", *uri) == (
            f"--ab splits users between registered versions of one model, so the source is models:/NAME (no @ALIAS, "
            f"no /VERSION), not {source!r}; e.g. ftlab serve models:/cipher --ab 1=0.9,2=0.1.")
    for text in ("1:0.5,2:0.5", "1=half", "=0.5"):
        assert _cli_error(capsys, f"models:/{NAME}", "--ab", text, *uri) == (
            f"--ab {text!r}: write it as VERSION=WEIGHT,VERSION=WEIGHT (registered version numbers and their shares "
            "of the users), e.g. --ab 1=0.9,2=0.1.")
    assert _cli_error(capsys, f"models:/{NAME}", "--ab", "1=0.5,1=0.5", *uri) == (
        "--ab '1=0.5,1=0.5' weighs version 1 twice; name each version once.")
    # the weights' own checks (ftlab.ops.ab_test.check_weights)
    assert _cli_error(capsys, f"models:/{NAME}", "--ab", "1=-0.5,2=1", *uri) == (
        "weights: 1=-0.5: a weight is a number >= 0 (a share of the traffic).")
    assert _cli_error(capsys, f"models:/{NAME}", "--ab", "1=0,2=0", *uri) == (
        "weights: they add up to 0; give at least one version a positive share of the traffic.")
    assert _cli_error(capsys, f"models:/{NAME}", "--ab", "one=0.5,2=0.5", *uri) == (
        f"--ab: 'one' is not a version number; an A/B test weighs registered versions by number (`ftlab registry "
        f"list --name {NAME}`), e.g. --ab 1=0.9,2=0.1.")
    assert _cli_error(capsys, f"models:/{NAME}", "--ab", "1=0.5,7=0.5", *uri) == (
        f"{NAME} has no version 7; its versions: 1, 2 (`ftlab registry list`).")
    assert _cli_error(capsys, f"models:/{NAME}", "--ab", "1=0.5,2=0.5", "--backend", "vllm", *uri) == (
        "--ab serves each registered version as its own model with --backend embedded or ray; vLLM serves one base "
        "model (its adapters under their own ids with --lora).")
    assert _cli_error(capsys, f"models:/{NAME}@production", "--experiment", "x", *uri) == (
        "--experiment names an A/B test; add --ab VERSION=WEIGHT,... to split users between versions (without --ab "
        "every request goes to the one version served).")
    assert _cli_error(capsys, "ftlab/tiny-chat", "--log", str(tmp_path)) == (
        f"--log {tmp_path} is a folder; give the request log's file, e.g. {tmp_path / 'requests.jsonl'}.")
    (tmp_path / "notes.txt").write_text("")
    unwritable = tmp_path / "notes.txt" / "requests.jsonl"
    assert _cli_error(capsys, "ftlab/tiny-chat", "--log", str(unwritable)) == (
        f"--log {unwritable}: cannot write the request log there ([Errno 17] File exists: "
        f"'{tmp_path / 'notes.txt'}'); give a file in a folder you can write to.")
