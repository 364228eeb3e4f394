"""``ftlab serve`` in a child process: how a notebook, a test or a benchmark talks to a real server.

The server runs exactly as a person starts it (the same command, its own
process, a real port), so whatever talks to it goes through HTTP and the
OpenAI wire format, never through ftlab's objects.  ``stop()`` sends SIGTERM
and waits: the server drains and its exit status says whether it stopped cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from ftlab.errors import FtlabError

ROOT = Path(__file__).resolve().parent.parent.parent
READY_LINE = "ftlab: serving "  # what every backend prints once it serves


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_json(url: str, body: dict, timeout: float = 10) -> tuple[dict, dict]:
    """(JSON reply, headers) of a POST to a server; a refusal raises ``urllib.error.HTTPError``, its body the
    server's reason in OpenAI's error shape."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        return json.loads(reply.read()), dict(reply.headers)


class BackgroundServer:
    """``ftlab serve SOURCE *options`` on a free local port; a context manager that stops it on exit.

    ``options`` are the command's own flags, e.g. ``BackgroundServer("models:/cipher", "--ab", "1=0.9,2=0.1",
    "--log", "requests.jsonl")``; ``log`` is where the command's output goes (not its request log)."""

    def __init__(self, source: str, *options: str, port: int | None = None, log: str | Path | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [sys.executable, "-m", "ftlab.cli", "serve", str(source), "--port", str(self.port), *options]
        self._scratch = None if log else tempfile.TemporaryDirectory(prefix="ftlab-serve-")
        self.log_path = Path(log) if log else Path(self._scratch.name) / "serve.log"
        self.process: subprocess.Popen | None = None

    def ready(self) -> bool:
        """The command said it serves (Ray's proxy answers before every replica is up) and /health answers."""
        if READY_LINE not in self.log_path.read_text(errors="replace"):
            return False
        try:
            self.health()
        except (OSError, urllib.error.URLError):
            return False
        return True

    def start(self, timeout: float = 180) -> BackgroundServer:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        env.setdefault("OMP_NUM_THREADS", "1")
        with self.log_path.open("w") as out:  # the child keeps its own copy of the file
            self.process = subprocess.Popen(self.command, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise FtlabError(f"ftlab serve exited with status {self.process.returncode} before answering; "
                                 f"its output: {self.log_path.read_text(errors='replace')[-2000:]}")
            if self.ready():
                return self
            time.sleep(0.5)
        self.stop()
        raise FtlabError(f"ftlab serve did not answer {self.url}/health within {timeout:.0f} s.")

    def health(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/health", timeout=10) as reply:
            return json.loads(reply.read())

    def feedback(self, response_id: str, score: float | None = None, win: bool | None = None) -> dict:
        """How good an answer was, for a server started with ``--log FILE``: ``response_id`` is the response's
        ``id``; raises ``urllib.error.HTTPError`` (its body the server's reason) when the server refuses it."""
        body = {"id": response_id, **({"score": score} if score is not None else {}),
                **({"win": win} if win is not None else {})}
        return post_json(f"{self.url}/v1/feedback", body)[0]

    def terminate(self) -> None:
        """SIGTERM: the server stops accepting and drains; :meth:`wait` gives its exit status."""
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = 120) -> int:
        return self.process.wait(timeout)

    def stop(self, timeout: float = 120) -> int:
        """SIGTERM, then the exit status once the server drained (killed if it has not within ``timeout``)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.terminate()
            try:
                self.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self._scratch is not None:
            self._scratch.cleanup()
        return self.process.returncode

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
