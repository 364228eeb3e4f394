"""The rating widget in a real JupyterLab, driven by headless Chromium as a person would: click, then type keys.

The headless tests call the widget's Python side; this one checks what they
cannot: that a key pressed in the browser reaches the kernel through the
anywidget strip, and that JupyterLab's own single-key shortcuts (``a`` and
``b`` insert cells) do not fire as well.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ftlab.eval.ratings import shown_left

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SEED = 3
SYSTEMS = ("base", "tuned")
ITEMS = [{"id": f"q{i}", "prompt": f"Reverse: word{i}", "reference": f"{i}drow", "a": f"{i}drow", "b": f"word{i}"}
         for i in range(3)]
WAIT_MS = 180_000  # a cold JupyterLab and kernel on a busy 2-core machine


def _notebook(run_dir: Path) -> dict:
    """The notebook a person would write, after a first cell that loads this checkout's widgets.

    An editable install maps ``ftlab.widgets`` to the checkout it was
    installed from; in a git worktree that is another checkout, so the kernel
    loads this one's under the name (where they are the installed ones, this
    loads the same files).
    """
    import nbformat

    load = (f"import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('ftlab.widgets', {str(ROOT / 'widgets/__init__.py')!r},\n"
            f"    submodule_search_locations=[{str(ROOT / 'widgets')!r}])\n"
            f"sys.modules['ftlab.widgets'] = importlib.util.module_from_spec(spec)\n"
            f"spec.loader.exec_module(sys.modules['ftlab.widgets'])")
    rate = (f"from ftlab.widgets import RatingWidget\n\n"
            f"items = {ITEMS!r}\n"
            f"RatingWidget(items, {str(run_dir)!r}, systems={SYSTEMS!r}, seed={SEED})")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(load), nbformat.v4.new_code_cell(rate)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on a free port over ``tmp_path/lab``, with its own config; shut down with its kernels."""
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


def test_a_person_rates_three_items_with_the_keyboard_in_jupyterlab(lab, tmp_path):
    import nbformat
    from playwright.sync_api import expect, sync_playwright

    base, folder = lab
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    nbformat.write(_notebook(run_dir), folder / "rate.ipynb")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(WAIT_MS)
            expect.set_options(timeout=WAIT_MS)
            page.goto(f"{base}/lab/tree/rate.ipynb")
            # Run only once the kernel is up: Run All before that asks which kernel to start.
            expect(page.get_by_role("button", name=re.compile(r"\| Idle$"))).to_be_visible()
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

            strip = page.locator(".ftlab-rating-keys")
            progress = page.locator(".ftlab-rating").get_by_text("of 3 rated")
            expect(progress).to_have_text("0 of 3 rated")
            cells = page.locator(".jp-NotebookPanel .jp-Cell").count()
            strip.click()
            expect(strip).to_be_focused()
            page.keyboard.press("a")  # A is better: whichever system is on the left
            expect(progress).to_have_text("1 of 3 rated")
            for key in ("4", "2", "ArrowRight"):  # score left 4, right 2, then B (the right answer) is better
                page.keyboard.press(key)
            expect(progress).to_have_text("2 of 3 rated")
            page.keyboard.press("t")
            expect(progress).to_have_text("3 of 3 rated")
            expect(page.locator(".ftlab-rating-summary")).to_contain_text("base vs tuned")
            assert page.locator(".jp-NotebookPanel .jp-Cell").count() == cells  # JupyterLab's a/b did not fire
            page.locator(".ftlab-rating").screenshot(path=str(tmp_path / "rating.png"))
        finally:
            browser.close()

    rows = [json.loads(line) for line in (run_dir / "ratings.jsonl").read_text().splitlines()]
    lefts = [shown_left(item["id"], SEED) for item in ITEMS]
    right = {"a": "b", "b": "a"}
    assert [(r["item"], r["left"], r["choice"]) for r in rows] == [
        ("q0", lefts[0], lefts[0]), ("q1", lefts[1], right[lefts[1]]), ("q2", lefts[2], "tie")]
    assert (rows[1][f"score_{lefts[1]}"], rows[1][f"score_{right[lefts[1]]}"]) == (4, 2)
    assert rows[0]["score_a"] is None and rows[2]["score_b"] is None
