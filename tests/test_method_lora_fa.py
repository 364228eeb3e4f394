"""LoRA-FA: A keeps its random init through training, B learns, and the optimizer is PEFT's LoRA-FA optimizer."""

import torch

import ftlab
from ftlab.training.methods import METHODS


def test_only_b_moves_and_the_run_learns(small_config):
    config = small_config("method.name=lora_fa", f"train.learning_rate={METHODS['lora_fa'].builtin_lr}",
                          "train.eval_steps=0", "train.save_steps=0", "train.max_steps=20")
    from ftlab.training.preparation import load_base, make_optimizer, prepare_model

    torch.manual_seed(config.train.seed)
    model = prepare_model(load_base(config), config, 20)
    assert type(make_optimizer(model, config)).__name__ == "LoraFAOptimizer"
    a_before = {n: p.detach().clone() for n, p in model.named_parameters() if ".lora_A." in n}
    b_before = {n: p.detach().clone() for n, p in model.named_parameters() if ".lora_B." in n}

    result = ftlab.train(config)
    trained = dict(result.model.named_parameters())
    assert all(torch.equal(trained[n], a) for n, a in a_before.items())  # A: still its init (same seed)
    assert sum(not torch.equal(trained[n], b) for n, b in b_before.items()) == len(b_before)
    losses = [row["loss"] for row in result.run.read("metrics") if "loss" in row]
    assert losses[-1] < 0.9 * losses[0]
