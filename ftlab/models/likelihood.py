"""How likely a model finds a given answer: log-probabilities of completions under teacher forcing.

The same computation serves three evaluations: perplexity of the reference
answers on a split (how surprised the model is by the right answer), label
probabilities for classification (each candidate label scored as the
completion of the prompt, then normalised, as lm-evaluation-harness scores
multiple choice), and the confidence behind ROC-AUC and calibration.  The
prompt goes through the chat template with the assistant turn opened, the
answer follows with its end-of-turn token, as training formats them.
"""

from __future__ import annotations

import math
from typing import Any

from ftlab.models.generation import chat_texts


def completion_logprobs(model: Any, tokenizer: Any, prompts: list[list[dict] | str], completions: list[str],
                        batch_size: int = 32) -> tuple[list[float], list[int]]:
    """(sum of log-probabilities, number of tokens) of each completion given its prompt."""
    import torch

    heads = chat_texts(tokenizer, prompts)
    end = tokenizer.eos_token or ""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    side, tokenizer.padding_side = tokenizer.padding_side, "right"
    sums: list[float] = []
    counts: list[int] = []
    try:
        for start in range(0, len(heads), batch_size):
            head_ids = [tokenizer(h, add_special_tokens=False)["input_ids"] for h in heads[start:start + batch_size]]
            tail_ids = [tokenizer(c + end, add_special_tokens=False)["input_ids"]
                        for c in completions[start:start + batch_size]]
            rows = [h + t for h, t in zip(head_ids, tail_ids)]
            width = max(len(r) for r in rows)
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
            ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=device)
            attention = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=device)
            with torch.inference_mode():
                logits = model(input_ids=ids, attention_mask=attention).logits.float()
            logprobs = torch.log_softmax(logits[:, :-1], dim=-1).gather(2, ids[:, 1:, None])[..., 0]
            for row, (h, t) in enumerate(zip(head_ids, tail_ids)):
                first = len(h) - 1  # the logit at position i predicts token i + 1
                sums.append(float(logprobs[row, first:first + len(t)].sum()))
                counts.append(len(t))
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return sums, counts


def label_probabilities(model: Any, tokenizer: Any, prompts: list[list[dict] | str], labels: list[str],
                        batch_size: int = 32) -> list[list[float]]:
    """For each prompt, the probability of each label as its answer, normalised over the labels."""
    flat_prompts = [p for p in prompts for _ in labels]
    flat_labels = [label for _ in prompts for label in labels]
    sums, _ = completion_logprobs(model, tokenizer, flat_prompts, flat_labels, batch_size)
    out = []
    for i in range(len(prompts)):
        row = sums[i * len(labels):(i + 1) * len(labels)]
        top = max(row)
        weights = [math.exp(v - top) for v in row]
        total = sum(weights)
        out.append([w / total for w in weights])
    return out


def perplexity(logprob_sums: list[float], token_counts: list[int]) -> float:
    """exp of the mean negative log-likelihood per token over all the completions."""
    tokens = sum(token_counts)
    return math.exp(-sum(logprob_sums) / tokens) if tokens else float("nan")


def text_logprobs(model: Any, tokenizer: Any, texts: list[str],
                  batch_size: int = 32) -> list[tuple[list[tuple[int, int]], list[float]]]:
    """Plain text, no chat template: for each text, the character span and log-probability of every token
    the model predicts (all but the first), so a caller can score the whole text or only some words of it."""
    import torch

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    side, tokenizer.padding_side = tokenizer.padding_side, "right"
    out = []
    try:
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], add_special_tokens=False, padding=True,
                              return_offsets_mapping=True, return_tensors="pt")
            ids, attention = batch["input_ids"].to(device), batch["attention_mask"].to(device)
            with torch.inference_mode():
                logits = model(input_ids=ids, attention_mask=attention).logits.float()
            logprobs = torch.log_softmax(logits[:, :-1], dim=-1).gather(2, ids[:, 1:, None])[..., 0]
            for row in range(len(ids)):
                n = int(attention[row].sum())
                spans = [tuple(span) for span in batch["offset_mapping"][row, 1:n].tolist()]
                out.append((spans, logprobs[row, :n - 1].tolist()))
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return out
