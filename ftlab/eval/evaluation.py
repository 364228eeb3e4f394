"""Evaluate a model on held-out examples: answers, every applicable metric with its interval, the details.

Examples come from records through their format (:func:`ftlab.data.rows.examples`),
so the prompt a model answers here is the prompt it was trained on: the
system prompt and earlier turns included.  For each example the model's
greedy answer is generated with its log-probability and timing, and the
reference answer is scored under teacher forcing (perplexity).  When the
task is classification (a label set is known) every label is also scored as
the answer, which gives the predicted label, class probabilities (ROC-AUC,
PR-AUC) and a confidence (calibration).

Which metrics apply is decided by what was measured: every registered metric
whose inputs exist is computed (or the ones asked for), each with a bootstrap
interval (:mod:`ftlab.eval.bootstrap`).  A report writes ``eval.json``
(figures, intervals, diagnostics) and ``eval_samples.jsonl`` (one row per
example: prompt, reference, answer, per-example scores, confidence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ftlab.data.records import Record
from ftlab.data.rows import Example, examples
from ftlab.data.tasks import TASKS
from ftlab.errors import FtlabError
from ftlab.eval import bootstrap
from ftlab.eval import diagnostics as tables
from ftlab.eval.metrics import METRICS, Metric
from ftlab.files import atomic_write_json, write_jsonl
from ftlab.models.generation import generate_scored
from ftlab.models.likelihood import completion_logprobs, label_probabilities

# An answer longer than the longest reference by this many tokens is wrong anyway; a cap keeps a
# rambling model from generating for minutes.
ANSWER_MARGIN_TOKENS = 16


@dataclass
class EvalReport:
    name: str  # what was evaluated: a run, a model
    split: str
    metrics: dict[str, float]
    intervals: dict[str, tuple[float, float]]
    examples: list[Example] = field(repr=False)
    predictions: list[str] = field(repr=False)
    per_example: dict[str, list[float]] = field(default_factory=dict, repr=False)
    confidences: list[float] = field(default_factory=list, repr=False)
    labels: list[str] | None = None  # the class labels, for a classification task
    probabilities: list[list[float]] | None = field(default=None, repr=False)
    diagnostics: dict = field(default_factory=dict, repr=False)
    inputs: dict = field(default_factory=dict, repr=False)  # what the metrics were computed from

    @property
    def references(self) -> list[str]:
        return [e.reference for e in self.examples]

    def rows(self, n: int | None = None) -> list[dict]:
        rows = [{"prompt": e.question, "reference": e.reference, "prediction": p}
                for e, p in zip(self.examples, self.predictions)]
        return rows[:n] if n is not None else rows

    def samples(self) -> list[dict]:
        """One row per example for ``eval_samples.jsonl``."""
        out = []
        for i, (e, p) in enumerate(zip(self.examples, self.predictions)):
            row = {"index": i, "where": e.where, "prompt": e.prompt, "question": e.question, "reference": e.reference,
                   "prediction": p, "scores": {k: v[i] for k, v in self.per_example.items()}}
            if self.confidences:
                row["confidence"] = round(self.confidences[i], 6)
            if self.probabilities is not None:
                row["probabilities"] = dict(zip(self.labels, (round(x, 6) for x in self.probabilities[i])))
            out.append(row)
        return out

    def to_json(self) -> dict:
        return {"name": self.name, "split": self.split, "n": len(self.examples), "metrics": self.metrics,
                "intervals": {k: [round(v[0], 4), round(v[1], 4)] for k, v in self.intervals.items()},
                "higher_is_better": {k: METRICS[k].higher_is_better for k in self.metrics},
                "labels": self.labels, "diagnostics": self.diagnostics}

    def write(self, folder: str | Path, prefix: str = "eval") -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        write_jsonl(folder / f"{prefix}_samples.jsonl", self.samples())
        return atomic_write_json(folder / f"{prefix}.json", self.to_json())


def answer_budget(tokenizer: Any, references: list[str]) -> int:
    """Tokens to generate when no ``max_new_tokens`` is set: the longest reference plus a margin."""
    longest = max((len(tokenizer(r, add_special_tokens=False)["input_ids"]) for r in references), default=16)
    return longest + ANSWER_MARGIN_TOKENS


def _chosen_metrics(names: Sequence[str] | None, inputs: dict) -> list[Metric]:
    if names:
        chosen = [METRICS[n] for n in names]
        for metric in chosen:
            missing = [k for k in metric.needs if k not in inputs]
            if missing:
                raise FtlabError(f"metric {metric.name!r} needs {', '.join(missing)}, which this evaluation does not "
                                 "produce (classification metrics need a task with labels).")
        return chosen
    return [m for m in METRICS.values() if all(k in inputs for k in m.needs)]


def _per_example(metric: Metric, inputs: dict) -> list[float] | None:
    if metric.per_example is None or metric.needs != ("predictions", "references"):
        return None
    return [float(metric.per_example(p, r)) for p, r in zip(inputs["predictions"], inputs["references"])]


def evaluate(model: Any, tokenizer: Any, data: Sequence[Record] | Sequence[Example], max_new_tokens: int | None = None,
             batch_size: int = 64, system_prompt: str | None = None, n_examples: int | None = None,
             metrics: Sequence[str] | None = None, labels: Sequence[str] | None = None,
             resamples: int = bootstrap.RESAMPLES, seed: int = 0, name: str = "", split: str = "test") -> EvalReport:
    """Answer every example of ``data`` (records, or examples already made) and score the answers.

    ``labels`` (a classification task's classes) adds label scoring; ``metrics`` limits what is
    computed (default: every registered metric the measurements allow).
    """
    items = list(data)
    chosen = items if not items or isinstance(items[0], Example) else examples(items, system_prompt)
    if n_examples is not None:
        chosen = chosen[:n_examples]
    if not chosen:
        raise FtlabError(f"{name or 'evaluation'}: the {split} split has no examples to evaluate; give a larger "
                         f"split or a test file (data.test_file).")
    references = [e.reference for e in chosen]
    prompts = [e.prompt for e in chosen]
    generated = generate_scored(model, tokenizer, prompts, max_new_tokens or answer_budget(tokenizer, references),
                                batch_size)
    sums, counts = completion_logprobs(model, tokenizer, prompts, references, batch_size)
    inputs: dict[str, Any] = {
        "predictions": generated.texts, "references": references, "logprob_sums": sums, "token_counts": counts,
        "seconds": generated.seconds, "answer_tokens": generated.tokens,
        "confidences": [math.exp(m) for m in generated.mean_logprobs],
        "correct": [float(METRICS["exact_match"].per_example(p, r)) for p, r in zip(generated.texts, references)]}
    probabilities = None
    if labels:
        labels = list(labels)
        unknown = sorted({r for r in references if r not in labels})
        if unknown:
            raise FtlabError(f"{name or 'evaluation'}: reference label(s) {', '.join(map(repr, unknown[:5]))} are not "
                             f"among the task's labels ({', '.join(labels)}); evaluate with the labels the data uses.")
        probabilities = label_probabilities(model, tokenizer, prompts, labels, batch_size)
        predicted = [labels[max(range(len(labels)), key=row.__getitem__)] for row in probabilities]
        inputs.update(labels=references, predicted_labels=predicted, label_set=labels, probabilities=probabilities,
                      confidences=[max(row) for row in probabilities],
                      correct=[float(p == r) for p, r in zip(predicted, references)])
    report = EvalReport(name, split, {}, {}, chosen, generated.texts, confidences=inputs["confidences"],
                        labels=labels, probabilities=probabilities, inputs=inputs)
    for i, metric in enumerate(_chosen_metrics(metrics, inputs)):
        own = {k: inputs[k] for k in metric.needs}
        value = float(metric.compute(**own))
        report.metrics[metric.name] = round(value, 4)
        scores = _per_example(metric, own)
        if scores is not None:
            report.per_example[metric.name] = scores
        if metric.kind != "cost":
            report.intervals[metric.name] = bootstrap.interval(metric.on_resamples(own, scores), len(chosen),
                                                               resamples, seed + i)
    report.diagnostics = diagnostics(inputs)
    return report


def diagnostics(inputs: dict) -> dict:
    """The figures behind the panel's plots: reliability and selective-answering curves always; for a
    classification task also the confusion matrix, per-class figures and ROC / PR curves."""
    out = {"reliability": tables.reliability(inputs["confidences"], inputs["correct"]),
           "coverage": tables.coverage_accuracy(inputs["confidences"], inputs["correct"])}
    if "label_set" in inputs:
        labels, predicted, label_set = inputs["labels"], inputs["predicted_labels"], inputs["label_set"]
        out.update(confusion=tables.confusion(labels, predicted, label_set),
                   per_class=tables.per_class(labels, predicted, label_set),
                   roc=tables.roc_points(labels, label_set, inputs["probabilities"]),
                   pr=tables.pr_points(labels, label_set, inputs["probabilities"]))
    return out


def default_max_new_tokens(config: Any) -> int | None:
    """``eval.max_new_tokens``, else the built-in task's own bound, else None (the references decide)."""
    if config.eval.max_new_tokens is not None:
        return config.eval.max_new_tokens
    if not config.data.train_file and config.data.task in TASKS:
        return TASKS[config.data.task].max_new_tokens
    return None


def evaluate_split(model: Any, tokenizer: Any, config: Any, data: Any, split: str | None = None,
                   name: str = "") -> EvalReport:
    """Evaluate on one split of a run's data (:class:`ftlab.data.sources.RunData`) as ``config.eval`` says."""
    settings = config.eval
    split = split or settings.split
    if data.labels:
        seen = {str(r.label) for r in data["train"]}
        unseen = next((r for r in data[split] if str(r.label) not in seen), None)
        if unseen is not None:
            raise FtlabError(f"{unseen.where}: label {unseen.label!r} never appears in the training split, so the "
                             "model cannot have learned it; add training rows with it or drop it from the "
                             f"{split} split.")
    return evaluate(model, tokenizer, data[split], default_max_new_tokens(config), settings.batch_size,
                    config.data.system_prompt, settings.n_examples, settings.metrics or None, data.labels,
                    settings.resamples, config.data.seed, name, split)


def side_by_side(base: EvalReport, tuned: EvalReport, n: int = 8) -> list[dict]:
    """The first ``n`` examples with the reference and both models' answers, each marked right or wrong."""
    right = METRICS["exact_match"].per_example
    return [{"prompt": e.question, "reference": e.reference, "base": b, "tuned": t,
             "base_ok": bool(right(b, e.reference)), "tuned_ok": bool(right(t, e.reference))}
            for e, b, t in zip(base.examples[:n], base.predictions, tuned.predictions)]
