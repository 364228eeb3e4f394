import json
import subprocess
import sys
from pathlib import Path

import yaml

from ftlab.cli import main
from ftlab.config import Config


def ftlab_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "ftlab.cli", *args], capture_output=True, text=True, cwd=cwd)


def test_help_lists_the_commands():
    out = ftlab_cli("--help")
    assert out.returncode == 0
    for command in ("quickstart", "config", "train"):
        assert command in out.stdout


def test_config_init_prints_commented_defaults(capsys):
    assert main(["config", "init"]) == 0
    text = capsys.readouterr().out
    assert ("# Fine-tuning method: what trains (see ftlab.training.methods). One of: full, freeze, bitfit, "
            "lora") in text
    assert Config.from_dict(yaml.safe_load(text)) == Config()


def test_train_with_overrides_writes_a_run(tmp_path, capsys):
    config_file = tmp_path / "c.yaml"
    Config().save(config_file)
    code = main(["train", str(config_file), "--set", f"train.output_dir={tmp_path}/runs", "--set", "train.max_steps=6",
                 "--set", "train.logging_steps=2", "--set", "train.eval_steps=0", "--set", "data.n_train=64",
                 "--set", "train.run_name=cli"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "completed" and report["steps"] == 6
    assert Config.load(tmp_path / "runs/cli/config.yaml").train.max_steps == 6


def test_bad_input_is_one_paragraph_without_traceback(tmp_path):
    config_file = tmp_path / "c.yaml"
    config_file.write_text("method:\n  name: lorra\n")
    out = ftlab_cli("train", str(config_file))
    assert out.returncode == 2
    assert out.stderr.strip() == ("ftlab: error: method.name: unknown method 'lorra' (did you mean lora?); choose one "
                                  "of full, freeze, bitfit, lora, qlora, lora_plus, rslora, dora, pissa, olora, "
                                  "lora_fa, adalora, ia3, prompt_tuning, prefix_tuning, p_tuning.")

    out = ftlab_cli("train", str(tmp_path / "missing.yaml"))
    assert out.returncode == 2 and "missing.yaml does not exist" in out.stderr and "Traceback" not in out.stderr

    good = Config().save(tmp_path / "good.yaml")
    out = ftlab_cli("train", str(good), "--set", "data.train_file=nowhere.jsonl")
    assert out.returncode == 2 and "data.train_file: file nowhere.jsonl does not exist" in out.stderr

    out = ftlab_cli("--debug", "train", str(config_file))
    assert out.returncode != 0 and "Traceback" in out.stderr


def test_unknown_model_is_explained(tmp_path):
    config_file = tmp_path / "c.yaml"
    Config().save(config_file)
    out = ftlab_cli("train", str(config_file), "--set", f"model.name={tmp_path}/no-such-model",
                    "--set", f"train.output_dir={tmp_path}/runs")
    assert out.returncode == 2
    assert "Could not load model" in out.stderr and "model.name=ftlab/tiny-chat" in out.stderr
    assert "Traceback" not in out.stderr
    failed = json.loads(next(Path(tmp_path, "runs").glob("*/results.json")).read_text())
    assert failed["status"] == "failed"


def test_quickstart_runs_headless_and_writes_its_report(tmp_path):
    """The command's plumbing; notebook 00 runs the same quickstart to its full effect (exact match 0 -> 0.8+)."""
    out = ftlab_cli("quickstart", "--out", str(tmp_path), "--smoke", "--max-steps", "40", "--method", "dora")
    assert out.returncode == 0, out.stderr[-2000:]
    printed = json.loads(out.stdout)
    report = json.loads((tmp_path / "report.json").read_text())
    assert printed["run_dir"] == report["run_dir"] and report["method"] == "dora" and report["steps"] == 40
    assert report["metric_name"] == "exact_match" and report["base_metric"] <= 0.1
    assert {"exact_match", "chrf", "f1", "bleu", "rougeL", "latency_p50"} <= set(report["tuned_metrics"])
    assert len(report["examples"]) == 8
    assert report["peak_rss_mb"] < 2000 and report["train_seconds"] > 0
    run_losses = [json.loads(line)["loss"] for line in
                  Path(report["run_dir"], "metrics.jsonl").read_text().splitlines() if '"loss"' in line]
    assert run_losses[-1] < 0.5 * run_losses[0]
    # the tuned evaluation the report shows is the run's own record (made once, not again at the end of training)
    recorded = json.loads(Path(report["run_dir"], "eval.json").read_text())
    assert recorded["metrics"] == report["tuned_metrics"] and recorded["n"] == 100
    results = json.loads(Path(report["run_dir"], "results.json").read_text())
    assert results["eval"]["exact_match"] == report["tuned_metric"] and results["eval_seconds"] > 0
    samples = Path(report["run_dir"], "eval_samples.jsonl").read_text().splitlines()
    assert [json.loads(line)["prediction"] for line in samples[:8]] == [e["tuned"] for e in report["examples"]]


def test_config_diff_between_a_run_directory_and_a_file(tmp_path, capsys):
    from ftlab.training.rundir import RunDir

    earlier = Config().override([f"train.output_dir={tmp_path}", "train.run_name=earlier"])
    run = RunDir.create(earlier)
    now = Config.from_dict(earlier.to_dict()).override(["train.learning_rate=5e-4", "train.stage=dpo"])
    now.save(tmp_path / "now.yaml")
    assert main(["config", "diff", str(run.path), str(tmp_path / "now.yaml")]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] == {
        "train.stage": {"before": "sft", "after": "dpo"},
        "train.learning_rate": {"before": 0.002, "after": 0.0005}}
