"""``ftlab export RUN_DIR [--format F ...] [--out DIR] [--prompts N]``: build, measure and gate export artifacts.

Prints one line per artifact (status, size, latency, quality difference, gate)
and the path of ``export.json``; a format that cannot be built here (a GPU
format on a CPU machine, a missing package) is skipped with the reason on
stderr.  Exits 1 when an artifact failed to build or failed the export gate,
saying which artifact, which check, and how to fix it; ``export.json`` still
records everything.
"""

from __future__ import annotations

import json
import sys


def _summary(artifact: dict) -> dict:
    row = {"format": artifact["format"], "status": artifact["status"]}
    if artifact["status"] == "ok":
        quality = artifact["quality"]
        row.update(size_bytes=artifact["size_bytes"], load_seconds=artifact["load_seconds"],
                   latency_p50_s=artifact["latency_p50_s"], tokens_per_second=artifact["tokens_per_second"],
                   **{quality["metric"]: quality["value"], "difference": quality["difference"],
                      "interval": quality["interval"]}, gate="passed" if artifact["gate"]["passed"] else "FAILED")
    return row


def _cmd_export(args) -> int:
    from ftlab.export.exporter import EXPORT_FILE, export, output_folder, problems

    report = export(args.run_dir, args.formats, args.out, args.prompts)
    written = output_folder(args.run_dir, args.out) / EXPORT_FILE
    print(json.dumps({"export": str(written), "reference": report["reference"],
                      "artifacts": [_summary(a) for a in report["artifacts"]]}, indent=2, ensure_ascii=False))
    for artifact in report["artifacts"]:
        if artifact["status"] == "skipped":
            print(f"ftlab: skipped {artifact['format']}: {artifact['reason']}", file=sys.stderr)
    failures = problems(report)
    for message in failures:
        print(f"ftlab: {message}", file=sys.stderr)
    return 1 if failures else 0


def add_export_commands(commands) -> None:
    from ftlab.export.exporter import DEFAULT_PROMPTS
    from ftlab.export.formats import FORMATS

    export = commands.add_parser("export", help="merge and quantise a run's model (merged, 8/4-bit...), measure "
                                 "size, latency and quality, gate each artifact; writes DIR/export.json")
    export.add_argument("run_dir", metavar="RUN_DIR")
    export.add_argument("--format", action="append", dest="formats", metavar="FORMAT",
                        help=f"one of {', '.join(FORMATS)} (repeatable); default: every format, those that cannot "
                        "be built here recorded as skipped")
    export.add_argument("--out", default=None, metavar="DIR", help="where the artifacts go (default RUN_DIR/export)")
    export.add_argument("--prompts", type=int, default=DEFAULT_PROMPTS, metavar="N",
                        help=f"test examples the quality re-check answers (default {DEFAULT_PROMPTS})")
    export.set_defaults(run=_cmd_export)
