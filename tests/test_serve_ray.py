"""ftlab serve --backend ray: two Ray Serve replicas on this CPU, each its own process with its own copy of the
model, answering the official OpenAI client with the runtime's answers; SIGTERM during a stream lets it finish
and the command exits 0; an A/B test's settings reach both replicas, which route and log alike.

Starting a local Ray cluster takes about a minute on two busy cores; select with ``-m ray``, leave out with
``-m "not ray"``."""

import threading

import pytest
from openai import NotFoundError, OpenAI

from ftlab.export.opening import open_runtime
from ftlab.serving.backends.ray_serve import unavailable

MODEL = "ftlab/tiny-chat"
LONG = [{"role": "user", "content": "Repeat: " + "abcdefghijklmnopqrstuvwxyz" * 3}]  # answered to the context end
pytestmark = [pytest.mark.ray, pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))]


def test_two_replicas_answer_as_the_runtime_does_and_stop_cleanly(tmp_path):
    from ftlab.serving.background import BackgroundServer

    runtime = open_runtime(MODEL)
    prompts = [f"Repeat: {w}" for w in ("apple", "pear", "kiwi", "plum", "fig", "lime", "melon", "grape")]
    expected = {p: runtime.generate([{"role": "user", "content": p}], 30).text for p in prompts}
    room = runtime.model.config.max_position_embeddings - len(runtime.encode(runtime.render(LONG)))
    expected_long = runtime.generate(LONG, room).text
    runtime.close()
    server = BackgroundServer(MODEL, "--backend", "ray", "--replicas", "2", log=tmp_path / "serve.log")
    server.start(timeout=300)
    try:
        replicas = {server.health()["pid"] for _ in range(30)}
        assert len(replicas) == 2  # Ray's proxy spreads requests over two replica processes
        client = OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
        assert [m.id for m in client.models.list().data] == [MODEL]
        answers = {}

        def ask(prompt):
            reply = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompt}],
                                                   max_tokens=30)
            answers[prompt] = reply.choices[0].message.content

        threads = [threading.Thread(target=ask, args=(p,)) for p in prompts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert answers == expected
        streamed = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": prompts[0]}],
                                                  max_tokens=30, stream=True, stream_options={"include_usage": True})
        chunks = list(streamed)
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected[prompts[0]]
        assert chunks[-1].usage.completion_tokens == 6
        with pytest.raises(NotFoundError) as raised:  # the app's own errors come through Ray's proxy unchanged
            client.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "hi"}])
        assert raised.value.body["message"] == ("The model 'gpt-4' does not exist on this server; it serves: "
                                                "ftlab/tiny-chat.")
        # SIGTERM while a stream is going: Ray Serve shuts down after the replica has answered it
        pieces, first = [], threading.Event()

        def stream_long():
            for chunk in client.chat.completions.create(model=MODEL, messages=LONG, stream=True):
                pieces.append(chunk.choices[0].delta.content or "" if chunk.choices else "")
                first.set()

        streaming = threading.Thread(target=stream_long)
        streaming.start()
        assert first.wait(60)
        server.terminate()
        streaming.join(120)
        assert "".join(pieces) == expected_long
    finally:
        assert server.stop(timeout=180) == 0


def test_an_ab_test_on_two_replicas_routes_each_user_alike_and_logs_every_answer_once(
        registry_database, lora_run, tmp_path):
    """The settings travel to the replicas: both route a user to the same version and append to one log."""
    import shutil
    from collections import Counter

    from ftlab.ops.ab_test import choose_version
    from ftlab.ops.model_registry import ModelRegistry
    from ftlab.ops.request_log import read_requests
    from ftlab.serving.background import BackgroundServer

    shutil.copy(registry_database, tmp_path / "mlflow.db")
    registry = ModelRegistry(f"sqlite:///{tmp_path / 'mlflow.db'}")
    registry.register(lora_run, "repeat")
    registry.register(lora_run, "repeat")
    log, weights = tmp_path / "requests.jsonl", {"1": 0.3, "2": 0.7}
    server = BackgroundServer("models:/repeat", "--backend", "ray", "--replicas", "2", "--ab", "1=0.3,2=0.7",
                              "--log", str(log), "--registry-uri", registry.uri, log=tmp_path / "serve.log")
    server.start(timeout=300)
    try:
        seen = {}
        for _ in range(30):
            health = server.health()
            seen[health["pid"]] = health["models"]["repeat"]["ab"]
        assert len(seen) == 2 and all(ab == {"experiment": "repeat", "weights": weights} for ab in seen.values())
        client = OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
        users = [f"user-{i}" for i in range(12)] * 2  # each user twice: the two requests may meet different replicas
        answered = []
        for user in users:
            raw = client.chat.completions.with_raw_response.create(
                model="repeat", messages=[{"role": "user", "content": "Repeat: apple"}], max_tokens=8, user=user)
            answered.append((user, raw.headers["x-ftlab-version"], raw.parse().id))
        assert all(version == choose_version(user, weights, "repeat") for user, version, _ in answered)
        for _, version, rid in answered:  # whichever replica takes the feedback finds the answer in the log
            assert server.feedback(rid, win=version == "2") == {"id": rid, "recorded": True}
    finally:
        assert server.stop(timeout=180) == 0
    records = read_requests(log)
    assert Counter(r.id for r in records) == Counter(rid for _, _, rid in answered)  # each once
    assert {r.id: (r.user, r.version, r.win) for r in records} == {
        rid: (user, version, version == "2") for user, version, rid in answered}
