"""``ftlab eval`` and ``ftlab metrics``: the evaluation stage, and scoring answers that already exist.

``ftlab eval RUN_DIR|MODEL [--split test] [--metrics ...] [--n N] [--suites ...]
[--against RUN_DIR|MODEL ...]`` evaluates a run's trained model (or a model on a
config's data), writes ``eval.json`` and ``eval_samples.jsonl`` and prints the
figures, with intervals and, per ``--against`` model, the paired differences
and the win rate (:mod:`ftlab.eval.stage`).

``ftlab metrics FILE.jsonl`` scores answers that already exist, from a shell.

Predictions made anywhere (another framework, an API, a spreadsheet export)
get the same figures as ftlab's own evaluations, from the same metric
registry.  One JSON object a line, of one of two kinds:

  generated text:  {"prediction": "...", "reference": "..."}
  a classifier:    {"label": "pos", "predicted_label": "neg"}, and for the
                   AUCs and calibration the class probabilities, either
                   "score": 0.3 (two classes: the probability of the
                   positive class, the second of --label-set) or "scores":
                   {"neg": 0.7, "pos": 0.3} or a list in --label-set order.

Without --label-set the classes of a "scores" object are its keys, in the
first row's order.  Labels are compared as text.  The first row says which
kind the file is; every row must then have that kind's fields.  Calibration
(ece) reads the probability the model gave its predicted label (the
top-class probability whenever the predicted label is the most probable
one) against whether that label is right.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import warnings
from pathlib import Path

from ftlab.errors import FtlabError
from ftlab.eval.metrics import METRICS, score

# What a metric input is made of, in the words of the rows, for "this metric needs ..." messages.
_PROBABILITY = "a 'score' or 'scores'"
ROW_FIELDS = {"predictions": "a 'prediction'", "references": "a 'reference'", "labels": "a 'label'",
              "predicted_labels": "a 'predicted_label'", "correct": "a 'label'", "label_set": _PROBABILITY,
              "probabilities": _PROBABILITY, "confidences": _PROBABILITY}


def _label(row: dict, field: str, where: str) -> str:
    value = row[field]
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise FtlabError(f"{where}: {field} is {json.dumps(value)}; labels are text or whole numbers.")
    return str(value)


def _require(row: dict, fields: tuple[str, ...], where: str, kind: str) -> None:
    for field in fields:
        if field not in row:
            raise FtlabError(f"{where}: no {field!r}; every {kind} row needs {' and '.join(fields)}.")


def _generation_inputs(rows: list[dict], where: list[str]) -> dict:
    for row, place in zip(rows, where):
        _require(row, ("prediction", "reference"), place, "generated-text")
        for field in ("prediction", "reference"):
            if not isinstance(row[field], str):
                raise FtlabError(f"{place}: {field} is {json.dumps(row[field])}, not text.")
    return {"predictions": [r["prediction"] for r in rows], "references": [r["reference"] for r in rows]}


def _probabilities(field: str, given, where: str, label_set: list[str], origin: str) -> list[float]:
    """One row's class probabilities (its ``score`` or ``scores``) in ``label_set`` order, checked."""
    if field == "score":
        values = [given]
    elif isinstance(given, dict):
        if set(given) != set(label_set):
            raise FtlabError(f"{where}: scores has the classes {', '.join(given)} but {origin} names "
                             f"{', '.join(label_set)}.")
        values = [given[c] for c in label_set]
    elif isinstance(given, list):
        values = given
        if len(values) != len(label_set):
            raise FtlabError(f"{where}: scores has {len(values)} probabilities but {origin} names "
                             f"{len(label_set)} classes.")
    else:
        raise FtlabError(f"{where}: scores is {json.dumps(given)}; give an object of class -> probability "
                         "or a list in --label-set order.")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise FtlabError(f"{where}: {json.dumps(value)} is not a probability between 0 and 1.")
    if field == "score":
        return [1 - values[0], values[0]]
    if not math.isclose(sum(values), 1, abs_tol=1e-6):
        raise FtlabError(f"{where}: the scores sum to {sum(values):g}, not 1; give probabilities (a softmax over "
                         "the classes).")
    return [float(v) for v in values]


