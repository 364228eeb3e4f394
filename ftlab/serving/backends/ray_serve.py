"""Ray Serve: the same app in N replicas, each with its own copy of the model, behind Ray's HTTP proxy.

Each replica builds the app when it starts (``__serve_build_asgi_app__``) and
so opens the model in its own process; Ray's router spreads requests over the
replicas and queues those no replica can take yet (a replica takes at most
``--queue-size`` at once, so its own queue never refuses one; Ray's queue in
front has no limit).  On SIGTERM or Ctrl-C the
command shuts Ray Serve down, which lets each replica finish the requests it
holds (up to ``DRAIN_SECONDS``) before it stops.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import urllib.request

from ftlab.serving.backends import BACKENDS, Backend
from ftlab.serving.settings import ServeSettings

DEFAULT_REPLICAS = 2
DRAIN_SECONDS = 120


def unavailable() -> str | None:
    try:
        import ray.serve  # noqa: F401
    except ImportError:
        return "Ray Serve is not installed; pip install 'ftlab[serve]' (or pip install 'ray[serve]')."
    return None


class Replica:
    """One Ray Serve replica: the settings travel, the model is opened in the replica's process."""

    def __init__(self, settings: ServeSettings):
        self.settings = settings

    def __serve_build_asgi_app__(self):
        from ftlab.serving.app import build_app

        settings = self.settings
        return build_app(lambda: BACKENDS[settings.backend].open_models(settings), settings.max_tokens,
                         settings.log)


def start_ray(cpus: int) -> None:
    """A local Ray cluster, tried twice.  On a busy machine Ray's agents (Python processes with heavy imports) may
    start more slowly than its raylet waits for them, or the raylet more slowly than the driver waits for it (a
    fixed 30 s); then the node dies at startup, and a second try often finds the imports in the page cache."""
    import ray

    from ftlab.errors import FtlabError

    for attempt in (1, 2):
        try:
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
            return
        except Exception as exc:  # noqa: BLE001 - ray.init raises a bare Exception when its node does not start
            ray.shutdown()
            if attempt == 2:
                raise FtlabError(f"Ray did not start twice ({exc}); on a busy machine its processes can start more "
                                 "slowly than Ray waits. Try again when the machine is quieter, or serve with "
                                 "--backend embedded.") from None
            print(f"ftlab: Ray did not start ({str(exc)[:80]}...); trying once more.", file=sys.stderr, flush=True)


def wait_for_idle_replicas(url: str, replicas: int, timeout: float = DRAIN_SECONDS) -> None:
    """Until every replica says it has no answer in flight (streams included), or ``timeout``.

    Ray Serve's shutdown stops its HTTP proxy at once, cutting a stream in the middle, although the replica behind
    it would finish; so the drain is done first: ``/health`` through the proxy reaches the replicas in turn, and
    each says how many answers it is producing or sending.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts: dict[int, int] = {}
        for _ in range(8 * replicas):
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=5) as reply:
                    health = json.loads(reply.read())
            except OSError:
                continue
            counts[health["pid"]] = health["in_flight"]
        if len(counts) >= replicas and not any(counts.values()):
            return
        time.sleep(0.2)


def run(settings: ServeSettings, gpus_per_replica: float = 0) -> None:
    from ftlab.errors import FtlabError

    if unavailable():
        raise FtlabError(unavailable())
    import ray
    from ray import serve

    replicas = settings.replicas or DEFAULT_REPLICAS
    # resolved once here, so that every replica opens the same paths under the same model id and version labels
    settings = settings.resolved()
    # every replica counts one CPU; Ray is told of at least as many CPUs as replicas so that N replicas start on a
    # smaller machine too (they then share its cores, as N processes would)
    start_ray(max(os.cpu_count() or 1, replicas))
    stop = threading.Event()  # after ray.init, whose own SIGTERM handler aborts the process
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        serve.start(http_options={"host": settings.host, "port": settings.port})
        deployment = serve.deployment(serve.ingress()(Replica), name="ftlab", num_replicas=replicas,
                                      ray_actor_options={"num_cpus": 1, "num_gpus": gpus_per_replica},
                                      max_ongoing_requests=settings.queue_size,
                                      graceful_shutdown_timeout_s=DRAIN_SECONDS)
        serve.run(deployment.bind(settings), name="ftlab", route_prefix="/")
        print(f"ftlab: serving {settings.model_id()} at http://{settings.host}:{settings.port}/v1 "
              f"({settings.backend}, {replicas} Ray Serve replicas); SIGTERM or Ctrl-C stops after answering the "
              "requests in flight.", file=sys.stderr, flush=True)
        if settings.traffic_note():
            print(f"ftlab: {settings.traffic_note()}.", file=sys.stderr, flush=True)
        while not stop.wait(0.5):
            pass
        local = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        wait_for_idle_replicas(f"http://{local}:{settings.port}", replicas)
        serve.shutdown()
    finally:
        ray.shutdown()


ENTRY = Backend("ray", f"Ray Serve, --replicas N copies of the model (default {DEFAULT_REPLICAS}) behind one HTTP "
                "endpoint; needs the serve extra", run, unavailable=unavailable, order=1)
