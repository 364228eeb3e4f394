"""AdaLoRA (Zhang et al. 2023, arXiv:2303.10512): start at a larger rank and prune it to where it helps most.

Ranks start at ``adalora_init_r`` and are pruned to an average of ``lora_r``
between the first 10% and the last 20% of the steps, then stay fixed while
training finishes; the rank budget is re-allocated from the gradients after
every optimizer step.  The paper's GLUE runs used 5e-4 to 1e-3 (appendix).

Its singular values E start at zero, so the update starts slower than LoRA's:
on the built-in model 1e-3 and 3e-3 leave it on the plateau after 400 steps
(exact match 0.00 and 0.01), 1e-2 reaches 1.00
(benchmarks/method_learning_rates.py).
"""

from __future__ import annotations

from typing import Any, Iterable

from ftlab.training.methods import Method
from ftlab.training.methods._lora import LORA_SETTINGS, check_targets, target_modules


def peft_config(settings: Any, total_steps: int):
    from peft import AdaLoraConfig

    return AdaLoraConfig(init_r=settings.adalora_init_r, target_r=settings.lora_r, lora_alpha=settings.lora_alpha,
                         lora_dropout=settings.lora_dropout, target_modules=target_modules(settings),
                         total_step=total_steps, tinit=max(1, total_steps // 10), tfinal=max(1, total_steps // 5),
                         deltaT=max(1, total_steps // 50), task_type="CAUSAL_LM")


def callbacks(model: Any, settings: Any) -> list:
    from transformers import TrainerCallback

    class AdaLoraRanks(TrainerCallback):
        """AdaLoRA measures each rank's importance from the gradients, so it runs after the update."""

        def on_optimizer_step(self, args, state, control, **kwargs):
            model.base_model.update_and_allocate(state.global_step)

    return [AdaLoraRanks()]


def check(settings: Any) -> Iterable[tuple[str, str]]:
    yield from check_targets(settings)
    if settings.adalora_init_r < settings.lora_r:
        yield "method.adalora_init_r", (f"AdaLoRA prunes ranks down, so its starting rank ({settings.adalora_init_r}) "
                                        f"must be at least method.lora_r ({settings.lora_r}).")


def count(shape: Any, settings: Any) -> int:
    """A (r x in), B (out x r) and the r singular values E, at the starting rank."""
    r = settings.adalora_init_r
    return sum(n * (r * (fan_in + fan_out) + r) for n, fan_in, fan_out in shape.linear_layers(target_modules(settings)))


ENTRY = Method(
    "adalora", "low-rank", "Adaptive LoRA: start with a larger rank and prune it during training to where it helps "
    "most.",
    activation_share=0.9,
    lr=5e-4, builtin_lr=1e-2, count=count, reads=LORA_SETTINGS + ("adalora_init_r",), peft_config=peft_config,
    callbacks=callbacks, check=check, order=8)
