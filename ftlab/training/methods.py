"""Fine-tuning methods, one small named entry each.

A method decides how the base model is loaded (full precision or quantized),
which parameters train (all, some, or new adapter/prompt parameters through
PEFT), and the few places where it needs more than a plain trainer: LoRA+
brings its own optimizer, AdaLoRA re-allocates ranks after each step, PiSSA
rewrites the base weights at init and must convert its adapter when saving.
Everything else about a run is the same for every method, which is what makes
them comparable.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ftlab.errors import ConfigError

if TYPE_CHECKING:
    from ftlab.config import Config, MethodConfig


@dataclass(frozen=True)
class Method:
    name: str
    family: str  # full | selective | low-rank | scaling | prompt: how the methods group in comparisons
    suggested_lr: float  # a starting point for 1-10B models: methods that train few parameters take larger steps
    summary: str
    quantization: Callable[["MethodConfig"], Any] | None = None
    peft_config: Callable[["MethodConfig", int], Any] | None = None  # (settings, total optimizer steps)
    select: Callable[[Any, "MethodConfig"], list[str]] | None = None  # freeze all but these parameters

    @property
    def uses_peft(self) -> bool:
        return self.peft_config is not None


# --- PEFT configs -----------------------------------------------------------------------------

def _target_modules(cfg: "MethodConfig") -> list[str] | str:
    return "all-linear" if cfg.target_modules == ["all-linear"] else list(cfg.target_modules)


def _lora(cfg: "MethodConfig", total_steps: int = 0, **extra):
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=_target_modules(cfg), task_type="CAUSAL_LM", **extra)


def lora_config(cfg: "MethodConfig", total_steps: int = 0):
    return _lora(cfg)


def rslora_config(cfg: "MethodConfig", total_steps: int = 0):
    # Scale by alpha/sqrt(r) instead of alpha/r, so high ranks keep learning instead of fading out.
    return _lora(cfg, use_rslora=True)


def dora_config(cfg: "MethodConfig", total_steps: int = 0):
    return _lora(cfg, use_dora=True)


def pissa_config(cfg: "MethodConfig", total_steps: int = 0):
    # Fast randomized SVD (4 subspace iterations) rather than a full SVD of every weight.
    return _lora(cfg, init_lora_weights="pissa_niter_4")


def adalora_config(cfg: "MethodConfig", total_steps: int):
    from peft import AdaLoraConfig

    # Ranks start at adalora_init_r, are pruned to an average of lora_r between the first 10%
    # and the last 20% of the steps, then stay fixed while training finishes.
    return AdaLoraConfig(init_r=cfg.adalora_init_r, target_r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                         lora_dropout=cfg.lora_dropout, target_modules=_target_modules(cfg),
                         total_step=total_steps, tinit=max(1, total_steps // 10), tfinal=max(1, total_steps // 5),
                         deltaT=max(1, total_steps // 50), task_type="CAUSAL_LM")


def ia3_config(cfg: "MethodConfig", total_steps: int = 0):
    from peft import IA3Config

    # Left to PEFT's per-architecture defaults (keys, values and the MLP's down projection).
    return IA3Config(task_type="CAUSAL_LM")


def prompt_tuning_config(cfg: "MethodConfig", total_steps: int = 0):
    from peft import PromptTuningConfig

    return PromptTuningConfig(num_virtual_tokens=cfg.num_virtual_tokens, task_type="CAUSAL_LM")


def prefix_tuning_config(cfg: "MethodConfig", total_steps: int = 0):
    from peft import PrefixTuningConfig

    return PrefixTuningConfig(num_virtual_tokens=cfg.num_virtual_tokens, task_type="CAUSAL_LM")


def p_tuning_config(cfg: "MethodConfig", total_steps: int = 0):
    from peft import PromptEncoderConfig

    return PromptEncoderConfig(num_virtual_tokens=cfg.num_virtual_tokens, encoder_hidden_size=cfg.encoder_hidden_size,
                               task_type="CAUSAL_LM")


def bnb_config(cfg: "MethodConfig"):
    import torch
    from transformers import BitsAndBytesConfig

    if cfg.bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=cfg.quant_type,
                              bnb_4bit_use_double_quant=cfg.double_quant, bnb_4bit_compute_dtype=compute)


# --- selective methods (no new parameters) -----------------------------------------------------

def _layer_index(name: str) -> int | None:
    parts = name.split(".")
    for before, part in zip(parts, parts[1:]):
        if before in ("layers", "h", "layer", "blocks") and part.isdigit():
            return int(part)
    return None


def freeze_selection(model, cfg: "MethodConfig") -> list[str]:
    """The last ``freeze_layers`` transformer blocks, or the modules named in ``trainable_modules``."""
    names = [n for n, _ in model.named_parameters()]
    if cfg.trainable_modules:
        chosen = [n for n in names if any(part in n.split(".") or n.startswith(part) for part in cfg.trainable_modules)]
        if not chosen:
            blocks = sorted({".".join(n.split(".")[:-1]) for n in names})
            raise ConfigError("method.trainable_modules", f"none of {', '.join(cfg.trainable_modules)} matches a "
                              f"module of the model; its modules include {', '.join(blocks[:8])} ...")
        return chosen
    layers = sorted({i for n in names if (i := _layer_index(n)) is not None})
    if not layers:
        raise ConfigError("method.freeze_layers", "the model has no numbered transformer layers; name the modules "
                          "to train in method.trainable_modules instead.")
    if not 0 < cfg.freeze_layers <= len(layers):
        raise ConfigError("method.freeze_layers", f"must be between 1 and the model's {len(layers)} layers, "
                          f"got {cfg.freeze_layers}.")
    keep = set(layers[-cfg.freeze_layers:])
    return [n for n in names if _layer_index(n) in keep]


def bitfit_selection(model, cfg: "MethodConfig") -> list[str]:
    """Bias vectors; for bias-free architectures (Llama, Qwen...) the normalisation scales play that role."""
    names = [n for n, _ in model.named_parameters()]
    biases = [n for n in names if n.endswith(".bias")]
    if biases:
        return biases
    return [n for n, p in model.named_parameters() if p.dim() == 1 and "norm" in n.lower()]


def apply_selection(model, names: list[str]) -> None:
    chosen = set(names)
    for name, param in model.named_parameters():
        param.requires_grad_(name in chosen)


METHODS: dict[str, Method] = {m.name: m for m in [
    Method("full", "full", 1e-4, "Update every weight. Highest quality ceiling, most memory (weights, gradients and "
           "two Adam states for every parameter)."),
    Method("freeze", "selective", 1e-4, "Train only the last N transformer layers (or named modules); the rest stay "
           "frozen. Cheap, and keeps early-layer knowledge intact.", select=freeze_selection),
    Method("bitfit", "selective", 1e-2, "Train only the bias vectors (normalisation scales on bias-free models): "
           "a tiny number of parameters, no new ones.", select=bitfit_selection),
    Method("lora", "low-rank", 2e-4, "Freeze the base; learn a low-rank update B·A for each target linear layer.",
           peft_config=lora_config),
    Method("qlora", "low-rank", 2e-4, "LoRA on a base quantized to 4-bit NF4 (or 8-bit) with bitsandbytes: the "
           "frozen base takes about a quarter of the memory.", quantization=bnb_config, peft_config=lora_config),
    Method("lora_plus", "low-rank", 1e-4, "LoRA with a higher learning rate for B than for A (ratio "
           "method.loraplus_lr_ratio), which trains faster at the same cost.", peft_config=lora_config),
    Method("rslora", "low-rank", 2e-4, "Rank-stabilised LoRA: scale by alpha/sqrt(r), so large ranks keep "
           "learning.", peft_config=rslora_config),
    Method("dora", "low-rank", 2e-4, "Weight-decomposed LoRA: learn each weight's magnitude apart from its "
           "direction; closer to full tuning, a bit slower.", peft_config=dora_config),
    Method("pissa", "low-rank", 2e-4, "LoRA initialised from the principal singular vectors of each weight, so "
           "training starts on the directions that matter most; converges faster.", peft_config=pissa_config),
    Method("adalora", "low-rank", 5e-4, "Adaptive LoRA: start with a larger rank and prune it during training to "
           "where it helps most.", peft_config=adalora_config),
    Method("ia3", "scaling", 3e-3, "Learn one scaling vector each for keys, values and the MLP: the fewest "
           "parameters of the adapter methods.", peft_config=ia3_config),
    Method("prompt_tuning", "prompt", 3e-2, "Learn N virtual token embeddings put before every input; the model is "
           "untouched.", peft_config=prompt_tuning_config),
    Method("prefix_tuning", "prompt", 1e-2, "Learn N virtual keys and values for every layer's attention.",
           peft_config=prefix_tuning_config),
    Method("p_tuning", "prompt", 1e-2, "Virtual tokens produced by a small trained encoder (an MLP) rather than "
           "learned directly.", peft_config=p_tuning_config),
]}


def total_optimizer_steps(config: "Config", n_train: int) -> int:
    t = config.train
    if t.max_steps > 0:
        return t.max_steps
    return max(1, math.ceil(n_train / (t.batch_size * t.grad_accum) * t.num_epochs))


def prepare_model(model, config: "Config", total_steps: int):
    """Make ``model`` trainable the way its method says; return the model to train."""
    method = METHODS[config.method.name]
    if method.select:
        apply_selection(model, method.select(model, config.method))
        return model
    if not method.uses_peft:
        return model
    from peft import get_peft_model, prepare_model_for_kbit_training

    if method.quantization:
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=config.train.gradient_checkpointing)
    elif config.train.gradient_checkpointing:
        model.enable_input_require_grads()  # frozen embeddings would otherwise cut the graph at checkpoints
    return get_peft_model(model, method.peft_config(config.method, total_steps))


def make_optimizer(model, config: "Config"):
    """LoRA+ needs its own optimizer (a learning rate per group); the others use the trainer's AdamW."""
    if config.method.name != "lora_plus":
        return None
    import torch
    from peft.optimizers import create_loraplus_optimizer

    return create_loraplus_optimizer(model, torch.optim.AdamW, lr=config.train.learning_rate,
                                     loraplus_lr_ratio=config.method.loraplus_lr_ratio,
                                     weight_decay=config.train.weight_decay)


