"""Perplexity of texts under a reference model: a cheap signal for garbled or off-domain rows."""

from __future__ import annotations

import math
from typing import Any


def perplexities(texts: list[str], model: Any = "ftlab/tiny-chat", batch_size: int = 16,
                 tokenizer: Any = None, max_length: int = 512) -> list[float]:
    """Per-text perplexity (exp of the mean token loss); ``model`` is a name or a loaded model."""
    import torch

    from ftlab.models.loader import load_model, load_tokenizer

    if isinstance(model, str):
        tokenizer = tokenizer or load_tokenizer(model)
        model = load_model(model)
    elif tokenizer is None:
        raise ValueError("pass the tokenizer along with a loaded model")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    side, tokenizer.padding_side = tokenizer.padding_side, "right"
    out: list[float] = []
    try:
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True, truncation=True,
                              max_length=max_length).to(device)
            with torch.inference_mode():
                logits = model(**batch).logits[:, :-1].float()
            targets = batch["input_ids"][:, 1:]
            mask = batch["attention_mask"][:, 1:].float()
            losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none")
            per_text = (losses * mask).sum(1) / mask.sum(1).clamp(min=1)
            out += [math.exp(min(v, 50.0)) for v in per_text.tolist()]
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return out
