"""Pipelines: stages chained through merged models, pipeline.json, resuming, and plans that cannot run."""

import json

import pytest

from ftlab.errors import FtlabError
from ftlab.training.pipeline import Plan, resume_pipeline, run_pipeline

SHARED = {"data": {"task": "cipher", "n_train": 160, "n_validation": 32, "n_test": 24},
          "train": {"eval_steps": 0, "save_steps": 5, "logging_steps": 2, "batch_size": 8},
          "eval": {"resamples": 0, "timeline_prompts": 0}}


def _plan(*stages, shared=SHARED):
    return Plan.from_dict({"config": shared, "stages": list(stages)}, "test plan")


SFT = {"name": "sft", "set": {"train.stage": "sft", "train.max_steps": 20, "train.learning_rate": 3e-3}}
DPO = {"name": "dpo", "set": {"train.stage": "dpo", "train.max_steps": 20, "train.learning_rate": 2e-3,
                                "stage.sft_weight": 1.0}}


def test_sft_then_dpo_chains_models_and_records_each_stage(tmp_path):
    from ftlab.widgets.dashboard import TrainingDashboard

    dashboard = TrainingDashboard(refresh_s=0)
    record = run_pipeline(_plan(SFT, DPO), tmp_path / "p", listeners=[dashboard])
    written = json.loads((tmp_path / "p" / "pipeline.json").read_text())
    assert written["status"] == record["status"] == "completed"
    sft, dpo = written["stages"]
    assert [(s["name"], s["stage"], s["status"]) for s in (sft, dpo)] == [("sft", "sft", "completed"),
                                                                         ("dpo", "dpo", "completed")]
    assert sft["run_dir"] == str(tmp_path / "p" / "01_sft") and dpo["run_dir"] == str(tmp_path / "p" / "02_dpo")
    assert 0 <= sft["metrics"]["exact_match"] <= 1
    assert {"preference_accuracy_before", "preference_accuracy_after", "reward_accuracy"} <= set(dpo["metrics"])
    # DPO started from the SFT model, merged: its config names that folder, and the reference (the
    # adapter turned off) is that model, so the implicit reward was 0 for every pair before training.
    assert dpo["model"] == str(tmp_path / "p" / "01_sft" / "merged")
    dpo_results = json.loads((tmp_path / "p" / "02_dpo" / "results.json").read_text())
    assert dpo_results["stage_before"]["reward_accuracy"] == 0.0
    assert dpo_results["stage_after"]["reward_accuracy"] > 0.5
    # The dashboard that watched both stages shows DPO's own panel with the logged rewards.
    assert dashboard.stage.name == "dpo" and dashboard.stage_figure in dashboard.widget.children
    logged = [m for m in dashboard.metrics if "rewards/chosen" in m]
    chosen = next(t for t in dashboard.stage_figure.data if t.name == "rewards/chosen")
    assert list(chosen.y) == [m["rewards/chosen"] for m in logged] and len(logged) >= 3


def test_preference_notes_say_when_the_chosen_reward_falls():
    from ftlab.training.stages import STAGES

    rows = [{"step": s, "rewards/chosen": c, "rewards/accuracies": 0.9} for s, c in ((10, 0.01), (20, -0.05),
                                                                                     (30, -0.2))]
    notes = STAGES["dpo"].diagnose(rows)
    assert notes == ["The chosen answers' reward is falling (+0.010 → -0.200 by step 30): the model makes even the "
                     "preferred answers less likely than the reference does, and wins the margin by lowering the "
                     "rejected ones faster. Watch the task metric; if it drops, lower the learning rate or raise "
                     "stage.beta."]
    assert STAGES["dpo"].diagnose([{**r, "rewards/chosen": 0.1 * r["step"]} for r in rows]) == []


