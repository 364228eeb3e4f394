"""A batch's shared prompt prefix through the decoder once, not once per row.

Rows of one task often open with the same tokens: the chat template's header,
a system prompt, the task's instruction.  On the quickstart's cipher 39 of a
row's 60-70 tokens ("<|im_start|>user\\nEncrypt with the shift-3 cipher: ")
are the same in every row, so a batch of 16 runs those 39 tokens through
every layer 16 times, forward and backward, for identical results: a causal
decoder's states at a position depend only on the tokens up to it.

:func:`share_prefix` wraps a model's decoder (the layers under the head) so that a
right-padded batch whose rows share a prefix runs the prefix once (batch 1),
keeps its keys and values as a cache, repeats that cache for the batch, and
runs only the rows' remaining tokens against it; the prefix's states,
repeated, go back in front, so the head above gets the same ``(batch,
length, hidden)`` tensor as from one plain forward.  Autograd sums the rows'
gradients through the repeat, so the loss and gradients are those of the
plain forward to float rounding (``tests/test_shared_prefix.py`` compares
both).  It serves every stage whose batches are right-padded whole
sequences: SFT, DPO and its reference pass, the reward model's chosen and
rejected rows; GRPO's and PPO's left-padded prompts take the plain forward.
On the quickstart's batches a layer sees 455 token positions instead of
1,040.  ``benchmarks/shared_prefix.py`` trains each stage with and without
it (one thread, 60 steps, CPU time per step): SFT 95.6 -> 65.2 ms, DPO 289.6
-> 178.0 ms, the reward model 167.7 -> 89.2 ms, first logged losses equal to
four decimals; ``benchmarks/train_speed.py`` measured the quickstart's step
at 59 ms against a plain transformers Trainer's 92.

It applies only where it is exact and pays: a decoder whose key-value cache
is made of plain growing layers (no sliding windows, no recurrent state), no
gradient checkpointing (which turns the cache off), no dropout drawn (a
shared prefix would share its dropout mask), no cache, position ids or
embeddings given by the caller (generation, packed rows, prompt tuning), no
hidden states or attentions asked for, and a prefix that saves at least a
tenth of the positions.  Every other call takes the plain forward.
"""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any

MIN_SAVING = 0.10  # the share of token positions the prefix must save to be worth a second forward call
# Arguments that, when a caller gives them, ask for more than last hidden states or bring their own positions.
PLAIN_ONLY = ("cache", "past_key_values", "position_ids", "inputs_embeds", "output_hidden_states",
              "output_attentions")


def shared_length(input_ids: Any, attention_mask: Any) -> int:
    """How many leading tokens every row of the batch has in common (attended to in every row); always at
    least one token short of the longest row, so there is something left to run per row."""
    same = (input_ids == input_ids[:1]).all(0)
    if attention_mask is not None:
        same &= attention_mask.bool().all(0)
    return min(int(same.int().cumprod(0).sum()), input_ids.shape[1] - 1)


def share_prefix(model: Any) -> bool:
    """Make ``model``'s decoder (the layers under its head, under PEFT's wrapper if any) run a batch's shared
    prefix once; False, and nothing changed, for a decoder whose cache is not made of plain growing layers."""
    from transformers.cache_utils import DynamicCache, DynamicLayer
    from transformers.modeling_outputs import BaseModelOutputWithPast

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    decoder = getattr(base, "base_model", base)
    if getattr(decoder, "_shares_prefix", False):
        return True
    if "cache" not in inspect.signature(decoder.forward).parameters:
        return False
    layers = DynamicCache(config=decoder.config).layers
    if not layers or any(type(layer) is not DynamicLayer for layer in layers):
        return False
    plain = type(decoder).forward

    @functools.wraps(plain)  # bound below as a method, so that a deep copy of the model calls its own layers
    def forward(self, input_ids=None, attention_mask=None, *args, **kwargs):
        prefix = 0 if args else _prefix_worth_sharing(self, input_ids, attention_mask, kwargs)
        if not prefix:
            return plain(self, input_ids, attention_mask, *args, **kwargs)
        return BaseModelOutputWithPast(last_hidden_state=_states(functools.partial(plain, self), input_ids,
                                                                 attention_mask, prefix, kwargs))

    decoder.forward = types.MethodType(forward, decoder)
    decoder._shares_prefix = True
    return True


def _prefix_worth_sharing(decoder: Any, input_ids: Any, attention_mask: Any, kwargs: dict) -> int:
    """The length of the batch's shared prefix where running it once is exact and pays; 0 elsewhere."""
    import torch

    if input_ids is None or input_ids.shape[0] < 2 or any(kwargs.get(name) is not None for name in PLAIN_ONLY):
        return 0
    # a cache is wanted back unless the caller said no, or trains (generation passes its cache object)
    if kwargs.get("use_cache") is not False and not (decoder.training and torch.is_grad_enabled()):
        return 0
    if getattr(decoder, "gradient_checkpointing", False) or decoder.training and _draws_dropout(decoder):
        return 0
    rows, length = input_ids.shape
    prefix = shared_length(input_ids, attention_mask)
    return prefix if (rows - 1) * prefix >= MIN_SAVING * rows * length else 0


def _draws_dropout(decoder: Any) -> bool:
    import torch

    attention = float(getattr(decoder.config.get_text_config(), "attention_dropout", 0) or 0)
    return attention > 0 or any(isinstance(m, torch.nn.Dropout) and m.p > 0 and m.training
                                for m in decoder.modules())


def _states(plain: Any, input_ids: Any, attention_mask: Any, prefix: int, kwargs: dict) -> Any:
    """The last hidden states of the whole batch: the shared ``prefix`` once, as a cache for the rows' rest."""
    import torch

    kwargs = {k: v for k, v in kwargs.items() if k not in PLAIN_ONLY and k != "use_cache"}
    rows = input_ids.shape[0]
    head = plain(input_ids[:1, :prefix], use_cache=True, **kwargs)
    cache = head.cache
    cache.batch_repeat_interleave(rows)
    tail = plain(input_ids[:, prefix:], attention_mask, cache=cache, use_cache=True, **kwargs).last_hidden_state
    return torch.cat([head.last_hidden_state.expand(rows, -1, -1), tail], dim=1)
