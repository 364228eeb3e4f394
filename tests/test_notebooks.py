"""Every notebook runs top to bottom under papermill with smoke=True and records real effects.

Each notebook writes ``<output_dir>/<notebook stem>_summary.json``; the checks
below read it.  (nbval re-runs the same notebooks with their stored defaults.)
"""

import json
from pathlib import Path

import papermill as pm
import pytest

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def check_quickstart(summary: dict) -> None:
    assert summary["base_metric"] <= 0.1
    assert summary["tuned_metric"] >= 0.8
    assert summary["tuned_metrics"]["chrf"] > summary["base_metrics"]["chrf"]
    assert summary["final_loss"] < 0.1 * summary["first_loss"]
    assert summary["peak_rss_mb"] < 2000  # fits Binder's 2 GB


def check_model_selection(summary: dict) -> None:
    qwen = summary["parsed"]["Qwen/Qwen1.5-14B-Chat-GPTQ-Int4"]
    assert qwen == {"family": "Qwen", "params_b": 14.0, "variant": "chat", "quantization": "GPTQ-Int4"}
    assert summary["parsed"]["acme/widget"]["params_b"] is None
    assert summary["architectures"] >= 9
    gb = summary["estimates_gb"]
    assert gb["full (mixed)"] > gb["LoRA"] > gb["QLoRA 8-bit"] > gb["QLoRA 4-bit"]
    assert not summary["fits"]["full (mixed)"] and summary["fits"]["QLoRA 4-bit"]
    for row in summary["measured"]:
        assert abs(row["error %"]) <= 15, row
        assert row["exact params/grads/optimizer"], row
    rec = summary["recommendation"]
    assert rec["peak_gb"] <= rec["limit_gb"] and rec["reasons"] >= 8
    assert rec["stages"][-1].startswith("DPO")
    assert summary["wizard_handed_on"] == 1


CHECKS = {"00_quickstart": check_quickstart, "02_model_selection": check_model_selection}


def test_every_notebook_has_checks():
    assert {nb.stem for nb in NOTEBOOKS} == set(CHECKS)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_under_papermill(notebook, tmp_path):
    pm.execute_notebook(str(notebook), str(tmp_path / notebook.name), kernel_name="ftlab", cwd=str(tmp_path),
                        parameters={"smoke": True, "output_dir": str(tmp_path / "runs")}, progress_bar=False)
    summary = json.loads((tmp_path / "runs" / f"{notebook.stem}_summary.json").read_text())
    CHECKS[notebook.stem](summary)
