"""``ftlab serve``: an OpenAI-compatible HTTP API over whatever :func:`ftlab.export.opening.open_runtime` opens.

The pieces, one module each:

- :mod:`ftlab.serving.wire` — the OpenAI wire format: a request's JSON checked
  into typed dataclasses (every wrong request a 4xx answer in OpenAI's error
  shape), and the response / stream-chunk bodies;
- :mod:`ftlab.serving.model_queue` — one model behind a bounded queue and one
  worker thread (a runtime answers one prompt at a time; a full queue is said,
  never a request dropped);
- :mod:`ftlab.serving.traffic` — the versions behind one model id and which
  one answers a user (one version, or an A/B test's sticky split);
- :mod:`ftlab.serving.answer_log` — every answer appended to the request log
  under its response id, and feedback on it recorded as its outcome;
- :mod:`ftlab.serving.app` — the FastAPI app: ``/v1/models``,
  ``/v1/chat/completions``, ``/v1/completions``, ``/v1/feedback``, ``/health``;
- :mod:`ftlab.serving.backends` — where the app runs: ``embedded`` (uvicorn
  in-process, the default), ``ray`` (Ray Serve replicas), ``vllm`` (vLLM on a GPU).
"""
