"""A weak SFT start for the RL and reward-model tests: the built-in model after a short cipher SFT, merged.

Built once per test session (it takes about half a minute).  A private helper:
ftlab.training.merged gives the library's own merge.
"""

from pathlib import Path

_BUILT: dict[str, Path] = {}


def merged_sft_start(folder: Path, steps: int = 160) -> Path:
    """A folder holding the built-in model with a cipher SFT LoRA of ``steps`` steps merged into it."""
    import ftlab
    from ftlab.config import Config
    from ftlab.training.saved import load_trained

    key = f"cipher-{steps}"
    if key in _BUILT:
        return _BUILT[key]
    config = Config().override([
        f"train.output_dir={folder / 'runs'}", f"train.run_name=sft{steps}", "method.name=lora",
        "data.task=cipher", f"train.max_steps={steps}", "train.learning_rate=3e-3", "train.eval_steps=0",
        "train.save_steps=0", "train.logging_steps=50", "eval.at_end=false"])
    run = ftlab.train(config).run
    model, tokenizer = load_trained(run.path)
    merged = folder / f"sft{steps}_merged"
    model.merge_and_unload().save_pretrained(merged)
    tokenizer.save_pretrained(merged)
    _BUILT[key] = merged
    return merged
