"""The registry of export formats: what ``ftlab export --format NAME`` can build, one file per format.

A format builds its artifact from a run's merged, full-precision model (see
:func:`ftlab.training.merged.merged_model`) into a folder of its own and opens
that folder again in the runtime it is meant for (``open``), so every figure in
``export.json`` comes from the artifact as it will be used, not from the model
it was made from.

The exporter builds into an empty ``<format>.partial`` folder and renames it
when complete, then adds ``artifact.json`` (``{"format": NAME, "run_dir": ...,
"base_model": ..., "method": ...}``; a build may write one first with fields of
its own, which are kept).  A format's ``open`` may read it.  ``lossless``
formats must answer exactly as the trained model (the export gate checks it);
the others need ``ftlab.export.gate.AGREEMENT_THRESHOLD`` of its answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ftlab.export.runtime import Runtime
from ftlab.registry import Registry


@dataclass(frozen=True)
class ExportFormat:
    name: str
    help: str
    # build(merged_model_dir, out_dir): writes the whole artifact into out_dir (which exists and is empty)
    build: Callable[[Path, Path], None]
    # open(artifact_dir) -> a Runtime answering chat prompts with the artifact's own tokenizer and template
    open: Callable[[Path], Runtime]
    needs_gpu: bool = False
    # the stored weights are the trained weights unchanged: the export gate requires identical answers
    lossless: bool = False
    # a reason this format cannot be built on this machine right now (a missing package...), or None
    unavailable: Callable[[], str | None] = lambda: None
    order: int = 100


FORMATS: Registry[ExportFormat] = Registry("export format", __name__, sort_key=lambda f: (f.order, f.name))
