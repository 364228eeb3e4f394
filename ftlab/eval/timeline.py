"""Generations during training: a fixed set of prompts answered at every evaluation step.

Loss curves say a model is learning; the answers say *what* it is learning.
At the start of training and after every evaluation, the model answers the
same validation prompts (``eval.timeline_prompts`` of them); each step's
answers are one line of ``generations.jsonl`` in the run directory and a
``generations`` row for the dashboard's listeners, which show them as a
timeline (choose a step, see the answers and what changed since the step
before).  No experiment tracker is needed to keep them.
"""

from __future__ import annotations

from typing import Any

from transformers import TrainerCallback

from ftlab.data.rows import Example
from ftlab.eval.metrics import METRICS
from ftlab.models.generation import generate


class GenerationTimeline(TrainerCallback):
    def __init__(self, emit: Any, examples: list[Example], tokenizer: Any, max_new_tokens: int,
                 batch_size: int = 64):
        self.emit = emit  # RunMonitor.emit: records the row and passes it to the listeners
        self.examples = examples
        self.tokenizer = tokenizer
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self._done: set[int] = set()

    def _answer(self, model: Any, step: int) -> None:
        if step in self._done or model is None:
            return
        self._done.add(step)
        answers = generate(model, self.tokenizer, [e.prompt for e in self.examples], self.max_new_tokens,
                           self.batch_size)
        self.emit("generations", {"step": step, "answers": [
            {"prompt": e.question, "reference": e.reference, "answer": a} for e, a in zip(self.examples, answers)]})

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self._answer(model, state.global_step)

    def on_evaluate(self, args, state, control, model=None, **kwargs):
        self._answer(model, state.global_step)

    def on_train_end(self, args, state, control, model=None, **kwargs):
        self._answer(model, state.global_step)  # the last step, when no evaluation fell on it


def timeline_rows(generations: list[dict]) -> list[dict]:
    """One row per step with, per prompt, the answer and whether it changed since the step before."""
    right = METRICS["exact_match"].per_example
    rows, before = [], None
    for entry in sorted(generations, key=lambda g: g["step"]):
        answers = entry["answers"]
        if before is not None and len(before) == len(answers):
            changed = [b["answer"] != a["answer"] for b, a in zip(before, answers)]
        else:
            changed = [True] * len(answers)
        rows.append({"step": entry["step"], "answers": answers, "changed": changed,
                     "right": [bool(right(a["answer"], a["reference"])) for a in answers]})
        before = answers
    return rows
