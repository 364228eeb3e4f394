"""The runs of notebook 08: continued pretraining on ``domain_facts``, then SFT on its questions.

``base + CPT + SFT`` against ``SFT only`` on the domain's test questions (about
people the SFT questions never mention), and CPT with and without replay for
forgetting.  The settings below were measured on the built-in model on two CPU
cores (see the notebook for the figures).
"""

from __future__ import annotations

from ftlab.config import Config
from ftlab.models.tiny import BUILTIN_MODEL

# CPT: full fine-tuning; a 0.8M-parameter model stores new facts in all its weights, not in a small adapter.
CPT = {"real": {"train.max_steps": 300, "data.n_train": 2000}, "smoke": {"train.max_steps": 100, "data.n_train": 800}}
SFT = {"real": {"train.max_steps": 100}, "smoke": {"train.max_steps": 60}}
REPLAY_TASK = "reverse"
REPLAY_RATIO = 0.25


def _config(output_dir: str, name: str, settings: dict, overrides: list[str]) -> Config:
    config = Config()
    config.override([f"train.output_dir={output_dir}", f"train.run_name={name}", "data.task=domain_facts",
                     "train.eval_steps=0", "train.save_steps=0", "train.logging_steps=10", "eval.resamples=200",
                     "eval.timeline_prompts=0"])
    for path, value in settings.items():
        config.set(path, value)
    return config.override(overrides)


def cpt_config(output_dir: str, smoke: bool = False, replay: bool = False, name: str | None = None) -> Config:
    """Continued pretraining on the domain's biographies, optionally with chat rows of a known task replayed."""
    replayed = [f"stage.replay_task={REPLAY_TASK}", f"stage.replay_ratio={REPLAY_RATIO}"] if replay else []
    return _config(output_dir, name or ("cpt-replay" if replay else "cpt"), CPT["smoke" if smoke else "real"],
                   ["train.stage=cpt", "method.name=full", "train.learning_rate=2e-3", "data.max_length=128",
                    "data.n_validation=64", "data.n_test=64", *replayed])


def sft_config(output_dir: str, model: str = BUILTIN_MODEL, smoke: bool = False, name: str = "sft") -> Config:
    """SFT with LoRA on the domain's training questions, from the base model or from a merged CPT run."""
    return _config(output_dir, name, SFT["smoke" if smoke else "real"],
                   [f"model.name={model}", "method.name=lora", "train.learning_rate=3e-3"])
