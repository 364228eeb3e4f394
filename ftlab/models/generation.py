"""Greedy answers from a chat model, batched with left padding.

Prompts are dialogues (lists of ``{"role", "content"}`` turns), put through
the tokenizer's chat template with the assistant turn opened, exactly as the
SFT trainer formats a prompt; a plain string is one user turn.  Evaluation,
the data stage's Q/A writer and the quickstart all generate through here.
"""

from __future__ import annotations

from typing import Any


def chat_texts(tokenizer: Any, prompts: list[list[dict] | str]) -> list[str]:
    dialogues = [[{"role": "user", "content": p}] if isinstance(p, str) else p for p in prompts]
    return [tokenizer.apply_chat_template(d, tokenize=False, add_generation_prompt=True) for d in dialogues]


def generate(model: Any, tokenizer: Any, prompts: list[list[dict] | str], max_new_tokens: int = 32,
             batch_size: int = 64) -> list[str]:
    """One greedy answer per prompt, stripped of surrounding whitespace."""
    import torch

    texts = chat_texts(tokenizer, prompts)
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    outputs = []
    try:
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start:start + batch_size], return_tensors="pt", padding=True,
                              add_special_tokens=False).to(device)
            with torch.inference_mode():
                generated = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                                           pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
            new_tokens = generated[:, batch["input_ids"].shape[1]:]
            outputs.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return [o.strip() for o in outputs]
