"""Pipelines: training stages run in order, each from an earlier stage's model.

``ftlab pipeline PLAN.yaml --out DIR`` reads a plan::

    config:                 # settings every stage shares (a config's sections), optional
      data: {task: cipher}
    stages:
      - name: sft           # the stage's run directory is DIR/01_sft
        set: {train.stage: sft, train.max_steps: 200}
      - name: rm
        from: base          # start from the configured base model (default: the latest model so far)
        set: {train.stage: rm}
      - name: ppo
        from: sft
        set: {train.stage: ppo, stage.reward_model: "@rm"}   # "@NAME": that stage's run directory

Each stage starts from the merged model of the stage it comes ``from``
(:func:`ftlab.training.merged.merged_model`), or with ``from: base`` from the
plan's base model (``model.name``), as a reward model may; a reward model is never a
starting point (it has a score head, not a language-model head), so the
default is the latest stage that trains a language model.  ``DIR/pipeline.json``
lists the stages with their status and headline figures, and is rewritten
after every stage, so an interrupted pipeline shows how far it got and
``ftlab resume DIR`` continues it: finished stages are kept, an interrupted
one resumes from its last checkpoint, one without a checkpoint trains again.

The whole plan is checked before anything trains: every stage's config, the
``from`` and ``@`` references, and that stages trained on dialogues start
from a model with a chat template.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftlab.config import Config
from ftlab.errors import ConfigError, FtlabError
from ftlab.files import atomic_write_json, read_json
from ftlab.training.stages import STAGES

PIPELINE_FILE = "pipeline.json"


BASE = "base"  # ``from: base``: the stage starts from the plan's base model, not from an earlier stage


@dataclass
class PlanStage:
    name: str
    settings: dict = field(default_factory=dict)  # dotted path -> value, applied over the shared config
    start: str | None = None  # ``from``: the stage whose model this one starts from, or BASE


@dataclass
class Plan:
    stages: list[PlanStage]
    shared: dict = field(default_factory=dict)  # config sections every stage starts from
    source: str = ""
    data: dict = field(default_factory=dict)  # the plan as written, kept in pipeline.json for resuming

    @classmethod
    def load(cls, path: str | Path) -> "Plan":
        import yaml

        path = Path(path)
        if not path.is_file():
            raise FtlabError(f"Pipeline plan {path} does not exist; examples/pipelines/ has plans to copy.")
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise FtlabError(f"{path} is not valid YAML: {exc}") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "the plan") -> "Plan":
        if not isinstance(data, dict) or not isinstance(data.get("stages"), list) or not data["stages"]:
            raise FtlabError(f"{source}: a plan is a mapping with a non-empty 'stages' list "
                             "(and optionally 'config', the settings every stage shares).")
        unknown = set(data) - {"config", "stages", "description"}
        if unknown:
            raise FtlabError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}; a plan has config, "
                             "stages and description.")
        stages = []
        for i, entry in enumerate(data["stages"], 1):
            if not isinstance(entry, dict) or not entry.get("name"):
                raise FtlabError(f"{source}: stage {i} needs a name (and 'set', its settings).")
            extra = set(entry) - {"name", "set", "from"}
            if extra:
                raise FtlabError(f"{source}: stage {i} ({entry['name']}) has unknown key(s) "
                                 f"{', '.join(sorted(extra))}; a stage has name, set and from.")
            settings = entry.get("set") or {}
            if not isinstance(settings, dict):
                raise FtlabError(f"{source}: stage {i} ({entry['name']}): 'set' must map settings to values, "
                                 "e.g. {train.stage: dpo, train.max_steps: 100}.")
            if entry["name"] == BASE:
                raise FtlabError(f"{source}: stage {i} is named {BASE!r}, which 'from: {BASE}' means (the plan's base "
                                 "model); give the stage another name.")
            stages.append(PlanStage(str(entry["name"]), dict(settings), entry.get("from")))
        names = [s.name for s in stages]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise FtlabError(f"{source}: stage names must differ; {', '.join(duplicated)} is used twice.")
        return cls(stages, data.get("config") or {}, source, data)


@dataclass
class StagePlanned:
    """A plan's stage made concrete: its config (model and references filled in once known) and run directory."""

    plan: PlanStage
    config: Config
    run_dir: Path
    start: str | None  # the stage it starts from (None: the configured base model)
    refers: dict[str, str]  # setting path -> name of the stage whose run directory it names ("@rm")


