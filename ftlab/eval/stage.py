"""Evaluation as a stage: a run or a model, on a split, with suites and comparisons, written to ``eval.json``.

``ftlab eval RUN_DIR|MODEL [--against RUN_DIR|MODEL ...]``, ``ftlab.evaluate``
and the end of ``ftlab train`` all come here.  A run directory brings its
config (data, system prompt, evaluation settings) and its trained model; a
model name or folder is evaluated on a config's data (the built-in task by
default).  Every model in ``against`` answers the same examples and probes,
and is compared item by item (:mod:`ftlab.eval.paired`).

The record: ``eval.json`` (figures, intervals, diagnostics, suites, and per
compared model the differences with intervals and the win rate) and
``eval_samples.jsonl`` in the run directory (or in ``out`` for a bare model);
each compared model's answers go to ``eval_against_<name>_samples.jsonl``.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ftlab.config import Config
from ftlab.data.sources import RunData, load_data
from ftlab.errors import FtlabError
from ftlab.eval.evaluation import EvalReport, evaluate_split
from ftlab.eval.paired import compare, compare_suite
from ftlab.eval.suites import SUITES, summarise
from ftlab.files import atomic_write_json, read_json, write_jsonl
from ftlab.training.rundir import RunDir


@dataclass
class Target:
    """Something to evaluate: a model with its tokenizer, a name, and the run it came from (if any)."""

    name: str
    model: Any
    tokenizer: Any
    config: Config | None = None
    run_dir: Path | None = None


def load_target(target: str | Path, which: str = "final") -> Target:
    """A run directory (its ``final`` model and config), a folder a run saved (``RUN/best``,
    ``RUN/checkpoints/checkpoint-N``: with the run's config, its eval files written there), or a model."""
    from ftlab.models.loader import load_model, load_tokenizer
    from ftlab.training.saved import load_trained

    path = Path(target)
    if is_run(path):
        if not (path / which).is_dir():
            raise FtlabError(f"{path} is a run directory without a {which}/ model (status "
                             f"{_status(path)}); evaluate a finished run, or a checkpoint with "
                             f"{path}/checkpoints/checkpoint-N.")
        model, tokenizer = load_trained(path, which)
        return Target(path.name, model, tokenizer, RunDir(path).config(), path)
    run = _saving_run(path)
    if run is not None:
        model, tokenizer = load_trained(run, str(path.relative_to(run)))
        return Target(f"{run.name}/{path.relative_to(run).as_posix()}", model, tokenizer, RunDir(run).config(), path)
    return Target(str(target), load_model(str(target)), load_tokenizer(str(target)))


def _saving_run(path: Path) -> Path | None:
    """The run directory ``path`` is a saved model of (``best``, ``checkpoints/checkpoint-N``), if it is one."""
    if not path.is_dir():
        return None
    return next((parent for parent in list(path.parents)[:2] if is_run(parent)), None)


def is_run(path: str | Path) -> bool:
    return (Path(path) / "config.yaml").is_file() and (Path(path) / "results.json").is_file()


def _status(path: Path) -> str:
    return read_json(path / "results.json").get("status", "unknown")


def against_samples_file(name: str) -> str:
    """``eval_against_<name>_samples.jsonl``: a compared model's answers, its name made safe for a file name."""
    return f"eval_against_{re.sub(r'[^A-Za-z0-9_.-]+', '_', name).strip('_')}_samples.jsonl"


def run_suites(target: Target, names: Sequence[str], batch_size: int) -> dict[str, list[dict]]:
    return {name: SUITES[name].run(target.model, target.tokenizer, batch_size) for name in names}


def evaluate_target(target: Target, config: Config, data: RunData | None = None, split: str | None = None,
                    against: Sequence[Target] = (), out: str | Path | None = None,
                    report: EvalReport | None = None) -> dict:
    """Evaluate ``target`` (and compare it with ``against``) as ``config.eval`` says; write and return eval.json.

    ``report`` is the target's evaluation on the split when it was already made (the quickstart makes it
    to show base and tuned side by side): it is recorded, not generated twice.
    """
    data = data or load_data(config.data)
    split = split or config.eval.split
    report = report or evaluate_split(target.model, target.tokenizer, config, data, split, target.name)
    suites = run_suites(target, config.eval.suites, config.eval.batch_size)
    record = {**report.to_json(), "data_version": data.version,
              "suites": {name: summarise(items).to_json() for name, items in suites.items()}, "against": {}}
    folder = Path(out) if out is not None else target.run_dir
    report.write(folder)
    for name, items in suites.items():
        write_jsonl(folder / f"eval_suite_{name}.jsonl", items)
    for other in against:
        theirs = evaluate_split(other.model, other.tokenizer, config, data, split, other.name)
        write_jsonl(folder / against_samples_file(other.name), theirs.samples())
        paired = compare(report, theirs, config.eval.resamples, config.data.seed)
        their_suites = run_suites(other, config.eval.suites, config.eval.batch_size)
        paired.suites = {name: compare_suite(name, suites[name], their_suites[name], config.eval.resamples,
                                             config.data.seed) for name in suites}
        record["against"][other.name] = {**paired.to_json(), "metrics": theirs.metrics}
    atomic_write_json(folder / "eval.json", record)
    return record


def evaluate(target: str | Path, split: str | None = None, metrics: Sequence[str] | None = None,
             n: int | None = None, against: Sequence[str | Path] = (), suites: Sequence[str] | None = None,
             config: Config | None = None, out: str | Path | None = None) -> dict:
    """Evaluate a run directory or a model; see the module docstring.  Returns what eval.json holds."""
    if out is None and not is_run(target) and _saving_run(Path(target)) is None:
        raise FtlabError(f"{target} is not a run directory: say where eval.json goes (--out DIR).")
    subject = load_target(target)
    config = copy.deepcopy(config or subject.config or Config())
    for path, value in (("eval.split", split), ("eval.metrics", list(metrics) if metrics else None),
                        ("eval.n_examples", n), ("eval.suites", list(suites) if suites is not None else None)):
        if value is not None:
            config.set(path, value)
    problems = [p for p in config.problems() if p.field.startswith(("eval.", "data."))]
    if problems:
        raise problems[0]
    return evaluate_target(subject, config, against=[load_target(other) for other in against], out=out)


def evaluate_trained(model: Any, tokenizer: Any, config: Config, run_dir: Path, data: RunData | None = None,
                     report: EvalReport | None = None) -> dict:
    """The end of ``ftlab train``: the trained model on ``eval.split``, with ``eval.suites``."""
    return evaluate_target(Target(run_dir.name, model, tokenizer, config, run_dir), config, data, report=report)


def headline(record: dict) -> dict:
    """The figures results.json repeats from eval.json."""
    return {"split": record["split"], "n": record["n"], **record["metrics"]}

