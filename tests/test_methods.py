"""Every method in the registry trains on the built-in model, saves, and reloads to the same model."""

import pytest
import torch

import ftlab
from ftlab.config import METHOD_NAMES
from ftlab.training.methods import METHODS, trainable_parameters

# Methods that train few parameters (or only prompts) need a larger step size to move in 30 steps.
LEARNING_RATES = {"full": 1e-3, "freeze": 1e-3, "bitfit": 3e-2, "ia3": 3e-2, "prompt_tuning": 3e-2,
                  "prefix_tuning": 1e-2, "p_tuning": 1e-2}


def test_registry_holds_exactly_the_documented_methods():
    assert tuple(METHODS) == METHOD_NAMES
    assert {m.family for m in METHODS.values()} == {"full", "selective", "low-rank", "scaling", "prompt"}


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_method_trains_saves_and_reloads(small_config, method):
    config = small_config(f"method.name={method}", f"train.learning_rate={LEARNING_RATES.get(method, 3e-3)}",
                          "train.eval_steps=0", "train.save_steps=0", f"train.run_name={method}")
    result = ftlab.train(config)
    losses = [row["loss"] for row in result.run.read("metrics") if "loss" in row]
    assert losses[-1] < 0.9 * losses[0], losses

    trainable, total = result.results["trainable_params"], result.results["total_params"]
    assert (trainable, total) == trainable_parameters(config)  # the builder's read-out is the real count
    if method == "full":
        assert trainable == total
    else:
        assert 0 < trainable < 0.5 * total

    reloaded, tokenizer = ftlab.load_trained(result.run.path)
    ids = tokenizer("Encrypt with the shift-3 cipher: abc", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        again, trained = reloaded(ids).logits, result.model.eval()(ids).logits
    # TRL trains QLoRA adapters in bf16 (as the QLoRA paper does); they reload as fp32, which moves the logits
    # by ~1e-3. Every other method must reproduce the trained model to float precision.
    atol = 5e-2 if method == "qlora" else 2e-4
    torch.testing.assert_close(again, trained, atol=atol, rtol=1e-4)
    assert torch.equal(again.argmax(-1), trained.argmax(-1))


def test_parameter_counts_rank_as_the_methods_promise(small_config):
    counts = {m: trainable_parameters(small_config(f"method.name={m}"))[0] for m in METHOD_NAMES}
    assert max(counts["ia3"], counts["bitfit"], counts["prompt_tuning"]) < 0.01 * counts["full"]
    assert counts["ia3"] < counts["lora"] < counts["freeze"] < counts["full"]
    assert counts["bitfit"] == 9 * 128  # bias-free Llama: the 9 RMSNorm scale vectors
    assert counts["lora"] == counts["qlora"] == counts["rslora"] == counts["lora_plus"] == counts["pissa"]
    assert counts["dora"] > counts["lora"]  # plus one magnitude vector per adapted layer
    assert counts["adalora"] > counts["lora"]  # starts at adalora_init_r (24) > lora_r (16)
    assert counts["prompt_tuning"] == 16 * 128  # 16 virtual tokens x hidden size


def test_freeze_trains_exactly_the_last_layers(small_config):
    from ftlab.models.loading import load_model
    from ftlab.training.methods import prepare_model

    model = prepare_model(load_model("ftlab/tiny-chat"), small_config("method.name=freeze",
                                                                      "method.freeze_layers=1"), 30)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trained and all(n.startswith("model.layers.3.") for n in trained)


def test_freeze_names_the_modules_it_could_not_find(small_config):
    with pytest.raises(ftlab.ConfigError, match="method.trainable_modules: none of c_proj matches a module"):
        ftlab.train(small_config("method.name=freeze", "method.trainable_modules=c_proj"))
