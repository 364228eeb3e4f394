"""A trained reward model (a run of stage ``rm``) as a scorer of answers, and as a reward for the RL stages.

A reward model reads the whole dialogue, the prompt turns and the answer as
the assistant's turn, through the chat template, exactly as TRL's
``RewardTrainer`` read the chosen and rejected dialogues it learned from, and
gives one score: higher is better.  The scale is arbitrary (only differences
between answers to the same prompt were trained), so the RL stages, which
compare the answers within a group, can use it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ftlab.errors import FtlabError


def answered(prompts: Sequence[list[dict]], answers: Sequence[str]) -> list[list[dict]]:
    """Each prompt dialogue closed by its answer as the assistant's turn."""
    return [list(p) + [{"role": "assistant", "content": a}] for p, a in zip(prompts, answers)]


def score(model: Any, tokenizer: Any, dialogues: Sequence[list[dict]], batch_size: int = 64) -> list[float]:
    """The score-head model's score of each whole dialogue (its last turn is the answer scored)."""
    import torch

    texts = [tokenizer.apply_chat_template(list(d), tokenize=False) for d in dialogues]
    device = next(model.parameters()).device
    side, tokenizer.padding_side = tokenizer.padding_side, "right"
    was_training = model.training
    model.eval()
    scores: list[float] = []
    try:
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True,
                              add_special_tokens=False).to(device)
            with torch.inference_mode():
                scores += model(**batch).logits[:, 0].float().tolist()
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return scores


@dataclass
class RewardModel:
    """A reward-model run loaded once; call it with prompt dialogues and answers."""

    path: Path
    model: Any
    tokenizer: Any

    def __call__(self, prompts: Sequence[list[dict]], answers: Sequence[str]) -> list[float]:
        return score(self.model, self.tokenizer, answered(prompts, answers))


_LOADED: dict[Path, RewardModel] = {}


def not_a_reward_model(run_dir: str | Path) -> str | None:
    """Why ``run_dir`` cannot serve as a reward model, or None when it is a run of stage rm."""
    from ftlab.training.rundir import RunDir

    if not (Path(run_dir) / "config.yaml").is_file():
        return (f"{run_dir} is not a run directory (it has no config.yaml); give the folder of a finished run "
                "of stage rm.")
    stage = RunDir(run_dir).config().train.stage
    if stage != "rm":
        return f"{run_dir} is a run of stage {stage!r}, not a reward model; give the folder of a run of stage rm."
    return None


def load_reward_model(run_dir: str | Path) -> RewardModel:
    """The reward model a run of stage ``rm`` saved (final/), loaded once per process."""
    from ftlab.training.saved import load_trained

    path = Path(run_dir).resolve()
    if path in _LOADED:
        return _LOADED[path]
    problem = not_a_reward_model(run_dir)
    if problem:
        raise FtlabError(f"stage.reward_model: {problem}")
    model, tokenizer = load_trained(path)
    _LOADED[path] = RewardModel(path, model, tokenizer)
    return _LOADED[path]
