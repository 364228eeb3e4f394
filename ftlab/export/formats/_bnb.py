"""What the two bitsandbytes formats share: quantise on load, save as held in memory, reopen quantised.

Checked on this stack (transformers 5.24, bitsandbytes 0.50.2, torch 2.13 CPU):
``save_pretrained`` of a model loaded with ``load_in_8bit`` or ``load_in_4bit``
serialises the quantised weights on a CPU-only machine (int8 weights with
their row scales; packed 4-bit NF4 weights with their absmax blocks and
quant state), and the config it writes carries the ``quantization_config``,
so ``from_pretrained`` of the folder gives back the same quantised layers with
identical logits.  The stored folder is therefore the quantised model itself,
smaller than the full-precision one: its size on disk is the real size of
what a server loads.  Embeddings, the LM head and norms stay in full precision
(bitsandbytes quantises Linear layers only), which on a tiny model is a large
share of the total.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ftlab.export.formats._transformers import open_folder, save_quantized
from ftlab.export.runtime import TransformersRuntime


def _compute_dtype(source: Path):
    import torch
    from transformers import AutoConfig

    dtype = getattr(AutoConfig.from_pretrained(str(source)), "dtype", None)
    return dtype if isinstance(dtype, torch.dtype) else getattr(torch, str(dtype or "float32"), torch.float32)


def quantization(bits: int, source: Path) -> Any:
    from transformers import BitsAndBytesConfig

    if bits == 8:
        return BitsAndBytesConfig(load_in_8bit=True)
    # The 4-bit matmul runs in the model's own dtype (float32 for the built-in model): on a CPU, float16
    # compute is slower and rounds more.
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                              bnb_4bit_compute_dtype=_compute_dtype(source))


def build(bits: int, source: Path, out: Path) -> None:
    save_quantized(source, out, quantization(bits, source))


def _not_the_cast_notice(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith("MatMul8bitLt: inputs will be cast")


def open_artifact(folder: Path) -> TransformersRuntime:
    # The int8 kernel casts activations to float16 by design and logs it at every layer call of every token.
    logging.getLogger("bitsandbytes.autograd._functions").addFilter(_not_the_cast_notice)
    return open_folder(folder, folder.name)


def unavailable() -> str | None:
    import importlib.util

    if importlib.util.find_spec("bitsandbytes") is None:
        return "needs the bitsandbytes package (pip install bitsandbytes), which is not installed here."
    return None
