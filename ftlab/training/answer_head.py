"""The language-model head on the answer's tokens only, for TRL's loss on a CPU.

TRL's trainers call ``model(..., labels=labels, fused_lm_head=True)``, a forward
TRL adds (``add_fused_lm_head``) that returns per-token log-probabilities,
entropy and top-1 hits instead of logits.  On a GPU with Triton it scores only
the positions whose label counts; everywhere else it projects *every* position
through the head (so that tile shapes stay fixed for compilers), the prompt
and the padding included.  In SFT the labels are the answer alone: on the
quickstart's cipher 11% of the positions, so nine tenths of the head's work,
forward and backward, is thrown away.

:func:`score_labelled_only` wraps that forward so that on a CPU only the
labelled positions go through the head, in fp32 as TRL computes them, and
returns TRL's own output type with the same fields, so TRL's loss and its
logged entropy and token accuracy are unchanged.  An FSDP-sharded head is
gathered whole first, as TRL gathers it; models whose logits TRL transforms
(logit scaling, soft-capping, MoE auxiliary losses) and heads that DeepSpeed
ZeRO-3 partitions keep TRL's path.
"""

from __future__ import annotations

import functools
import types
from typing import Any

# Config fields that make TRL transform the logits after the projection; a model with one keeps TRL's path.
TRANSFORMED_LOGITS = ("final_logit_softcapping", "logit_scale", "output_multiplier", "lm_head_multiplier",
                      "logits_scaling", "output_router_logits")


def score_labelled_only(model: Any) -> bool:
    """Wrap the fused forward a TRL trainer added to ``model`` (the base model under PEFT), once the trainer
    is built; False, and nothing changed, for a model whose logits TRL transforms."""
    text_config = model.config.get_text_config()
    if any(getattr(text_config, name, None) for name in TRANSFORMED_LOGITS):
        return False
    trl_forward = model.forward

    @functools.wraps(type(model).forward)  # generate() validates its keyword arguments against this signature
    def forward(self, *args, fused_lm_head=False, labels=None, shift_labels=None, num_items_in_batch=None,
                **kwargs):
        head = self.get_output_embeddings()
        if not fused_lm_head or shift_labels is not None or head.weight.device.type != "cpu" \
                or hasattr(head.weight, "ds_id"):  # DeepSpeed ZeRO-3 holds the head in pieces outside autograd
            return trl_forward(*args, fused_lm_head=fused_lm_head, labels=labels, shift_labels=shift_labels,
                               num_items_in_batch=num_items_in_batch, **kwargs)
        kwargs["use_cache"] = False
        hidden = self.base_model(*args, **kwargs).last_hidden_state[:, :-1]
        return _scored(hidden, labels[:, 1:], _whole(head.weight), _whole(head.bias), num_items_in_batch)

    model.forward = types.MethodType(forward, model)
    return True


def _whole(tensor: Any) -> Any:
    """A head weight as one tensor: FSDP shards it (a DTensor), and like TRL the head is gathered whole."""
    return tensor.full_tensor() if type(tensor).__name__ == "DTensor" else tensor


def _scored(hidden: Any, labels: Any, weight: Any, bias: Any, num_items_in_batch: Any) -> Any:
    """TRL's fused output for next-token ``labels`` from ``hidden``, projecting only the labelled positions."""
    import torch
    from trl.trainer.utils import FusedCausalLMOutput

    mask = labels != -100
    targets = labels[mask]
    logits = torch.nn.functional.linear(hidden[mask].float(), weight.float(), None if bias is None else bias.float())
    log_z = logits.logsumexp(-1)
    log_probs = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1) - log_z
    with torch.no_grad():
        entropy = log_z - (logits.softmax(-1) * logits).sum(-1)
        is_top1 = logits.argmax(-1) == targets  # the first maximum, as TRL counts a tie

    def spread(values):  # back to (batch, positions), zero where the label is ignored
        return values.new_zeros(mask.shape).masked_scatter(mask, values)

    log_probs = spread(log_probs)
    count = mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
    return FusedCausalLMOutput(loss=-log_probs.sum() / count, log_probs=log_probs, entropy=spread(entropy),
                               is_top1=spread(is_top1), label_mask=mask)