def method_callbacks(model, config: "Config") -> list:
    if config.method.name != "adalora":
        return []
    from transformers import TrainerCallback

    class AdaLoraRanks(TrainerCallback):
        """AdaLoRA measures each rank's importance from the gradients, so it runs after the update."""

        def on_optimizer_step(self, args, state, control, **kwargs):
            model.base_model.update_and_allocate(state.global_step)

    return [AdaLoraRanks()]


def remember_initial_adapter(model, config: "Config", folder: Path) -> None:
    """PiSSA rewrites the base weights; keep the initial adapter so the final one can be converted back."""
    if config.method.name != "pissa" or os.environ.get("RANK", "0") != "0":
        return
    settings = model.peft_config["default"]
    init = settings.init_lora_weights
    settings.init_lora_weights = True  # as saved, it loads as a plain LoRA adapter
    model.save_pretrained(str(folder))
    settings.init_lora_weights = init


def save_final(trainer, config: "Config", final_dir: Path, pissa_init: Path) -> None:
    """Save the trained model or adapter so that it loads on the unchanged base model."""
    if config.method.name == "pissa":
        if not trainer.is_world_process_zero():
            return
        trainer.model.save_pretrained(str(final_dir), path_initial_model_for_weight_conversion=str(pissa_init))
        trainer.processing_class.save_pretrained(str(final_dir))
        shutil.rmtree(pissa_init, ignore_errors=True)
    else:
        trainer.save_model(str(final_dir))


def trainable_parameters(config: "Config") -> tuple[int, int]:
    """(trainable, total) for the configured model and method, without loading any weights.

    The model is built on the meta device from its config; quantization does not
    change the counts, and PiSSA has LoRA's shapes (its SVD init needs real weights).
    """
    import dataclasses

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from ftlab.models.tiny import resolve_model_path
    from ftlab.training.runner import count_parameters

    model_config = AutoConfig.from_pretrained(resolve_model_path(config.model.name),
                                              trust_remote_code=config.model.trust_remote_code)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(model_config, trust_remote_code=config.model.trust_remote_code)
    counted = dataclasses.replace(config, method=dataclasses.replace(
        config.method, name="lora" if config.method.name in ("pissa", "qlora") else config.method.name),
        train=dataclasses.replace(config.train, gradient_checkpointing=False))
    model = prepare_model(model, counted, total_optimizer_steps(counted, 1000))
    for name, param in model.named_parameters():
        if ".ranknum." in name:  # AdaLoRA freezes this counter when it initialises real weights, not on meta
            param.requires_grad_(False)
    return count_parameters(model)
