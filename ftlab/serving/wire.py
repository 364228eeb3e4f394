"""The OpenAI wire format: requests checked into dataclasses, responses and stream chunks built as dicts.

Official OpenAI clients must work against ``ftlab serve`` unchanged, and a
wrong request must come back as the 4xx answer OpenAI itself gives, in its
error shape ``{"error": {"message", "type", "param", "code"}}``, with a
message that names the field and says what to send instead.  Everything a
request may hold is checked here, before any model work, so a bad request
never reaches a queue.

The server decodes greedily (the runtimes' decoding): ``temperature``,
``top_p`` and ``seed`` are checked and accepted so that clients that always
send them work, and ``n`` above 1 is refused because every choice would be the
same.  Features the runtimes cannot give (tools, log-probabilities, logit
bias, JSON mode, echo, several prompts in one request) are refused by name.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

MAX_STOP_SEQUENCES = 4
ROLES = ("system", "user", "assistant")

# Fields OpenAI defines that this server cannot honour; each refused with what it would need.
UNSUPPORTED = {
    "tools": "tool calling", "tool_choice": "tool calling", "functions": "function calling",
    "function_call": "function calling", "parallel_tool_calls": "tool calling", "logprobs": "log-probabilities",
    "top_logprobs": "log-probabilities", "logit_bias": "logit bias", "response_format": "structured output",
    "audio": "audio output", "modalities": "audio output", "prediction": "predicted outputs",
    "echo": "echoing the prompt", "suffix": "a suffix (fill-in-the-middle)", "best_of": "best_of",
    "web_search_options": "web search",
}
# Accepted and without effect here: a greedy decoder has no randomness to seed or penalise.
ACCEPTED = {"temperature", "top_p", "seed", "user", "presence_penalty", "frequency_penalty", "metadata", "store",
            "service_tier", "reasoning_effort"}
COMMON = {"model", "max_tokens", "n", "stop", "stream", "stream_options"} | ACCEPTED
CHAT_FIELDS = COMMON | {"messages", "max_completion_tokens"}
COMPLETION_FIELDS = COMMON | {"prompt"}


class ApiError(Exception):
    """A request the server answers with an error status, in OpenAI's shape."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.kind = status, message, param, code, kind

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}}


def invalid(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, param, code)


@dataclass
class GenerationRequest:
    """What a chat or completion request asks the model for, checked."""

    model: str
    messages: list[dict]  # a completion's prompt is one user turn: ftlab's runtimes answer dialogues
    max_tokens: int | None  # None: up to the server's limit and the context window
    stop: list[str] = field(default_factory=list)
    stream: bool = False
    include_usage: bool = False
    chat: bool = True
    user: str | None = None  # who asks: what an A/B test routes by, and what the request log records


