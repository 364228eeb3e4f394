"""``ftlab`` on the command line.

Errors a person can fix (bad config, missing file, unknown model) print as one
paragraph and exit with status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ftlab.errors import FtlabError
from ftlab.training.methods import METHODS


def _cmd_quickstart(args) -> None:
    from ftlab.quickstart import run_quickstart
    from ftlab.training.run_callback import ConsolePrinter

    report = run_quickstart(args.out, smoke=args.smoke, model=args.model, method=args.method,
                            max_steps=args.max_steps, listeners=[ConsolePrinter()], seed=args.seed)
    summary = {k: report[k] for k in ("metric_name", "base_metric", "tuned_metric", "train_seconds",
                                      "total_seconds", "peak_rss_mb", "run_dir")}
    print(json.dumps(summary, indent=2))


def _cmd_config_init(args) -> None:
    from ftlab.config import Config

    print("# ftlab config: train it with `ftlab train THIS.yaml`", end="\n\n")
    print(Config().to_yaml(comments=True))


def _cmd_config_diff(args) -> None:
    from ftlab.config import Config, changed_settings

    def read(path: str) -> Config:
        return Config.load(Path(path, "config.yaml") if Path(path).is_dir() else path)  # a run directory or a file

    changes = changed_settings(read(args.before), read(args.after))
    print(json.dumps({"before": args.before, "after": args.after,
                      "changed": {c.path: {"before": c.before, "after": c.after} for c in changes}}, indent=2))


def _print_results(result) -> None:
    """The run's results as JSON on stdout, once: by the process that writes the run (rank 0 of a launch)."""
    if result.run.writer:
        print(json.dumps({"run_dir": str(result.run.path), **result.results}, indent=2, default=str))


def _cmd_train(args) -> None:
    from ftlab.config import Config
    from ftlab.training.run_callback import ConsolePrinter
    from ftlab.training.runner import train

    config = Config.load(args.config).override(args.set or [])
    result = train(config, [ConsolePrinter()])
    _print_results(result)


def _cmd_resume(args) -> None:
    from ftlab.training.pipeline import is_pipeline, resume_pipeline
    from ftlab.training.run_callback import ConsolePrinter
    from ftlab.training.runner import resume

    if is_pipeline(args.run_dir):
        print(json.dumps(resume_pipeline(args.run_dir, [ConsolePrinter()]), indent=2, default=str))
        return
    result = resume(args.run_dir, [ConsolePrinter()])
    _print_results(result)


def _cmd_pipeline(args) -> None:
    from ftlab.training.pipeline import run_pipeline
    from ftlab.training.run_callback import ConsolePrinter

    print(json.dumps(run_pipeline(args.plan, args.out, args.set or [], [ConsolePrinter()]), indent=2, default=str))


def _cmd_compare(args) -> None:
    from ftlab.training.compare import compare_runs

    comparison = compare_runs(args.runs)
    differing = {key: [c.get(key) for c in comparison.configs] for key in comparison.differing}
    print(json.dumps({"runs": comparison.names, "differing_settings": differing,
                      "results": comparison.results_table()}, indent=2, default=str))