def _stage_of(config: Config):
    return STAGES[config.train.stage]


def plan_stages(plan: Plan, out: Path, overrides: list[str] = ()) -> list[StagePlanned]:
    """Every stage's config and run directory, with the chaining checked; raises before anything trains."""
    planned: list[StagePlanned] = []
    for i, entry in enumerate(plan.stages, 1):
        where = f"{plan.source}: stage {i} ({entry.name})"
        config = Config.from_dict(plan.shared)
        refers = {}
        for path, value in entry.settings.items():
            if isinstance(value, str) and value.startswith("@"):
                refers[path] = value[1:]
                continue
            try:
                config.set(path, value)
            except FtlabError as exc:
                raise FtlabError(f"{where}: {exc}") from None
        config.override(list(overrides))
        config.train.output_dir, config.train.run_name = str(out), f"{i:02d}_{entry.name}"
        stage = STAGES.get(config.train.stage)
        if stage is None:
            raise ConfigError("train.stage", f"{where}: {STAGES.unknown(config.train.stage)}")
        earlier = {p.plan.name: p for p in planned}
        for path, name in refers.items():
            if name not in earlier:
                raise FtlabError(f"{where}: {path} refers to stage {name!r}, which does not come before it "
                                 f"(earlier stages: {', '.join(earlier) or 'none'}).")
            config.set(path, str(earlier[name].run_dir))  # a placeholder until that stage has run; same path
        if "stage.reward_model" in refers and _stage_of(earlier[refers["stage.reward_model"]].config).name != "rm":
            raise FtlabError(f"{where}: stage.reward_model refers to {refers['stage.reward_model']!r}, which is not "
                             "a reward-model stage (train.stage: rm).")
        start = entry.start
        if start == BASE:
            start = None
        elif start is not None:
            if start not in earlier:
                raise FtlabError(f"{where}: 'from: {start}' names no earlier stage "
                                 f"(earlier stages: {', '.join(earlier) or 'none'}).")
            if _stage_of(earlier[start].config).head != "causal_lm":
                raise FtlabError(f"{where}: 'from: {start}' is a reward model (a score head); a stage starts from "
                                 "a language model. Use it as stage.reward_model: '@" + start + "' instead.")
        else:
            start = next((p.plan.name for p in reversed(planned) if _stage_of(p.config).head == "causal_lm"), None)
        if start is not None:
            config.model.name = earlier[start].config.model.name  # checked against the chain's base model below
        for problem in config.problems():
            if problem.field in refers and not (earlier[refers[problem.field]].run_dir / "final").is_dir():
                continue  # names a run that does not exist yet; checked again when this stage starts
            raise FtlabError(f"{where}: {problem}") from None
        planned.append(StagePlanned(entry, config, out / config.train.run_name, start, refers))
    _check_templates(planned, plan.source)
    return planned


def _check_templates(planned: list[StagePlanned], source: str) -> None:
    """Stages that train on dialogues need a chat template on the model they start from."""
    from ftlab.models.loader import load_tokenizer

    bases: dict[str, bool] = {}
    for i, p in enumerate(planned, 1):
        if not _stage_of(p.config).needs_chat_template:
            continue
        name = p.config.model.name
        if name not in bases:
            bases[name] = bool(load_tokenizer(name, p.config.model.trust_remote_code, chat=False).chat_template)
        if not bases[name]:
            via = f" (through stage {p.start!r})" if p.start else ""
            raise FtlabError(f"{source}: stage {i} ({p.plan.name}) trains on dialogues ({p.config.train.stage}) but "
                             f"starts from {name}{via}, which has no chat template. Start the plan from a chat or "
                             "instruct model, or give the tokenizer a chat template before the plan runs.")


