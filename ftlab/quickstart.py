"""The quickstart: base model → evaluate → fine-tune → evaluate again.

Notebook 00 walks through the same steps one cell at a time; ``ftlab
quickstart`` runs them headless and writes ``report.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from ftlab.config import Config
from ftlab.models.tiny import BUILTIN_MODEL

# Real settings reach ~100% exact match on the cipher in about a minute on two
# CPU cores; smoke settings show a clear rise in well under a minute.  Below
# ~250 steps the model is still on the plateau before it finds the letter
# mapping (exact match near 0), so smoke runs are not shortened further.
REAL = {"train.max_steps": 600, "data.n_train": 2000, "data.n_test": 200, "train.eval_steps": 100}
SMOKE = {"train.max_steps": 300, "data.n_train": 1000, "data.n_test": 100, "train.eval_steps": 100}


def quickstart_config(smoke: bool = False, model: str = BUILTIN_MODEL, method: str = "lora",
                      max_steps: int | None = None, output_dir: str = "runs", task: str = "cipher") -> Config:
    config = Config()
    for path, value in (SMOKE if smoke else REAL).items():
        config.set(path, value)
    config.model.name = model
    config.method.name = method
    config.data.task = task
    config.train.output_dir = output_dir
    config.train.learning_rate = 3e-3
    config.train.logging_steps = 10
    config.train.save_steps = config.train.max_steps
    if max_steps is not None:
        config.train.max_steps = max_steps
    return config


def run_quickstart(out: str | Path, smoke: bool = False, model: str = BUILTIN_MODEL, method: str = "lora",
                   max_steps: int | None = None, listeners=()) -> dict:
    from ftlab.data.loading import load_splits
    from ftlab.data.tasks import get_task
    from ftlab.eval.generate import evaluate, side_by_side
    from ftlab.models.loading import load_model, load_tokenizer
    from ftlab.monitor.system import peak_rss_mb
    from ftlab.training.runner import train

    start = time.time()
    out = Path(out)
    config = quickstart_config(smoke, model, method, max_steps, output_dir=str(out / "runs"))
    config.validate()
    test = load_splits(config.data)["test"]
    max_new = config.eval.max_new_tokens or get_task(config.data.task).max_new_tokens

    base_model = load_model(config.model.name, config.model.dtype)
    tokenizer = load_tokenizer(config.model.name)
    base = evaluate(base_model, tokenizer, test, max_new, config.eval.batch_size)
    del base_model

    result = train(config, listeners)
    tuned = evaluate(result.model, result.tokenizer, test, max_new, config.eval.batch_size)

    report = {
        "task": config.data.task, "model": config.model.name, "method": config.method.name, "smoke": smoke,
        "metric_name": "exact_match",
        "base_metric": base.metrics["exact_match"], "tuned_metric": tuned.metrics["exact_match"],
        "base_metrics": base.metrics, "tuned_metrics": tuned.metrics,
        "train_seconds": result.results["train_seconds"], "steps": result.results["steps"],
        "trainable_params": result.results["trainable_params"], "total_params": result.results["total_params"],
        "total_seconds": round(time.time() - start, 2), "peak_rss_mb": round(peak_rss_mb(), 1),
        "run_dir": str(result.run.path),
        "examples": side_by_side(base, tuned, 8),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return report