def _cmd_launch(args) -> None:
    from ftlab.config import Config
    from ftlab.training.launch import Nodes, write_launch_files

    config = Config.load(args.config).override(args.set or []).validate()
    nodes = Nodes(args.nodes, args.main_address, args.main_port)
    print(json.dumps(write_launch_files(config, args.out, args.strategy, args.gpus, nodes, args.node_rank), indent=2))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ftlab", description="ftlab: a lab for fine-tuning language models.")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    quick = commands.add_parser("quickstart", help="fine-tune the built-in model on a built-in task, "
                                "evaluate base vs tuned, write DIR/report.json")
    quick.add_argument("--out", required=True, metavar="DIR")
    quick.add_argument("--smoke", action="store_true", help="tiny settings for CI (under a minute)")
    quick.add_argument("--model", default="ftlab/tiny-chat")
    quick.add_argument("--method", default="lora", choices=METHODS.names())
    quick.add_argument("--max-steps", type=int, default=None)
    quick.add_argument("--seed", type=int, default=42, help="train.seed (adapter init and data order)")
    quick.set_defaults(run=_cmd_quickstart)

    config = commands.add_parser("config", help="work with config files")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    init = config_commands.add_parser("init", help="print a complete default config as commented YAML")
    init.set_defaults(run=_cmd_config_init)
    diff = config_commands.add_parser("diff", help="print the settings that differ between two configs (JSON); "
                                      "each a YAML file or a run directory")
    diff.add_argument("before", metavar="BEFORE")
    diff.add_argument("after", metavar="AFTER")
    diff.set_defaults(run=_cmd_config_diff)

    train = commands.add_parser("train", help="train from a YAML config")
    train.add_argument("config", metavar="CONFIG.yaml")
    train.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE",
                       help="override a setting, e.g. --set train.max_steps=50 (repeatable)")
    train.set_defaults(run=_cmd_train)

    resume = commands.add_parser("resume", help="continue an interrupted or stopped run from its last checkpoint, "
                                 "or an interrupted pipeline from its first unfinished stage")
    resume.add_argument("run_dir", metavar="RUN_DIR|PIPELINE_DIR")
    resume.set_defaults(run=_cmd_resume)

    pipeline = commands.add_parser("pipeline", help="run training stages in order (e.g. SFT then DPO), each from "
                                   "the previous stage's model; writes DIR/pipeline.json")
    pipeline.add_argument("plan", metavar="PLAN.yaml")
    pipeline.add_argument("--out", required=True, metavar="DIR", help="folder for the stages' run directories")
    pipeline.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE",
                          help="override a setting in every stage, e.g. --set train.max_steps=20 (repeatable)")
    pipeline.set_defaults(run=_cmd_pipeline)

    compare = commands.add_parser("compare", help="compare runs: settings that differ and final figures (JSON)")
    compare.add_argument("runs", nargs="+", metavar="RUN_DIR")
    compare.set_defaults(run=_cmd_compare)

    launch = commands.add_parser("launch-config", help="write accelerate (DDP, FSDP) or DeepSpeed ZeRO-2/3 "
                                 "launch files for a config and print the command")
    launch.add_argument("config", metavar="CONFIG.yaml")
    launch.add_argument("--strategy", default="ddp", choices=["ddp", "fsdp", "zero2", "zero3"])
    launch.add_argument("--gpus", type=int, default=2, help="GPUs (processes) per node")
    launch.add_argument("--nodes", type=int, default=1, help="machines; each gets its own file and command")
    launch.add_argument("--node-rank", type=int, default=None, help="write only this node's file (0 = the main one)")
    launch.add_argument("--main-address", default=None, metavar="HOST", help="node 0's address, reachable from all")
    launch.add_argument("--main-port", type=int, default=29500)
    launch.add_argument("--out", default="launch", metavar="DIR")
    launch.add_argument("--set", action="append", metavar="SECTION.FIELD=VALUE")
    launch.set_defaults(run=_cmd_launch)

    from ftlab.models.model_commands import add_commands as add_model_commands

    add_model_commands(commands)  # model-info, estimate, recommend

    from ftlab.data.data_commands import add_data_parser

    add_data_parser(commands)

    from ftlab.eval.eval_commands import add_eval_commands

    add_eval_commands(commands)  # metrics

    from ftlab.export.export_commands import add_export_commands

    add_export_commands(commands)

    from ftlab.ops.ops_commands import add_ops_commands

    add_ops_commands(commands)  # registry, ab, drift

    from ftlab.serving.serve_commands import add_serve_commands

    add_serve_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.run(args)  # a command that found problems (a failed export gate) returns 1
    except FtlabError as exc:
        if args.debug:
            raise
        print(f"ftlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ftlab: interrupted; the run directory keeps its checkpoints and log.", file=sys.stderr)
        return 130
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
