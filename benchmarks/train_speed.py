"""How fast ftlab trains: the quickstart's job through ftlab, bare TRL and a plain transformers Trainer.

The job is the quickstart's (the built-in model, the 2,000-row cipher split,
LoRA r16 / alpha 32 on all seven projections, the quickstart's learning rate
with cosine decay, batch 16, max length 128, fp32, no gradient checkpointing):

- ``ftlab``: ``ftlab.train`` with the quickstart's config, monitoring, generation timeline, checkpoint and
  all, but no validation passes, since the other arms make none (``--validation`` adds the quickstart's,
  one every ``train.eval_steps``, to show what they cost); its own work-savers are in it: the LM head on
  the answer's positions only (ftlab.training.answer_head), the batch's shared prompt prefix through the
  decoder once (ftlab.training.shared_prefix) and collation into preallocated arrays (ftlab.training.padded_batch);
- ``trl``: TRL's ``SFTTrainer`` on the same rows with a PEFT ``LoraConfig``, nothing else;
- ``plain``: a transformers ``Trainer`` over PEFT with completion-only labels
  (-100 on the prompt) and a pad-to-longest collator.

The three read byte-identical token ids (checked against the rows TRL
tokenized) and start from the same adapter init and data order, so the loss at
step 10 agrees; it is printed.  Every run is a process of its own (after a
10-step warm-up in it), so nothing one arm leaves in its process (caches,
allocator state, imports) weighs on another.  Runs alternate arm by arm so
drift in machine load hits every arm alike; only ``trainer.train()`` is
timed, by the process's CPU time (``--clock cpu``, the default: it holds still
on a shared machine, and with OMP_NUM_THREADS=1 it is the wall time of a quiet
one) or by the wall clock.  One more run per arm measures, with exclusive
timers around the trainer's parts, where a step's time goes.  The last line is
the median ratio ftlab / plain Trainer.

    OMP_NUM_THREADS=1 python benchmarks/train_speed.py [--steps 400] [--repeats 3] [--clock cpu|wall] [--validation]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from unittest import mock

ARMS = ("ftlab", "trl", "plain")
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


VALIDATION = {"on": False}  # --validation: the ftlab arm validates as the quickstart does


def job_config(steps: int, workdir: Path, name: str):
    from ftlab.quickstart import quickstart_config

    config = quickstart_config(max_steps=steps, output_dir=str(workdir))
    config.train.run_name = name
    config.eval.at_end = False  # the quickstart evaluates the tuned model itself, after training
    if not VALIDATION["on"]:
        config.train.eval_steps = 0
    return config.validate()


def shared_arguments(config, workdir: Path) -> dict:
    """The hyper-parameters of the job, spelled out for the arms that do not go through ftlab; the optimizer is
    transformers' default (fused AdamW), as a plain script gets it."""
    t = config.train
    return {"output_dir": str(workdir / "unused"), "max_steps": t.max_steps, "per_device_train_batch_size": t.batch_size,
            "learning_rate": t.learning_rate, "lr_scheduler_type": t.lr_scheduler, "warmup_steps": t.warmup_ratio,
            "weight_decay": t.weight_decay, "max_grad_norm": t.max_grad_norm, "seed": t.seed,
            "data_seed": t.seed, "logging_steps": t.logging_steps, "save_strategy": "no", "eval_strategy": "no",
            "report_to": "none", "disable_tqdm": True, "use_cpu": True, "bf16": False, "fp16": False}


def lora_config(config):
    from peft import LoraConfig

    m = config.method
    return LoraConfig(r=m.lora_r, lora_alpha=m.lora_alpha, lora_dropout=m.lora_dropout,
                      target_modules=list(m.target_modules), task_type="CAUSAL_LM")


def train_rows(config):
    from ftlab.data.rows import to_dataset
    from ftlab.data.sources import load_data

    data = load_data(config.data)
    return to_dataset(data["train"], "sft", config.data.system_prompt, config.data.task)


def tokenized(rows, tokenizer, max_length: int) -> list[dict]:
    """Prompt + completion through the chat template; labels -100 on the prompt, as TRL's completion-only loss."""
    out = []
    for row in rows:
        prompt = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=False)
        whole = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=False)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        ids = tokenizer(whole, add_special_tokens=False)["input_ids"][:max_length]
        out.append({"input_ids": ids, "labels": [-100] * len(prompt_ids) + ids[len(prompt_ids):]})
    return out


