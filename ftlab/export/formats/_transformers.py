"""What the formats that transformers loads share: the tokenizer files beside the weights, and opening a folder.

An artifact must answer exactly as the run's tokenizer and chat template say,
so a format never rebuilds the tokenizer: it copies the merged model's
tokenizer files (``tokenizer.json``, ``tokenizer_config.json``,
``chat_template.jinja``...) byte for byte next to the weights it wrote.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ftlab.export.runtime import TransformersRuntime

# Files ``save_pretrained`` of a model writes; everything else in a model folder belongs to the tokenizer.
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".safetensors.index.json", ".bin.index.json")
MODEL_FILES = ("config.json", "generation_config.json")


def copy_tokenizer_files(source: Path, out: Path) -> None:
    """Every file of ``source`` that is not the model's weights or config: the tokenizer and chat template."""
    for path in sorted(Path(source).iterdir()):
        if path.is_file() and path.name not in MODEL_FILES and not path.name.endswith(WEIGHT_SUFFIXES):
            shutil.copy2(path, out / path.name)


def save_quantized(source: Path, out: Path, quantization: Any) -> None:
    """``source`` loaded through transformers with ``quantization`` and saved as it is held in memory."""
    from ftlab.models.loader import load_model

    model = load_model(str(source), quantization=quantization)
    model.save_pretrained(str(out))
    copy_tokenizer_files(source, out)


def open_folder(folder: Path, name: str) -> TransformersRuntime:
    """A model folder (its ``config.json`` says how its weights are stored) with its own tokenizer."""
    from ftlab.models.loader import load_model, load_tokenizer

    # chat=False: a missing chat template is the export gate's finding, not a load error
    return TransformersRuntime(load_model(str(folder)), load_tokenizer(str(folder), chat=False), name)
