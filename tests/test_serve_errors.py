"""Every wrong request to ftlab serve gets its 4xx status and exact message in OpenAI's error shape; a full queue
answers 503 with the reason and loses no request.  The app runs in-process (starlette's TestClient) on the
built-in model."""

import asyncio
import json
import threading
import time

import pytest
from starlette.testclient import TestClient

from ftlab.export.opening import open_runtime
from ftlab.serving.app import build_app
from ftlab.serving.model_queue import QueuedModel
from ftlab.serving.traffic import TrafficSplit
from ftlab.serving.wire import ApiError

MODEL = "ftlab/tiny-chat"
LIMIT = 64  # --max-tokens of these servers
CHAT, COMPLETIONS = "/v1/chat/completions", "/v1/completions"
HI = [{"role": "user", "content": "Repeat: apple"}]


@pytest.fixture(scope="module")
def runtime():
    opened = open_runtime(MODEL)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def client(runtime):
    app = build_app(lambda: {MODEL: TrafficSplit({MODEL: QueuedModel(runtime, MODEL, LIMIT)}, MODEL)}, LIMIT)
    with TestClient(app) as test_client:
        yield test_client


def chat(**fields):
    return {"model": MODEL, "messages": HI, **fields}


def _error(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


BAD_REQUESTS = [
    # (path, body, status, message, param, code)
    (CHAT, chat(model="gpt-4"), 404,
     "The model 'gpt-4' does not exist on this server; it serves: ftlab/tiny-chat.", "model", "model_not_found"),
    (COMPLETIONS, {"model": "gpt-4", "prompt": "hi"}, 404,
     "The model 'gpt-4' does not exist on this server; it serves: ftlab/tiny-chat.", "model", "model_not_found"),
    (CHAT, {"messages": HI}, 400,
     "'model' is required: name the model to answer, one of: ftlab/tiny-chat.", "model", None),
    (CHAT, chat(model=5), 400, "'model' must be a string, got 5.", "model", None),
    (CHAT, {"model": MODEL}, 400,
     "'messages' is required: a list of {\"role\": ..., \"content\": ...} turns.", "messages", None),
    (CHAT, chat(messages=[]), 400, "'messages' must be a non-empty list of turns, got [].", "messages", None),
    (CHAT, chat(messages=["hi"]), 400,
     "messages[0] must be an object with 'role' and 'content', got 'hi'.", "messages[0]", None),
    (CHAT, chat(messages=[{"role": "tool", "content": "42"}]), 400,
     "messages[0].role is 'tool'; this server takes system, user, assistant turns (no tool turns).",
     "messages[0].role", None),
    (CHAT, chat(messages=[{"role": "user", "content": 5}]), 400,
     "messages[0].content must be a string or a list of text parts, got 5.", "messages[0].content", None),
    (CHAT, chat(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]), 400,
     ("messages[0].content[0] has type 'image_url'; this server takes text parts only "
     '({"type": "text", "text": "..."}).'), "messages[0].content", None),
    (CHAT, chat(max_tokens=100), 400, ("'max_tokens' is 100, above this server's limit of 64 tokens per answer "
     "(ftlab serve --max-tokens); ask for fewer."), "max_tokens", None),
    (CHAT, chat(max_completion_tokens=65), 400, ("'max_completion_tokens' is 65, above this server's limit of 64 "
     "tokens per answer (ftlab serve --max-tokens); ask for fewer."), "max_completion_tokens", None),
    (CHAT, chat(max_tokens=0), 400, "'max_tokens' must be a whole number of at least 1, got 0.", "max_tokens", None),
    (CHAT, chat(max_tokens="10"), 400, "'max_tokens' must be a whole number of at least 1, got '10'.",
     "max_tokens", None),
    (CHAT, chat(temperature="hot"), 400, "'temperature' must be a number from 0 to 2, got 'hot'.", "temperature",
     None),
    (CHAT, chat(temperature=2.5), 400, "'temperature' must be a number from 0 to 2, got 2.5.", "temperature", None),
    (CHAT, chat(top_p=1.5), 400, "'top_p' must be a number from 0 to 1, got 1.5.", "top_p", None),
    (CHAT, chat(top_p=True), 400, "'top_p' must be a number from 0 to 1, got True.", "top_p", None),
    (CHAT, chat(frequency_penalty=3), 400, "'frequency_penalty' must be a number from -2 to 2, got 3.",
     "frequency_penalty", None),
    (CHAT, chat(n=0), 400, "'n' must be a whole number of at least 1, got 0.", "n", None),
    (CHAT, chat(n=2), 400, ("n=2 is not supported: this server decodes greedily, so every choice would be the same "
     "answer; ask for n=1 (or leave it out)."), "n", "unsupported_parameter"),
    (CHAT, chat(stop=5), 400, "'stop' must be a non-empty string or a list of non-empty strings, got 5.", "stop",
     None),
    (CHAT, chat(stop=["a", ""]), 400,
     "'stop' must be a non-empty string or a list of non-empty strings, got ['a', ''].", "stop", None),
    (CHAT, chat(stop=list("abcde")), 400, "'stop' holds 5 sequences; at most 4 are allowed.", "stop", None),
    (CHAT, chat(stream="yes"), 400, "'stream' must be true or false, got 'yes'.", "stream", None),
    (CHAT, chat(stream_options={"include_usage": True}), 400,
     "'stream_options' is only allowed when 'stream' is true.", "stream_options", None),
    (CHAT, chat(stream=True, stream_options={"include_usage": "yes"}), 400,
     "'stream_options' must be an object like {\"include_usage\": true}, got {'include_usage': 'yes'}.",
     "stream_options", None),
    (CHAT, chat(tools=[{"type": "function", "function": {"name": "f"}}]), 400,
     "'tools' (tool calling) is not supported by this server; remove the field.", "tools", "unsupported_parameter"),
    (CHAT, chat(logprobs=True), 400, ("'logprobs' (log-probabilities) is not supported by this server; remove the "
     "field."), "logprobs", "unsupported_parameter"),
    (CHAT, chat(response_format={"type": "json_object"}), 400, ("'response_format' (structured output) is not "
     "supported by this server; remove the field."), "response_format", "unsupported_parameter"),
    (CHAT, chat(foo=1), 400, "Unrecognized request argument supplied: foo", "foo", "unknown_parameter"),
    (COMPLETIONS, {"model": MODEL}, 400, "'prompt' is required: the text to answer.", "prompt", None),
    (COMPLETIONS, {"model": MODEL, "prompt": [1, 2, 3]}, 400,
     "'prompt' must be a string (token ids are not supported), got [1, 2, 3].", "prompt", None),
    (COMPLETIONS, {"model": MODEL, "prompt": ["a", "b"]}, 400, ("'prompt' holds 2 prompts; this server answers one "
     "prompt per request: send them as separate requests."), "prompt", "unsupported_parameter"),
    (COMPLETIONS, {"model": MODEL, "prompt": "hi", "echo": True}, 400,
     "'echo' (echoing the prompt) is not supported by this server; remove the field.", "echo",
     "unsupported_parameter"),
    (COMPLETIONS, {"model": MODEL, "prompt": "hi", "messages": HI}, 400,
     "Unrecognized request argument supplied: messages", "messages", "unknown_parameter"),
]


