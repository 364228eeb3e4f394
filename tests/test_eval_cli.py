"""`ftlab eval`: a run against the base model, with intervals, win rate and the forgetting suite."""

import json
import subprocess
import sys

import pytest

import ftlab


def ftlab_cli(*args):
    return subprocess.run([sys.executable, "-m", "ftlab.cli", *args], capture_output=True, text=True)


@pytest.mark.slow
def test_a_tuned_run_against_the_base_model(small_config):
    run = ftlab.train(small_config("train.max_steps=200", "train.eval_steps=100", "train.save_steps=100",
                                   "eval.at_end=false")).run
    out = ftlab_cli("eval", str(run.path), "--against", "ftlab/tiny-chat", "--suites", "general_skills",
                    "--n", "24")
    assert out.returncode == 0, out.stderr[-2000:]
    printed = json.loads(out.stdout)
    assert printed["n"] == 24 and printed["split"] == "test"
    against = printed["against"]["ftlab/tiny-chat"]
    chrf = against["differences"]["chrf"]
    assert chrf["difference"] > 0 and chrf["interval"][0] > 0  # the tuned model is better, and surely so
    assert against["wins"] + against["ties"] + against["losses"] == 24 and against["win_rate"] > 0.5
    skills = against["suites"]["general_skills"]
    assert set(skills) == {"repeat", "reverse", "uppercase", "spell", "next_letter"}
    assert skills["repeat"]["baseline"] > 0.8  # the base model can repeat; how much the tuned one kept is shown
    record = json.loads((run.path / "eval.json").read_text())
    gains, regressions = (record["against"]["ftlab/tiny-chat"][k] for k in ("largest_gains", "worst_regressions"))
    assert len(gains) == min(20, against["wins"]) and all(g["change"] > 0 for g in gains)
    assert len(regressions) == min(20, against["losses"]) and all(r["change"] < 0 for r in regressions)
    assert (run.path / "eval_against_ftlab_tiny-chat_samples.jsonl").exists()
    # a checkpoint of the run is a target too: the run's config and data, its eval files in its own folder
    checkpoint = run.path / "checkpoints" / "checkpoint-100"
    mid = ftlab.evaluate(checkpoint, n=8, metrics=["exact_match", "chrf"])
    assert mid["name"] == f"{run.path.name}/checkpoints/checkpoint-100" and (checkpoint / "eval.json").exists()
    final = ftlab.evaluate(run.path, n=8, metrics=["exact_match", "chrf"], against=[checkpoint])
    assert final["against"][mid["name"]]["metrics"] == mid["metrics"]


def test_bad_targets_are_one_paragraph(tmp_path):
    out = ftlab_cli("eval", "ftlab/tiny-chat")
    assert out.returncode == 2
    assert out.stderr.strip() == ("ftlab: error: ftlab/tiny-chat is not a run directory: say where eval.json goes "
                                  "(--out DIR).")
    out = ftlab_cli("eval", str(tmp_path / "nowhere"), "--out", str(tmp_path))
    assert out.returncode == 2 and "Could not load model" in out.stderr and "Traceback" not in out.stderr
