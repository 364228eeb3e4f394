"""``merged``: the run's model as one full-precision safetensors folder with its tokenizer and chat template.

What is exported depends on the method the run trained with:

* a LoRA-family run (LoRA, QLoRA, DoRA, PiSSA, IA3...): the adapter merged into
  its base (:func:`ftlab.training.merged.merged_model`; a QLoRA adapter is merged
  into the *full-precision* base, since merging into 4-bit weights would round
  the update away);
* full fine-tuning, BitFit, freeze: ``final/`` is a whole model already and is
  exported as it is;
* a prompt-learning run (prompt_tuning, prefix_tuning, p_tuning): it cannot be
  merged (its virtual tokens are inputs, not weight changes), so the artifact is
  the adapter as trained, with its tokenizer, and ``artifact.json`` names the
  base model it must be loaded on (``contents: "adapter"``, ``base_model``).
  Opening it loads the base and puts the adapter on it.

The weights are copied unchanged, so this format is lossless: the export gate
requires its answers to be identical to the trained model's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ftlab.export.formats import ExportFormat
from ftlab.export.formats._transformers import open_folder
from ftlab.export.runtime import TransformersRuntime

ADAPTER_NOTE = ("a prompt-learning adapter cannot be merged into the weights (its virtual tokens are inputs, not "
                "weight changes): this artifact is the adapter as trained, loaded on base_model")


# What a run's final/ holds besides the model: the trainer's pickled arguments are no part of an artifact.
NOT_EXPORTED = ("training_args.bin",)


def build(source: Path, out: Path) -> None:
    """Copy the merged model folder (or, for a prompt-learning run, the adapter folder) into ``out``."""
    for path in sorted(Path(source).iterdir()):
        if path.is_file() and path.name not in NOT_EXPORTED:
            shutil.copy2(path, out / path.name)


def open_artifact(folder: Path) -> TransformersRuntime:
    if not (folder / "adapter_config.json").exists():
        return open_folder(folder, f"merged:{folder.name}")
    from peft import PeftModel

    from ftlab.export.opening import ARTIFACT_FILE
    from ftlab.models.loader import load_model, load_tokenizer

    base = json.loads((folder / ARTIFACT_FILE).read_text())["base_model"]
    model = PeftModel.from_pretrained(load_model(base), str(folder))
    return TransformersRuntime(model, load_tokenizer(str(folder), chat=False), f"adapter:{folder.name}")


ENTRY = ExportFormat("merged", "Full-precision safetensors: the adapter merged into its base (or the fully "
                     "tuned model), with tokenizer and chat template; a prompt-learning run exports its adapter "
                     "and base reference instead.", build, open_artifact, lossless=True, order=0)
