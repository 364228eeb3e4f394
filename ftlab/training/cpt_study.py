"""The runs of notebook 08: continued pretraining on ``domain_facts``, then SFT on its questions.

``base + CPT + SFT`` against ``SFT only`` on the domain's test questions (about
people the SFT questions never mention), and CPT with and without replay for
forgetting.  The settings below were measured on the built-in model on two CPU
cores (see the notebook for the figures).
"""

from __future__ import annotations

from ftlab.config import Config
from ftlab.models.tiny import BUILTIN_MODEL

# CPT: full fine-tuning at a high learning rate; a 0.8M-parameter model stores new facts in all its weights, not in a
# small adapter.  The facts are learnt late (12 people: after 300-450 steps at lr 3e-3, the wording long before), and
# answering from them improves for longer (test exact match after SFT: 0.13 from 500 steps, 0.40 from 900), so the
# smoke run shows only the wording: domain perplexity down, the answers' words, not the facts.
CPT = {"real": {"train.max_steps": 700, "data.n_train": 4000}, "smoke": {"train.max_steps": 60, "data.n_train": 500}}
# SFT: few steps.  The 18 training questions teach the answer format in 30; 100 steps learn those six people's
# answers by heart over the facts CPT stored (measured from one CPT model: test exact match 0.40 after 30, 0.33 after 100).
SFT = {"real": {"train.max_steps": 30}, "smoke": {"train.max_steps": 30}}
# The word skills the built-in model was pre-trained on (next_letter has too few distinct rows to replay), in most of
# the rows: replay rows are short, 0.6 of the rows is about a third of the tokens.  Measured after 500 steps at lr 3e-3:
# general accuracy 0.70 -> 0.00 without replay or with 0.3 of reverse, spell... (general_ppl 1.24 -> 12.5), 0.38 with
# 0.6 (general_ppl 2.7).
REPLAY_TASKS = ("repeat", "reverse", "uppercase", "spell")
REPLAY_RATIO = 0.6


def _config(output_dir: str, name: str, settings: dict, overrides: list[str]) -> Config:
    config = Config()
    config.override([f"train.output_dir={output_dir}", f"train.run_name={name}", "data.task=domain_facts",
                     "train.eval_steps=0", "train.save_steps=0", "train.logging_steps=10", "eval.resamples=200",
                     "eval.timeline_prompts=0"])
    for path, value in settings.items():
        config.set(path, value)
    return config.override(overrides)


def cpt_config(output_dir: str, smoke: bool = False, replay: bool = False, name: str | None = None) -> Config:
    """Continued pretraining on the domain's biographies, optionally with chat rows of known tasks replayed."""
    replayed = [f"stage.replay_tasks={','.join(REPLAY_TASKS)}", f"stage.replay_ratio={REPLAY_RATIO}"] if replay else []
    return _config(output_dir, name or ("cpt-replay" if replay else "cpt"), CPT["smoke" if smoke else "real"],
                   ["train.stage=cpt", "method.name=full", "train.learning_rate=3e-3", "data.max_length=128",
                    "data.n_validation=64", "data.n_test=64", *replayed])


def sft_config(output_dir: str, model: str = BUILTIN_MODEL, smoke: bool = False, name: str = "sft") -> Config:
    """SFT with LoRA on the domain's training questions, from the base model or from a merged CPT run."""
    return _config(output_dir, name, SFT["smoke" if smoke else "real"],
                   [f"model.name={model}", "method.name=lora", "train.learning_rate=3e-3"])
