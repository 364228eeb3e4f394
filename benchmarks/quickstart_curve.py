"""How many steps the quickstart needs: tuned exact match by step count and seed, on the real settings.

Each cell is a separate run of the quickstart's training (real settings, the
given ``train.max_steps``, so the cosine schedule ends where the run ends)
followed by the quickstart's evaluation on the test split.  Validation passes
and the generation timeline are left out: they read the model, they do not
change how it trains (no dropout, no random draws), and they would only add time.

    OMP_NUM_THREADS=1 python benchmarks/quickstart_curve.py [--steps 300,400,500] [--seeds 42,1,2] [--smoke]
"""

from __future__ import annotations

import argparse
import tempfile
import time


def tuned_exact_match(steps: int, seed: int, workdir: str, overrides: list[str],
                      smoke: bool = False) -> tuple[float, float, float]:
    """(exact match on the test split, seconds of training, final training loss) for one run."""
    from ftlab.data.sources import load_data
    from ftlab.eval.evaluation import evaluate_split
    from ftlab.quickstart import quickstart_config
    from ftlab.training.runner import train

    config = quickstart_config(smoke, max_steps=steps, output_dir=workdir).override(overrides)
    config.train.seed = seed
    config.train.run_name = f"curve-{steps}-{seed}"
    config.train.eval_steps = 0
    config.train.save_steps = 0
    config.eval.at_end = False
    config.eval.timeline_prompts = 0
    result = train(config.validate())
    report = evaluate_split(result.model, result.tokenizer, config, load_data(config.data))
    return report.metrics["exact_match"], result.results["train_seconds"], result.results["final_loss"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="300,400,500", help="step counts, comma-separated")
    parser.add_argument("--seeds", default="42,1,2", help="train.seed values, comma-separated")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.FIELD=VALUE",
                        help="change a quickstart setting, e.g. --set train.learning_rate=0.005")
    parser.add_argument("--smoke", action="store_true", help="the smoke settings (FTLAB_SMOKE=1) instead of the real")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    table: dict[int, dict[int, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in steps:
            table[n] = {}
            for seed in seeds:
                start = time.time()
                em, seconds, loss = tuned_exact_match(n, seed, tmp, args.set, args.smoke)
                table[n][seed] = em
                print(f"steps {n} seed {seed}: exact match {em:.3f}  final loss {loss:.4f}  training {seconds:.1f} s "
                      f"(run + evaluation {time.time() - start:.1f} s)", flush=True)
    settings = ["smoke settings" if args.smoke else "real settings"] + args.set
    print(f"\ntuned exact match on the test split ({', '.join(settings)})")
    print(f"{'steps':>6}" + "".join(f"{'seed ' + str(s):>10}" for s in seeds) + f"{'min':>8}")
    for n in steps:
        print(f"{n:>6}" + "".join(f"{table[n][s]:>10.3f}" for s in seeds) + f"{min(table[n].values()):>8.3f}")


if __name__ == "__main__":
    main()