def parse_json(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise invalid(f"The request body is not valid JSON ({exc}); send a JSON object such as "
                      '{"model": "...", "messages": [{"role": "user", "content": "Hi"}]}.') from None
    if not isinstance(body, dict):
        raise invalid(f"The request body must be a JSON object, not a JSON {type(body).__name__}.")
    return body


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _asks_for(name: str, value) -> bool:
    """Whether an unsupported field's value asks for the feature (clients may send its "off" value)."""
    off = value is None or value is False or value == {} or value == [] or (name == "best_of" and value == 1) or \
        (name == "tool_choice" and value == "none") or (name == "logprobs" and value == 0) or \
        (name == "response_format" and isinstance(value, dict) and value.get("type") == "text")
    return not off


def _check_fields(body: dict, allowed: set[str]) -> None:
    for name, value in body.items():
        if name in UNSUPPORTED and _asks_for(name, value):
            raise invalid(f"'{name}' ({UNSUPPORTED[name]}) is not supported by this server; remove the field.",
                          name, "unsupported_parameter")
        if name not in allowed and name not in UNSUPPORTED:
            raise invalid(f"Unrecognized request argument supplied: {name}", name, "unknown_parameter")


def _check_sampling(body: dict) -> None:
    temperature, top_p = body.get("temperature"), body.get("top_p")
    if temperature is not None and (not _is_number(temperature) or not 0 <= temperature <= 2):
        raise invalid(f"'temperature' must be a number from 0 to 2, got {temperature!r}.", "temperature")
    if top_p is not None and (not _is_number(top_p) or not 0 <= top_p <= 1):
        raise invalid(f"'top_p' must be a number from 0 to 1, got {top_p!r}.", "top_p")
    for name in ("presence_penalty", "frequency_penalty"):
        value = body.get(name)
        if value is not None and (not _is_number(value) or not -2 <= value <= 2):
            raise invalid(f"'{name}' must be a number from -2 to 2, got {value!r}.", name)
    n = body.get("n")
    if n is not None:
        if not _is_int(n) or n < 1:
            raise invalid(f"'n' must be a whole number of at least 1, got {n!r}.", "n")
        if n > 1:
            raise invalid(f"n={n} is not supported: this server decodes greedily, so every choice would be the same "
                          "answer; ask for n=1 (or leave it out).", "n", "unsupported_parameter")


def _stops(body: dict) -> list[str]:
    stop = body.get("stop")
    if stop is None:
        return []
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) and s for s in stops):
        raise invalid(f"'stop' must be a non-empty string or a list of non-empty strings, got {stop!r}.", "stop")
    if len(stops) > MAX_STOP_SEQUENCES:
        raise invalid(f"'stop' holds {len(stops)} sequences; at most {MAX_STOP_SEQUENCES} are allowed.", "stop")
    return stops


def _max_tokens(body: dict, name: str, limit: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not _is_int(value) or value < 1:
        raise invalid(f"'{name}' must be a whole number of at least 1, got {value!r}.", name)
    if value > limit:
        raise invalid(f"'{name}' is {value}, above this server's limit of {limit} tokens per answer (ftlab serve "
                      "--max-tokens); ask for fewer.", name)
    return value


def _streaming(body: dict) -> tuple[bool, bool]:
    stream, options = body.get("stream", False), body.get("stream_options")
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise invalid(f"'stream' must be true or false, got {stream!r}.", "stream")
    if options is None:
        return stream, False
    if not stream:
        raise invalid("'stream_options' is only allowed when 'stream' is true.", "stream_options")
    if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool) or \
            set(options) - {"include_usage"}:
        raise invalid(f"'stream_options' must be an object like {{\"include_usage\": true}}, got {options!r}.",
                      "stream_options")
    return stream, options.get("include_usage", False)


def _user(body: dict) -> str | None:
    user = body.get("user")
    if user is not None and not isinstance(user, str):
        raise invalid(f"'user' must be a string (an id for the end user), got {user!r}.", "user")
    return user


def _model(body: dict, models: list[str]) -> str:
    model = body.get("model")
    if model is None:
        raise invalid("'model' is required: name the model to answer, one of: " + ", ".join(models) + ".", "model")
    if not isinstance(model, str):
        raise invalid(f"'model' must be a string, got {model!r}.", "model")
    if model not in models:
        raise ApiError(404, f"The model '{model}' does not exist on this server; it serves: {', '.join(models)}.",
                       "model", "model_not_found")
    return model


def _content(message: dict, where: str) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: text only
        texts = []
        for i, part in enumerate(content):
            kind = part.get("type") if isinstance(part, dict) else None
            if kind != "text" or not isinstance(part.get("text"), str):
                raise invalid(f"{where}.content[{i}] has type {kind!r}; this server takes text parts only "
                              '({"type": "text", "text": "..."}).', f"{where}.content")
            texts.append(part["text"])
        return "".join(texts)
    raise invalid(f"{where}.content must be a string or a list of text parts, got {content!r}.", f"{where}.content")


def _messages(body: dict) -> list[dict]:
    messages = body.get("messages")
    if messages is None:
        raise invalid("'messages' is required: a list of {\"role\": ..., \"content\": ...} turns.", "messages")
    if not isinstance(messages, list) or not messages:
        raise invalid(f"'messages' must be a non-empty list of turns, got {messages!r}.", "messages")
    checked = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise invalid(f"{where} must be an object with 'role' and 'content', got {message!r}.", where)
        role = message.get("role")
        if role == "developer":  # OpenAI's newer name for the system turn
            role = "system"
        if role not in ROLES:
            raise invalid(f"{where}.role is {role!r}; this server takes {', '.join(ROLES)} turns (no tool turns).",
                          f"{where}.role")
        checked.append({"role": role, "content": _content(message, where)})
    return checked


