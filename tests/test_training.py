import json

import pytest
import torch

import ftlab
from ftlab.errors import ConfigError
from ftlab.training.preparation import count_parameters, load_base


def _losses(run, key="loss"):
    return [row[key] for row in run.read("metrics") if key in row]


@pytest.mark.parametrize("method", ["full", "lora", "qlora"])
def test_each_method_trains_and_leaves_a_complete_run_directory(small_config, method):
    lr = "1e-3" if method == "full" else "3e-3"
    result = ftlab.train(small_config(f"method.name={method}", f"train.learning_rate={lr}"))
    run = result.run
    losses, eval_losses = _losses(run), _losses(run, "eval_loss")
    assert losses[-1] < 0.7 * losses[0]
    assert eval_losses[-1] < eval_losses[0]
    assert (run.path / "config.yaml").exists() and (run.path / "data.json").exists()
    assert {"rss_mb", "cpu_percent", "step"} <= set(run.read("system")[-1])
    assert any("tokens_per_s" in row for row in run.read("metrics"))
    results = json.loads((run.path / "results.json").read_text())
    assert results["status"] == "completed" and results["steps"] == 30
    assert sorted(p.name for p in run.checkpoints_dir.glob("checkpoint-*")) == ["checkpoint-15", "checkpoint-30"]
    trainable, total = results["trainable_params"], results["total_params"]
    assert (trainable == total) if method == "full" else (0 < trainable < 0.2 * total)
    saved = "model.safetensors" if method == "full" else "adapter_model.safetensors"
    assert (run.final_dir / saved).exists() and (run.final_dir / "tokenizer.json").exists()


def test_saved_adapter_reloads_to_the_same_model(small_config):
    from peft import AutoPeftModelForCausalLM

    result = ftlab.train(small_config("train.max_steps=10"))
    reloaded = AutoPeftModelForCausalLM.from_pretrained(result.run.final_dir).eval()
    ids = result.tokenizer("Encrypt with the shift-3 cipher: abc", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(reloaded(ids).logits, result.model.eval()(ids).logits)


def test_same_seed_same_loss_curve(small_config):
    first = ftlab.train(small_config("train.max_steps=12", "train.logging_steps=1", "train.run_name=a"))
    second = ftlab.train(small_config("train.max_steps=12", "train.logging_steps=1", "train.run_name=b"))
    other = ftlab.train(small_config("train.max_steps=12", "train.logging_steps=1", "train.run_name=c",
                                     "train.seed=7"))
    assert len(_losses(first.run)) == 12
    assert _losses(first.run) == _losses(second.run)
    assert _losses(first.run) != _losses(other.run)


def test_interrupted_run_keeps_checkpoints_metrics_and_says_so(small_config):
    class StopAtStep10:
        def update(self, kind, row):
            if kind == "metrics" and row["step"] >= 10:
                raise KeyboardInterrupt

    config = small_config("train.save_steps=5", "train.eval_steps=5", "train.run_name=cut")
    with pytest.raises(KeyboardInterrupt):
        ftlab.train(config, listeners=[StopAtStep10()])
    run = ftlab.training.rundir.RunDir(config.train.output_dir + "/cut")
    results = run.read_json("results.json")
    assert results["status"] == "interrupted"
    assert (run.checkpoints_dir / "checkpoint-5").is_dir()
    assert [row["step"] for row in run.read("metrics") if "loss" in row] == [5, 10]


def test_target_modules_the_model_lacks_are_named_with_the_ones_it_has(small_config):
    with pytest.raises(ConfigError) as err:
        ftlab.train(small_config("method.target_modules=c_attn,q_proj"))
    assert err.value.field == "method.target_modules"
    assert "c_attn not found in the model. Its linear layers are: down_proj, gate_proj, k_proj" in str(err.value)


def test_fp16_on_a_cpu_is_refused_with_advice(small_config):
    if torch.cuda.is_available():
        pytest.skip("fp16 is valid on a GPU")
    with pytest.raises(ConfigError, match="fp16 mixed precision needs a CUDA GPU; on a CPU use bf16 or fp32"):
        ftlab.train(small_config("train.precision=fp16"))


def test_count_parameters_counts_4bit_weights_as_what_they_stand_for():
    from ftlab.config import Config

    full = load_base(Config().override(["method.name=full"]))
    quantized = load_base(Config().override(["method.name=qlora"]))
    assert type(quantized.model.layers[0].mlp.up_proj).__name__ == "Linear4bit"
    assert count_parameters(quantized)[1] == count_parameters(full)[1]