def _label_set(path: Path, first: dict, given: list[str] | None) -> tuple[list[str] | None, str]:
    """The classes in order and where they came from; None when the rows have no probabilities and none is given."""
    if given is not None:
        if len(given) < 2 or len(set(given)) != len(given):
            raise FtlabError(f"--label-set {','.join(given)!r} must name two or more distinct classes.")
        if "score" in first and len(given) != 2:
            raise FtlabError(f"{path}: 'score' is the probability of the positive class of two, but --label-set "
                             f"names {len(given)} classes; give 'scores' with one probability per class instead.")
        return given, "--label-set"
    if "score" in first:
        raise FtlabError(f"{path}: 'score' is the probability of the positive class, the second of two; name both "
                         "in order with --label-set NEGATIVE,POSITIVE (for example --label-set no,yes).")
    if isinstance(first.get("scores"), dict):
        return list(first["scores"]), "the first row's scores"
    if "scores" in first:
        raise FtlabError(f"{path}: scores is a list, so its classes need naming in order: add --label-set A,B,C.")
    return None, ""


def _classification_inputs(path: Path, rows: list[dict], where: list[str], given: list[str] | None) -> dict:
    label_set, origin = _label_set(path, rows[0], given)
    field = next((f for f in ("score", "scores") if f in rows[0]), None)
    labels, predicted, probabilities = [], [], []
    for row, place in zip(rows, where):
        _require(row, ("label", "predicted_label"), place, "classifier")
        pair = [_label(row, "label", place), _label(row, "predicted_label", place)]
        for name, value in zip(("label", "predicted_label"), pair):
            if label_set is not None and value not in label_set:
                raise FtlabError(f"{place}: {name} {value!r} is not in the label set {', '.join(label_set)} "
                                 f"(from {origin}).")
        labels.append(pair[0])
        predicted.append(pair[1])
        if field is not None:
            if field not in row:
                raise FtlabError(f"{place}: no {field!r}; the first row has one, and the AUCs and calibration need "
                                 "it in every row.")
            probabilities.append(_probabilities(field, row[field], place, label_set, origin))
    inputs = {"labels": labels, "predicted_labels": predicted}
    if field is not None:
        inputs.update(label_set=label_set, probabilities=probabilities,
                      confidences=[p[label_set.index(c)] for p, c in zip(probabilities, predicted)],
                      correct=[t == p for t, p in zip(labels, predicted)])
    return inputs


def metric_inputs(path: str | Path, label_set: list[str] | None = None) -> dict:
    """The metric inputs (``predictions``, ``labels``, ``probabilities``...) that a JSONL file's rows give."""
    from ftlab.data.readers import read_rows

    path = Path(path)
    read = read_rows(path)
    rows, where = read.rows, read.where
    if not rows:
        raise FtlabError(f"{path}: no rows; write one JSON object a line, e.g. "
                         '{"prediction": "Paris", "reference": "Paris"} or {"label": "pos", "predicted_label": "neg"}.')
    first = rows[0]
    if "prediction" in first or "reference" in first:
        if label_set is not None:
            raise FtlabError(f"{path}: --label-set is for classifier rows, but these rows hold generated text "
                             "(prediction, reference).")
        return _generation_inputs(rows, where)
    if "label" in first or "predicted_label" in first:
        return _classification_inputs(path, rows, where, label_set)
    raise FtlabError(f"{where[0]}: a row needs prediction and reference (generated text) or label and "
                     f"predicted_label (a classifier); this one has {', '.join(first) or 'no fields'}.")


