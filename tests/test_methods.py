"""Every method in the registry trains on the built-in model, saves, reloads to the same model, and is priced right."""

import pytest
import torch

import ftlab
from ftlab.config import SECTIONS, Config
from ftlab.models.architecture import inspect_architecture
from ftlab.models.estimate import trainable_params
from ftlab.models.shape import model_shape
from ftlab.training.methods import ACTIVATIONS, FAMILIES, METHODS
from ftlab.training.preparation import prepare_model, trainable_parameters

METHOD_FIELDS = {f.name for f in __import__("dataclasses").fields(SECTIONS["method"])}


def test_registry_lists_every_method_file_grouped_by_family():
    names = METHODS.names()
    assert {"full", "freeze", "bitfit", "lora", "qlora", "lora_plus", "rslora", "dora", "pissa", "olora", "lora_fa",
            "adalora", "ia3", "prompt_tuning", "prefix_tuning", "p_tuning"} == set(names)
    families = [METHODS[n].family for n in names]
    assert families == sorted(families, key=FAMILIES.index)  # lists show methods family by family
    for method in METHODS.values():
        assert set(method.reads) <= METHOD_FIELDS, method.name
        assert method.activations in ACTIVATIONS and 0 < method.lr < method.builtin_lr * 10


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS.names())
def test_method_trains_saves_and_reloads(small_config, method):
    config = small_config(f"method.name={method}", f"train.learning_rate={METHODS[method].builtin_lr}",
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
    if method == "qlora":
        # TRL trains QLoRA adapters in bf16 (as the QLoRA paper does) and they reload as fp32: the logits move by
        # bf16 rounding (up to ~0.1 on a logit of 7), so compare the ranking of the tokens, not their values.
        assert (again.argmax(-1) == trained.argmax(-1)).float().mean() > 0.95
        torch.testing.assert_close(again, trained, atol=0.2, rtol=0.02)
    else:  # every other method reproduces the trained model to float precision
        torch.testing.assert_close(again, trained, atol=2e-4, rtol=1e-4)
        assert torch.equal(again.argmax(-1), trained.argmax(-1))


def test_parameter_counts_rank_as_the_methods_promise(small_config):
    counts = {m: trainable_parameters(small_config(f"method.name={m}"))[0] for m in METHODS}
    assert max(counts["ia3"], counts["bitfit"], counts["prompt_tuning"]) < 0.01 * counts["full"]
    assert counts["ia3"] < counts["lora"] < counts["freeze"] < counts["full"]
    assert counts["bitfit"] == 9 * 128  # bias-free Llama: the 9 RMSNorm scale vectors
    assert counts["lora"] == counts["qlora"] == counts["rslora"] == counts["lora_plus"] == counts["pissa"] \
        == counts["olora"]
    assert counts["lora_fa"] < counts["lora"]  # A is frozen: only B trains
    assert counts["dora"] > counts["lora"]  # plus one magnitude vector per adapted layer
    assert counts["adalora"] > counts["lora"]  # starts at adalora_init_r (24) > lora_r (16)
    assert counts["prompt_tuning"] == 16 * 128  # 16 virtual tokens x hidden size


@pytest.mark.parametrize("arch", ["builtin", "qwen2", "gpt2"])
def test_the_estimators_count_is_what_training_trains(arch):
    """Each method's own formula, on the architecture's shape, equals the model training prepares."""
    from ftlab.models.tiny_archs import tiny_model

    source = "ftlab/tiny-chat" if arch == "builtin" else tiny_model(arch, layers=2).config
    shape = model_shape(inspect_architecture(source))
    for name in METHODS:
        config = Config().override([f"method.name={name}", "method.freeze_layers=1",
                                    "method.target_modules=all-linear"])
        counted = trainable_parameters_of(source, config)
        assert trainable_params(shape, config) == counted, name


def trainable_parameters_of(source, config):
    from ftlab.models.architecture import load_config, meta_model
    from ftlab.training.preparation import count_parameters

    model = prepare_model(meta_model(load_config(source)), config, 100)
    for name, param in model.named_parameters():
        if ".ranknum." in name:
            param.requires_grad_(False)
    return count_parameters(model)[0]


def test_freeze_trains_exactly_the_last_layers(small_config):
    from ftlab.models.loader import load_model

    model = prepare_model(load_model("ftlab/tiny-chat"), small_config("method.name=freeze",
                                                                      "method.freeze_layers=1"), 30)
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trained and all(n.startswith("model.layers.3.") for n in trained)


def test_freeze_names_the_modules_it_could_not_find(small_config):
    with pytest.raises(ftlab.ConfigError, match="method.trainable_modules: none of c_proj matches a module"):
        ftlab.train(small_config("method.name=freeze", "method.trainable_modules=c_proj"))


def test_a_method_checks_its_own_settings_and_ignores_the_others():
    assert [str(p) for p in Config().override(["method.name=adalora", "method.adalora_init_r=8"]).problems()] == [
        "method.adalora_init_r: AdaLoRA prunes ranks down, so its starting rank (8) must be at least "
        "method.lora_r (16)."]
    # full fine-tuning reads no LoRA setting, so a LoRA rank of 0 is not its problem
    assert list(Config().override(["method.name=full", "method.lora_r=0"]).problems()) == []
    assert [p.field for p in Config().override(["method.lora_r=0"]).problems()] == ["method.lora_r"]
