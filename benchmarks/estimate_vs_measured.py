"""Estimated vs measured peak training memory, per architecture and method.

Trains the built-in model and tiny random instances of real architectures for
two steps with each method, the model loaded and prepared by training's own
code (:func:`ftlab.training.memory_probe.compare_with_estimate`), on the GPU
when there is one, else the CPU, and prints the estimator's total next to the
measured peak.  Weights, gradients and optimizer state should match to the
byte, so any error left is in the activation model.

    python benchmarks/estimate_vs_measured.py            # every method, seven architectures (~5 min, 2 cores)
    python benchmarks/estimate_vs_measured.py --quick    # llama and opt, full / lora / qlora, smaller
"""

from __future__ import annotations

import argparse
import json
import time

ARCHS = ["builtin", "llama", "qwen2", "gemma", "phi3", "gpt_neox", "opt"]
QUICK_METHODS = ("full", "lora", "qlora")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=6, help="hidden size = 64 x width")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--checkpointing", action="store_true", help="train.gradient_checkpointing=true")
    parser.add_argument("--quick", action="store_true", help="llama and opt; full, lora and qlora; smaller")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()

    import pandas as pd
    import torch

    from ftlab.training.memory_probe import estimate_vs_measured
    from ftlab.training.methods import METHODS

    archs, methods = (["llama", "opt"], QUICK_METHODS) if args.quick else (ARCHS, METHODS.names())
    if args.quick:
        args.width, args.vocab = 4, 2048
    print(f"device: {'cuda' if torch.cuda.is_available() else 'cpu'}  batch {args.batch} x seq {args.seq}; "
          f"tiny models: hidden {64 * args.width}, {args.layers} layers, vocabulary {args.vocab}", flush=True)
    start = time.time()
    settings = ["model.dtype=float32", "train.precision=fp32", "method.freeze_layers=1",
                "method.target_modules=all-linear", f"train.batch_size={args.batch}", f"data.max_length={args.seq}",
                f"train.gradient_checkpointing={args.checkpointing}"]
    rows = estimate_vs_measured(archs, list(methods), settings, args.width, args.layers, args.vocab)
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False))
    ok = table.dropna(subset=["error %"])
    if len(ok):
        exact = ok["exact params/grads/optimizer"].sum()
        print(f"\nmean |error| {ok['error %'].abs().mean():.1f}%, worst {ok['error %'].abs().max():.1f}%, "
              f"within 15%: {(ok['error %'].abs() <= 15).sum()}/{len(ok)}; exact parameter terms: {exact}/{len(ok)} "
              f"({time.time() - start:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