def run_pipeline(plan: Plan | str | Path, out: str | Path, overrides: list[str] = (), listeners=()) -> dict:
    """Run (or continue) every stage of ``plan`` under ``out``; returns pipeline.json's content."""
    from ftlab.training.merged import merged_model
    from ftlab.training.runner import resume, stage_headline, train

    if not isinstance(plan, Plan):
        plan = Plan.load(plan)
    out = Path(out)
    planned = plan_stages(plan, out, overrides)
    out.mkdir(parents=True, exist_ok=True)
    record = _read_record(out) or {"plan": plan.source, "plan_data": plan.data, "started": time.time(),
                                   "stages": []}
    record["status"] = "running"
    record["overrides"] = list(overrides)
    previous = {entry["name"]: entry for entry in record["stages"]}
    record["stages"] = [previous.get(p.plan.name) or {"name": p.plan.name, "stage": p.config.train.stage,
                                                      "run_dir": str(p.run_dir), "status": "pending", "metrics": {}}
                        for p in planned]
    _write_record(out, record)
    by_name = {p.plan.name: p for p in planned}
    for entry, p in zip(record["stages"], planned):
        if entry["status"] == "completed":
            continue
        if p.start is not None:
            p.config.model.name = str(merged_model(by_name[p.start].run_dir))
        entry.update(status="running", model=p.config.model.name, started=time.time())
        _write_record(out, record)
        try:
            result = _train_stage(p, train, resume, listeners)
        except BaseException as exc:
            entry.update(status="interrupted" if isinstance(exc, KeyboardInterrupt) else "failed",
                         error=f"{type(exc).__name__}: {exc}")
            record["status"] = entry["status"]
            _write_record(out, record)
            raise
        entry.update(status="completed", metrics=_flat(stage_headline(_stage_of(p.config), result.results)),
                     seconds=round(time.time() - entry["started"], 1))
        _write_record(out, record)
    record["status"] = "completed"
    _write_record(out, record)
    return record


def _train_stage(p: StagePlanned, train, resume, listeners):
    """Train the stage, or continue it: from its last checkpoint, or afresh if it saved none (the
    failed attempt's record is kept beside it as NAME.failed-N)."""
    if (p.run_dir / "results.json").exists():
        checkpoints = p.run_dir / "checkpoints"
        if checkpoints.is_dir() and any(checkpoints.glob("checkpoint-*")):
            return resume(p.run_dir, listeners)
        n = 1
        while p.run_dir.with_name(f"{p.run_dir.name}.failed-{n}").exists():
            n += 1
        shutil.move(str(p.run_dir), str(p.run_dir.with_name(f"{p.run_dir.name}.failed-{n}")))
    return train(p.config, listeners)


def _flat(figures: dict) -> dict:
    return {k: v for k, v in figures.items() if isinstance(v, (int, float, str, bool)) or v is None}


def _read_record(out: Path) -> dict | None:
    path = out / PIPELINE_FILE
    return read_json(path) if path.exists() else None


def _write_record(out: Path, record: dict) -> None:
    atomic_write_json(out / PIPELINE_FILE, {**record, "updated": time.time()})


def is_pipeline(path: str | Path) -> bool:
    return (Path(path) / PIPELINE_FILE).is_file()


def resume_pipeline(out: str | Path, listeners=()) -> dict:
    """Continue the pipeline in ``out`` with the plan and overrides it was started with."""
    record = _read_record(Path(out))
    if record is None:
        raise FtlabError(f"{out} is not a pipeline directory (it has no {PIPELINE_FILE}).")
    plan = Plan.from_dict(record["plan_data"], record["plan"])  # as it was started, even if the file changed since
    return run_pipeline(plan, out, record.get("overrides", []), listeners)
