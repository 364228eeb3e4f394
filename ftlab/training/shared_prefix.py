"""A batch's shared prompt prefix through the decoder once, not once per row.

SFT rows of one task often open with the same tokens: the chat template's
header, a system prompt, the task's instruction.  On the quickstart's cipher
39 of a row's 60-70 tokens ("<|im_start|>user\\nEncrypt with the shift-3
cipher: ") are the same in every row, so a batch of 16 runs those 39 tokens
through every layer 16 times, forward and backward, for identical results:
a causal decoder's states at a position depend only on the tokens up to it.

:func:`decoder_states` runs the shared prefix once (batch 1) and keeps its
keys and values as a cache, repeats that cache for the batch, and runs only
the rows' remaining tokens against it; the prefix's states, repeated, are put
back in front, so callers get the same ``(batch, length, hidden)`` tensor as
from one plain forward.  Autograd sums the rows' gradients through the
repeat, so the loss and the gradients are those of the plain forward (to
float rounding; ``tests/test_shared_prefix.py`` compares both).  On the
quickstart's batches that is 455 token positions per layer instead of 1,040;
``benchmarks/train_speed.py`` measures the whole step.

It applies only where it is exact and pays: a decoder with a key-value cache
of plain growing layers (no sliding windows, no recurrent state), no
gradient checkpointing (which turns the cache off), no dropout (a shared
prefix would share its dropout mask), no position ids or cache given by the
caller (packed rows, prefix tuning), and a prefix that saves at least a
tenth of the positions.  Everything else takes the plain forward.
"""

from __future__ import annotations

import inspect
from typing import Any

MIN_SAVING = 0.10  # the share of token positions the prefix must save to be worth a second forward call


def shared_length(input_ids: Any, attention_mask: Any) -> int:
    """How many leading tokens every row of the batch has in common (attended to in every row); always at
    least one token short of the longest row, so there is something left to run per row."""
    same = (input_ids == input_ids[:1]).all(0)
    if attention_mask is not None:
        same &= attention_mask.bool().all(0)
    return min(int(same.int().cumprod(0).sum()), input_ids.shape[1] - 1)


def can_share(decoder: Any) -> bool:
    """Whether ``decoder`` (a transformers base model: the layers without the head) can take a prefix cache
    exactly: it accepts one, keeps it in plain growing layers, and nothing in it draws dropout."""
    import torch
    from transformers.cache_utils import DynamicCache, DynamicLayer

    if "cache" not in inspect.signature(decoder.forward).parameters or getattr(decoder, "gradient_checkpointing", False):
        return False
    if any(isinstance(m, torch.nn.Dropout) and m.p > 0 and m.training for m in decoder.modules()):
        return False
    if decoder.training and float(getattr(decoder.config.get_text_config(), "attention_dropout", 0) or 0) > 0:
        return False
    layers = DynamicCache(config=decoder.config).layers
    return bool(layers) and all(type(layer) is DynamicLayer for layer in layers)


def decoder_states(decoder: Any, input_ids: Any = None, attention_mask: Any = None, **kwargs: Any) -> Any:
    """The decoder's last hidden states for a batch, ``(batch, length, hidden)``, computing the rows' shared
    prefix once where that is exact and saves work (see the module docstring), by one plain forward otherwise."""
    import torch

    kwargs["use_cache"] = False
    rows, length = (0, 0) if input_ids is None else input_ids.shape
    given = ("position_ids", "cache", "past_key_values")  # packed rows; prefix tuning's virtual tokens
    prefix = shared_length(input_ids, attention_mask) if rows > 1 and all(kwargs.get(k) is None for k in given) else 0
    if prefix == 0 or (rows - 1) * prefix < MIN_SAVING * rows * length or not can_share(decoder):
        return decoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state
    del kwargs["use_cache"]
    head = decoder(input_ids=input_ids[:1, :prefix], use_cache=True, **kwargs)
    cache = head.cache
    cache.batch_repeat_interleave(rows)
    tail = decoder(input_ids=input_ids[:, prefix:], attention_mask=attention_mask, cache=cache, use_cache=True,
                   **kwargs).last_hidden_state
    return torch.cat([head.last_hidden_state.expand(rows, -1, -1), tail], dim=1)