def file_metrics(path: str | Path, names: list[str] | None = None, label_set: list[str] | None = None) -> dict:
    """``{"rows": N, metric: value...}``: the metrics in ``names`` (default: every one the rows allow), 0-1."""
    chosen = [METRICS[name] for name in names or []]  # an unknown name fails before the file is read
    inputs = metric_inputs(path, label_set)
    for metric in chosen:
        missing = [k for k in metric.needs if k not in inputs]
        if missing:
            fields = list(dict.fromkeys(ROW_FIELDS[k] for k in missing))
            raise FtlabError(f"{path}: metric {metric.name!r} needs {' and '.join(fields)} in every row, which these rows "
                             "do not have.")
    n_rows = len(next(iter(inputs.values())))  # predictions or labels: one per row
    return {"rows": n_rows, **score(names, **inputs)}


def _names(text: str | None, option: str) -> list[str] | None:
    if text is None:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise FtlabError(f"{option} is empty; give comma-separated names.")
    return names


def _cmd_metrics(args) -> None:
    with warnings.catch_warnings():  # scikit-learn's warnings about undefined AUCs: the note below says it once
        warnings.simplefilter("ignore")
        found = file_metrics(args.file, _names(args.metrics, "--metrics"), _names(args.label_set, "--label-set"))
    undefined = [k for k, v in found.items() if isinstance(v, float) and math.isnan(v)]
    if undefined:
        print(f"ftlab: note: {', '.join(undefined)} undefined on these rows, printed as null: an AUC ranks each "
              "class against the others, so every class of the label set needs at least one row.", file=sys.stderr)
    print(json.dumps({k: None if k in undefined else v for k, v in found.items()}, indent=2, ensure_ascii=False))


def _listed(text: str | None) -> list[str] | None:
    return [x.strip() for x in text.split(",") if x.strip()] if text else None


def _cmd_eval(args) -> None:
    from ftlab.config import Config
    from ftlab.eval.stage import evaluate

    config = Config.load(args.config).override(args.set or []) if args.config else None
    record = evaluate(args.target, args.split, _listed(args.metrics), args.n, args.against or (),
                      _listed(args.suites), config, args.out)
    shown = {k: record[k] for k in ("name", "split", "n", "metrics", "intervals", "suites")}
    shown["against"] = {name: {k: other[k] for k in ("differences", "wins", "ties", "losses", "win_rate",
                                                     "win_interval", "item_score", "suites")}
                        for name, other in record["against"].items()}
    print(json.dumps(shown, indent=2, ensure_ascii=False))


def add_eval_commands(commands) -> None:
    ev = commands.add_parser("eval", help="evaluate a run (or a model) on a split; write eval.json; compare with "
                             "other runs or models (--against)")
    ev.add_argument("target", metavar="RUN_DIR|MODEL")
    ev.add_argument("--split", default=None, help="test (default) or validation")
    ev.add_argument("--metrics", default=None, metavar="M1,M2", help="default: every metric that applies")
    ev.add_argument("--n", type=int, default=None, help="the first N examples of the split")
    ev.add_argument("--suites", default=None, metavar="S1,S2", help="probe suites, e.g. general_skills,safety")
    ev.add_argument("--against", action="append", metavar="RUN_DIR|MODEL",
                    help="compare with this run or model on the same items (repeatable)")
    ev.add_argument("--config", default=None, metavar="CONFIG.yaml",
                    help="data and evaluation settings for a model (a run brings its own)")
    ev.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE", help="override a --config setting")
    ev.add_argument("--out", default=None, metavar="DIR", help="where eval.json goes for a model (a run: its folder)")
    ev.set_defaults(run=_cmd_eval)

    metrics = commands.add_parser("metrics", help="score a JSONL file of predictions (generated text or a "
                                  "classifier's labels and probabilities); prints the metrics as JSON",
                                  description=__doc__.split("\n\n", 1)[1],  # the docstring less its title
                                  formatter_class=argparse.RawDescriptionHelpFormatter)
    metrics.add_argument("file", metavar="FILE.jsonl")
    metrics.add_argument("--metrics", default=None, metavar="M1,M2",
                         help=f"comma-separated, from {', '.join(METRICS)} (default: every one the rows allow)")
    metrics.add_argument("--label-set", default=None, metavar="A,B,C",
                         help="the classes in order: columns of a 'scores' list; with 'score', NEGATIVE,POSITIVE")
    metrics.set_defaults(run=_cmd_metrics)
