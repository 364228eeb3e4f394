"""Run the tutorial notebooks with their real settings and store the outputs in place.

The stored outputs are what a reader sees on GitHub without running anything,
and what nbval compares the cells tagged ``nbval-check-output`` against in CI
(those cells print the same in a smoke run).  Each notebook runs in a fresh
kernel in a temporary folder, so its ``runs/`` paths read as relative ones.
After the run, every widget and plotly output gets a static form (HTML drawn
from the saved widget state, PNG images of the figures: ftlab.widgets.static_notebook),
which is what GitHub and a docs page show, and the FigureWidgets' models (each
carries plotly.js, 5 MB) become HTML models showing their images.

    .venv/bin/python scripts/run_notebooks.py                 # every notebook (~30 min on two cores)
    .venv/bin/python scripts/run_notebooks.py 00_quickstart   # some of them
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from ftlab.widgets.figure_images import FigureImages
from ftlab.widgets.static_notebook import add_static_outputs

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
# Run after the last cell and left out of the saved notebook: the live FigureWidgets' figures as they stand go
# into the saved widget state, where the static pass draws them (ftlab.widgets.static_notebook.snapshot_figure_widgets).
SNAPSHOT = "from ftlab.widgets.static_notebook import snapshot_figure_widgets\nsnapshot_figure_widgets()"


def run(path: Path, images: FigureImages) -> float:
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):  # nbformat 4.5 wants an id on every cell
        cell.setdefault("id", f"cell-{index}")
    snapshot = nbformat.v4.new_code_cell(SNAPSHOT, id="ftlab-static-snapshot")
    # The kernel gets this process' environment without the smoke settings: real settings, output in runs/.
    env = {k: v for k, v in os.environ.items() if k not in ("FTLAB_SMOKE", "FTLAB_OUTPUT_DIR")}
    start = time.time()
    notebook.cells.append(snapshot)
    with tempfile.TemporaryDirectory() as folder:
        try:
            NotebookClient(notebook, kernel_name="ftlab", timeout=3600,
                           resources={"metadata": {"path": folder}}).execute(env=env)
        except Exception:
            notebook.cells.remove(snapshot)
            failed = Path(tempfile.gettempdir(), f"{path.stem}.failed.ipynb")
            nbformat.write(notebook, failed)  # the outputs up to the failing cell, for a look; the original stays
            print(f"{path.stem} failed; its outputs so far are in {failed}", flush=True)
            raise
    notebook.cells.remove(snapshot)
    print(add_static_outputs(notebook, images, path.stem).line(), flush=True)
    nbformat.write(notebook, path)
    return time.time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook stems; default: all")
    args = parser.parse_args()
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.names:
        paths = [p for p in paths if p.stem in args.names]
    with FigureImages() as images:  # one headless Chromium draws every notebook's figures
        for path in paths:
            print(f"{path.stem}: {run(path, images):.0f} s", flush=True)
        if images.unavailable:
            print(f"figures left without images: {images.unavailable}", flush=True)


if __name__ == "__main__":
    main()
