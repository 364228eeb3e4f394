"""Greedy generation for evaluation, batched with left padding."""

from __future__ import annotations

from dataclasses import dataclass, field

from ftlab.eval.metrics import normalise


@dataclass
class EvalReport:
    metrics: dict[str, float]
    prompts: list[str] = field(repr=False)
    references: list[str] = field(repr=False)
    predictions: list[str] = field(repr=False)

    def rows(self, n: int | None = None) -> list[dict]:
        rows = [{"prompt": p, "reference": r, "prediction": g}
                for p, r, g in zip(self.prompts, self.references, self.predictions)]
        return rows[:n] if n is not None else rows


def generate(model, tokenizer, prompts: list[str], max_new_tokens: int = 32, batch_size: int = 64,
             system_prompt: str | None = None) -> list[str]:
    import torch

    head = [{"role": "system", "content": system_prompt}] if system_prompt else []
    texts = [tokenizer.apply_chat_template(head + [{"role": "user", "content": p}], tokenize=False,
                                           add_generation_prompt=True) for p in prompts]
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
                                           pad_token_id=tokenizer.pad_token_id,
                                           eos_token_id=tokenizer.eos_token_id)
            new_tokens = generated[:, batch["input_ids"].shape[1]:]
            outputs.extend(tokenizer.batch_decode(new_tokens, skip_special_tokens=True))
    finally:
        tokenizer.padding_side = side
        model.train(was_training)
    return [o.strip() for o in outputs]


def evaluate(model, tokenizer, data, max_new_tokens: int = 32, batch_size: int = 64,
             system_prompt: str | None = None, n_examples: int | None = None) -> EvalReport:
    """Generate an answer for every (prompt, completion) row and score it against the completion."""
    from ftlab.eval.metrics import score

    if n_examples is not None:
        data = data.select(range(min(n_examples, len(data))))
    prompts, references = list(data["prompt"]), list(data["completion"])
    predictions = generate(model, tokenizer, prompts, max_new_tokens, batch_size, system_prompt)
    return EvalReport(score(predictions, references), prompts, references, predictions)


def side_by_side(base: EvalReport, tuned: EvalReport, n: int = 8) -> list[dict]:
    """The first ``n`` test prompts with the reference and both models' answers."""
    return [{"prompt": p, "reference": r, "base": b, "tuned": t, "base_ok": normalise(b) == normalise(r),
             "tuned_ok": normalise(t) == normalise(r)}
            for p, r, b, t in zip(base.prompts[:n], base.references, base.predictions, tuned.predictions)]
