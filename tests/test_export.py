"""ftlab export: artifacts built per format, measured, quality re-checked and gated; bad input refused plainly."""

import errno
import json
import os
import shutil
import socket
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ftlab import cli
from ftlab.config import Config
from ftlab.errors import FtlabError
from ftlab.export.exporter import export, folder_size, problems, recheck
from ftlab.export.formats import FORMATS
from ftlab.export.opening import ARTIFACT_FILE, open_runtime
from ftlab.export.runtime import TransformersRuntime
from ftlab.training.saved import load_trained

CPU_FORMATS = ["merged", "bnb_int8", "bnb_nf4", "torchao_int8"]
CHECKS = ["chat_template", "eos_token", "tokenizer", "answers"]
LLAMA2_TEMPLATE = "{% for m in messages %}[INST] {{ m['content'] }} [/INST]{% endfor %}"


@pytest.fixture(scope="module")
def exported(lora_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("export")
    return out, export(lora_run, out=out, prompts=8)


def _artifacts(report):
    return {a["format"]: a for a in report["artifacts"]}


def _test_prompts(run):
    from ftlab.data.rows import examples
    from ftlab.data.sources import load_data

    config = Config.load(Path(run) / "config.yaml")
    return examples(load_data(config.data)["test"], config.data.system_prompt)


def _with_build(monkeypatch, name, build):
    """Swap one format's build for the length of a test (the registry's table is a plain dict)."""
    table = FORMATS._load()
    monkeypatch.setitem(table, name, replace(table[name], build=build))


def test_export_json_lists_every_format_with_measured_figures(exported):
    out, report = exported
    assert json.loads((out / "export.json").read_text()) == report
    assert report["metric"] == "exact_match" and report["prompts"] == 8
    run = (out / report["run_dir"]).resolve()  # relative to the export folder, as the artifacts' paths are
    assert run == Path(report["reference"].split(" ")[0]).resolve().parent and (run / "results.json").is_file()
    artifacts = _artifacts(report)
    assert list(artifacts) == list(FORMATS)
    for name in CPU_FORMATS:
        artifact = artifacts[name]
        assert artifact["status"] == "ok" and artifact["reason"] is None and artifact["path"] == name
        folder = out / name
        assert json.loads((folder / ARTIFACT_FILE).read_text())["format"] == name
        assert artifact["size_bytes"] == sum(os.path.getsize(p) for p in folder.rglob("*") if p.is_file())
        assert 0 < artifact["load_seconds"] and 0 < artifact["latency_p50_s"] <= artifact["latency_p95_s"]
        assert artifact["tokens_per_second"] > 0
    assert not list(out.glob("*.partial"))
    sizes = {name: artifacts[name]["size_bytes"] for name in CPU_FORMATS}
    # the merged folder holds the float32 weights; the quantised ones store int8 / packed 4-bit Linear weights
    assert sizes["merged"] > (out / "merged" / "model.safetensors").stat().st_size > sizes["bnb_int8"]
    assert sizes["bnb_nf4"] < 0.75 * sizes["bnb_int8"] and sizes["bnb_nf4"] < 0.25 * sizes["merged"]
    assert artifacts["bnb_nf4"]["size_ratio"] == round(sizes["bnb_nf4"] / report["reference_figures"]["size_bytes"], 4)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for machines without a GPU")
def test_gpu_formats_are_skipped_on_a_cpu_machine_and_the_others_still_built(exported):
    _, report = exported
    artifacts = _artifacts(report)
    for name in ("gptq", "awq"):
        assert artifacts[name]["status"] == "skipped" and artifacts[name]["size_bytes"] is None
        assert artifacts[name]["reason"] == (
            f"{name} needs a CUDA GPU and this machine ({socket.gethostname()}, {os.cpu_count()} CPU cores and no "
            f"CUDA GPU) has none; export it on a GPU machine (ftlab export RUN_DIR --format {name}). The other "
            "formats are built here.")
    assert all(artifacts[name]["status"] == "ok" for name in CPU_FORMATS)


def test_the_merged_artifact_answers_exactly_as_the_trained_run(exported, lora_run):
    out, report = exported
    prompts = _test_prompts(lora_run)
    artifact = open_runtime(out / "merged")
    trained = TransformersRuntime(*load_trained(lora_run), name="trained")
    theirs = [trained.generate(e.prompt, 16).text for e in prompts]
    assert [artifact.generate(e.prompt, 16).text for e in prompts] == theirs
    assert any(theirs)  # real answers, not empty strings on both sides
    quality = _artifacts(report)["merged"]["quality"]
    assert quality["value"] == quality["reference_value"] and quality["difference"] == 0.0
    assert quality["interval"] == [0.0, 0.0] and quality["regressions"] == []


def test_the_quality_recheck_pairs_every_item_with_the_reference_model(exported):
    _, report = exported
    for name in CPU_FORMATS:
        quality = _artifacts(report)[name]["quality"]
        assert quality["metric"] == "exact_match" and quality["n"] == 8
        assert quality["difference"] == round(quality["value"] - quality["reference_value"], 4)
        low, high = quality["interval"]
        assert low <= quality["difference"] <= high
        drops = [r["score_drop"] for r in quality["regressions"]]
        assert drops == sorted(drops, reverse=True) and len(drops) == min(5, quality["regressions_total"])
        for regression in quality["regressions"]:
            assert regression["answer"] != regression["reference_model_answer"] and regression["score_drop"] > 0
        # exact match is 0/1 per item: the difference is (items lost - items gained) / n
        assert round(quality["value"] * 8) == quality["value"] * 8


def test_the_gate_passes_good_exports(exported):
    _, report = exported
    assert problems(report) == []
    for name in CPU_FORMATS:
        gate = _artifacts(report)[name]["gate"]
        assert gate["passed"] and [c["name"] for c in gate["checks"]] == CHECKS
        assert all(c["passed"] and c["fix"] is None for c in gate["checks"])
    merged = _artifacts(report)["merged"]["gate"]["checks"]
    assert merged[3]["detail"] == ("8 of 8 fixed prompts answered exactly as the trained model does (1.00; a lossless "
                                   "format must give all of them).")


def test_a_replaced_chat_template_fails_the_gate_with_what_differs_and_the_fix(exported, lora_run, tmp_path):
    out, _ = exported
    broken = tmp_path / "merged"
    shutil.copytree(out / "merged", broken)
    (broken / "chat_template.jinja").write_text(LLAMA2_TEMPLATE)
    entry = recheck(lora_run, broken, prompts=8)
    checks = {c["name"]: c for c in entry["gate"]["checks"]}
    assert not entry["gate"]["passed"] and not checks["chat_template"]["passed"]
    assert checks["chat_template"]["detail"] == (
        "one English user turn renders differently: from character 0 the run's template gives "
        "'<|im_start|>user\\nWhat is' and the artifact's gives '[INST] What is the capit'.")
    assert checks["chat_template"]["fix"] == (
        f"Give the artifact the run's chat template: copy {lora_run}/final/chat_template.jinja into {broken} (a GGUF "
        "file keeps it as tokenizer.chat_template metadata), or export again with ftlab export.")
    assert checks["eos_token"]["passed"] and checks["tokenizer"]["passed"]
    # the model now answers a prompt it was never trained on: the answers change too
    assert checks["answers"]["detail"].startswith("0 of 8 fixed prompts answered exactly as the trained model does")
    assert checks["answers"]["fix"] == ("Fix the failing chat_template check first: the answers are generated "
                                        "through what it tests; then check again (ftlab.export.exporter.recheck).")
    assert entry["quality"]["value"] == 0.0 and entry["quality"]["reference_value"] == 1.0
    assert entry["quality"]["interval"] == [-1.0, -1.0] and entry["quality"]["regressions_total"] == 8


def test_a_wrong_eos_token_fails_the_gate_and_ftlab_export_exits_1(lora_run, tmp_path, monkeypatch, capsys):
    build = FORMATS["merged"].build

    def wrong_eos(source, out):
        build(source, out)
        settings = json.loads((out / "tokenizer_config.json").read_text())
        (out / "tokenizer_config.json").write_text(json.dumps({**settings, "eos_token": "<|endoftext|>"}))

    _with_build(monkeypatch, "merged", wrong_eos)
    code = cli.main(["export", str(lora_run), "--format", "merged", "--out", str(tmp_path), "--prompts", "8"])
    err = capsys.readouterr().err
    assert code == 1
    folder = tmp_path / "merged"
    assert (f"ftlab: export gate failed for merged (merged): eos_token: the artifact ends a turn with "
            "'<|endoftext|>' (id 258); the trained model with '<|im_end|>' (id 256). Fix: Set eos_token to "
            f"'<|im_end|>' in {folder}/tokenizer_config.json and eos_token_id to 256 in "
            f"{folder}/generation_config.json (a GGUF file: tokenizer.ggml.eos_token_id), or export again.\n") in err
    report = json.loads((tmp_path / "export.json").read_text())
    assert report["artifacts"][0]["status"] == "ok" and not report["artifacts"][0]["gate"]["passed"]


def test_a_run_without_a_final_model_is_refused_with_its_status(tmp_path, capsys):
    run = tmp_path / "crashed"
    run.mkdir()
    Config().save(run / "config.yaml")
    (run / "results.json").write_text(json.dumps({"status": "failed"}))
    message = (f"{run} has no final model to export (no final/ folder; the run's status is 'failed', see "
               f"{run}/results.json). Export a finished run, or finish this one with ftlab resume {run}.")
    with pytest.raises(FtlabError) as caught:
        export(run)
    assert str(caught.value) == message
    assert cli.main(["export", str(run)]) == 2
    assert capsys.readouterr().err == f"ftlab: error: {message}\n"
    with pytest.raises(FtlabError, match=r"is not a run directory \(no config.yaml\); ftlab export takes a run"):
        export(tmp_path)


def test_an_unknown_format_names_the_closest_one(lora_run, tmp_path, capsys):
    message = f"unknown export format 'bnb_nf5' (did you mean bnb_nf4?); choose one of {', '.join(FORMATS)}."
    with pytest.raises(FtlabError) as caught:
        export(lora_run, ["merged", "bnb_nf5"], tmp_path)
    assert str(caught.value) == message
    assert not list(tmp_path.iterdir())  # refused before anything was built
    assert cli.main(["export", str(lora_run), "--format", "bnb_nf5", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"ftlab: error: {message}\n"


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for machines without a GPU")
def test_only_gpu_formats_asked_on_a_cpu_machine_exports_nothing_and_exits_1(lora_run, tmp_path, capsys):
    code = cli.main(["export", str(lora_run), "--format", "gptq", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("ftlab: skipped gptq: gptq needs a CUDA GPU and this machine (")
    assert err.endswith("ftlab: nothing was exported: every asked format was skipped (gptq); see the reasons above.\n")
    report = json.loads((tmp_path / "export.json").read_text())
    assert [a["status"] for a in report["artifacts"]] == ["skipped"] and not (tmp_path / "gptq").exists()


def test_a_disk_that_fills_up_mid_write_leaves_no_artifact_behind(lora_run, tmp_path, monkeypatch):
    from ftlab.export.formats import merged_weights as merged

    copy = shutil.copy2
    written = []

    def copy_until_full(source, target):
        if written:  # the second file does not fit
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        written.append(copy(source, target))

    monkeypatch.setattr(merged.shutil, "copy2", copy_until_full)
    report = export(lora_run, ["merged"], tmp_path)
    artifact = report["artifacts"][0]
    assert written and artifact["status"] == "failed" and artifact["size_bytes"] is None
    assert artifact["reason"] == (
        f"merged: the disk filled up while writing {tmp_path}/merged.partial (No space left on device); the partial "
        f"folder was removed. Nothing was left at {tmp_path}/merged. Free space on that disk or export to another "
        "--out.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.json"]
    assert problems(report) == [f"export of merged failed: {artifact['reason']}"]


def test_a_failed_rebuild_keeps_the_earlier_complete_artifact(exported, lora_run, tmp_path, monkeypatch):
    out, _ = exported
    shutil.copytree(out / "merged", tmp_path / "merged")
    before = folder_size(tmp_path / "merged")

    def fails(source, target):
        (target / "model.safetensors").write_bytes(b"half")
        raise RuntimeError("converter crashed")

    _with_build(monkeypatch, "merged", fails)
    artifact = export(lora_run, ["merged"], tmp_path)["artifacts"][0]
    assert artifact["reason"] == (f"merged: building failed (RuntimeError: converter crashed); the partial folder was "
                                  f"removed. The earlier artifact at {tmp_path}/merged was left as it was.")
    assert folder_size(tmp_path / "merged") == before and not (tmp_path / "merged.partial").exists()


def test_a_prompt_learning_run_exports_its_adapter_with_the_base_reference(tmp_path_factory):
    from ftlab.training.runner import train

    config = Config().override([
        f"train.output_dir={tmp_path_factory.mktemp('prompt_run')}", "train.run_name=repeat-pt", "data.task=repeat",
        "method.name=prompt_tuning", "method.num_virtual_tokens=4", "data.n_train=32", "data.n_validation=4",
        "data.n_test=4", "train.max_steps=2", "train.eval_steps=2", "train.save_steps=2", "eval.at_end=false",
        "eval.timeline_prompts=0", "eval.resamples=50"])
    run = train(config).run.path
    out = run / "export"
    report = export(run, prompts=4)
    artifacts = _artifacts(report)
    merged = artifacts["merged"]
    assert merged["status"] == "ok" and merged["gate"]["passed"]
    assert report["reference"] == (f"{run}/final (prompt_tuning adapter on ftlab/tiny-chat; a prompt-learning "
                                   "adapter cannot be merged)")
    info = json.loads((out / "merged" / ARTIFACT_FILE).read_text())
    assert (info["format"], info["contents"], info["base_model"]) == ("merged", "adapter", "ftlab/tiny-chat")
    assert (out / "merged" / "adapter_model.safetensors").exists()
    assert not (out / "merged" / "model.safetensors").exists()
    assert merged["quality"]["difference"] == 0.0
    for name in ("bnb_int8", "bnb_nf4", "torchao_int8"):
        assert artifacts[name]["status"] == "skipped"
        assert artifacts[name]["reason"] == (
            "prompt_tuning is a prompt-learning method: its virtual tokens cannot be merged into the weights, so "
            f"there is no merged model to convert to {name}; only merged (the adapter with its base reference) is "
            "exported.")


def test_the_export_command_is_listed(capsys):
    with pytest.raises(SystemExit):
        cli.main(["export", "--help"])
    assert "--format FORMAT" in capsys.readouterr().out
