"""The data stage end to end: inspect a source, or prepare files into a versioned dataset.

``inspect`` answers "what is this file and what is wrong with it" without
changing anything; ``prepare`` loads, runs the quality pipeline, splits,
removes held-out rows that leak from training, and saves a version.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ftlab.data.pair_checks import length_bias
from ftlab.data.parsing import load
from ftlab.data.quality import (DEFAULT_STEPS, DropEmpty, ExactDedup, MaskPII, Normalize, Pipeline,
                                PipelineResult, PreferenceCheck, StepReport, build_steps)
from ftlab.data.records import Record
from ftlab.data.splits import remove_leakage, split_records
from ftlab.data.versions import DataVersion, save_version
from ftlab.files import content_hash, file_sha256


def inspect(source: Any, fmt: str | None = None, columns: dict[str, str] | None = None,
            n_sample: int = 3, encoding: str = "utf-8", sheet: str | None = None) -> dict:
    """Format (and why), rows, fields, a sample and the problems found, as a JSON-able dict."""
    parsed = load(source, fmt, columns, encoding, sheet)
    problems = [f"{p['where']}: {p['problem']}" for p in parsed.problems]
    # Checks run on normalised copies, so rows differing only in spaces count as duplicates.
    records = Normalize().apply(parsed.records, None, StepReport("normalize", {}))
    for report in _checks(records):
        for entries, reasons in ((report.dropped, report.reasons()), (report.flagged, report.reasons(True))):
            for reason, n in reasons.items():
                first = next(d for d in entries if d["reason"].startswith(reason))
                problems.append(f"{n} row(s) with {reason} (first: {first['where']}: {first['reason']})")
        problems += report.notes
    pii = StepReport("pii", {})
    MaskPII().apply(records, None, pii)
    if pii.counts:
        kinds = ", ".join(f"{n} {k}" for k, n in pii.counts.items())
        problems.append(f"{len(pii.changed)} row(s) contain personal data ({kinds}; first: {pii.changed[0]['where']})")
    if parsed.detection.format == "classification":
        labels = Counter(r.label for r in records)
        if max(labels.values()) >= 3 * min(labels.values()):
            problems.append(f"classes are imbalanced: {dict(labels.most_common())}")
    return {"format": parsed.detection.format, "reason": parsed.detection.reason, "rows": len(parsed.rows.rows),
            "fields": parsed.detection.fields, "columns": parsed.detection.columns,
            "sample": [r.to_dict(with_meta=False) for r in parsed.records[:n_sample]], "problems": problems}


def _checks(records: list[Record]) -> list[StepReport]:
    """The checks that report problems without changing rows (run on copies, each on all rows).

    Pairs come first: a pair with an empty side is reported once, by the pair check, which says what to fix.
    """
    reports = []
    empty_pairs: set[str] = set()
    for step in (PreferenceCheck(), DropEmpty(), ExactDedup()):
        rows = [r for r in records if r.where not in empty_pairs] if step.name == "drop_empty" else records
        report = StepReport(step.name, step.params(), rows_in=len(rows))
        report.rows_out = len(step.apply([dataclasses.replace(r, meta=dict(r.meta)) for r in rows], None, report))
        reports.append(report)
        if step.name == "pairs":
            empty_pairs = {d["where"] for d in report.dropped if d["reason"].startswith("invalid pair: empty")}
    return reports


def check(source: Any, fmt: str | None = None, columns: dict[str, str] | None = None, encoding: str = "utf-8",
          sheet: str | None = None) -> dict:
    """Every finding of the checks, row by row (``where``, the check, what is wrong and what to do).

    ``dataset`` holds the findings about the data as a whole (a length bias across preference pairs);
    ``counts`` the figures behind them.
    """
    parsed = load(source, fmt, columns, encoding, sheet)
    records = Normalize().apply(parsed.records, None, StepReport("normalize", {}))
    findings = [{"where": p["where"], "check": "parse", "action": "drop", "reason": p["problem"]}
                for p in parsed.problems]
    dataset, counts = [], {}
    for report in _checks(records):
        findings += [{"where": d["where"], "check": report.step, "action": "drop", "reason": d["reason"]}
                     for d in report.dropped]
        findings += [{"where": f["where"], "check": report.step, "action": "flag", "reason": f["reason"]}
                     for f in report.flagged]
        dataset += report.notes
        if report.counts:
            counts[report.step] = report.counts
    out = {"format": parsed.detection.format, "rows": len(parsed.rows.rows), "findings": findings,
           "dataset": dataset, "counts": counts}
    if any(r.format == "preference" for r in records):
        bias = length_bias([r for r in records if not any(f["where"] == r.where and f["action"] == "drop"
                                                          for f in findings)])
        out["length"] = {"pairs": bias.pairs, "chosen_longer_share": round(bias.longer_share, 3),
                         "mean_ratio": round(bias.mean_ratio, 3), "unit": "words (a CJK character is one)"}
    return out


@dataclass
class Prepared:
    version: DataVersion
    result: PipelineResult
    leakage: StepReport

    @property
    def reports(self) -> list[StepReport]:
        return self.result.reports + [self.leakage]


def prepare(sources: list[Any], out: str | Path, steps: list[str] | tuple[str, ...] = DEFAULT_STEPS,
            params: dict[str, dict] | None = None, fmt: str | None = None, columns: dict[str, str] | None = None,
            seed: int = 0, validation: float = 0.1, test: float = 0.1, stratify: bool | None = None,
            leakage_threshold: float | None = 0.8, encoding: str = "utf-8") -> Prepared:
    """Load every source, clean, split and save a version under ``out``; same inputs give the same id."""
    records: list[Record] = []
    described = []
    parse = StepReport("parse", {"format": fmt, "columns": columns})
    for source in sources:
        parsed = load(source, fmt, columns, encoding)
        records += parsed.records
        for problem in parsed.problems:
            parse.dropped.append({"where": problem["where"], "reason": problem["problem"]})
        parse.rows_in += len(parsed.rows.rows)
        described.append({"path": Path(source).name if isinstance(source, (str, Path)) else "<in memory>",
                          "files": [{"name": f.name, "sha256": file_sha256(f)} for f in parsed.rows.files],
                          "rows": len(parsed.rows.rows), "format": parsed.detection.format,
                          "reason": parsed.detection.reason, "columns": parsed.detection.columns,
                          **({} if parsed.rows.files else {"sha256": content_hash(parsed.rows.rows, length=64)})})
    parse.rows_out = len(records)
    pipeline = Pipeline(build_steps(steps, params), seed)
    result = pipeline.run(records)
    result.reports.insert(0, parse)
    splits = split_records(result.records, validation, test, seed, stratify)
    leakage = StepReport("leakage", {"threshold": leakage_threshold},
                         rows_in=sum(len(v) for v in splits.values()))
    splits = remove_leakage(splits, leakage_threshold, leakage)
    leakage.rows_out = sum(len(v) for v in splits.values())
    recipe = {"sources": described, "steps": pipeline.describe(), "seed": seed,
              "split": {"validation": validation, "test": test, "stratify": stratify,
                        "leakage_threshold": leakage_threshold}}
    reports = result.reports + [leakage]
    version = save_version(out, splits, recipe, [r.summary() for r in reports],
                           [{"step": r.step, "params": r.params, "dropped": r.dropped, "changed": r.changed,
                             "flagged": r.flagged, "counts": r.counts, "notes": r.notes} for r in reports])
    return Prepared(version, result, leakage)

