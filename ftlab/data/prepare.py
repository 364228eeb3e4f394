"""The data stage end to end: inspect a source, or prepare files into a versioned dataset.

``inspect`` answers "what is this file and what is wrong with it" without
changing anything; ``prepare`` loads, runs the quality pipeline, splits,
removes held-out rows that leak from training, and saves a version.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    for step in (DropEmpty(), PreferenceCheck(), ExactDedup()):
        report = StepReport(step.name, {})
        step.apply(list(records), None, report)
        for reason, n in report.reasons().items():
            first = next(d for d in report.dropped if d["reason"].startswith(reason))
            problems.append(f"{n} row(s) with {reason} (first: {first['where']}: {first['reason']})")
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
                             "flagged": r.flagged, "counts": r.counts} for r in reports])
    return Prepared(version, result, leakage)

