"""Forgetting: the built-in model's pre-training skills (repeat, reverse, upper-case, spell, next letter).

Fine-tuning overwrites; this suite asks whether the model can still do what
it could before the fine-tune.  Each skill is a built-in task marked
``in_base``; 40 fixed probes each (next_letter has 25), scored by exact match.  Run it on the base
and the tuned model and compare: a drop is forgetting.  For a hub model, give
it probes of its own general skills instead (a new suite file).
"""

from __future__ import annotations

from typing import Any

from ftlab.data.tasks import TASKS, distinct_examples
from ftlab.eval.metrics import METRICS
from ftlab.eval.suites import Suite
from ftlab.models.generation import generate

PROBES_PER_SKILL = 40
SEED = 1234  # probes differ from anything a run draws with its own seeds


def run(model: Any, tokenizer: Any, batch_size: int) -> list[dict]:
    right = METRICS["exact_match"].per_example
    items = []
    for task in (t for t in TASKS.values() if t.in_base):
        probes = distinct_examples(task, SEED, PROBES_PER_SKILL)
        answers = generate(model, tokenizer, [p for p, _ in probes], task.max_new_tokens, batch_size)
        items += [{"group": task.name, "prompt": p, "reference": r, "answer": a, "score": right(a, r)}
                  for (p, r), a in zip(probes, answers)]
    return items


ENTRY = Suite("general_skills", "Pre-training skills the model had before the fine-tune (forgetting check).", run)
