"""The model registry on MLflow: versions record their run, aliases are promoted and rolled back, URIs resolve.

Two versions come from the session's trained LoRA run: the run itself, and a copy that was then evaluated
(``eval.json``) and exported (``export/export.json``, the recorded export in tests/data), so one version has
the optional records and the other has not.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ftlab.cli import main
from ftlab.errors import FtlabError
from ftlab.ops.model_registry import (
    default_registry_uri,
    pointed,
    resolve_uri,
)

EXPORT_RECORD = Path(__file__).parent / "data" / "export" / "export.json"


@pytest.fixture(scope="session")
def evaluated_run(lora_run, tmp_path_factory):
    """A copy of the LoRA run with eval.json (8 test examples) and an export.json."""
    from ftlab.eval.stage import evaluate

    run = tmp_path_factory.mktemp("evaluated") / "repeat-lora-evaluated"
    shutil.copytree(lora_run, run)
    evaluate(run, n=8, suites=[])
    (run / "export").mkdir()
    shutil.copy(EXPORT_RECORD, run / "export" / "export.json")
    return run


def test_versions_record_their_run_data_config_eval_and_export(model_registry, lora_run, evaluated_run, tmp_path):
    first = model_registry.register(lora_run, "repeat")
    second = model_registry.register(evaluated_run, "repeat", description="evaluated")
    assert (first.version, second.version) == (1, 2)
    assert first.run_dir == str(Path(lora_run).resolve()) and second.run_dir == str(evaluated_run.resolve())
    assert first.data_version == json.loads((lora_run / "data.json").read_text())["version"]
    assert (first.base_model, first.method) == ("ftlab/tiny-chat", "lora")
    assert first.records == ["config.yaml", "data.json", "results.json"]
    assert second.records == ["config.yaml", "data.json", "results.json", "eval.json", "export/export.json"]
    evaluation = json.loads((evaluated_run / "eval.json").read_text())
    assert second.metrics == pytest.approx(evaluation["metrics"]) and first.metrics == {}
    # the record files are the MLflow run's artifacts, byte for byte
    mlflow_run = model_registry.client.get_run(second.mlflow_run_id)
    assert mlflow_run.data.params["data_version"] == second.data_version
    assert mlflow_run.data.metrics == pytest.approx(evaluation["metrics"])
    copy = Path(model_registry.client.download_artifacts(second.mlflow_run_id, "ftlab", str(tmp_path)))
    for name in second.records:
        assert (copy / name).read_bytes() == (evaluated_run / name).read_bytes()
    listed = model_registry.versions()
    assert [(v.name, v.version, v.aliases) for v in listed] == [("repeat", 1, []), ("repeat", 2, [])]


def test_promote_then_roll_back_moves_the_alias_and_keeps_its_history(model_registry, lora_run, evaluated_run):
    model_registry.register(lora_run, "repeat")
    model_registry.register(evaluated_run, "repeat")
    uri = model_registry.uri
    model_registry.promote("repeat", 1)
    assert resolve_uri("models:/repeat@production", uri) == str(Path(lora_run).resolve())
    model_registry.promote("repeat", 2, reason="higher exact match")
    assert resolve_uri("models:/repeat@production", uri) == str(evaluated_run.resolve())
    assert resolve_uri("models:/repeat/1", uri) == str(Path(lora_run).resolve())
    assert model_registry.by_alias("repeat", "production").aliases == ["production"]

    left, now = model_registry.rollback("repeat", reason="answers got worse")
    assert (left, now.version) == (2, 1)
    assert resolve_uri("models:/repeat@production", uri) == str(Path(lora_run).resolve())
    history = model_registry.history("repeat")
    assert [(e["action"], e["version"], e["reason"]) for e in history] == [
        ("promote", 1, "promoted"), ("promote", 2, "higher exact match"), ("rollback", 1, "answers got worse")]
    assert history[-1]["from"] == 2 and pointed(history) == [1]
    # the tag MLflow stores is the history itself
    assert json.loads(model_registry.client.get_registered_model("repeat").tags["ftlab.alias_history.production"]) \
        == history
    with pytest.raises(FtlabError) as err:
        model_registry.rollback("repeat")
    assert str(err.value) == ("repeat@production points at version 1 and has no earlier version to roll back to; "
                              "promote the one you want with `ftlab registry promote repeat VERSION --alias "
                              "production`.")


def test_rolling_back_twice_undoes_two_promotions_and_an_alias_moved_outside_ftlab_is_remembered(
        model_registry, lora_run):
    for _ in range(3):
        model_registry.register(lora_run, "repeat")
    model_registry.client.set_registered_model_alias("repeat", "production", "1")  # as MLflow's UI would
    model_registry.promote("repeat", 2)
    model_registry.promote("repeat", 3)
    assert pointed(model_registry.history("repeat")) == [1, 2, 3]
    assert model_registry.rollback("repeat")[1].version == 2
    assert model_registry.rollback("repeat")[1].version == 1
    assert model_registry.history("repeat")[0]["reason"] == "set outside ftlab"
    # aliases are independent: staging has its own history
    model_registry.promote("repeat", 3, alias="staging")
    assert model_registry.by_alias("repeat", "production").version == 1
    assert [e["version"] for e in model_registry.history("repeat", "staging")] == [3]


def test_a_resolved_uri_opens_in_the_export_runtime(model_registry, lora_run):
    from ftlab.export.opening import open_runtime

    model_registry.register(lora_run, "repeat")
    model_registry.promote("repeat", 1)
    runtime = open_runtime(resolve_uri("models:/repeat@production", model_registry.uri))
    assert runtime.name == Path(lora_run).name


def test_mistakes_get_messages_that_say_what_to_do(model_registry, lora_run, tmp_path):
    uri = model_registry.uri
    cases = {
        lambda: model_registry.register(tmp_path / "nowhere", "x"):
            f"{tmp_path / 'nowhere'}: no such folder; give a run directory (the folder `ftlab train` wrote, with "
            "config.yaml, results.json and final/).",
        lambda: model_registry.register(lora_run, "team/cipher"):
            "--name 'team/cipher': a registered model's name is what models:/NAME@ALIAS addresses, so it has no "
            "'/', '@' or ':' and no spaces at its ends; e.g. cipher-lora.",
        lambda: model_registry.register(tmp_path, "x"):
            f"{tmp_path} is not a run directory: it has no config.yaml, results.json, final. Register the folder "
            "`ftlab train` wrote for one run (under train.output_dir, default runs/).",
        lambda: resolve_uri("models:/cipher@production", uri):
            f"no registered model 'cipher' in {uri}; registered: none. Register a run with `ftlab registry "
            "register RUN_DIR --name cipher`.",
        lambda: resolve_uri("runs/cipher", uri):
            "'runs/cipher' is not a registry URI; write models:/NAME@ALIAS or models:/NAME/VERSION.",
        lambda: resolve_uri("models:/cipher/two", uri):
            "'models:/cipher/two' is not a registry URI; write models:/NAME@ALIAS (e.g. models:/cipher@production) "
            "or models:/NAME/VERSION (e.g. models:/cipher/2).",
    }
    for call, message in cases.items():
        with pytest.raises(FtlabError) as err:
            call()
        assert str(err.value) == message

    model_registry.register(lora_run, "repeat")
    for call, message in {
        lambda: model_registry.promote("repeat", 4): "repeat has no version 4; its versions: 1 (`ftlab registry "
                                                     "list`).",
        lambda: resolve_uri("models:/repeat@staging", uri): "repeat has no alias 'staging' (its aliases: none); "
                                                            "point it at a version with `ftlab registry promote "
                                                            "repeat VERSION --alias staging`.",
        lambda: resolve_uri("models:/nope/1", uri): f"no registered model 'nope' in {uri}; registered: repeat. "
                                                    "Register a run with `ftlab registry register RUN_DIR --name "
                                                    "nope`.",
    }.items():
        with pytest.raises(FtlabError) as err:
            call()
        assert str(err.value) == message

    unfinished = tmp_path / "unfinished"
    shutil.copytree(lora_run, unfinished)
    (unfinished / "results.json").write_text(json.dumps({"status": "interrupted"}))
    with pytest.raises(FtlabError) as err:
        model_registry.register(unfinished, "repeat")
    assert str(err.value) == (f"{unfinished}: the run's status is 'interrupted', not 'completed' (results.json); "
                              f"register a finished run, or finish this one with `ftlab resume {unfinished}`.")

    moved = tmp_path / "moved"
    shutil.copytree(lora_run, moved)
    model_registry.register(moved, "moving")
    shutil.rmtree(moved)
    with pytest.raises(FtlabError, match=r"models:/moving/1 is version 1 of moving, registered from .*moved, which "
                                         r"does not exist here"):
        resolve_uri("models:/moving/1", uri)


def test_the_command_line(model_registry, lora_run, evaluated_run, capsys):
    uri = ["--registry-uri", model_registry.uri]
    assert main(["registry", "register", str(lora_run), "--name", "repeat", *uri]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1
    assert main(["registry", "register", str(evaluated_run), "--name", "repeat", *uri]) == 0
    capsys.readouterr()
    assert main(["registry", "promote", "repeat", "1", "--alias", "production", *uri]) == 0
    assert main(["registry", "promote", "repeat", "2", *uri]) == 0
    capsys.readouterr()
    assert main(["registry", "list", "--json", *uri]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(v["version"], v["aliases"], v["run_dir"]) for v in listed] == [
        (1, [], str(Path(lora_run).resolve())), (2, ["production"], str(evaluated_run.resolve()))]
    assert main(["registry", "list", *uri]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["NAME", "VERSION", "ALIASES", "DATA", "VERSION", "METHOD", "RUN", "DIR"]
    assert table[2].split()[:3] == ["repeat", "2", "production"]
    assert main(["registry", "rollback", "repeat", "--alias", "production", *uri]) == 0
    assert json.loads(capsys.readouterr().out) == {"alias": "repeat@production", "from": 2, "version": 1,
                                                   "run_dir": str(Path(lora_run).resolve())}
    assert main(["registry", "resolve", "models:/repeat@production", *uri]) == 0
    assert capsys.readouterr().out.strip() == str(Path(lora_run).resolve())
    assert main(["registry", "promote", "repeat", "9", *uri]) == 2
    assert capsys.readouterr().err.strip() == ("ftlab: error: repeat has no version 9; its versions: 1, 2 "
                                               "(`ftlab registry list`).")


def test_the_default_registry_is_a_sqlite_file_beside_the_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_REGISTRY_URI", raising=False)
    assert default_registry_uri() == f"sqlite:///{tmp_path.resolve()}/registry/mlflow.db"
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "http://mlflow.example:5000")
    assert default_registry_uri() == "http://mlflow.example:5000"


@pytest.mark.parametrize("mlflow_first", [False, True], ids=["ftlab-first", "mlflow-imported-first"])
def test_mlflow_telemetry_is_off_outside_tests_too(registry_database, tmp_path, mlflow_first):
    """MLflow turns its telemetry off under pytest or CI by itself (and on elsewhere: a client that reports
    usage); the registry must turn it off everywhere, also where something imported mlflow before it."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTEST_CURRENT_TEST", "CI", "MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK")}
    env["PYTHONPATH"] = str(Path(__file__).parent.parent)
    shutil.copy(registry_database, tmp_path / "mlflow.db")
    code = ("from mlflow.telemetry.client import get_telemetry_client\n"
            "print(get_telemetry_client() is not None)\n" if mlflow_first else "") + (
            "from ftlab.ops.model_registry import ModelRegistry\n"
            f"ModelRegistry('sqlite:///{tmp_path / 'mlflow.db'}')\n"
            "from mlflow.telemetry.client import get_telemetry_client\n"
            "print(get_telemetry_client())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == (["True", "None"] if mlflow_first else ["None"])
