"""``ftlab serve SOURCE [--port P] [--host H] [--backend B] [--replicas N] [--name ID] [--ab V=W,...] [--log FILE]``:
an OpenAI-compatible API.

SOURCE is what :func:`ftlab.export.opening.open_runtime` opens (a model name
such as ``ftlab/tiny-chat``, a model folder, a run directory, an exported
artifact) or ``models:/NAME@ALIAS`` from the model registry; with ``--ab`` it
is ``models:/NAME`` and users are split between the versions weighed (see
:mod:`ftlab.serving.traffic`).  ``--log`` appends every answer to a request
log (:mod:`ftlab.serving.answer_log`).  The command
serves until SIGTERM or Ctrl-C, then drains (the requests in flight are
answered, streams included) and exits 0.
"""

from __future__ import annotations

from pathlib import Path

from ftlab.errors import FtlabError


def _adapter(text: str) -> tuple[str, str]:
    name, sep, run = text.partition("=")
    if not sep or not name or not run:
        raise FtlabError(f"--lora {text!r}: write it as NAME=RUN_DIR (the model id clients ask for, then the run).")
    return name, str(Path(run).resolve()) if Path(run).exists() else run  # absolute: Ray replicas open it too


def _weights(text: str) -> dict[str, float]:
    """``1=0.9,2=0.1`` -> {"1": 0.9, "2": 0.1}, in the order given (the split's order)."""
    weights: dict[str, float] = {}
    for part in text.split(","):
        version, sep, weight = part.partition("=")
        try:
            share = float(weight)
        except ValueError:
            share = None
        if not sep or not version.strip() or share is None:
            raise FtlabError(f"--ab {text!r}: write it as VERSION=WEIGHT,VERSION=WEIGHT (registered version numbers "
                             "and their shares of the users), e.g. --ab 1=0.9,2=0.1.")
        if version.strip() in weights:
            raise FtlabError(f"--ab {text!r} weighs version {version.strip()} twice; name each version once.")
        weights[version.strip()] = share
    return weights


def _cmd_serve(args) -> None:
    from ftlab.serving.backends import BACKENDS
    from ftlab.serving.settings import ServeSettings

    if args.ab is not None and args.backend == "vllm":
        raise FtlabError("--ab serves each registered version as its own model with --backend embedded or ray; "
                         "vLLM serves one base model (its adapters under their own ids with --lora).")
    if args.experiment is not None and args.ab is None:
        raise FtlabError("--experiment names an A/B test; add --ab VERSION=WEIGHT,... to split users between "
                         "versions (without --ab every request goes to the one version served).")
    backend = BACKENDS[args.backend]
    reason = backend.unavailable()
    if reason:
        raise FtlabError(f"--backend {args.backend} cannot run here: {reason}")
    if args.replicas is not None and args.backend == "embedded":
        raise FtlabError("--replicas needs --backend ray (or vllm): the embedded backend serves one copy of the model "
                         "in this process.")
    if args.replicas is not None and args.replicas < 1:
        raise FtlabError(f"--replicas {args.replicas}: serve at least one replica.")
    log = None
    if args.log is not None:
        log = Path(args.log).resolve()  # absolute: Ray replicas append to it too
        if log.is_dir():
            raise FtlabError(f"--log {args.log} is a folder; give the request log's file, e.g. "
                             f"{Path(args.log) / 'requests.jsonl'}.")
        try:  # created now, so that a log the server cannot write is said before it serves
            log.parent.mkdir(parents=True, exist_ok=True)
            log.open("a").close()
        except OSError as exc:
            raise FtlabError(f"--log {args.log}: cannot write the request log there ({exc}); give a file in a "
                             "folder you can write to.") from None
    settings = ServeSettings(args.source, name=args.name, backend=args.backend, host=args.host, port=args.port,
                             replicas=args.replicas, max_tokens=args.max_tokens, queue_size=args.queue_size,
                             adapters=dict(_adapter(a) for a in args.lora or []), registry_uri=args.registry_uri,
                             ab=_weights(args.ab) if args.ab is not None else {}, experiment=args.experiment,
                             log=str(log) if log else None)
    backend.run(settings)


def add_serve_commands(commands) -> None:
    from ftlab.serving.backends import BACKENDS
    from ftlab.serving.model_queue import DEFAULT_QUEUE_SIZE
    from ftlab.serving.settings import DEFAULT_MAX_TOKENS

    serve = commands.add_parser("serve", help="serve a model, run or exported artifact as an OpenAI-compatible API "
                                "(/v1/chat/completions, /v1/completions, /v1/models); SIGTERM drains and stops")
    serve.add_argument("source", metavar="MODEL|RUN_DIR|ARTIFACT|models:/NAME@ALIAS")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    serve.add_argument("--backend", default="embedded", choices=BACKENDS.names(),
                       help="; ".join(f"{n}: {BACKENDS[n].help}" for n in BACKENDS))
    serve.add_argument("--replicas", type=int, default=None, metavar="N", help="Ray Serve replicas (ray: default 2; "
                       "vllm: runs inside Ray Serve, one GPU each)")
    serve.add_argument("--name", default=None, metavar="MODEL_ID", help="the model id clients ask for (default: "
                       "the model name, or the folder's name)")
    serve.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS, metavar="N",
                       help=f"the most tokens one answer may ask for (default {DEFAULT_MAX_TOKENS})")
    serve.add_argument("--queue-size", type=int, default=DEFAULT_QUEUE_SIZE, metavar="N",
                       help=f"requests that may wait for the model; more get 503 (default {DEFAULT_QUEUE_SIZE})")
    serve.add_argument("--lora", action="append", metavar="NAME=RUN_DIR",
                       help="vllm: also serve this LoRA run as an adapter on the same base (repeatable)")
    serve.add_argument("--registry-uri", default=None, metavar="URI",
                       help="the MLflow registry models:/ sources are looked up in (default: ftlab's local one)")
    serve.add_argument("--ab", default=None, metavar="V=W,V=W", help="A/B test on models:/NAME: split users "
                       "between registered versions by weight, sticky per user (the request's 'user' field), e.g. "
                       "1=0.9,2=0.1")
    serve.add_argument("--experiment", default=None, metavar="NAME", help="the A/B test's name: salts the split and "
                       "is logged with each request (default: the registered model's name)")
    serve.add_argument("--log", default=None, metavar="FILE", help="append every answer to this request log (JSON "
                       "lines: user, version, prompt, answer, tokens, latency) and take feedback on it at "
                       "POST /v1/feedback")
    serve.set_defaults(run=_cmd_serve)
