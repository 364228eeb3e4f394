"""What ftlab's monitoring costs: the same SFT run with bare TRL and with ftlab's monitor.

Both arms build the identical SFTTrainer (same model, data, arguments, seed);
the ftlab arm adds the RunMonitor callback writing a run directory and feeding
a live TrainingDashboard (headless, as under papermill) and a console printer.
Runs alternate so drift in machine load hits both arms alike.  Only
``trainer.train()`` is timed.  The last line is the median ratio ftlab/bare.

    python benchmarks/overhead.py [--steps 150] [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path


def timed_run(monitored: bool, steps: int, workdir: Path, index: int) -> float:
    from ftlab.quickstart import quickstart_config
    from ftlab.training.run_callback import ConsolePrinter, RunMonitor
    from ftlab.training.rundir import RunDir
    from ftlab.training.runner import build_trainer
    from ftlab.widgets import TrainingDashboard

    config = quickstart_config(max_steps=steps, output_dir=str(workdir))
    config.train.run_name = f"{'ftlab' if monitored else 'bare'}-{index}"
    config.train.eval_steps = 0
    config.train.save_steps = 0
    run = RunDir.create(config)
    callbacks = [RunMonitor(run, [TrainingDashboard(), ConsolePrinter(io.StringIO())])] if monitored else []
    trainer, _ = build_trainer(config, run, callbacks)
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        timed_run(False, 10, Path(tmp), -1)  # warm-up: imports, caches, first-call kernels
        for i in range(args.repeats):
            order = (False, True) if i % 2 == 0 else (True, False)
            seconds = {monitored: timed_run(monitored, args.steps, Path(tmp), i) for monitored in order}
            ratios.append(seconds[True] / seconds[False])
            print(f"repeat {i + 1}: bare {seconds[False]:.2f}s  ftlab {seconds[True]:.2f}s  "
                  f"ratio {ratios[-1]:.3f}", flush=True)
    print(f"median ratio ftlab/bare over {args.repeats} repeats of {args.steps} steps: "
          f"{statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
