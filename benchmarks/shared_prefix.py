"""What running a batch's shared prompt prefix once saves, stage by stage (ftlab.training.shared_prefix).

For SFT, DPO (LoRA: policy and reference pass) and the reward model (full fine-tuning) on the built-in cipher
task, each stage trains ``--steps`` steps twice, in a fresh process each time: with the shared prefix, and with
the plain forward (``share_prefix`` turned off).  Prints milliseconds of CPU time per step for both, their
ratio, and the first logged loss of each run (the same to float rounding: the prefix changes how the work is
done, not what is computed).

    OMP_NUM_THREADS=1 python benchmarks/shared_prefix.py [--steps 100]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from unittest import mock

STAGES = {"sft": ["train.stage=sft", "method.name=lora", "train.learning_rate=3e-3"],
          "dpo": ["train.stage=dpo", "method.name=lora", "train.learning_rate=2e-4"],
          "rm": ["train.stage=rm", "method.name=full", "train.learning_rate=1e-3"]}


def child(stage: str, steps: int, shared: bool) -> dict:
    import ftlab
    from ftlab.training import runner

    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        config = ftlab.Config().override([
            f"train.output_dir={tmp}", "data.task=cipher", f"train.max_steps={steps}", "train.eval_steps=0",
            "train.save_steps=0", "train.logging_steps=10", "eval.at_end=false", "eval.timeline_prompts=0",
            *STAGES[stage]])
        from transformers import Trainer

        original = Trainer.train

        def timed(self, *args, **kwargs):
            start = time.process_time()
            try:
                return original(self, *args, **kwargs)
            finally:
                seconds.append(time.process_time() - start)

        patches = [mock.patch.object(Trainer, "train", timed)]
        if not shared:
            patches.append(mock.patch("ftlab.training.shared_prefix.share_prefix", lambda model: False))
        for patch in patches:
            patch.start()
        try:
            result = runner.train(config)
        finally:
            for patch in patches:
                patch.stop()
        loss = next(m["loss"] for m in result.run.read("metrics") if "loss" in m)
    return {"ms_per_step": 1000 * seconds[0] / steps, "first_loss": loss}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.steps, args.child[1] == "shared")))
        return
    print(f"{'stage':<6}{'plain ms/step':>15}{'shared ms/step':>16}{'ratio':>8}   first loss plain / shared")
    for stage in STAGES:
        runs = {}
        for mode in ("plain", "shared"):
            done = subprocess.run([sys.executable, __file__, "--steps", str(args.steps), "--child", stage, mode],
                                  capture_output=True, text=True)
            if done.returncode:
                raise SystemExit(f"{stage} ({mode}) failed:\n{done.stderr[-3000:]}")
            runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        plain, shared = runs["plain"], runs["shared"]
        print(f"{stage:<6}{plain['ms_per_step']:>15.1f}{shared['ms_per_step']:>16.1f}"
              f"{shared['ms_per_step'] / plain['ms_per_step']:>8.2f}   {plain['first_loss']:.4f} / "
              f"{shared['first_loss']:.4f}", flush=True)


if __name__ == "__main__":
    main()
