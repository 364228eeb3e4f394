"""Every plan in examples/pipelines/ runs offline to completion (with a few steps per stage) and writes pipeline.json."""

import json
from pathlib import Path

import pytest

from ftlab.training.pipeline import Plan, run_pipeline

PLANS = sorted((Path(__file__).parent.parent / "examples" / "pipelines").glob("*.yaml"))
FEW_STEPS = ["train.max_steps=3", "train.save_steps=0", "train.logging_steps=1", "eval.n_examples=8",
             "eval.resamples=0", "train.batch_size=8"]


def test_the_examples_named_in_the_readme_exist():
    assert {"sft_dpo.yaml", "cpt_sft.yaml"} <= {p.name for p in PLANS}


@pytest.mark.parametrize("plan", PLANS, ids=[p.stem for p in PLANS])
def test_example_plan_runs_and_records_every_stage(plan, tmp_path):
    record = run_pipeline(Plan.load(plan), tmp_path / plan.stem, FEW_STEPS)
    written = json.loads((tmp_path / plan.stem / "pipeline.json").read_text())
    assert written["status"] == "completed"
    assert [s["name"] for s in written["stages"]] == [s.name for s in Plan.load(plan).stages]
    for stage in written["stages"]:
        assert stage["status"] == "completed" and stage["metrics"], stage
        assert json.loads((Path(stage["run_dir"]) / "results.json").read_text())["steps"] == 3
    assert record["stages"] == written["stages"]
