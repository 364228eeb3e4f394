"""The one path from a config to a model ready to train, used by training, the memory probe and the read-outs.

Loading (quantized when the method says so), choosing what trains (a subset
of the weights, or PEFT adapters and prompts), the method's optimizer and
callbacks, and saving so that the result loads on the unchanged base: all of
it goes through the method registry here, so the trainer, the estimator's
measurements (:mod:`ftlab.training.memory_probe`) and the config builder's
parameter count see the same model.
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

from ftlab.errors import ConfigError
from ftlab.models.architecture import load_config, meta_model
from ftlab.models.loader import check_target_modules, load_model
from ftlab.training.methods import METHODS, Method


def method_of(config: Any) -> Method:
    return METHODS[config.method.name]


def count_parameters(model: Any) -> tuple[int, int]:
    """(trainable, total), counting a 4-bit packed weight as the parameters it stands for."""
    trainable = total = 0
    for param in model.parameters():
        n = param.numel()
        if hasattr(param, "quant_state"):  # bitsandbytes Params4bit packs two weights per byte
            n = param.quant_state.shape.numel()
        total += n
        if param.requires_grad:
            trainable += n
    return trainable, total


def total_optimizer_steps(config: Any, n_train: int) -> int:
    t = config.train
    if t.max_steps > 0:
        return t.max_steps
    return max(1, math.ceil(n_train / (t.batch_size * t.grad_accum) * t.num_epochs))


def load_base(config: Any, name: str | None = None, head: str = "causal_lm") -> Any:
    """The base model as the method trains it: quantized for QLoRA, else at ``model.dtype``; with a
    language-model head, or a one-score head (``sequence_classification``, reward models)."""
    method = method_of(config)
    return load_model(name or config.model.name, config.model.dtype,
                      method.quantization(config.method) if method.quantized else None,
                      config.model.trust_remote_code, head)


def prepare_model(model: Any, config: Any, total_steps: int) -> Any:
    """Make ``model`` trainable the way its method says; return the model to train.

    A PEFT method wraps the model first; a method with ``select`` then names the
    parameters that train (of the base for freeze and BitFit, of the adapters
    for LoRA-FA) and everything else is frozen.
    """
    method = method_of(config)
    scores = is_score_model(model)
    if method.uses_peft:
        from peft import get_peft_model, prepare_model_for_kbit_training

        if "target_modules" in method.reads:
            check_target_modules(model, config.method.target_modules)
        if method.quantized and not _on_meta(model):
            model = prepare_model_for_kbit_training(model,
                                                    use_gradient_checkpointing=config.train.gradient_checkpointing)
        elif config.train.gradient_checkpointing:
            model.enable_input_require_grads()  # frozen embeddings would otherwise cut the graph at checkpoints
        peft_config = method.peft_config(config.method, total_steps)
        if scores:
            # PEFT's sequence-classification wrapper trains the new score head in full (modules_to_save);
            # as a causal-LM adapter the head would stay at its random init.
            peft_config.task_type = "SEQ_CLS"
        if _on_meta(model) and isinstance(getattr(peft_config, "init_lora_weights", True), str):
            peft_config.init_lora_weights = True  # PiSSA's SVD / OLoRA's QR need real weights; shapes are LoRA's
        try:
            model = get_peft_model(model, peft_config)
        except ValueError as exc:  # e.g. IA3 on an architecture PEFT has no default target layers for
            raise ConfigError("method.name", f"PEFT cannot apply {method.name} to this "
                              f"{getattr(model.config, 'model_type', 'model')} model: {exc}. Choose another method "
                              "(lora works on every architecture).") from None
    if method.select is not None:
        chosen = set(method.select(model, config.method))
        for name, param in model.named_parameters():
            # a score head is new, so it trains whatever part of the body the method picks
            param.requires_grad_(name in chosen or (scores and name.split(".")[-2] in SCORE_HEADS))
    return model


SCORE_HEADS = ("score", "classifier")  # what transformers names a sequence-classification head


def is_score_model(model: Any) -> bool:
    """A model with a score head instead of a language-model head (a reward model)."""
    return type(model).__name__.endswith("ForSequenceClassification")


def _on_meta(model: Any) -> bool:
    return next(model.parameters()).device.type == "meta"


def make_optimizer(model: Any, config: Any) -> Any | None:
    """The method's own optimizer (LoRA+, LoRA-FA), or None for the trainer's."""
    method = method_of(config)
    return method.optimizer(model, config.method, config.train) if method.optimizer else None


def method_callbacks(model: Any, config: Any) -> list:
    method = method_of(config)
    return method.callbacks(model, config.method) if method.callbacks else []


def remember_initial_adapter(model: Any, config: Any, folder: Path) -> None:
    """A method that rewrites the base at init keeps its initial adapter, to convert the final one back."""
    if not method_of(config).rewrites_base or os.environ.get("RANK", "0") != "0":
        return
    settings = model.peft_config["default"]
    init = settings.init_lora_weights
    settings.init_lora_weights = True  # as saved, it loads as a plain LoRA adapter
    model.save_pretrained(str(folder))
    settings.init_lora_weights = init


def save_final(trainer: Any, config: Any, final_dir: Path, initial_adapter: Path) -> None:
    """Save the trained model or adapter so that it loads on the unchanged base model.

    Under FSDP the weights are sharded over the processes: every process takes part in
    gathering them into one full state dict, which the first one writes, so that
    final/ loads in a single process like any other run's.
    """
    rewrites, sharded = method_of(config).rewrites_base, getattr(trainer, "is_fsdp_enabled", False)
    if not rewrites and not sharded:
        trainer.save_model(str(final_dir))
        return
    state_dict = trainer.accelerator.get_state_dict(trainer.model) if sharded else None
    if not trainer.is_world_process_zero():
        return
    model = trainer.accelerator.unwrap_model(trainer.model)
    conversion = {"path_initial_model_for_weight_conversion": str(initial_adapter)} if rewrites else {}
    model.save_pretrained(str(final_dir), state_dict=state_dict, **conversion)
    trainer.processing_class.save_pretrained(str(final_dir))
    if rewrites:
        shutil.rmtree(initial_adapter, ignore_errors=True)


def trainable_parameters(config: Any) -> tuple[int, int]:
    """(trainable, total) for the configured model and method, without loading any weights.

    The model is built on the meta device from its config and prepared by
    :func:`prepare_model`, as training prepares it; quantization does not
    change the counts.
    """
    import dataclasses

    architecture = load_config(config.model.name, config.model.trust_remote_code)
    counted = dataclasses.replace(config, train=dataclasses.replace(config.train, gradient_checkpointing=False))
    model = prepare_model(meta_model(architecture), counted, total_optimizer_steps(counted, 1000))
    for name, param in model.named_parameters():
        if ".ranknum." in name:  # AdaLoRA freezes this counter when it initialises real weights, not on meta
            param.requires_grad_(False)
    return count_parameters(model)
