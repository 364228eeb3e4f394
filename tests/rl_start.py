"""A weak SFT start for the RL and reward-model tests: the built-in model after a short cipher SFT, merged.

Built once per test session (it takes about half a minute).
"""

from pathlib import Path

_BUILT: dict[str, Path] = {}


def merged_sft_start(folder: Path, steps: int = 160) -> Path:
    """A folder holding the built-in model with a cipher SFT LoRA of ``steps`` steps merged into it."""
    import ftlab
    from ftlab.config import Config
    from ftlab.training.merged import merged_model

    key = f"cipher-{steps}"
    if key in _BUILT:
        return _BUILT[key]
    config = Config().override([
        f"train.output_dir={folder / 'runs'}", f"train.run_name=sft{steps}", "method.name=lora",
        "data.task=cipher", f"train.max_steps={steps}", "train.learning_rate=3e-3", "train.eval_steps=0",
        "train.save_steps=0", "train.logging_steps=50", "eval.at_end=false"])
    merged = merged_model(ftlab.train(config).run.path)
    _BUILT[key] = merged
    return merged
