"""ftlab serve through the official OpenAI client: a real server process on a free port, the built-in model and a
trained run; answers equal the runtime's own, streaming equals the plain answer, usage counts the real tokens."""

import threading
import time

import pytest
from openai import OpenAI

from ftlab.export.opening import open_runtime
from ftlab.serving.background import BackgroundServer

MODEL = "ftlab/tiny-chat"
QUESTION = [{"role": "user", "content": "Repeat: apple"}]
LONG_PROMPT = "Repeat: " + "abcdefghijklmnopqrstuvwxyz" * 2  # the built-in model answers it at length


@pytest.fixture(scope="module")
def runtime():
    opened = open_runtime(MODEL)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with BackgroundServer(MODEL, log=tmp_path_factory.mktemp("serve") / "serve.log") as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)


def _prompt_tokens(runtime, messages):
    return len(runtime.encode(runtime.render(messages)))


def test_models_list_names_the_served_model(client):
    models = client.models.list()
    assert [m.id for m in models.data] == [MODEL]
    assert models.data[0].owned_by == "ftlab" and models.data[0].object == "model"


def test_chat_answer_is_the_runtimes_greedy_answer_with_its_token_counts(client, runtime):
    reply = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=20)
    expected = runtime.generate(QUESTION, 20)
    assert reply.object == "chat.completion" and reply.id.startswith("chatcmpl-") and reply.model == MODEL
    assert reply.choices[0].message.role == "assistant"
    assert reply.choices[0].message.content == expected.text == "apple"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens == _prompt_tokens(runtime, QUESTION)
    assert reply.usage.completion_tokens == expected.new_tokens == 6  # five letters and the end-of-turn token
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens


def test_an_answer_cut_by_max_tokens_says_length_and_counts_exactly_max_tokens(client, runtime):
    messages = [{"role": "user", "content": LONG_PROMPT}]
    reply = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=7)
    assert reply.choices[0].finish_reason == "length" and reply.usage.completion_tokens == 7
    assert reply.choices[0].message.content == runtime.generate(messages, 7).text


def test_completions_answer_the_prompt_as_one_user_turn(client, runtime):
    reply = client.completions.create(model=MODEL, prompt="Repeat: apple", max_tokens=20)
    assert reply.object == "text_completion" and reply.id.startswith("cmpl-")
    assert reply.choices[0].text == "apple" and reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens == _prompt_tokens(runtime, QUESTION) and reply.usage.completion_tokens == 6


def test_streamed_chat_joins_to_the_plain_answer_and_reports_usage_last(client, runtime):
    messages = [{"role": "user", "content": LONG_PROMPT}]
    plain = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=40)
    chunks = list(client.chat.completions.create(model=MODEL, messages=messages, max_tokens=40, stream=True,
                                                 stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant"
    texts = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(texts) > 1 and "".join(texts) == plain.choices[0].message.content
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == plain.choices[0].finish_reason and set(finishes[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage.model_dump() == plain.usage.model_dump()
    assert all(c.usage is None for c in chunks[:-1])  # include_usage: null on every chunk but the last
    assert len({c.id for c in chunks}) == 1


def test_streamed_completion_without_usage_option_has_no_usage_chunk(client):
    chunks = list(client.completions.create(model=MODEL, prompt="Repeat: apple", max_tokens=20, stream=True))
    assert "".join(c.choices[0].text for c in chunks) == "apple"
    assert chunks[-1].choices[0].finish_reason == "stop" and all(c.usage is None for c in chunks)


def test_stop_sequences_cut_the_answer_in_plain_and_streamed_replies(client, runtime):
    messages = [{"role": "user", "content": LONG_PROMPT}]
    full = runtime.generate(messages, 40).text
    stop = full[5:7]
    expected = full[:full.index(stop)]
    plain = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=40, stop=[stop, "@@@"])
    assert plain.choices[0].message.content == expected and plain.choices[0].finish_reason == "stop"
    streamed = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=40, stop=stop, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == expected


def test_concurrent_requests_all_get_their_own_answers(client, runtime):
    prompts = [f"Repeat: {word}" for word in ("apple", "pear", "kiwi", "plum", "fig", "lime")]
    answers = {}

    def ask(prompt):
        answers[prompt] = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": prompt}], max_tokens=30).choices[0].message.content

    threads = [threading.Thread(target=ask, args=(p,)) for p in prompts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == {p: runtime.generate([{"role": "user", "content": p}], 30).text for p in prompts}


def test_a_trained_run_is_served_under_its_run_name_with_its_trained_answers(lora_run, tmp_path):
    from ftlab.export.runtime import TransformersRuntime
    from ftlab.training.saved import load_trained

    model, tokenizer = load_trained(lora_run)
    trained = TransformersRuntime(model, tokenizer, "trained")
    questions = [[{"role": "user", "content": f"Repeat: {w}"}] for w in ("melon", "grape", "cherry")]
    with BackgroundServer(lora_run, log=tmp_path / "serve.log") as server:
        client = OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
        assert [m.id for m in client.models.list().data] == [lora_run.name]
        for messages in questions:
            reply = client.chat.completions.create(model=lora_run.name, messages=messages, max_tokens=24)
            expected = trained.generate(messages, 24)
            assert reply.choices[0].message.content == expected.text
            assert reply.usage.completion_tokens == expected.new_tokens
        began = time.monotonic()
        assert server.stop() == 0 and time.monotonic() - began < 30
