"""``ftlab registry ...``, ``ftlab ab LOG`` and ``ftlab drift LOG``: versions, A/B decisions and drift alerts.

``registry`` registers run directories as versions of a named model, lists
them (``--json`` for scripts), promotes a version to an alias and rolls an
alias back; every action takes ``--registry-uri`` (default: see
:func:`ftlab.ops.model_registry.default_registry_uri`).  ``ab`` analyses a
request log and, with ``--gate NAME``, promotes or rolls back ``NAME@ALIAS``
as the gate decides.  ``drift`` compares a request log with a run's training
data and exits 1 when a check alerts, so a scheduled job can page someone.
"""

from __future__ import annotations

import argparse
import json
import sys


def _registry(args):
    from ftlab.ops.model_registry import ModelRegistry

    return ModelRegistry(args.registry_uri)


def _print(data) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _cmd_register(args) -> None:
    info = _registry(args).register(args.run_dir, args.name, args.description)
    _print(info.to_json())


def _cmd_list(args) -> None:
    versions = _registry(args).versions(args.name)
    if args.json:
        _print([v.to_json() for v in versions])
        return
    if not versions:
        print("no registered models; register a run with `ftlab registry register RUN_DIR --name NAME`.")
        return
    rows = [("NAME", "VERSION", "ALIASES", "DATA VERSION", "METHOD", "RUN DIR")]
    rows += [(v.name, str(v.version), ",".join(v.aliases) or "-", v.data_version or "-", v.method or "-", v.run_dir)
             for v in versions]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])


def _cmd_promote(args) -> None:
    info = _registry(args).promote(args.name, args.version, args.alias, args.reason or "")
    _print({"alias": f"{args.name}@{args.alias}", "version": info.version, "run_dir": info.run_dir})


def _cmd_rollback(args) -> None:
    left, info = _registry(args).rollback(args.name, args.alias, args.reason or "")
    _print({"alias": f"{args.name}@{args.alias}", "from": left, "version": info.version, "run_dir": info.run_dir})


def _cmd_history(args) -> None:
    _print(_registry(args).history(args.name, args.alias))


def _cmd_resolve(args) -> None:
    from ftlab.ops.model_registry import resolve_uri

    print(resolve_uri(args.uri, args.registry_uri))


def _cmd_ab(args) -> None:
    from ftlab.ops.ab_test import analyse, apply_gate, decide
    from ftlab.ops.request_log import read_requests

    analysis = analyse(read_requests(args.log), args.control, args.candidate, args.metric, args.level,
                       args.min_effect, args.power)
    if not args.gate:
        _print(analysis.to_json())
        return
    decision = decide(analysis, args.min_users)
    _print(apply_gate(decision, _registry(args), args.gate, args.alias).to_json())


def _cmd_drift(args) -> int:
    from ftlab.ops.drift import Thresholds, reference_from_run, summarise
    from ftlab.ops.request_log import read_requests

    limits = Thresholds(psi=args.psi, js=args.js, refusal_rate=args.refusal_rate, latency_p95_s=args.latency_p95,
                        min_requests=args.min_requests)
    report = summarise(read_requests(args.log), reference_from_run(args.run_dir), limits)
    if args.json:
        _print(report.to_json())
    else:
        print(report.summary())
    for alert in report.alerts:
        print(f"ftlab: drift alert: {alert.message}", file=sys.stderr)
    return 1 if report.alerts else 0


