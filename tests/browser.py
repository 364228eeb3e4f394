"""A JupyterLab server and a headless Chromium for the browser tests (Debian's chromium; no browser download)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
WAIT_MS = 180_000  # a cold JupyterLab and kernel on a busy 2-core machine
# Each browser test keeps its screenshots in a folder of its own under here, to look at after a run.
SCREENSHOTS = Path(os.environ.get("FTLAB_SCREENSHOTS", "/tmp/ftlab-screenshots"))


def screenshot_folder(test: str) -> Path:
    folder = SCREENSHOTS / test
    folder.mkdir(parents=True, exist_ok=True)
    return folder

# The first cell of a test notebook: an editable install maps ``ftlab.widgets`` to the checkout it was
# installed from; in a git worktree that is another checkout, so the kernel loads this one's under the name
# (where they are the installed ones, this loads the same files).
LOAD_WIDGETS = (f"import importlib.util, sys\n"
                f"spec = importlib.util.spec_from_file_location('ftlab.widgets', {str(ROOT / 'widgets/__init__.py')!r},\n"
                f"    submodule_search_locations=[{str(ROOT / 'widgets')!r}])\n"
                f"sys.modules['ftlab.widgets'] = importlib.util.module_from_spec(spec)\n"
                f"spec.loader.exec_module(sys.modules['ftlab.widgets'])")


def notebook(*sources: str) -> dict:
    """A notebook of code cells, the first loading this checkout's widgets."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in (LOAD_WIDGETS, *sources)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def jupyterlab(tmp_path: Path):
    """A JupyterLab server on a free port over ``tmp_path/lab``, with its own config; shut down with its kernels.

    Yields (base URL, notebook folder); skips where chromium or playwright is missing.
    """
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian's chromium package); the browser tests drive it")
    pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    folder, port = tmp_path / "lab", _free_port()
    folder.mkdir()
    # No "get notified about Jupyter news?" toast over the widget.
    settings = tmp_path / "config/lab/user-settings/@jupyterlab/apputils-extension/notification.jupyterlab-settings"
    settings.parent.mkdir(parents=True)
    settings.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
           "OMP_NUM_THREADS": "1", "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")}
    with open(tmp_path / "lab.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
             "--IdentityProvider.token=", "--ServerApp.password=", f"--notebook-dir={folder}"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield _wait_until_serving(server, f"http://127.0.0.1:{port}", tmp_path / "lab.log"), folder
        finally:
            server.terminate()  # the server shuts its kernels down on SIGTERM
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()  # a kernel notices its parent is gone and exits
                server.wait()


def _wait_until_serving(server: subprocess.Popen, base: str, log: Path) -> str:
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status", timeout=5).close()
            return base
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("JupyterLab did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.5)


@contextmanager
def open_and_run(base: str, name: str):
    """Chromium on ``name`` in JupyterLab, every cell run once the kernel is idle; yields the page."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            # A workspace of its own: on a server that showed other notebooks, the default one would restore their
            # tabs too (and their outputs would match the test's locators).
            page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}")
            # Run only once the kernel is up: Run All before that asks which kernel to start.
            import re

            expect(page.get_by_role("button", name=re.compile(r"\| Idle$"))).to_be_visible()
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            yield page
        finally:
            browser.close()