class PadToLongest:
    """Right-pads a batch to its longest row: pad id for inputs, -100 for labels, 0 in the attention mask."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, rows: list[dict]) -> dict:
        import torch

        longest = max(len(r["input_ids"]) for r in rows)
        pad = [longest - len(r["input_ids"]) for r in rows]
        return {"input_ids": torch.tensor([r["input_ids"] + [self.pad_id] * p for r, p in zip(rows, pad)]),
                "labels": torch.tensor([r["labels"] + [-100] * p for r, p in zip(rows, pad)]),
                "attention_mask": torch.tensor([[1] * len(r["input_ids"]) + [0] * p for r, p in zip(rows, pad)])}


def run_ftlab(config) -> float:
    from ftlab.training.runner import train

    result = train(config)
    return next(m["loss"] for m in result.run.read("metrics") if m.get("step") == 10 and "loss" in m)


def run_trainer(trainer) -> float:
    trainer.train()
    return next(m["loss"] for m in trainer.state.log_history if m.get("step") == 10 and "loss" in m)


def build_trl(config, workdir: Path):
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    from ftlab.models.loader import load_model, load_tokenizer

    set_seed(config.train.seed)
    model = load_model(config.model.name, config.model.dtype)
    args = SFTConfig(**shared_arguments(config, workdir), max_length=config.data.max_length,
                     completion_only_loss=True)
    return SFTTrainer(model=model, args=args, train_dataset=train_rows(config),
                      processing_class=load_tokenizer(config.model.name), peft_config=lora_config(config))


def build_plain(config, workdir: Path):
    from datasets import Dataset
    from peft import get_peft_model
    from transformers import Trainer, TrainingArguments, set_seed

    from ftlab.models.loader import load_model, load_tokenizer

    tokenizer = load_tokenizer(config.model.name)
    rows = Dataset.from_list(tokenized(train_rows(config), tokenizer, config.data.max_length))
    set_seed(config.train.seed)
    model = get_peft_model(load_model(config.model.name, config.model.dtype), lora_config(config))
    return Trainer(model=model, args=TrainingArguments(**shared_arguments(config, workdir)), train_dataset=rows,
                   data_collator=PadToLongest(tokenizer.pad_token_id))


def timed_run(arm: str, steps: int, workdir: Path, name: str) -> tuple[float, float]:
    """(seconds in trainer.train(), loss logged at step 10); the same timer around train() for every arm."""
    from transformers import Trainer

    seconds = []
    original = Trainer.train

    def train(self, *args, **kwargs):
        start = clock()
        try:
            return original(self, *args, **kwargs)
        finally:
            seconds.append(clock() - start)

    config = job_config(steps, workdir, name)
    with mock.patch.object(Trainer, "train", train):
        if arm == "ftlab":
            loss10 = run_ftlab(config)
        else:
            loss10 = run_trainer(build_trl(config, workdir) if arm == "trl" else build_plain(config, workdir))
    return seconds[0], loss10


def check_identical_text(workdir: Path) -> int:
    """The plain arm's token ids and labels are TRL's, row for row; returns the number of rows checked."""
    config = job_config(10, workdir, "check")
    trainer = build_trl(config, workdir)
    ours = tokenized(train_rows(config), trainer.processing_class, config.data.max_length)
    theirs = trainer.train_dataset
    assert len(ours) == len(theirs), (len(ours), len(theirs))
    for mine, row in zip(ours, theirs):
        assert mine["input_ids"] == row["input_ids"] and mine["labels"] == row["labels"], "token ids differ"
    return len(ours)


class ExclusiveTimers:
    """Seconds per label, each call's time minus the time of timed calls nested inside it."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self._inner: list[float] = []

    def wrap(self, label, fn):
        timers = self

        def timed(*args, **kwargs):
            start = clock()
            timers._inner.append(0.0)
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = clock() - start
                inner = timers._inner.pop()
                name = label(*args, **kwargs) if callable(label) else label
                timers.seconds[name] += elapsed - inner
                if timers._inner:
                    timers._inner[-1] += elapsed

        return timed


EVENT_PARTS = {"on_log": "logging", "on_evaluate": "evaluation", "on_save": "saving"}


@contextlib.contextmanager
def instrumented(timers: ExclusiveTimers):
    """Timers around the parts of a training step, for every trainer built inside the block."""
    import torch
    from accelerate import Accelerator
    from accelerate.optimizer import AcceleratedOptimizer
    from transformers import Trainer
    from transformers.trainer_callback import CallbackHandler
    from trl import SFTTrainer

    def event(handler, name, *args, **kwargs):
        return EVENT_PARTS.get(name, "callbacks")

    parts = [(Trainer, "get_batch_samples", "data loading + collation"),
             (Trainer, "compute_loss", "forward + loss"), (SFTTrainer, "compute_loss", "forward + loss"),
             (Accelerator, "backward", "backward"),
             (Trainer, "_clip_grad_norm", "grad-norm clipping"), (Trainer, "_get_grad_norm", "grad-norm clipping"),
             (AcceleratedOptimizer, "step", "optimizer"), (torch.nn.Module, "zero_grad", "optimizer"),
             (torch.optim.lr_scheduler.LRScheduler, "step", "optimizer"),
             (CallbackHandler, "call_event", event),
             (Trainer, "_maybe_log_save_evaluate", "logging"), (Trainer, "log", "logging"),
             (SFTTrainer, "log", "logging"), (Trainer, "evaluate", "evaluation"),
             (Trainer, "_save_checkpoint", "saving"), (Trainer, "train", "loop (the rest)")]
    with contextlib.ExitStack() as stack:
        for owner, attribute, label in parts:
            stack.enter_context(mock.patch.object(owner, attribute, timers.wrap(label, owner.__dict__[attribute])))
        yield