def parse_chat(body: dict, models: list[str], max_tokens_limit: int) -> GenerationRequest:
    _check_fields(body, CHAT_FIELDS)
    model = _model(body, models)
    messages = _messages(body)
    limit = _max_tokens(body, "max_tokens", max_tokens_limit)
    completion_limit = _max_tokens(body, "max_completion_tokens", max_tokens_limit)
    _check_sampling(body)
    stream, include_usage = _streaming(body)
    return GenerationRequest(model, messages, completion_limit if completion_limit is not None else limit,
                             _stops(body), stream, include_usage, chat=True, user=_user(body))


def parse_completion(body: dict, models: list[str], max_tokens_limit: int) -> GenerationRequest:
    _check_fields(body, COMPLETION_FIELDS)
    model = _model(body, models)
    prompt = body.get("prompt")
    if prompt is None:
        raise invalid("'prompt' is required: the text to answer.", "prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        raise invalid(f"'prompt' holds {len(prompt)} prompts; this server answers one prompt per request: send "
                      "them as separate requests.", "prompt", "unsupported_parameter")
    if not isinstance(prompt, str):
        raise invalid(f"'prompt' must be a string (token ids are not supported), got {prompt!r}.", "prompt")
    limit = _max_tokens(body, "max_tokens", max_tokens_limit)
    _check_sampling(body)
    stream, include_usage = _streaming(body)
    return GenerationRequest(model, [{"role": "user", "content": prompt}], limit, _stops(body), stream,
                             include_usage, chat=False, user=_user(body))


def context_error(context: int, prompt_tokens: int, max_tokens: int | None) -> ApiError:
    if max_tokens is None:
        return invalid(f"This model's maximum context length is {context} tokens, and the prompt alone has "
                       f"{prompt_tokens} tokens; shorten the messages.", "messages", "context_length_exceeded")
    return invalid(f"This model's maximum context length is {context} tokens. However, you requested "
                   f"{prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, {max_tokens} in the "
                   "completion). Please reduce the length of the messages or completion.", "messages",
                   "context_length_exceeded")


# --- responses ---------------------------------------------------------------------------------------------------

def new_id(chat: bool) -> str:
    return ("chatcmpl-" if chat else "cmpl-") + uuid.uuid4().hex[:24]


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def _envelope(request: GenerationRequest, rid: str, created: int, chunk: bool) -> dict:
    kind = "chat.completion" if request.chat else "text_completion"
    return {"id": rid, "object": kind + (".chunk" if chunk and request.chat else ""), "created": created,
            "model": request.model, "system_fingerprint": None}


def response(request: GenerationRequest, rid: str, text: str, finish: str, counts: dict) -> dict:
    body = _envelope(request, rid, int(time.time()), chunk=False)
    if request.chat:
        choice = {"index": 0, "message": {"role": "assistant", "content": text, "refusal": None},
                  "logprobs": None, "finish_reason": finish}
    else:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
    return {**body, "choices": [choice], "usage": counts}


def chunk(request: GenerationRequest, rid: str, created: int, text: str | None, finish: str | None = None,
          first: bool = False) -> dict:
    body = _envelope(request, rid, created, chunk=True)
    if request.chat:
        delta = {"role": "assistant", "content": text or ""} if first else ({"content": text} if text else {})
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    else:
        choice = {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}
    return {**body, "choices": [choice], **({"usage": None} if request.include_usage else {})}


def usage_chunk(request: GenerationRequest, rid: str, created: int, counts: dict) -> dict:
    return {**_envelope(request, rid, created, chunk=True), "choices": [], "usage": counts}


def model_list(models: list[str], created: int) -> dict:
    return {"object": "list", "data": [{"id": name, "object": "model", "created": created, "owned_by": "ftlab"}
                                       for name in models]}
