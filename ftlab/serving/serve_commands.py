"""``ftlab serve SOURCE [--port P] [--host H] [--backend B] [--replicas N] [--name ID]``: an OpenAI-compatible API.

SOURCE is what :func:`ftlab.export.opening.open_runtime` opens (a model name
such as ``ftlab/tiny-chat``, a model folder, a run directory, an exported
artifact) or ``models:/NAME@ALIAS`` from the model registry.  The command
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


def _cmd_serve(args) -> None:
    from ftlab.serving.backends import BACKENDS
    from ftlab.serving.settings import ServeSettings

    backend = BACKENDS[args.backend]
    reason = backend.unavailable()
    if reason:
        raise FtlabError(f"--backend {args.backend} cannot run here: {reason}")
    if args.replicas is not None and args.backend == "embedded":
        raise FtlabError("--replicas needs --backend ray (or vllm): the embedded backend serves one copy of the model "
                         "in this process.")
    if args.replicas is not None and args.replicas < 1:
        raise FtlabError(f"--replicas {args.replicas}: serve at least one replica.")
    settings = ServeSettings(args.source, name=args.name, backend=args.backend, host=args.host, port=args.port,
                             replicas=args.replicas, max_tokens=args.max_tokens, queue_size=args.queue_size,
                             adapters=dict(_adapter(a) for a in args.lora or []), registry_uri=args.registry_uri)
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
    serve.set_defaults(run=_cmd_serve)
