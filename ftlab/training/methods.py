"""Fine-tuning methods, one small named entry each.

A method decides two things: how the base model is loaded (full precision or
quantized) and which PEFT config, if any, wraps it.  Everything else about a
run is the same for all methods, which is what makes them comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ftlab.config import MethodConfig


@dataclass(frozen=True)
class Method:
    name: str
    summary: str
    quantization: Callable[["MethodConfig"], Any] | None = None
    peft_config: Callable[["MethodConfig"], Any] | None = None


def _target_modules(cfg: "MethodConfig") -> list[str] | str:
    return "all-linear" if cfg.target_modules == ["all-linear"] else list(cfg.target_modules)


def lora_config(cfg: "MethodConfig"):
    from peft import LoraConfig

    return LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                      target_modules=_target_modules(cfg), task_type="CAUSAL_LM")


def bnb_config(cfg: "MethodConfig"):
    import torch
    from transformers import BitsAndBytesConfig

    if cfg.bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=cfg.quant_type,
                              bnb_4bit_use_double_quant=cfg.double_quant, bnb_4bit_compute_dtype=compute)


METHODS: dict[str, Method] = {m.name: m for m in [
    Method("full", "Update every weight. Best quality ceiling, most memory (weights + grads + 2 Adam states)."),
    Method("lora", "Freeze the base; train low-rank adapters on the target linear layers.",
           peft_config=lora_config),
    Method("qlora", "LoRA on a base quantized to 4-bit NF4 (or 8-bit) with bitsandbytes: the base takes "
           "~1/4 of the memory.", quantization=bnb_config, peft_config=lora_config),
]}
