"""Which learning rate lets each method learn the built-in task: the source of ``Method.builtin_lr``.

Each (method, rate) trains the built-in model on the cipher task with
notebook 06's real settings (2,000 rows, 400 steps, batch 16, cosine) and
prints the final training loss and exact match on 100 held-out words.  Below
exact match ~0.1 a run is still on the plateau before the model finds the
letter mapping.

    python benchmarks/method_learning_rates.py --methods rslora adalora --rates 3e-3 1e-3 5e-4
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time


def run(method: str, rate: float, steps: int, folder: str) -> dict:
    import ftlab
    from ftlab.data.sources import load_data
    from ftlab.eval.evaluation import evaluate_split

    config = ftlab.Config().override([
        f"method.name={method}", f"train.learning_rate={rate}", f"train.max_steps={steps}", "data.n_train=2000",
        "data.n_test=100", "train.eval_steps=0", "train.save_steps=0", "train.logging_steps=20",
        f"train.output_dir={folder}", f"train.run_name={method}-{rate:g}"])
    start = time.time()
    result = ftlab.train(config)
    report = evaluate_split(result.model, result.tokenizer, config, load_data(config.data))
    return {"method": method, "learning_rate": rate, "final_loss": round(result.results["final_loss"], 4),
            "exact_match": report.metrics["exact_match"], "chrf": report.metrics["chrf"],
            "seconds": round(time.time() - start, 1)}


def main() -> None:
    from ftlab.training.methods import METHODS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--rates", nargs="+", type=float, default=None,
                        help="rates to try (default: each method's builtin_lr and a third and three times it)")
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for method in args.methods:
            rates = args.rates or [METHODS[method].builtin_lr * f for f in (1 / 3, 1, 3)]
            for rate in rates:
                print(json.dumps(run(method, rate, args.steps, folder)), flush=True)


if __name__ == "__main__":
    main()