@pytest.mark.parametrize("path, body, status, message, param, code", BAD_REQUESTS,
                         ids=[f"{p.split('/')[-1]}-{m[:40]}" for p, _, _, m, _, _ in BAD_REQUESTS])
def test_a_bad_request_gets_its_status_and_exact_message(client, path, body, status, message, param, code):
    error = _error(client.post(path, json=body), status)
    assert error == {"message": message, "type": "invalid_request_error", "param": param, "code": code}


def test_malformed_json_and_a_non_object_body_are_400(client):
    error = _error(client.post(CHAT, content=b'{"model": ', headers={"content-type": "application/json"}), 400)
    assert error["message"] == ("The request body is not valid JSON (Expecting value: line 1 column 11 (char 10)); "
                                'send a JSON object such as {"model": "...", "messages": [{"role": "user", '
                                '"content": "Hi"}]}.')
    error = _error(client.post(CHAT, json=[chat()]), 400)
    assert error["message"] == "The request body must be a JSON object, not a JSON list."


def test_unknown_routes_and_methods_answer_in_the_error_shape(client):
    for response, status in ((client.get("/v1/engines"), 404), (client.get(CHAT), 405)):
        error = _error(response, status)
        assert error["message"].startswith(f"No route GET {response.request.url.path}; this server answers GET "
                                           "/v1/models, POST /v1/chat/completions")