def test_an_interrupted_pipeline_resumes_at_its_unfinished_stage(tmp_path):
    class StopInDpo:
        def update(self, kind, row):
            if kind == "metrics" and row.get("step", 0) >= 6 and "rewards/chosen" in str(row):
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_pipeline(_plan(SFT, DPO), tmp_path / "p", listeners=[StopInDpo()])
    record = json.loads((tmp_path / "p" / "pipeline.json").read_text())
    assert [s["status"] for s in record["stages"]] == ["completed", "interrupted"]
    assert record["status"] == "interrupted"
    sft_final = (tmp_path / "p" / "01_sft" / "final" / "adapter_model.safetensors").stat().st_mtime

    record = resume_pipeline(tmp_path / "p")
    assert [s["status"] for s in record["stages"]] == ["completed", "completed"]
    assert (tmp_path / "p" / "01_sft" / "final" / "adapter_model.safetensors").stat().st_mtime == sft_final
    results = json.loads((tmp_path / "p" / "02_dpo" / "results.json").read_text())
    assert results["resumed"][0]["from_step"] == 5 and results["steps"] == 20


def test_a_dialogue_stage_on_a_model_without_chat_template_is_refused_before_training(tmp_path):
    from ftlab.models.loader import load_tokenizer

    tokenizer = load_tokenizer("ftlab/tiny-chat")
    tokenizer.chat_template = None
    base = tmp_path / "plain-base"
    tokenizer.save_pretrained(base)
    from ftlab.models.loader import load_model

    load_model("ftlab/tiny-chat").save_pretrained(base)
    (base / "chat_template.jinja").unlink(missing_ok=True)
    shared = {**SHARED, "model": {"name": str(base)}}
    with pytest.raises(FtlabError) as err:
        run_pipeline(_plan(DPO, shared=shared), tmp_path / "p")
    assert str(err.value) == (
        f"test plan: stage 1 (dpo) trains on dialogues (dpo) but starts from {base}, which has no chat template. "
        "Start the plan from a chat or instruct model, or give the tokenizer a chat template before the plan runs.")
    assert not (tmp_path / "p").exists()


def test_references_to_missing_or_later_stages_are_named():
    with pytest.raises(FtlabError, match=r"stage 2 \(dpo\): 'from: rm' names no earlier stage \(earlier stages: "
                                         r"sft\)"):
        from ftlab.training.pipeline import plan_stages

        plan_stages(_plan(SFT, {**DPO, "from": "rm"}), __import__("pathlib").Path("unused"))
    with pytest.raises(FtlabError, match="a plan is a mapping with a non-empty 'stages' list"):
        Plan.from_dict({"stages": []})
    with pytest.raises(FtlabError, match=r"stage 2 \(sft\) has unknown key\(s\) sett"):
        Plan.from_dict({"stages": [SFT, {"name": "sft", "sett": {}}]})


def test_from_base_starts_a_stage_from_the_base_model_not_the_latest_stage(tmp_path):
    from ftlab.training.pipeline import plan_stages

    rm = {"name": "rm", "set": {"train.stage": "rm", "method.name": "full"}}
    chained, from_base = (plan_stages(_plan(SFT, rm_entry), tmp_path) for rm_entry in (rm, {**rm, "from": "base"}))
    assert chained[1].start == "sft" and from_base[1].start is None
    assert from_base[1].config.model.name == from_base[0].config.model.name == "ftlab/tiny-chat"
    with pytest.raises(FtlabError, match=r"test plan: stage 1 is named 'base', which 'from: base' means \(the plan's "
                                         r"base model\); give the stage another name\."):
        _plan({**SFT, "name": "base"})


def test_pipeline_cli_runs_a_plan_and_resume_knows_pipeline_dirs(tmp_path, capsys):
    import yaml

    from ftlab.cli import main

    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"config": SHARED, "stages": [SFT]}))
    assert main(["pipeline", str(plan), "--out", str(tmp_path / "p"), "--set", "train.max_steps=6"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["stages"][0]["status"] == "completed"
    assert json.loads((tmp_path / "p" / "01_sft" / "results.json").read_text())["steps"] == 6
    assert main(["resume", str(tmp_path / "p")]) == 0  # nothing left to do: every stage is kept
    assert json.loads(capsys.readouterr().out)["status"] == "completed"
