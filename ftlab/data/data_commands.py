"""``ftlab data ...``: inspect, check, prepare, list, diff and roll back data versions from a shell."""

from __future__ import annotations

import argparse
import json

from ftlab.errors import FtlabError


def _pairs(items: list[str] | None, what: str, example: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise FtlabError(f"{what} {item!r} is not of the form KEY=VALUE (for example {example}).")
        out[key.strip()] = value.strip()
    return out


def step_params(items: list[str] | None) -> dict[str, dict]:
    """``--param length.max_length=512`` -> {"length": {"max_length": 512}}; values read as YAML scalars/lists."""
    import yaml

    params: dict[str, dict] = {}
    for key, raw in _pairs(items, "--param", "length.max_length=512").items():
        step, dot, name = key.partition(".")
        if not dot:
            raise FtlabError(f"--param {key!r} needs STEP.NAME, for example near_dedup.threshold=0.9.")
        params.setdefault(step, {})[name] = yaml.safe_load(raw) if raw else None
    return params


def _print(data) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _cmd_inspect(args) -> None:
    from ftlab.data.prepare import inspect

    _print(inspect(args.file, args.format, _pairs(args.column, "--column", "prompt=Frage") or None,
                   n_sample=args.sample, encoding=args.encoding, sheet=args.sheet))


def _cmd_check(args) -> None:
    from ftlab.data.prepare import check

    _print(check(args.file, args.format, _pairs(args.column, "--column", "prompt=Frage") or None,
                 encoding=args.encoding, sheet=args.sheet))


def _cmd_prepare(args) -> None:
    from ftlab.data.prepare import prepare
    from ftlab.data.quality import DEFAULT_STEPS

    steps = [s.strip() for s in args.steps.split(",") if s.strip()] if args.steps is not None else list(DEFAULT_STEPS)
    prepared = prepare(args.files, args.out, steps, step_params(args.param), args.format,
                       _pairs(args.column, "--column", "prompt=Frage") or None, args.seed, args.validation,
                       args.test, leakage_threshold=None if args.no_leakage_check else args.leakage_threshold,
                       encoding=args.encoding)
    version = prepared.version
    _print({"version": version.id, "path": str(version.path), "splits": version.manifest["splits"],
            "counts": version.manifest["counts"]})


def _cmd_versions(args) -> None:
    from ftlab.data.versions import list_versions

    _print(list_versions(args.store))


def _cmd_diff(args) -> None:
    from ftlab.data.versions import diff, load_version

    result = diff(load_version(args.store, args.old), load_version(args.store, args.new))
    _print(result if args.full else {k: result[k] for k in ("from", "to", "summary", "added", "removed", "moved")})


def _cmd_rollback(args) -> None:
    from ftlab.data.versions import rollback

    _print({"current": rollback(args.store, args.version)})


def add_data_parser(commands) -> None:
    data = commands.add_parser("data", help="inspect, prepare and version training data")
    actions = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    from ftlab.data.formats import FORMATS

    formats = ", ".join(FORMATS)

    def source_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--format", default=None, metavar="F", help=f"skip detection: one of {formats}")
        p.add_argument("--column", action="append", metavar="ROLE=FIELD",
                       help="which field plays a role, e.g. --column prompt=Frage (repeatable)")
        p.add_argument("--encoding", default="utf-8", help="text encoding of the file(s)")

    inspect = actions.add_parser("inspect", help="print a file's format (and why), rows, fields, a sample "
                                 "and problems as JSON")
    inspect.add_argument("file", metavar="FILE")
    source_options(inspect)
    inspect.add_argument("--sheet", default=None, help="Excel: the sheet to read (the first by default)")
    inspect.add_argument("--sample", type=int, default=3, help="rows to show")
    inspect.set_defaults(run=_cmd_inspect)

    check = actions.add_parser("check", help="print every problem found, row by row (where, what is wrong, what "
                               "to fix), and those of the dataset as a whole, as JSON")
    check.add_argument("file", metavar="FILE")
    source_options(check)
    check.add_argument("--sheet", default=None, help="Excel: the sheet to read (the first by default)")
    check.set_defaults(run=_cmd_check)

    prep = actions.add_parser("prepare", help="clean, split and save a data version; prints its id")
    prep.add_argument("files", nargs="+", metavar="FILE")
    prep.add_argument("--out", required=True, metavar="DIR", help="the version store (one folder per version)")
    prep.add_argument("--steps", default=None, help="comma-separated steps in order, e.g. "
                      "normalize,drop_empty,dedup,pii (default: the standard pipeline)")
    prep.add_argument("--param", action="append", metavar="STEP.NAME=VALUE",
                      help="a step parameter, e.g. --param near_dedup.threshold=0.9 (repeatable)")
    prep.add_argument("--seed", type=int, default=0)
    prep.add_argument("--validation", type=float, default=0.1, help="validation share")
    prep.add_argument("--test", type=float, default=0.1, help="test share")
    prep.add_argument("--leakage-threshold", type=float, default=0.8,
                      help="drop held-out rows this similar to a training row")
    prep.add_argument("--no-leakage-check", action="store_true")
    source_options(prep)
    prep.set_defaults(run=_cmd_prepare)

    versions = actions.add_parser("versions", help="list the versions in a store")
    versions.add_argument("store", metavar="DIR")
    versions.set_defaults(run=_cmd_versions)

    diff = actions.add_parser("diff", help="rows added, removed and changed between two versions")
    diff.add_argument("store", metavar="DIR")
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW", nargs="?", default=None, help="default: the current version")
    diff.add_argument("--full", action="store_true", help="include the changed rows before and after")
    diff.set_defaults(run=_cmd_diff)

    back = actions.add_parser("rollback", help="make an earlier version current")
    back.add_argument("store", metavar="DIR")
    back.add_argument("version", nargs="?", default=None, help="default: the one before the current")
    back.set_defaults(run=_cmd_rollback)
