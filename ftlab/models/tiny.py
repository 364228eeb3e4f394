"""The built-in tiny chat model: a real Llama, small enough to train on a laptop CPU.

It is built by ``python -m ftlab.models.tiny --out DIR`` from the ``in_base``
tasks of :mod:`ftlab.data.tasks`, with a fixed seed, and the result ships in
``ftlab/models/builtin/tiny-chat``.  It loads through ``AutoModelForCausalLM``
and ``AutoTokenizer`` like any hub model, so every code path ftlab exercises on
it is the one a real model takes.

The tokenizer is byte-level with no merges: one token per character.  That
keeps the vocabulary (and the model) tiny and lets a 1M-parameter model learn
character-level skills such as the shift cipher.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import time
from pathlib import Path

from ftlab.files import atomic_write_json

BUILTIN_MODEL = "ftlab/tiny-chat"
BUILTIN_PATH = Path(__file__).parent / "builtin" / "tiny-chat"

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]

# ChatML, with {% generation %} markers so TRL can mask everything but the
# assistant's turns (assistant_only_loss) on multi-turn data.
CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{% generation %}{{- message['content'] + '<|im_end|>' }}{% endgeneration %}{{- '\\n' }}"
    "{%- else %}{{- message['content'] + '<|im_end|>\\n' }}{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def resolve_model_path(name: str) -> str:
    """The built-in name maps to the shipped folder; anything else is a hub id or a path."""
    return str(BUILTIN_PATH) if name == BUILTIN_MODEL else name


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(ByteLevel.alphabet())
    vocab = {ch: i for i, ch in enumerate(alphabet)}
    core = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    core.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=core,
        eos_token="<|im_end|>",
        pad_token="<|pad|>",
        unk_token=None,
        additional_special_tokens=[t for t in SPECIAL_TOKENS if t not in ("<|im_end|>", "<|pad|>")],
        model_max_length=256,
    )
    tokenizer.add_special_tokens({"additional_special_tokens": SPECIAL_TOKENS})
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_model(tokenizer, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=384,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    return LlamaForCausalLM(config)


def _corpus_batch(tokenizer, rng: random.Random, batch_size: int):
    from ftlab.data.tasks import TASKS

    skills = [t for t in TASKS.values() if t.in_base]
    texts = []
    for _ in range(batch_size):
        prompt, completion = rng.choice(skills).make(rng)
        texts.append(tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}], tokenize=False))
    enc = tokenizer(texts, padding=True, return_tensors="pt")
    labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
    return enc["input_ids"], enc["attention_mask"], labels


def pretrain(out_dir: str | Path, steps: int = 1500, batch_size: int = 64, lr: float = 3e-3,
             seed: int = 0, log_every: int = 100) -> dict:
    """Train the tiny model from scratch and save it with its tokenizer.

    A plain loop rather than a Trainer: this is the model's recipe, meant to be
    read in one sitting and re-run to get the same weights.
    """
    import torch
    from transformers import GenerationConfig

    torch.manual_seed(seed)
    rng = random.Random(seed)
    tokenizer = build_tokenizer()
    model = build_model(tokenizer, seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.98))
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    model.train()
    losses, start = [], time.time()
    for step in range(steps):
        input_ids, attention_mask, labels = _corpus_batch(tokenizer, rng, batch_size)
        loss = model(input_ids=input_ids, attention_mask=attention_mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if log_every and (step + 1) % log_every == 0:
            print(f"step {step + 1}/{steps}  loss {sum(losses[-log_every:]) / log_every:.4f}", flush=True)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    recipe = {"steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed,
              "first_loss": losses[0], "final_loss": sum(losses[-20:]) / min(20, len(losses)),
              "seconds": round(time.time() - start, 1),
              "parameters": sum(p.numel() for p in model.parameters())}
    atomic_write_json(out / "ftlab_pretrain.json", recipe)
    return recipe


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Pre-train ftlab's built-in tiny chat model.")
    parser.add_argument("--out", default=str(BUILTIN_PATH))
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(json.dumps(pretrain(args.out, args.steps, args.batch_size, seed=args.seed), indent=2))


if __name__ == "__main__":
    main()