def test_too_many_tokens_for_the_context_window_is_400_with_the_counts(client, runtime):
    context = runtime.model.config.max_position_embeddings
    messages = [{"role": "user", "content": "x" * 200}]
    prompt_tokens = len(runtime.encode(runtime.render(messages)))
    assert prompt_tokens + LIMIT > context > prompt_tokens
    for stream in (False, True):  # a stream's error comes before its first byte, as a status
        error = _error(client.post(CHAT, json=chat(messages=messages, max_tokens=LIMIT, stream=stream)), 400)
        assert error == {"message": f"This model's maximum context length is {context} tokens. However, you "
                         f"requested {prompt_tokens + LIMIT} tokens ({prompt_tokens} in the messages, {LIMIT} in the "
                         "completion). Please reduce the length of the messages or completion.",
                         "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}
    long = [{"role": "user", "content": "x" * 300}]
    error = _error(client.post(CHAT, json=chat(messages=long)), 400)
    assert error["message"] == (f"This model's maximum context length is {context} tokens, and the prompt alone has "
                                f"{len(runtime.encode(runtime.render(long)))} tokens; shorten the messages.")
    # without max_tokens the answer gets the room left in the context, up to the server's limit
    room = [{"role": "user", "content": "x" * 220}]
    reply = client.post(CHAT, json=chat(messages=room)).json()
    assert reply["usage"]["prompt_tokens"] + reply["usage"]["completion_tokens"] <= context


def test_accepted_sampling_fields_change_nothing_in_a_greedy_server(client, runtime):
    plain = client.post(CHAT, json=chat(max_tokens=20)).json()
    sent = client.post(CHAT, json=chat(max_tokens=20, temperature=0.7, top_p=0.9, seed=3, n=1, user="u1",
                                       presence_penalty=0.5, response_format={"type": "text"}, tool_choice="none",
                                       messages=[{"role": "developer", "content": "Be brief."}, *HI])).json()
    expected = runtime.generate([{"role": "system", "content": "Be brief."}, *HI], 20).text
    assert plain["choices"][0]["message"]["content"] == "apple"
    assert sent["choices"][0]["message"]["content"] == expected


class GatedRuntime:
    """The built-in model's runtime, held at the start of each answer until the test opens the gate."""

    def __init__(self, runtime):
        self.runtime, self.gate, self.entered = runtime, threading.Event(), threading.Event()

    def __getattr__(self, name):
        return getattr(self.runtime, name)

    def stream(self, messages, max_new_tokens=256):
        self.entered.set()
        self.gate.wait(30)
        return (yield from self.runtime.stream(messages, max_new_tokens))

    def close(self):
        pass


def test_a_full_queue_answers_503_with_the_reason_and_every_queued_request_is_answered(runtime):
    gated = GatedRuntime(runtime)
    model = QueuedModel(gated, MODEL, LIMIT, queue_size=1)
    with TestClient(build_app(lambda: {MODEL: TrafficSplit({MODEL: model}, MODEL)}, LIMIT)) as client:
        replies = []
        senders = [threading.Thread(target=lambda: replies.append(client.post(CHAT, json=chat(max_tokens=20))))
                   for _ in range(2)]
        senders[0].start()
        assert gated.entered.wait(30)  # the first request holds the model...
        senders[1].start()
        deadline = time.monotonic() + 30
        while model.waiting < 1 and time.monotonic() < deadline:  # ...and the second waits in the queue
            time.sleep(0.01)
        refused = client.post(CHAT, json=chat(max_tokens=20))
        error = _error(refused, 503)
        assert refused.headers["retry-after"] == "1"
        assert error == {"message": "The server is busy: 1 requests are already waiting for 'ftlab/tiny-chat' (the "
                         "queue's limit, ftlab serve --queue-size). Retry shortly, or serve with more replicas "
                         "(--backend ray --replicas N).", "type": "server_error", "param": None, "code": "server_busy"}
        health = client.get("/health").json()
        assert health["models"] == {MODEL: {"waiting": 1, "versions": [MODEL]}}
        assert health["in_flight"] == 2 and "log" not in health  # the refused request is not in flight
        gated.gate.set()
        for sender in senders:
            sender.join(60)
        assert client.get("/health").json()["in_flight"] == 0
    assert [r.status_code for r in replies] == [200, 200]
    assert [r.json()["choices"][0]["message"]["content"] for r in replies] == ["apple", "apple"]


def test_a_model_failure_is_a_500_for_that_request_and_the_next_one_is_answered(runtime):
    class FailingOnce(GatedRuntime):
        def stream(self, messages, max_new_tokens=256):
            if not self.entered.is_set():
                self.entered.set()
                raise RuntimeError("out of memory")
            return (yield from self.runtime.stream(messages, max_new_tokens))

    model = QueuedModel(FailingOnce(runtime), MODEL, LIMIT)

    async def ask():
        answers = [model.submit(HI, 20) for _ in range(2)]
        results = []
        for answer in answers:
            await answer.started()
            try:
                results.append("".join([piece async for piece in answer.pieces()]))
            except ApiError as error:
                results.append((error.status, error.message))
        return results

    assert asyncio.run(ask()) == [(500, ("The model 'ftlab/tiny-chat' failed on this request: RuntimeError: out of "
                                        "memory")), "apple"]
    model.close()


def test_the_error_body_is_what_openai_clients_read(client):
    from openai import BadRequestError, OpenAI

    openai = OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=client, max_retries=0)
    with pytest.raises(BadRequestError) as raised:
        openai.chat.completions.create(model=MODEL, messages=HI, max_tokens=100)
    assert raised.value.status_code == 400 and raised.value.param == "max_tokens"
    assert json.loads(raised.value.response.text)["error"]["message"].startswith("'max_tokens' is 100")


def test_a_stop_sequence_split_across_streamed_pieces_is_held_back_and_cut():
    from ftlab.serving.answer import StopCutter

    cutter = StopCutter(["</s>", "##"])
    out = [cutter.feed(piece) for piece in ["ab", "c<", "/", "s>tail", "more"]]
    assert out == ["ab", "c", "", "", ""] and cutter.stopped and cutter.flush() == ""
    cutter = StopCutter(["</s>"])
    out = [cutter.feed(piece) for piece in ["x<", "/y", "z<"]]
    assert out == ["x", "</y", "z"] and not cutter.stopped and cutter.flush() == "<"  # a false start is given back
