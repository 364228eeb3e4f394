"""A run's log: warnings and library messages kept in the run directory (``log.txt``), and out of a notebook's cells.

transformers, datasets, TRL, PEFT and accelerate report through Python's
``warnings`` and ``logging`` and draw tqdm progress bars ("Map", "Tokenizing
train dataset", "Loading weights"...).  In a notebook with the dashboard those
land between cells, about ten bars and a few FutureWarnings per run, under
the dashboard a person is watching.  During a run, each warning and log record
goes to ``log.txt`` in the run directory; where a listener keeps a log of its
own (the dashboard's collapsed "Log" panel) they go there instead of the cell,
and the libraries' progress bars are turned off (the run logs each preparation
step with its rows and seconds instead).  Without such a listener (scripts,
the CLI, papermill without a dashboard) everything still shows where it did.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ftlab.files import append_line

LIBRARIES = ("transformers", "datasets", "trl", "peft", "accelerate", "ftlab")
log = logging.getLogger("ftlab.run")


class _LineHandler(logging.Handler):
    def __init__(self, write: Callable[[str], None]):
        super().__init__(logging.INFO)
        self.write = write
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.write(self.format(record))


@contextmanager
def _progress_bars_off() -> Iterator[None]:
    import datasets
    from transformers.utils import logging as hf_logging

    datasets_on, transformers_on = not datasets.utils.are_progress_bars_disabled(), \
        hf_logging.is_progress_bar_enabled()
    datasets.utils.disable_progress_bars()
    hf_logging.disable_progress_bar()  # also huggingface_hub's
    try:
        yield
    finally:
        if datasets_on:
            datasets.utils.enable_progress_bars()
        if transformers_on:
            hf_logging.enable_progress_bar()


@contextmanager
def run_log(path, shown: Callable[[str], None] | None = None) -> Iterator[Callable[[str], None]]:
    """Within: warnings and library log records go to ``path`` (log.txt), and to ``shown`` instead of the cell's
    output when given.  Yields the function that writes one line (the run's own steps use it too)."""
    started = time.time()

    def write(line: str) -> None:
        line = f"{time.time() - started:7.1f}s {line}"
        if path is not None:
            append_line(path, line)
        if shown is not None:
            shown(line)

    handler = _LineHandler(write)
    loggers = [logging.getLogger(name) for name in LIBRARIES]
    kept = [(logger, logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        if shown is not None:  # out of the cell: only the run's handler
            logger.handlers, logger.propagate = [], False
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO and logger.name.startswith("ftlab"):
            logger.setLevel(logging.INFO)  # the run's own steps
    original_showwarning = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        write(f"{category.__name__}: {message} ({filename}:{lineno})")
        if shown is None:
            original_showwarning(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.showwarning = showwarning
        try:
            if shown is not None:
                with _progress_bars_off():
                    yield write
            else:
                yield write
        finally:
            for logger, handlers, level, propagate in kept:
                logger.handlers, logger.level, logger.propagate = handlers, level, propagate
