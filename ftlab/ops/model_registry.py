"""Versions of trained runs in MLflow's model registry, with aliases that are promoted and rolled back.

Where the registry lives: ``--registry-uri`` when given, else MLflow's own
``MLFLOW_REGISTRY_URI`` (what a team with a shared MLflow server already
sets), else the SQLite file ``registry/mlflow.db`` in the current folder.
That default sits beside ``runs/`` (``train.output_dir``'s default): the
registry names run directories by path, so it belongs with the runs it
points to, a notebook folder and its CI copy each get their own, and nothing
needs a server.  A shared registry is any URI MLflow accepts
(``http://host:5000``, ``postgresql://...``); the run directories must then be
on storage the readers see, since only their record is uploaded, not weights.

What one version records: an MLflow run in the ``ftlab-registry`` experiment
whose artifacts are the run's record files (``config.yaml``, ``data.json``,
``results.json``, ``eval.json`` and ``export/export.json`` when present),
whose params are the base model, method, stage, task and data version, and
whose metrics are eval.json's headline figures; the model version itself
carries the same facts as tags (``ftlab.run_dir``, ``ftlab.data_version``...),
which is what :func:`resolve_uri` reads.

Alias history: MLflow keeps only where an alias points now, so each alias's
past is a registered-model tag ``ftlab.alias_history.<alias>``: a JSON list
of ``{"action": "promote"|"rollback", "version", "at", "reason"}`` events,
newest last (the latest 200).  Replaying it gives the stack of versions the
alias pointed at: a promotion pushes, a rollback pops and points the alias at
the version below, so rolling back twice undoes two promotions.

MLflow's usage telemetry is switched off (``MLFLOW_DISABLE_TELEMETRY``)
before it is imported: nothing here talks to anything but the registry URI.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ftlab.errors import FtlabError
from ftlab.files import read_json

DEFAULT_FOLDER = "registry"
EXPERIMENT = "ftlab-registry"
RECORD_FILES = ("config.yaml", "data.json", "results.json", "eval.json", "export/export.json")
HISTORY_TAG = "ftlab.alias_history."
HISTORY_KEPT = 200  # events per alias; a registered-model tag holds at most 100,000 characters
URI_PREFIX = "models:/"


def default_registry_uri() -> str:
    """``MLFLOW_REGISTRY_URI`` if set, else ``sqlite:///<cwd>/registry/mlflow.db`` (see the module docstring)."""
    return os.environ.get("MLFLOW_REGISTRY_URI") or f"sqlite:///{(Path.cwd() / DEFAULT_FOLDER / 'mlflow.db').resolve()}"


@dataclass
class VersionInfo:
    """One registered version as ftlab reads it back."""

    name: str
    version: int
    run_dir: str
    data_version: str | None
    base_model: str | None
    method: str | None
    aliases: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    records: list[str] = field(default_factory=list)  # the record files logged with it
    created: float = 0.0
    mlflow_run_id: str | None = None

    @property
    def uri(self) -> str:
        return f"{URI_PREFIX}{self.name}/{self.version}"

    def to_json(self) -> dict:
        return {"name": self.name, "version": self.version, "uri": self.uri, "aliases": self.aliases,
                "run_dir": self.run_dir, "data_version": self.data_version, "base_model": self.base_model,
                "method": self.method, "metrics": self.metrics, "records": self.records,
                "created": self.created, "mlflow_run_id": self.mlflow_run_id}


def check_run_dir(run_dir: str | Path) -> Path:
    """The run directory, resolved, or an error saying what it lacks."""
    path = Path(run_dir)
    if not path.is_dir():
        raise FtlabError(f"{path}: no such folder; give a run directory (the folder `ftlab train` wrote, with "
                         "config.yaml, results.json and final/).")
    missing = [name for name in ("config.yaml", "results.json", "final") if not (path / name).exists()]
    if missing:
        raise FtlabError(f"{path} is not a run directory: it has no {', '.join(missing)}. Register the folder "
                         "`ftlab train` wrote for one run (under train.output_dir, default runs/).")
    status = read_json(path / "results.json").get("status")
    if status != "completed":
        raise FtlabError(f"{path}: the run's status is {status!r}, not 'completed' (results.json); register a "
                         f"finished run, or finish this one with `ftlab resume {path}`.")
    return path.resolve()


