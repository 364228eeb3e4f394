"""Load what a run saved (final/, best/ or a checkpoint) back into a model ready to use.

An adapter is loaded on its base model prepared the way the method trained it
(quantized for QLoRA), so the reloaded model gives the trained model's outputs.
"""

from __future__ import annotations

from pathlib import Path

from ftlab.errors import FtlabError
from ftlab.training.rundir import RunDir


def load_trained(run_dir: str | Path, which: str = "final"):
    """(model, tokenizer) from ``run_dir/which`` (``final``, ``best`` or ``checkpoints/checkpoint-N``)."""
    from ftlab.models.loader import load_model, load_tokenizer
    from ftlab.training.preparation import load_base
    from ftlab.training.stages import STAGES

    run = RunDir(run_dir)
    folder = run.path / which
    if not folder.is_dir():
        saved = [p.name for p in (run.path / "final", run.path / "best") if p.is_dir()]
        raise FtlabError(f"{folder} does not exist; this run has {', '.join(saved) or 'no saved model'} "
                         "(checkpoints are under checkpoints/).")
    config = run.config()
    stage = STAGES[config.train.stage]
    head = stage.head  # a reward model (stage rm) comes back with its score head
    tokenizer_source = folder if (folder / "tokenizer_config.json").exists() else run.path / "final"
    tokenizer = load_tokenizer(str(tokenizer_source) if tokenizer_source.is_dir() else config.model.name,
                               chat=stage.needs_chat_template)  # a CPT run of a plain base model has no template
    if not (folder / "adapter_config.json").exists():
        return load_model(str(folder), config.model.dtype, head=head).eval(), tokenizer
    from peft import PeftModel

    return PeftModel.from_pretrained(load_base(config, head=head), str(folder)).eval(), tokenizer
