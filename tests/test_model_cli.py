"""`ftlab model-info`, `ftlab estimate` and `ftlab recommend` print JSON with the documented keys."""

import json
import subprocess
import sys

from ftlab.cli import main
from ftlab.config import Config


def run(capsys, *args):
    code = main(list(args))
    return code, json.loads(capsys.readouterr().out)


def test_model_info_of_a_name_and_of_the_builtin_folder(capsys):
    code, out = run(capsys, "model-info", "mistralai/Mixtral-8x7B-Instruct-v0.1")
    assert code == 0
    assert {k: out[k] for k in ("org", "family", "version", "params_b", "active_params_b", "variant",
                                "quantization", "context_length")} == {
        "org": "mistralai", "family": "Mixtral", "version": "0.1", "params_b": 46.7, "active_params_b": 12.9,
        "variant": "instruct", "quantization": None, "context_length": None}
    assert out["architecture"] is None
    code, out = run(capsys, "model-info", "ftlab/tiny-chat")
    assert out["architecture"]["params"] == 820864 and out["params_b"] == 0.000821
    assert out["architecture"]["lora_presets"]["attention"] == ["q_proj", "k_proj", "v_proj", "o_proj"]


def test_estimate_prints_breakdown_fit_and_cost(capsys):
    code, out = run(capsys, "estimate", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--method", "full",
                    "--dtype", "float32", "--precision", "bf16", "--batch-size", "2", "--max-length", "1024",
                    "--gradient-checkpointing", "--gpu", "A100-80GB", "--tokens", "5000000", "--gpus", "4",
                    "--strategy", "zero3")
    assert code == 0
    assert set(out["breakdown"]) == {"weights", "gradients", "optimizer", "activations", "adapter", "overhead"}
    assert out["mode"] == "name only" and any("from the name" in a for a in out["assumptions"])
    assert out["gpu"]["fits"] is True and out["total_gb"] < 80
    assert out["time"]["gpu_hours"] > 0 and out["time"]["cost"] > 0
    code, single = run(capsys, "estimate", "--model", "meta-llama/Llama-3.1-8B-Instruct", "--method", "full",
                       "--dtype", "float32", "--precision", "bf16", "--batch-size", "2", "--max-length", "1024",
                       "--gradient-checkpointing", "--gpu", "A100-40GB")
    assert single["gpu"]["fits"] is False and single["time"] is None


def test_estimate_from_the_builtin_config_uses_exact_counts(capsys):
    code, out = run(capsys, "estimate", "--model", "ftlab/tiny-chat", "--method", "lora", "--cpu",
                    "--precision", "fp32", "--max-length", "128", "--batch-size", "16")
    assert out["mode"] == "config" and out["params"] == 820864 and out["breakdown"]["overhead"] == 0


def test_estimate_prices_a_saved_run_config_with_overrides(capsys, tmp_path):
    path = Config().override(["method.name=dora", "train.batch_size=4"]).save(tmp_path / "run.yaml")
    code, out = run(capsys, "estimate", "--config", str(path), "--cpu", "--set", "method.lora_r=4")
    code, same = run(capsys, "estimate", "--cpu", "--method", "dora", "--batch-size", "4", "--lora-r", "4")
    assert code == 0 and out == same and out["mode"] == "config"
    assert any(a.startswith("dora: ") for a in out["assumptions"])


def test_recommend_prints_reasons_and_saves_a_config(capsys, tmp_path):
    code, out = run(capsys, "recommend", "--task", "generation", "--gpu-memory", "24", "--gpu", "L4",
                    "--data-size", "5000", "--save", str(tmp_path / "rec.yaml"))
    assert code == 0
    assert out["choices"]["method"]["value"] in ("lora", "qlora") and out["reasons"]
    assert out["memory"]["total_gb"] <= 24 and out["time"]["cost"] > 0
    saved = Config.load(tmp_path / "rec.yaml")
    assert saved.model.name == out["choices"]["model"]["value"] and saved.train.num_epochs == 7  # 5k examples


def test_errors_are_one_paragraph():
    out = subprocess.run([sys.executable, "-m", "ftlab.cli", "estimate", "--model", "acme/widget"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith("ftlab: error: The size of 'acme/widget' cannot be read from its name")
    out = subprocess.run([sys.executable, "-m", "ftlab.cli", "estimate", "--model", "gpt2", "--gpu", "Z80"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "Unknown GPU 'Z80'" in out.stderr
