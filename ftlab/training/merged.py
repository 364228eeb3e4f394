"""A run's trained model as one loadable folder: the adapter merged into its base, written once.

The next stage of a pipeline starts from this folder as its ``model.name``,
so it is an ordinary model to every stage (a LoRA for DPO on top of it gets
the SFT model as its reference by turning its own adapter off).  Merging a
LoRA is exact up to float rounding; a full fine-tuning run's ``final/`` is
already a whole model and is used as it is.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from ftlab.errors import FtlabError


def merged_model(run_dir: str | Path) -> Path:
    """``run_dir/merged`` (made on first use) or ``run_dir/final`` when that is a whole model already."""
    run = Path(run_dir)
    final, merged = run / "final", run / "merged"
    if not final.is_dir():
        raise FtlabError(f"{run} has no final/ model to start the next stage from (did the run finish? "
                         f"see {run / 'results.json'}).")
    if not (final / "adapter_config.json").exists():
        return final
    if (merged / "config.json").exists():
        return merged
    from peft import PeftModel

    from ftlab.models.loader import load_model, load_tokenizer
    from ftlab.training.rundir import RunDir

    config = RunDir(run).config()
    # The base in full precision even for QLoRA: the merged model is the next stage's starting point, and
    # merging into 4-bit weights would round the update away; the next stage quantizes it again if it asks.
    base = load_model(config.model.name, config.model.dtype, None, config.model.trust_remote_code)
    model = PeftModel.from_pretrained(base, str(final))
    tokenizer = load_tokenizer(str(final), chat=False)  # the next stage checks the template it needs
    if not hasattr(model, "merge_and_unload"):
        raise FtlabError(f"{run}: its {type(model).__name__} adapter cannot be merged into the base model "
                         "(prompt-learning methods add virtual tokens, not weights); use a LoRA-family or "
                         "full fine-tuning method for a stage that later stages build on.")
    partial = run / "merged.partial"
    shutil.rmtree(partial, ignore_errors=True)
    model.merge_and_unload().save_pretrained(str(partial))
    tokenizer.save_pretrained(str(partial))
    partial.rename(merged)  # complete or absent: a crash mid-write never leaves a half model named merged/
    return merged