def breakdown(arm: str, steps: int, workdir: Path) -> dict[str, float]:
    timers = ExclusiveTimers()
    with instrumented(timers):
        seconds, _ = timed_run(arm, steps, workdir, f"{arm}-breakdown")
    return {part: 1000 * s / steps for part, s in timers.seconds.items()} | {"total": 1000 * seconds / steps}


def child(arm: str, steps: int, instrumented_run: bool) -> dict:
    """One run in this process, after a 10-step warm-up (imports, caches, first-call kernels)."""
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        timed_run(arm, 10, workdir, "warmup")
        if instrumented_run:
            return {"breakdown": breakdown(arm, steps, workdir)}
        seconds, loss10 = timed_run(arm, steps, workdir, "timed")
        return {"ms_per_step": 1000 * seconds / steps, "loss10": loss10}


def in_own_process(arm: str, args, instrumented_run: bool = False) -> dict:
    """``child`` in a fresh Python process; its result."""
    command = [sys.executable, __file__, "--child", arm, "--steps", str(args.steps), "--clock", args.clock]
    command += ["--validation"] * args.validation + ["--instrumented"] * instrumented_run
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"the {arm} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400,
                        help="the quickstart's job is 400 steps; fewer weigh a run's fixed costs more")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clock", choices=tuple(CLOCKS), default="cpu")
    parser.add_argument("--validation", action="store_true",
                        help="the ftlab arm also makes the quickstart's validation passes")
    parser.add_argument("--no-breakdown", dest="breakdown", action="store_false")
    parser.add_argument("--child", choices=ARMS, help=argparse.SUPPRESS)  # one run, in a process of its own
    parser.add_argument("--instrumented", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global clock
    clock = CLOCKS[args.clock]
    VALIDATION["on"] = args.validation
    if args.steps < 10:
        parser.error("--steps must be at least 10: the fairness check compares the loss logged at step 10")
    if args.child:
        print(json.dumps(child(args.child, args.steps, args.instrumented)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        print(f"identical token ids and labels in the trl and plain arms: {check_identical_text(Path(tmp))} rows",
              flush=True)
    per_step: dict[str, list[float]] = {arm: [] for arm in ARMS}
    ratios, losses = [], {}
    for i in range(args.repeats):
        order = ARMS[i % len(ARMS):] + ARMS[:i % len(ARMS)]
        for arm in order:
            run = in_own_process(arm, args)
            per_step[arm].append(run["ms_per_step"])
            losses[arm] = run["loss10"]
        ratios.append(per_step["ftlab"][-1] / per_step["plain"][-1])
        print(f"repeat {i + 1}: " + "  ".join(f"{arm} {per_step[arm][-1]:.1f} ms/step" for arm in ARMS)
              + f"  ratio ftlab/plain {ratios[-1]:.3f}", flush=True)
    print("loss at step 10: " + "  ".join(f"{arm} {losses[arm]:.4f}" for arm in ARMS))
    if args.breakdown:
        tables = {arm: in_own_process(arm, args, instrumented_run=True)["breakdown"] for arm in ARMS}
        parts = sorted({p for t in tables.values() for p in t if p != "total"},
                       key=lambda p: -max(t.get(p, 0.0) for t in tables.values()))
        print(f"\nwhere a step's time goes (ms per step, one instrumented run of {args.steps} steps each):")
        print(f"{'part':<28}" + "".join(f"{arm:>10}" for arm in ARMS))
        for part in parts + ["total"]:
            print(f"{part:<28}" + "".join(f"{tables[arm].get(part, 0.0):>10.2f}" for arm in ARMS))
    print(f"\nper-step ms of {args.clock} time (median over repeats): " + "  ".join(
        f"{arm} {statistics.median(per_step[arm]):.1f}" for arm in ARMS))
    print(f"median ratio ftlab / TRL: {statistics.median(a / b for a, b in zip(per_step['ftlab'], per_step['trl'])):.2f}")
    print(f"median ratio ftlab / plain Trainer: {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
