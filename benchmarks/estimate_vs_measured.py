"""Estimated vs measured peak training memory, per architecture and method.

Trains the built-in model and tiny random instances of real architectures for
two steps with each method (on the GPU when there is one, else the CPU) and
prints the estimator's total next to the measured peak, plus the measured and
estimated activations.  Weights, gradients and optimizer state are also
compared; they should match to the byte (up to rounding), so any error left
is in the activation model.

    python benchmarks/estimate_vs_measured.py            # default sizes (~5 min on 2 CPU cores)
    python benchmarks/estimate_vs_measured.py --quick    # fewer cases, smaller models
"""

from __future__ import annotations

import argparse
import json
import time

CASES = [  # (method, precision, grad_ckpt, bits)
    ("full", "fp32", False, 4),
    ("full", "fp32", True, 4),
    ("freeze", "fp32", False, 4),
    ("lora", "fp32", False, 4),
    ("qlora", "fp32", False, 4),
    ("qlora", "fp32", False, 8),
]
ARCHS = ["builtin", "llama", "qwen2", "gemma", "phi3", "gpt_neox", "opt"]


def build(arch: str, width: int, layers: int, vocab: int):
    from ftlab.models.loader import load_model
    from ftlab.models.tiny_archs import tiny_model

    if arch == "builtin":
        return load_model("ftlab/tiny-chat")
    return tiny_model(arch, width=width, layers=layers, vocab_size=vocab)


def run_case(arch: str, method: str, precision: str, ckpt: bool, bits: int, args) -> dict:
    import torch

    from ftlab.models.estimate import GB, TrainingSetup, estimate_memory
    from ftlab.models.architecture import inspect_architecture
    from ftlab.models.measure import measure_training_step, prepare, quantized_copy

    cuda = torch.cuda.is_available()
    setup = TrainingSetup(method=method, precision=precision, grad_ckpt=ckpt, bits=bits, batch_size=args.batch,
                          seq_len=args.seq, lora_r=16, device="cpu")  # the CUDA context is not in the peak
    model = build(arch, args.width, args.layers, args.vocab)
    info = inspect_architecture(model.config)
    if method == "qlora":
        model = quantized_copy(model, bits)
    elif cuda:
        model = model.cuda()
    model = prepare(model, setup)
    measured = measure_training_step(model, setup)
    estimate = estimate_memory(info, setup)
    mb = GB / 2 ** 20
    parts = {k: round(v * mb, 2) for k, v in estimate.breakdown.items()}
    return {"arch": arch, "method": method if method != "qlora" else f"qlora{bits}",
            "ckpt": ckpt, "params_m": round(info.params / 1e6, 2),
            "estimated_mb": round(estimate.total_gb * mb, 2), "measured_mb": round(measured.peak / 2 ** 20, 2),
            "error_pct": round(100 * (estimate.total_gb * GB / measured.peak - 1), 1),
            "act_est_mb": parts["activations"], "act_meas_mb": round(measured.activations / 2 ** 20, 2),
            "weights_err_mb": round(parts["weights"] + parts["adapter"]
                                    - (measured.weights + measured.adapter) / 2 ** 20, 3),
            "grads_err_mb": round(parts["gradients"] - measured.gradients / 2 ** 20, 3),
            "optim_err_mb": round(parts["optimizer"] - measured.optimizer / 2 ** 20, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=6, help="hidden size = 64 x width")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--vocab", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--quick", action="store_true", help="llama and opt, full and lora only, smaller")
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args()
    archs, cases = ARCHS, CASES
    if args.quick:
        archs, cases = ["llama", "opt"], [CASES[0], CASES[3]]
        args.width, args.vocab = 4, 2048

    import pandas as pd
    import torch

    print(f"device: {'cuda' if torch.cuda.is_available() else 'cpu'}  batch {args.batch} x seq {args.seq}; "
          f"tiny models: hidden {64 * args.width}, {args.layers} layers, vocabulary {args.vocab}", flush=True)
    rows, start = [], time.time()
    for arch in archs:
        for method, precision, ckpt, bits in cases:
            try:
                rows.append(run_case(arch, method, precision, ckpt, bits, args))
            except Exception as exc:  # a method a backend cannot run here is reported, not fatal
                rows.append({"arch": arch, "method": method, "ckpt": ckpt, "error": f"{type(exc).__name__}: {exc}"[:80]})
            print(json.dumps(rows[-1]), flush=True)
    table = pd.DataFrame(rows)
    print()
    print(table.to_string(index=False))
    ok = table.dropna(subset=["error_pct"]) if "error_pct" in table else table
    if len(ok):
        print(f"\nmean |error| {ok.error_pct.abs().mean():.1f}%, worst {ok.error_pct.abs().max():.1f}%, "
              f"within 15%: {(ok.error_pct.abs() <= 15).sum()}/{len(ok)}  ({time.time() - start:.0f} s)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