def parse_uri(uri: str) -> tuple[str, str | None, int | None]:
    """``models:/NAME@ALIAS`` -> (NAME, ALIAS, None); ``models:/NAME/VERSION`` -> (NAME, None, VERSION)."""
    if not uri.startswith(URI_PREFIX):
        raise FtlabError(f"{uri!r} is not a registry URI; write models:/NAME@ALIAS or models:/NAME/VERSION.")
    rest = uri[len(URI_PREFIX):]
    if "@" in rest:
        name, alias = rest.split("@", 1)
        if name and alias and "/" not in rest:
            return name, alias, None
    elif rest.count("/") == 1:
        name, version = rest.split("/")
        if name and version.isdigit():
            return name, None, int(version)
    raise FtlabError(f"{uri!r} is not a registry URI; write models:/NAME@ALIAS (e.g. models:/cipher@production) "
                     "or models:/NAME/VERSION (e.g. models:/cipher/2).")


def _quiet_mlflow_logs() -> None:
    # First use of a SQLite file creates its tables and logs each migration step at INFO.
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


class ModelRegistry:
    """MLflow's model registry at ``uri`` (see :func:`default_registry_uri`), in ftlab's terms."""

    def __init__(self, uri: str | None = None):
        self.uri = uri or default_registry_uri()
        if self.uri.startswith("sqlite:///"):
            Path(self.uri[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
        from mlflow import MlflowClient
        from mlflow.telemetry.client import get_telemetry_client, set_telemetry_client

        if get_telemetry_client() is not None:  # mlflow was imported before: drop the client it started
            set_telemetry_client()  # reads the variable again and sets no client

        _quiet_mlflow_logs()  # after the import: importing mlflow sets its own levels

        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    # ---- errors in ftlab's words -------------------------------------------------------------------------------

    def _names(self) -> list[str]:
        return sorted(m.name for m in self.client.search_registered_models(max_results=1000))

    def _model(self, name: str):
        from mlflow.exceptions import MlflowException

        try:
            return self.client.get_registered_model(name)
        except MlflowException:
            known = self._names()
            raise FtlabError(f"no registered model {name!r} in {self.uri}; registered: {', '.join(known) or 'none'}. "
                             f"Register a run with `ftlab registry register RUN_DIR --name {name}`.") from None

    def _version(self, name: str, version: int):
        from mlflow.exceptions import MlflowException

        self._model(name)
        try:
            return self.client.get_model_version(name, str(version))
        except MlflowException:
            known = [str(v.version) for v in self._mlflow_versions(name)]
            raise FtlabError(f"{name} has no version {version}; its versions: {', '.join(known) or 'none'} "
                             "(`ftlab registry list`).") from None

    def _mlflow_versions(self, name: str) -> list:
        return sorted(self.client.search_model_versions(f"name='{name}'", max_results=1000),
                      key=lambda v: int(v.version))

    def _info(self, mv, aliases: dict[str, int] | None = None) -> VersionInfo:
        tags = mv.tags or {}
        aliases = aliases if aliases is not None else self._model(mv.name).aliases
        return VersionInfo(
            name=mv.name, version=int(mv.version), run_dir=tags.get("ftlab.run_dir", ""),
            data_version=tags.get("ftlab.data_version"), base_model=tags.get("ftlab.base_model"),
            method=tags.get("ftlab.method"), aliases=sorted(a for a, v in aliases.items() if int(v) == int(mv.version)),
            metrics=json.loads(tags.get("ftlab.metrics", "{}")), records=json.loads(tags.get("ftlab.records", "[]")),
            created=mv.creation_timestamp / 1000, mlflow_run_id=mv.run_id)

    # ---- register and read ---------------------------------------------------------------------------------------

    def _experiment_id(self) -> str:
        experiment = self.client.get_experiment_by_name(EXPERIMENT)
        if experiment is not None:
            return experiment.experiment_id
        location = None
        if self.uri.startswith("sqlite:///"):  # artifacts beside the database, not in the current folder's mlruns/
            location = (Path(self.uri[len("sqlite:///"):]).parent / "artifacts").resolve().as_uri()
        return self.client.create_experiment(EXPERIMENT, artifact_location=location)

    def register(self, run_dir: str | Path, name: str, description: str | None = None) -> VersionInfo:
        """A new version of ``name`` (created if new) recording the run directory (see the module docstring)."""
        from mlflow.exceptions import MlflowException

        if not name or any(c in name for c in "/@:") or name != name.strip():
            raise FtlabError(f"--name {name!r}: a registered model's name is what models:/NAME@ALIAS addresses, so "
                             "it has no '/', '@' or ':' and no spaces at its ends; e.g. cipher-lora.")
        path = check_run_dir(run_dir)
        config = read_yaml(path / "config.yaml")
        data = read_json(path / "data.json")
        evaluation = read_json(path / "eval.json")
        records = [f for f in RECORD_FILES if (path / f).is_file()]
        facts = {"ftlab.run_dir": str(path), "ftlab.data_version": data.get("version") or "",
                 "ftlab.base_model": str(config.get("model", {}).get("name", "")),
                 "ftlab.method": str(config.get("method", {}).get("name", "")),
                 "ftlab.stage": str(config.get("train", {}).get("stage", "")),
                 "ftlab.task": str(data.get("task") or "")}
        metrics = {k: float(v) for k, v in (evaluation.get("metrics") or {}).items() if isinstance(v, (int, float))}
        run = self.client.create_run(self._experiment_id(), run_name=f"{name}-{path.name}",
                                     tags={"ftlab.run_dir": str(path)})
        for key, value in facts.items():
            self.client.log_param(run.info.run_id, key.removeprefix("ftlab."), value)
        for key, value in metrics.items():
            self.client.log_metric(run.info.run_id, key, value)
        for file in records:
            self.client.log_artifact(run.info.run_id, str(path / file),
                                     artifact_path=str(Path("ftlab", file).parent.as_posix()))
        self.client.set_terminated(run.info.run_id)
        try:
            self.client.get_registered_model(name)
        except MlflowException:
            self.client.create_registered_model(name, description=f"ftlab runs registered as {name}")
        mv = self.client.create_model_version(
            name, source=f"runs:/{run.info.run_id}/ftlab", run_id=run.info.run_id, description=description,
            tags={**facts, "ftlab.metrics": json.dumps(metrics), "ftlab.records": json.dumps(records)})
        return self._info(mv)

    def versions(self, name: str | None = None) -> list[VersionInfo]:
        """Every version of ``name`` (or of every registered model), oldest first."""
        names = [self._model(name).name] if name else self._names()
        out = []
        for model_name in names:
            aliases = self.client.get_registered_model(model_name).aliases
            out += [self._info(mv, aliases) for mv in self._mlflow_versions(model_name)]
        return out

    def get(self, name: str, version: int) -> VersionInfo:
        return self._info(self._version(name, version))

    def by_alias(self, name: str, alias: str) -> VersionInfo:
        aliases = self._model(name).aliases
        if alias not in aliases:
            named = ", ".join(f"{a} -> {v}" for a, v in sorted(aliases.items())) or "none"
            raise FtlabError(f"{name} has no alias {alias!r} (its aliases: {named}); point it at a version with "
                             f"`ftlab registry promote {name} VERSION --alias {alias}`.")
        return self.get(name, int(aliases[alias]))

    def resolve(self, uri: str) -> VersionInfo:
        """The version a ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` URI names."""
        name, alias, version = parse_uri(uri)
        return self.by_alias(name, alias) if alias else self.get(name, version)

    # ---- aliases ----------------------------------------------------------------------------------------------

    def history(self, name: str, alias: str = "production") -> list[dict]:
        """Every promotion and rollback of ``alias``, oldest first: ``{"action", "version", "at", "reason"}``
        (a rollback also names the version it left, ``"from"``)."""
        return json.loads(self._model(name).tags.get(HISTORY_TAG + alias, "[]"))

    def _log(self, name: str, alias: str, entry: dict) -> None:
        entries = self.history(name, alias) + [{**entry, "at": time.time()}]
        self.client.set_registered_model_tag(name, HISTORY_TAG + alias, json.dumps(entries[-HISTORY_KEPT:]))

    def promote(self, name: str, version: int, alias: str = "production", reason: str = "") -> VersionInfo:
        """Point ``alias`` at ``version``; the alias history remembers where it pointed before."""
        self._version(name, version)
        current = self._model(name).aliases.get(alias)
        if current is not None and pointed(self.history(name, alias))[-1:] != [int(current)]:
            # moved outside ftlab (MLflow's UI or API): remember that version too, so a rollback returns to it
            self._log(name, alias, {"action": "promote", "version": int(current), "reason": "set outside ftlab"})
        self.client.set_registered_model_alias(name, alias, str(version))
        self._log(name, alias, {"action": "promote", "version": int(version), "reason": reason or "promoted"})
        return self.get(name, version)

    def rollback(self, name: str, alias: str = "production", reason: str = "") -> tuple[int, VersionInfo]:
        """Point ``alias`` back at the version it named before its latest promotion; returns (left, now)."""
        current = self.by_alias(name, alias).version
        stack = pointed(self.history(name, alias))
        if stack and stack[-1] == current:
            stack.pop()
        if not stack:
            raise FtlabError(f"{name}@{alias} points at version {current} and has no earlier version to roll back "
                             f"to; promote the one you want with `ftlab registry promote {name} VERSION "
                             f"--alias {alias}`.")
        previous = stack[-1]
        self._version(name, previous)
        self.client.set_registered_model_alias(name, alias, str(previous))
        self._log(name, alias, {"action": "rollback", "version": previous, "from": current,
                                "reason": reason or f"rolled back from version {current}"})
        return current, self.get(name, previous)


def pointed(history: list[dict]) -> list[int]:
    """The versions an alias pointed at, oldest first, ending with where it points now: promotions push a
    version, rollbacks pop one (replaying the history)."""
    stack: list[int] = []
    for entry in history:
        if entry["action"] == "promote":
            stack.append(entry["version"])
        elif stack:
            stack.pop()
    return stack


def read_yaml(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def resolve_uri(uri: str, registry_uri: str | None = None) -> str:
    """The local run directory a ``models:/NAME@ALIAS`` or ``models:/NAME/VERSION`` URI names: a path
    :func:`ftlab.export.opening.open_runtime` opens.  The alias is read at call time, so a promotion or a
    rollback changes what the next call returns."""
    return resolve_version(uri, registry_uri).run_dir


def resolve_version(uri: str, registry_uri: str | None = None, registry: ModelRegistry | None = None) -> VersionInfo:
    """The version a registry URI names, with a run directory that exists here (a server opens it, and logs the
    version number an alias named when it started)."""
    info = (registry or ModelRegistry(registry_uri)).resolve(uri)
    if not Path(info.run_dir).is_dir():
        raise FtlabError(f"{uri} is version {info.version} of {info.name}, registered from {info.run_dir}, which "
                         "does not exist here (moved or deleted, or a shared registry whose runs are on another "
                         "machine); copy the run there or register it again from where it is.")
    return info
