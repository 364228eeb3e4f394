"""The default backend: the app in this process under uvicorn, the model in a thread beside it.

uvicorn already drains on SIGTERM and Ctrl-C (stops listening, lets every
open response finish, then runs the app's shutdown, which answers what is still
queued and closes the model).  Afterwards it raises the signal again, so the
process would die of it (status -15) although nothing was lost; the server
here keeps the drain and leaves that last step out, so a drained server exits 0.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

from ftlab.serving.backends import BACKENDS, Backend
from ftlab.serving.settings import ServeSettings


def serve_app(app, settings: ServeSettings, models: list[str]) -> None:
    import uvicorn

    class DrainingServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    # timeout_graceful_shutdown=None: a drain waits for the longest answer in flight, however long
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info", access_log=False,
                            timeout_graceful_shutdown=None, lifespan="on")
    print(f"ftlab: serving {', '.join(models)} at http://{settings.host}:{settings.port}/v1 ({settings.backend}); "
          "SIGTERM or Ctrl-C stops after answering the requests in flight.", file=sys.stderr, flush=True)
    if settings.traffic_note():
        print(f"ftlab: {settings.traffic_note()}.", file=sys.stderr, flush=True)
    DrainingServer(config).run()


def run(settings: ServeSettings) -> None:
    from ftlab.serving.app import build_app

    # opened here, before uvicorn starts, so that a bad source is an ftlab error and not a failed startup
    models = BACKENDS[settings.backend].open_models(settings)
    serve_app(build_app(lambda: models, settings.max_tokens, settings.log), settings, list(models))


ENTRY = Backend("embedded", "the app in this process (uvicorn), one model answering requests in arrival order; "
                "runs on a CPU", run, order=0)
