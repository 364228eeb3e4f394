"""Continued pretraining through TRL's ``SFTTrainer``: plain domain text, no chat template, packed.

The model reads documents (``text`` rows: a text data file, or a built-in
task's documents such as ``domain_facts``) as a language model reads any
text, the loss on every token; packing fills each ``max_length`` sequence
with several short documents.  Plain text pulls a chat model away from its
chat skills, so ``stage.replay_ratio`` mixes in that share of general rows from
``stage.replay_tasks`` (built-in tasks the model knows, in equal shares), rendered
as text through the chat template: replay, the usual remedy for forgetting.

``measure`` gives, on held-out documents (the validation split), ``domain_ppl``:
the perplexity of the whole text, and for ``domain_facts`` ``fact_ppl``: the
perplexity of the fact words alone (towns, guilds, colours), the part only
knowing the facts predicts; and on the built-in model's pre-training skills
(the tasks marked ``in_base``, as in the ``general_skills`` suite), ``general_ppl``: the perplexity of the
right answers, and ``general_accuracy``: exact match of greedy answers.  The
general figures falling is forgetting.
"""

from __future__ import annotations

import random

from ftlab.errors import FtlabError
from ftlab.training.stages import MeasureInputs, Stage, TrainerInputs

HELD_OUT_DOCUMENTS = 64  # measured per split: enough for a stable perplexity, a second on a CPU
GENERAL_PROBES = 12  # per pre-training skill (next_letter, reverse...): 60 greedy answers, a few seconds
GENERAL_SEED = 1234


def replay_count(n_domain: int, ratio: float) -> int:
    """Replay rows to add to ``n_domain`` domain rows so that they make ``ratio`` of all rows."""
    return round(n_domain * ratio / (1 - ratio)) if ratio > 0 else 0


def replay_rows(tokenizer, tasks: list[str], n: int, seed: int) -> list[dict]:
    """``n`` Q/A rows of built-in tasks (equal shares) as plain text through the chat template, as the model
    saw them."""
    from ftlab.data.tasks import build_splits

    if not tokenizer.chat_template:
        raise FtlabError(f"Replay renders {', '.join(tasks)} rows through the chat template, and this tokenizer "
                         "has none; set stage.replay_ratio=0 or start from a model with a chat template.")
    shares = [n // len(tasks) + (i < n % len(tasks)) for i in range(len(tasks))]
    records = [r for task, k in zip(tasks, shares) if k for r in build_splits(task, seed, k, 0, 0)["train"]]
    # The template ends the assistant turn with the end-of-turn token and a newline; ending on the token
    # keeps the trainer from adding a second one.
    return [{"text": tokenizer.apply_chat_template(r.messages, tokenize=False).rstrip("\n")} for r in records]


def mix_replay(rows: list[dict], tokenizer, tasks: list[str], ratio: float, seed: int) -> list[dict]:
    """The domain rows with replay rows added to make ``ratio`` of the mix, shuffled together (seeded)."""
    mixed = list(rows) + replay_rows(tokenizer, tasks, replay_count(len(rows), ratio), seed)
    random.Random(f"replay:{seed}").shuffle(mixed)
    return mixed


def build_trainer(inputs: TrainerInputs):
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    config = inputs.config
    rows = inputs.train_rows
    if config.stage.replay_ratio > 0:
        rows = Dataset.from_list(mix_replay(rows.to_list(), inputs.tokenizer, config.stage.replay_tasks,
                                            config.stage.replay_ratio, config.data.seed))
    # "wrapped" packing: the documents end to end, cut into max_length blocks, as pretraining does.  TRL's
    # default (bfd) trains padding-free, the whole batch as one long sequence: on a CPU its attention costs
    # about twice as much per token (measured on the built-in model, 16 x 256 tokens).
    args = SFTConfig(**inputs.arguments, max_length=config.data.max_length, packing=True,
                     packing_strategy="wrapped", dataset_text_field="text", completion_only_loss=False)
    return SFTTrainer(model=inputs.model, args=args, train_dataset=rows, eval_dataset=inputs.eval_rows,
                      processing_class=inputs.tokenizer, optimizers=(inputs.optimizer, None),
                      callbacks=inputs.callbacks)


def _perplexity(logprobs: list[float]) -> float:
    import math

    return round(math.exp(-sum(logprobs) / len(logprobs)), 4) if logprobs else float("nan")


def measure(inputs: MeasureInputs) -> dict:
    from ftlab.models.likelihood import text_logprobs

    config, model, tokenizer = inputs.config, inputs.model, inputs.tokenizer
    figures = {}
    texts = [r.text for r in inputs.data[inputs.split][:HELD_OUT_DOCUMENTS] if r.text]
    if texts:
        scored = text_logprobs(model, tokenizer, texts, config.eval.batch_size)
        figures["domain_ppl"] = _perplexity([lp for _, lps in scored for lp in lps])
        if not config.data.train_file and config.data.task == "domain_facts":
            from ftlab.data.domain import value_spans, world

            values = world(config.data.seed).values()
            in_values = []
            for text, (spans, lps) in zip(texts, scored):
                words = value_spans(text, values)
                in_values += [lp for (a, b), lp in zip(spans, lps) if any(s <= a and b <= e for s, e in words)]
            figures["fact_ppl"] = _perplexity(in_values)
    if tokenizer.chat_template:
        figures.update(general_figures(model, tokenizer, config.eval.batch_size))
    return figures


def general_figures(model, tokenizer, batch_size: int = 64) -> dict:
    """The built-in model's pre-training skills (the tasks marked ``in_base``), a few fixed probes each:
    perplexity of the right answers and exact match of greedy answers."""
    from ftlab.data.tasks import TASKS, distinct_examples
    from ftlab.models.generation import generate
    from ftlab.models.likelihood import completion_logprobs, perplexity

    prompts, references, right = [], [], 0
    for task in (t for t in TASKS.values() if t.in_base):
        probes = distinct_examples(task, GENERAL_SEED, GENERAL_PROBES)
        answers = generate(model, tokenizer, [p for p, _ in probes], task.max_new_tokens, batch_size)
        right += sum(a.strip() == r for a, (_, r) in zip(answers, probes))
        prompts += [p for p, _ in probes]
        references += [r for _, r in probes]
    sums, counts = completion_logprobs(model, tokenizer, prompts, references, batch_size)
    return {"general_ppl": round(perplexity(sums, counts), 4), "general_accuracy": round(right / len(prompts), 4)}


def check(config) -> list[tuple[str, str]]:
    stage = config.stage
    problems = []
    if stage.replay_ratio >= 1:
        problems.append(("stage.replay_ratio", f"is the share of replay rows in the mix and must be below 1 "
                         f"(0.2 = one in five); got {stage.replay_ratio}."))
    if stage.replay_ratio > 0 and not stage.replay_tasks:
        problems.append(("stage.replay_tasks", "set built-in tasks to replay (e.g. reverse,spell) when "
                         "stage.replay_ratio > 0."))
    return problems


ENTRY = Stage("cpt", "Continued pretraining: read domain text as a language model, before SFT teaches the "
              "answer format.", rows="text", build_trainer=build_trainer, reads=("replay_tasks", "replay_ratio"),
              generates=False, needs_chat_template=False, measure=measure,
              compared=("domain_ppl", "fact_ppl", "general_ppl", "general_accuracy"), check=check, order=1)
