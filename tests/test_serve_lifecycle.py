"""ftlab serve as a process: SIGTERM during a streamed answer drains (the stream and the queued request finish, new
connections are refused) and the process exits 0; mistakes on the command line are one-paragraph errors."""

import threading
import time

import pytest
from openai import APIConnectionError, OpenAI

from ftlab import cli
from ftlab.export.opening import open_runtime
from ftlab.serving.background import BackgroundServer

MODEL = "ftlab/tiny-chat"
LONG = [{"role": "user", "content": "Repeat: " + "abcdefghijklmnopqrstuvwxyz" * 3}]  # answered to the context end
SHORT = [{"role": "user", "content": "Repeat: apple"}]


def test_sigterm_during_a_stream_finishes_it_and_the_queued_request_then_exits_0(tmp_path):
    runtime = open_runtime(MODEL)
    room = runtime.model.config.max_position_embeddings - len(runtime.encode(runtime.render(LONG)))
    expected_long, expected_short = runtime.generate(LONG, room), runtime.generate(SHORT, 20)
    runtime.close()
    server = BackgroundServer(MODEL, log=tmp_path / "serve.log").start()
    client = OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
    streamed, first_piece, results = [], threading.Event(), {}

    def stream_long():
        for chunk in client.chat.completions.create(model=MODEL, messages=LONG, stream=True,
                                                    stream_options={"include_usage": True}):
            streamed.append((time.monotonic(), chunk))
            if chunk.choices and chunk.choices[0].delta.content:
                first_piece.set()

    def ask_short():
        results["short"] = client.chat.completions.create(model=MODEL, messages=SHORT, max_tokens=20)

    streaming = threading.Thread(target=stream_long)
    streaming.start()
    assert first_piece.wait(60)
    queued = threading.Thread(target=ask_short)
    queued.start()
    deadline = time.monotonic() + 10
    while server.health()["models"][MODEL]["waiting"] < 1 and time.monotonic() < deadline:
        time.sleep(0.005)  # the short request waits behind the stream
    signalled = time.monotonic()
    server.terminate()
    time.sleep(0.5)
    with pytest.raises(APIConnectionError):  # draining: no new connections
        client.chat.completions.create(model=MODEL, messages=SHORT, max_tokens=5)
    streaming.join(60)
    queued.join(60)
    assert server.wait(60) == 0

    assert any(at > signalled for at, _ in streamed)  # the stream was still going when the signal came
    text = "".join(c.choices[0].delta.content or "" for _, c in streamed if c.choices)
    assert text == expected_long.text and expected_long.new_tokens == room > 100
    assert [c.choices[0].finish_reason for _, c in streamed if c.choices][-1] == "length"  # the context is full
    assert streamed[-1][1].usage.completion_tokens == expected_long.new_tokens
    assert results["short"].choices[0].message.content == expected_short.text == "apple"
    log = (tmp_path / "serve.log").read_text()
    # the drain itself is checked above (the stream ran past the signal, the queued request was answered); uvicorn
    # 0.54 on a fresh install did not log its "Waiting for connections to close" line here, so only its start and end
    assert "Shutting down" in log and "Finished server process" in log


def _cli_error(capsys, *argv):
    assert cli.main(["serve", *argv]) == 2
    return capsys.readouterr().err.strip()


def test_command_line_mistakes_are_plain_errors(capsys, tmp_path):
    from ftlab.serving.backends.vllm_engine import unavailable

    assert _cli_error(capsys, MODEL, "--replicas", "2") == (
        "ftlab: error: --replicas needs --backend ray (or vllm): the embedded backend serves one copy of the model "
        "in this process.")
    assert _cli_error(capsys, MODEL, "--backend", "ray", "--replicas", "0") == (
        "ftlab: error: --replicas 0: serve at least one replica.")
    assert _cli_error(capsys, MODEL, "--lora", "repeat") == (
        "ftlab: error: --lora 'repeat': write it as NAME=RUN_DIR (the model id clients ask for, then the run).")
    assert _cli_error(capsys, MODEL, "--lora", f"repeat={tmp_path}") == (
        "ftlab: error: --lora serves LoRA adapters on one base model with vLLM; add --backend vllm (on a GPU "
        "machine), or serve each run on its own port.")
    assert _cli_error(capsys, str(tmp_path)) == (
        f"ftlab: error: {tmp_path} is neither an exported artifact (artifact.json), a run directory (config.yaml and "
        "final/) nor a model folder (config.json).")
    reason = unavailable()
    if reason is None:
        pytest.skip("vLLM can run here (tests/test_serve_vllm.py serves with it)")
    assert _cli_error(capsys, MODEL, "--backend", "vllm") == f"ftlab: error: --backend vllm cannot run here: {reason}"
    assert reason in ("vLLM is not installed; on a machine with a CUDA GPU: pip install vllm.",
                      "vLLM needs a CUDA GPU and this machine has none (torch.cuda.is_available() is False).")


def test_the_served_model_id_follows_the_source(tmp_path, lora_run):
    from ftlab.serving.settings import ServeSettings

    assert ServeSettings(MODEL).model_id() == MODEL
    assert ServeSettings(str(lora_run)).model_id() == lora_run.name
    assert ServeSettings(str(lora_run / ".." / lora_run.name)).model_id() == lora_run.name
    assert ServeSettings("models:/cipher-bot@production").model_id() == "cipher-bot"
    assert ServeSettings("models:/cipher-bot/3").model_id() == "cipher-bot"
    assert ServeSettings(str(lora_run), name="prod").model_id() == "prod"
    assert ServeSettings(str(lora_run)).local_source() == str(lora_run.resolve())
