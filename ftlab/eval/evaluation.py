"""Generate an answer for every held-out example and score it with the registered metrics.

Examples come from records through their format (:func:`ftlab.data.rows.examples`),
so the prompt a model answers here is the prompt it was trained on: the
system prompt and earlier turns included.  ``eval`` settings of a config
(``max_new_tokens``, ``batch_size``, ``n_examples``) are read by
:func:`evaluate_split`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ftlab.data.records import Record
from ftlab.data.rows import Example, examples
from ftlab.data.tasks import TASKS
from ftlab.eval.metrics import METRICS, score
from ftlab.models.generation import generate

GENERATION_METRICS = ("exact_match", "chrf")
# An answer longer than the longest reference by this many tokens is wrong anyway; a cap keeps a
# rambling model from generating for minutes.
ANSWER_MARGIN_TOKENS = 16


@dataclass
class EvalReport:
    metrics: dict[str, float]
    examples: list[Example] = field(repr=False)
    predictions: list[str] = field(repr=False)

    @property
    def references(self) -> list[str]:
        return [e.reference for e in self.examples]

    def rows(self, n: int | None = None) -> list[dict]:
        rows = [{"prompt": e.question, "reference": e.reference, "prediction": p}
                for e, p in zip(self.examples, self.predictions)]
        return rows[:n] if n is not None else rows


def answer_budget(tokenizer: Any, references: list[str]) -> int:
    """Tokens to generate when no ``max_new_tokens`` is set: the longest reference plus a margin."""
    longest = max((len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in references), default=16)
    return longest + ANSWER_MARGIN_TOKENS


def evaluate(model: Any, tokenizer: Any, data: Sequence[Record] | Sequence[Example], max_new_tokens: int | None = None,
             batch_size: int = 64, system_prompt: str | None = None, n_examples: int | None = None,
             metrics: Sequence[str] = GENERATION_METRICS) -> EvalReport:
    """Answer every example of ``data`` (records, or examples already made) and score the answers."""
    items = list(data)
    chosen = items if not items or isinstance(items[0], Example) else examples(items, system_prompt)
    if n_examples is not None:
        chosen = chosen[:n_examples]
    references = [e.reference for e in chosen]
    budget = max_new_tokens or answer_budget(tokenizer, references)
    predictions = generate(model, tokenizer, [e.prompt for e in chosen], budget, batch_size)
    return EvalReport(score(metrics, predictions=predictions, references=references), chosen, predictions)


def evaluate_split(model: Any, tokenizer: Any, config: Any, data: Any, split: str = "test") -> EvalReport:
    """Evaluate on one split of a run's data (:class:`ftlab.data.sources.RunData`) as ``config.eval`` says."""
    settings = config.eval
    max_new = settings.max_new_tokens
    if max_new is None and not config.data.train_file and config.data.task in TASKS:
        max_new = TASKS[config.data.task].max_new_tokens
    return evaluate(model, tokenizer, data[split], max_new, settings.batch_size, config.data.system_prompt,
                    settings.n_examples)


def side_by_side(base: EvalReport, tuned: EvalReport, n: int = 8) -> list[dict]:
    """The first ``n`` examples with the reference and both models' answers, each marked right or wrong."""
    right = METRICS["exact_match"].per_example
    return [{"prompt": e.question, "reference": e.reference, "base": b, "tuned": t,
             "base_ok": bool(right(b, e.reference)), "tuned_ok": bool(right(t, e.reference))}
            for e, b, t in zip(base.examples[:n], base.predictions, tuned.predictions)]
