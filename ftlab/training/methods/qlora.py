"""QLoRA (Dettmers et al. 2023, arXiv:2305.14314): LoRA on a base quantized to 4-bit NF4 or 8-bit.

The adapters learn as in LoRA and at LoRA's rate (the paper used the same
2e-4); the frozen base takes about a quarter of the memory.
"""

from __future__ import annotations

from typing import Any

from ftlab.training.methods import Method
from ftlab.training.methods._lora import LORA_SETTINGS, check_targets, lora_config, lora_count
from ftlab.training.methods.lora import LORA_BUILTIN_LR, LORA_LR


def quantization(settings: Any):
    import torch
    from transformers import BitsAndBytesConfig

    if settings.bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    compute = torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type=settings.quant_type,
                              bnb_4bit_use_double_quant=settings.double_quant, bnb_4bit_compute_dtype=compute)


ENTRY = Method(
    "qlora", "low-rank", "LoRA on a base quantized to 4-bit NF4 (or 8-bit) with bitsandbytes: the frozen base "
    "takes about a quarter of the memory.",
    activation_share=0.9,
    lr=LORA_LR, builtin_lr=LORA_BUILTIN_LR, count=lora_count,
    reads=LORA_SETTINGS + ("bits", "quant_type", "double_quant"), quantization=quantization,
    peft_config=lambda settings, steps: lora_config(settings), check=check_targets, order=1)
