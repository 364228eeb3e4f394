"""ftlab serve --backend ray: two Ray Serve replicas on this CPU, each its own process with its own copy of the
model, answering the official OpenAI client with the runtime's answers; SIGTERM during a stream lets it finish
and the command exits 0.

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
