"""Open anything a person may want to talk to or re-check: an exported artifact, a run, a model folder."""

from __future__ import annotations

import json
from pathlib import Path

from ftlab.errors import FtlabError
from ftlab.export.formats import FORMATS
from ftlab.export.runtime import Runtime, TransformersRuntime

ARTIFACT_FILE = "artifact.json"  # written into every exported folder: {"format": NAME, ...}


def open_runtime(path: str | Path, name: str | None = None) -> Runtime:
    """A runtime for an exported artifact (its format's runtime), a run directory (its final model) or a
    model folder or name (transformers)."""
    from ftlab.models.loader import load_model, load_tokenizer

    folder = Path(path)
    label = name or folder.name
    marker = folder / ARTIFACT_FILE
    if marker.exists():
        fmt = json.loads(marker.read_text())["format"]
        return FORMATS[fmt].open(folder)
    if (folder / "config.yaml").exists() and (folder / "final").is_dir():
        from ftlab.training.saved import load_trained

        model, tokenizer = load_trained(folder)
        return TransformersRuntime(model, tokenizer, label)
    if folder.is_dir() and not (folder / "config.json").exists():
        raise FtlabError(f"{folder} is neither an exported artifact ({ARTIFACT_FILE}), a run directory "
                         "(config.yaml and final/) nor a model folder (config.json).")
    return TransformersRuntime(load_model(str(path)), load_tokenizer(str(path)), label)
