"""What the reward-model and RL stages do to the built-in model on the cipher task, at real settings.

    1. SFT (LoRA, lr 3e-3, batch 16) for a weak start (--weak-steps, ~0.15 exact match) and a
       stronger body for the reward model (--rm-start-steps); each merged into a plain model.
    2. GRPO, RLOO and PPO from the weak start with the verifiable rewards correct + letters.
    3. A reward model (stage rm) on near-miss pairs, then GRPO with that reward model added, and PPO with the
       reward model alone (the RLHF path: SFT -> RM -> PPO).

Prints held-out figures before and after each stage (pair accuracy; mean reward of greedy
answers on 128 validation prompts, in all and by part), the last logged KL, steps and seconds.

    python benchmarks/rl_effects.py [--rl-steps 80] [--rm-steps 300]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def merged_sft(folder: Path, steps: int) -> tuple[Path, float]:
    """The built-in model after ``steps`` of cipher SFT LoRA, merged; and its test exact match."""
    import ftlab
    from ftlab.training.merged import merged_model

    config = ftlab.Config().override([
        f"train.output_dir={folder}", f"train.run_name=sft{steps}", "method.name=lora", "data.task=cipher",
        f"train.max_steps={steps}", "train.learning_rate=3e-3", "train.eval_steps=0", "train.save_steps=0",
        "train.logging_steps=50", "data.n_test=128"])
    result = ftlab.train(config)
    merged = merged_model(result.run.path)
    return merged, result.results["eval"]["exact_match"]


def train(folder: Path, name: str, *overrides: str) -> dict:
    import ftlab

    config = ftlab.Config().override([
        f"train.output_dir={folder}", f"train.run_name={name}", "data.task=cipher", "data.n_validation=128",
        "train.eval_steps=0", "train.save_steps=0", "train.logging_steps=10", "eval.at_end=false", *overrides])
    start = time.time()
    result = ftlab.train(config)
    kl = [row["kl"] for row in result.run.read("metrics") if "kl" in row]
    return {"run": str(result.run.path), "before": result.results["stage_before"],
            "after": result.results["stage_after"], "last_kl": kl[-1] if kl else None,
            "steps": result.results["steps"], "train_seconds": result.results["train_seconds"],
            "seconds": round(time.time() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--weak-steps", type=int, default=160)
    parser.add_argument("--rm-start-steps", type=int, default=200)
    parser.add_argument("--rl-steps", type=int, default=80)
    parser.add_argument("--rm-steps", type=int, default=300)
    parser.add_argument("--out", default=None, help="folder for the runs (default: a temporary one)")
    args = parser.parse_args()
    folder = Path(args.out or tempfile.mkdtemp(prefix="rl_effects_"))
    report = {}
    start = time.time()
    weak, report["weak_start_exact_match"] = merged_sft(folder, args.weak_steps)
    report["sft_seconds"] = round(time.time() - start, 1)
    rl = [f"model.name={weak}", "method.name=lora", "data.n_train=1000", "train.batch_size=32",
          "train.learning_rate=1e-3", "stage.temperature=0.7", "stage.num_generations=8",
          "stage.rewards=correct,letters", f"train.max_steps={args.rl_steps}"]
    for stage in ("grpo", "rloo", "ppo"):
        report[stage] = train(folder, stage, f"train.stage={stage}", *rl)
        print(stage, json.dumps(report[stage]), flush=True)
    body, report["rm_start_exact_match"] = merged_sft(folder, args.rm_start_steps)
    report["rm"] = train(folder, "rm", "train.stage=rm", f"model.name={body}", "method.name=full",
                         "data.n_train=2000", f"train.max_steps={args.rm_steps}", "train.learning_rate=1e-3")
    print("rm", json.dumps(report["rm"]), flush=True)
    report["grpo_with_rm"] = train(folder, "grpo_rm", "train.stage=grpo", *rl,
                                   f"stage.reward_model={report['rm']['run']}")
    print("grpo_with_rm", json.dumps(report["grpo_with_rm"]), flush=True)
    report["ppo_with_rm"] = train(folder, "ppo_rm", "train.stage=ppo", *rl, "stage.rewards=", "stage.beta=0.5",
                                  f"stage.reward_model={report['rm']['run']}")
    print("ppo_with_rm", json.dumps(report["ppo_with_rm"]), flush=True)
    report["total_seconds"] = round(time.time() - start, 1)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
