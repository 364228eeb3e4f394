"""Greedy answers from a chat model, batched with left padding, with their log-probabilities and timing.

Prompts are dialogues (lists of ``{"role", "content"}`` turns), put through
the tokenizer's chat template with the assistant turn opened, exactly as the
SFT trainer formats a prompt; a plain string is one user turn.  Evaluation,
the data stage's Q/A writer, the generation timeline and the quickstart all
generate through here.

Besides the text, :func:`generate_scored` returns each answer's sequence
log-probability (the sum of its tokens' log-probabilities, from
``compute_transition_scores``), which evaluation turns into a confidence for
calibration and selective answering, and the time each batch took.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


def chat_texts(tokenizer: Any, prompts: list[list[dict] | str]) -> list[str]:
    dialogues = [[{"role": "user", "content": p}] if isinstance(p, str) else p for p in prompts]
    return [tokenizer.apply_chat_template(d, tokenize=False, add_generation_prompt=True) for d in dialogues]


@dataclass
class Generations:
    texts: list[str]
    logprobs: list[float] = field(default_factory=list)  # sum over the answer's tokens
    tokens: list[int] = field(default_factory=list)  # answer tokens, end-of-turn included
    seconds: list[float] = field(default_factory=list)  # each answer's share of its batch's wall time

    @property
    def mean_logprobs(self) -> list[float]:
        return [lp / max(n, 1) for lp, n in zip(self.logprobs, self.tokens)]


def generate_scored(model: Any, tokenizer: Any, prompts: list[list[dict] | str], max_new_tokens: int = 32,
                    batch_size: int = 64) -> Generations:
    """One greedy answer per prompt (stripped), with its log-probability, length and time."""
    texts = chat_texts(tokenizer, prompts)
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    out = Generations([])
    try:
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True,
                              add_special_tokens=False).to(device)
            began = time.perf_counter()
            with _without_grad(model):
                generated = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                           pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
                                           output_scores=True, return_dict_in_generate=True)
                scores = model.compute_transition_scores(generated.sequences, generated.scores, normalize_logits=True)
            elapsed = time.perf_counter() - began
            new_tokens = generated.sequences[:, batch["input_ids"].shape[1]:]
            # tokens after the end of an answer are padding: they do not count
            alive = _answer_mask(new_tokens, tokenizer.eos_token_id, tokenizer.pad_token_id)
            out.texts.extend(t.strip() for t in tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
            out.logprobs.extend((scores.float() * alive).sum(1).tolist())
            out.tokens.extend(alive.sum(1).int().tolist())
            out.seconds.extend([elapsed / len(new_tokens)] * len(new_tokens))
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return out


def _without_grad(model: Any) -> Any:
    """``inference_mode``, except for a model FSDP shards (a launch with the FSDP config): the weights it
    gathers for a forward pass would become inference tensors, which the next training step cannot write."""
    import torch
    from torch.distributed.fsdp import FSDPModule

    sharded = any(isinstance(m, FSDPModule) for m in model.modules())
    return torch.no_grad() if sharded else torch.inference_mode()


def _answer_mask(tokens: Any, eos_id: int | None, pad_id: int | None) -> Any:
    """1 for the answer's tokens up to and including its end-of-turn token, 0 for the padding after it."""
    import torch

    ended = torch.zeros(tokens.shape[0], dtype=torch.bool, device=tokens.device)
    mask = torch.ones_like(tokens, dtype=torch.float32)
    for i in range(tokens.shape[1]):
        mask[:, i] = (~ended).float()
        ended |= tokens[:, i] == eos_id
        if pad_id is not None and pad_id != eos_id:
            mask[:, i] *= (tokens[:, i] != pad_id).float()
    return mask


def generate(model: Any, tokenizer: Any, prompts: list[list[dict] | str], max_new_tokens: int = 32,
             batch_size: int = 64) -> list[str]:
    """One greedy answer per prompt, stripped of surrounding whitespace."""
    return generate_scored(model, tokenizer, prompts, max_new_tokens, batch_size).texts
