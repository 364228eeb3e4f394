"""The HTTP app: OpenAI's ``/v1/models``, ``/v1/chat/completions`` and ``/v1/completions``, ``/v1/feedback`` and
``/health``.

The same app runs wherever a backend puts it (uvicorn in-process, a Ray Serve
replica).  It holds served models by id, each a :class:`ftlab.serving.traffic.TrafficSplit`
of one or several versions (:class:`ftlab.serving.model_queue.QueuedModel` or a
vLLM model) that picks the version answering the request's ``user``; the
answer carries that version in the ``x-ftlab-version`` header and, with a
request log, is appended to it under the response's id, which ``/v1/feedback``
takes to record how good the answer was.  A request is checked by
:mod:`ftlab.serving.wire` before it is queued, and the prompt's own problems
(too long for the context) come back as a 4xx before the first byte of the
answer, streamed or not.  Every error,
the app's 404 and 405 included, is in OpenAI's error shape, which is what
official clients read.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.exceptions import HTTPException

from ftlab.serving import wire
from ftlab.serving.answer import Answer, StopCutter
from ftlab.serving.answer_log import AnswerLog
from ftlab.serving.traffic import ANONYMOUS, TrafficSplit

VERSION_HEADER = "x-ftlab-version"  # which version answered (a registry version number, or the model id)


def _sse(payload: dict) -> str:
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


async def _stream(request: wire.GenerationRequest, answer: Answer, rid: str,
                  done: Callable[[str], None]) -> AsyncIterator[str]:
    created, cutter, sent = int(time.time()), StopCutter(request.stop), []
    if request.chat:  # OpenAI opens a chat stream with the assistant's role and empty content
        yield _sse(wire.chunk(request, rid, created, "", first=True))
    try:
        async for piece in answer.pieces():
            text = cutter.feed(piece)
            if text:
                sent.append(text)
                yield _sse(wire.chunk(request, rid, created, text))
    except wire.ApiError as error:  # the status line is sent already: the error goes in the stream
        yield _sse(error.body())
        return
    rest = cutter.flush()
    done("".join(sent) + rest)  # the answer is whole: logged before its last chunks, so feedback on it is taken
    if rest:
        yield _sse(wire.chunk(request, rid, created, rest))
    finish = "length" if answer.truncated and not cutter.stopped else "stop"
    yield _sse(wire.chunk(request, rid, created, None, finish))
    if request.include_usage:
        yield _sse(wire.usage_chunk(request, rid, created, wire.usage(answer.prompt_tokens, answer.completion_tokens)))
    yield "data: [DONE]\n\n"


async def _counted(chunks: AsyncIterator[str], in_flight: list[int]) -> AsyncIterator[str]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        in_flight[0] -= 1


def build_app(open_models: Callable[[], dict[str, TrafficSplit]], max_tokens: int, log: str | None = None):
    """The app; ``open_models`` runs at startup (in the process or replica that serves) and the models are
    closed at shutdown, after the requests in flight are answered.  ``max_tokens``: the most tokens one answer
    may ask for; ``log``: the request log every answer is appended to (and feedback on it), or None."""
    models: dict[str, TrafficSplit] = {}
    # answers being produced or sent (a stream until its last chunk): what a Ray drain waits to see at zero
    in_flight = [0]
    created = int(time.time())
    answers = AnswerLog(log) if log else None

    @asynccontextmanager
    async def lifespan(app):
        models.update(open_models())
        yield
        for model in models.values():
            model.close()

    app = FastAPI(title="ftlab serve", lifespan=lifespan)

    @app.exception_handler(wire.ApiError)
    async def api_error(_, error: wire.ApiError):
        headers = {"Retry-After": "1"} if error.status == 503 else None
        return JSONResponse(error.body(), status_code=error.status, headers=headers)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException):
        message = (f"No route {request.method} {request.url.path}; this server answers GET /v1/models, "
                   "POST /v1/chat/completions, POST /v1/completions, POST /v1/feedback and GET /health."
                   if error.status_code in (404, 405) else str(error.detail))
        return JSONResponse(wire.ApiError(error.status_code, message).body(), status_code=error.status_code)

    @app.get("/health")
    async def health():
        # pid: which process answered (a Ray Serve replica, behind the proxy)
        return {"status": "ok", "pid": os.getpid(), "in_flight": in_flight[0],
                "models": {name: split.health() for name, split in models.items()},
                **({"log": str(answers.path)} if answers else {})}

    @app.get("/v1/models")
    async def list_models():
        return wire.model_list(list(models), created)

    async def answer(request: wire.GenerationRequest):
        began, split, user = time.monotonic(), models[request.model], request.user or ANONYMOUS
        version, model = split.route(user)
        reply = model.submit(request.messages, request.max_tokens)
        in_flight[0] += 1
        try:
            await reply.started()
            rid = wire.new_id(request.chat)

            def done(text: str) -> None:
                if answers is not None:
                    answers.answered(request, rid, user, version, split.name, split.experiment, text,
                                     reply.prompt_tokens, reply.completion_tokens, began)

            headers = {VERSION_HEADER: version}
            if request.stream:
                streamed = _counted(_stream(request, reply, rid, done), in_flight)
                in_flight[0] += 1  # the stream holds its own count until its last chunk
                return StreamingResponse(streamed, media_type="text/event-stream",
                                         headers={"Cache-Control": "no-cache", **headers})
            cutter = StopCutter(request.stop)
            text = "".join([cutter.feed(piece) async for piece in reply.pieces()]) + cutter.flush()
            finish = "length" if reply.truncated and not cutter.stopped else "stop"
            done(text)
            body = wire.response(request, rid, text, finish, wire.usage(reply.prompt_tokens, reply.completion_tokens))
            return JSONResponse(body, headers=headers)
        finally:
            in_flight[0] -= 1

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        body = wire.parse_json(await request.body())
        return await answer(wire.parse_chat(body, list(models), max_tokens))

    @app.post("/v1/completions")
    async def completions(request: Request):
        body = wire.parse_json(await request.body())
        return await answer(wire.parse_completion(body, list(models), max_tokens))

    @app.post("/v1/feedback")
    async def feedback(request: Request):
        if answers is None:
            raise wire.invalid("This server keeps no request log, so feedback has nowhere to go; start it with "
                               "--log FILE (e.g. ftlab serve ... --log requests.jsonl) to record answers and the "
                               "feedback on them.", code="no_request_log")
        return await answers.feedback(wire.parse_json(await request.body()))

    return app