def add_ops_commands(commands) -> None:
    from ftlab.ops.ab_test import LEVEL, METRICS, MIN_USERS
    from ftlab.ops.drift import Thresholds

    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--registry-uri", default=None, metavar="URI",
                       help="MLflow registry: a shared server (http://host:5000) or database; default "
                       "$MLFLOW_REGISTRY_URI, else sqlite:///registry/mlflow.db in the current folder")

    registry = commands.add_parser("registry", help="versions of trained runs in MLflow's model registry: register, "
                                   "list, promote to an alias, roll back")
    actions = registry.add_subparsers(dest="registry_command", metavar="ACTION", required=True)
    register = actions.add_parser("register", parents=[where], help="register a run directory as a new version")
    register.add_argument("run_dir", metavar="RUN_DIR")
    register.add_argument("--name", required=True, help="the registered model's name (created if new)")
    register.add_argument("--description", default=None)
    register.set_defaults(run=_cmd_register)
    listing = actions.add_parser("list", parents=[where], help="every version with its aliases and run directory")
    listing.add_argument("--name", default=None, help="only this model's versions")
    listing.add_argument("--json", action="store_true", help="print JSON (for scripts) instead of a table")
    listing.set_defaults(run=_cmd_list)
    promote = actions.add_parser("promote", parents=[where], help="point an alias (e.g. production) at a version")
    promote.add_argument("name", metavar="NAME")
    promote.add_argument("version", metavar="VERSION", type=int)
    promote.add_argument("--alias", default="production")
    promote.add_argument("--reason", default=None, help="kept in the alias history")
    promote.set_defaults(run=_cmd_promote)
    rollback = actions.add_parser("rollback", parents=[where], help="point an alias back at the version it named "
                                  "before its latest promotion")
    rollback.add_argument("name", metavar="NAME")
    rollback.add_argument("--alias", default="production")
    rollback.add_argument("--reason", default=None, help="kept in the alias history")
    rollback.set_defaults(run=_cmd_rollback)
    history = actions.add_parser("history", parents=[where], help="an alias's promotions and rollbacks (JSON)")
    history.add_argument("name", metavar="NAME")
    history.add_argument("--alias", default="production")
    history.set_defaults(run=_cmd_history)
    resolve = actions.add_parser("resolve", parents=[where], help="print the run directory models:/NAME@ALIAS or "
                                 "models:/NAME/VERSION names")
    resolve.add_argument("uri", metavar="URI")
    resolve.set_defaults(run=_cmd_resolve)

    ab = commands.add_parser("ab", parents=[where], help="analyse an A/B test from a request log (bootstrap over "
                             "users); with --gate NAME promote or roll back NAME@ALIAS as the result says")
    ab.add_argument("log", metavar="REQUESTS.jsonl")
    ab.add_argument("--control", required=True, metavar="VERSION")
    ab.add_argument("--candidate", required=True, metavar="VERSION")
    ab.add_argument("--metric", default="win", choices=METRICS)
    ab.add_argument("--level", type=float, default=LEVEL, help=f"confidence level (default {LEVEL})")
    ab.add_argument("--min-effect", type=float, default=0.05, help="smallest difference worth finding, for the "
                    "users still needed (default 0.05)")
    ab.add_argument("--power", type=float, default=0.8)
    ab.add_argument("--gate", default=None, metavar="NAME", help="registered model whose alias the gate moves")
    ab.add_argument("--alias", default="production")
    ab.add_argument("--min-users", type=int, default=MIN_USERS, help=f"per side before deciding (default {MIN_USERS})")
    ab.set_defaults(run=_cmd_ab)

    default = Thresholds()
    drift = commands.add_parser("drift", help="compare a request log with a run's training data (lengths, "
                                "vocabulary, refusals, latency); exits 1 on an alert")
    drift.add_argument("log", metavar="REQUESTS.jsonl")
    drift.add_argument("--run", required=True, dest="run_dir", metavar="RUN_DIR",
                       help="the run whose training data is the reference")
    drift.add_argument("--json", action="store_true")
    drift.add_argument("--psi", type=float, default=default.psi, help="length alert: PSI above noise")
    drift.add_argument("--js", type=float, default=default.js, help="vocabulary alert: Jensen-Shannon bits above noise")
    drift.add_argument("--refusal-rate", type=float, default=default.refusal_rate)
    drift.add_argument("--latency-p95", type=float, default=default.latency_p95_s, metavar="SECONDS")
    drift.add_argument("--min-requests", type=int, default=default.min_requests)
    drift.set_defaults(run=_cmd_drift)
