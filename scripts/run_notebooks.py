"""Run the tutorial notebooks with their real settings and store the outputs in place.

The stored outputs are what a reader sees on GitHub without running anything,
and what nbval compares the cells tagged ``nbval-check-output`` against in CI
(those cells print the same in a smoke run).  Each notebook runs in a fresh
kernel in a temporary folder, so its ``runs/`` paths read as relative ones.

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

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def run(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):  # nbformat 4.5 wants an id on every cell
        cell.setdefault("id", f"cell-{index}")
    env = {k: v for k, v in os.environ.items() if k not in ("FTLAB_SMOKE", "FTLAB_OUTPUT_DIR")}
    os.environ.clear()
    os.environ.update(env)  # the kernel inherits this process' environment: real settings, output in runs/
    start = time.time()
    with tempfile.TemporaryDirectory() as folder:
        try:
            NotebookClient(notebook, kernel_name="ftlab", timeout=3600,
                           resources={"metadata": {"path": folder}}).execute()
        except Exception:
            failed = Path(tempfile.gettempdir(), f"{path.stem}.failed.ipynb")
            nbformat.write(notebook, failed)  # the outputs up to the failing cell, for a look; the original stays
            print(f"{path.stem} failed; its outputs so far are in {failed}", flush=True)
            raise
    drop_bundled_widgets(notebook)
    nbformat.write(notebook, path)
    return time.time() - start


def drop_bundled_widgets(notebook, limit: int = 1_000_000) -> None:
    """Leave out of the saved widget state the models that carry a front-end bundle of their own.

    plotly's FigureWidget is an anywidget whose state holds all of plotly.js
    (5 MB) once per figure: notebook 09's panels made the file 56 MB.  Those
    figures then show their text form in a saved notebook, which is why each
    notebook also draws its results as static figures or HTML.
    """
    state = notebook.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {}).get("state")
    for key in [k for k, model in (state or {}).items() if len(str(model.get("state", {}).get("_esm", ""))) > limit]:
        del state[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="notebook stems; default: all")
    args = parser.parse_args()
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.names:
        paths = [p for p in paths if p.stem in args.names]
    for path in paths:
        print(f"{path.stem}: {run(path):.0f} s", flush=True)


if __name__ == "__main__":
    main()
