"""Compare runs by reading their directories: configs side by side, final figures, curves.

Nothing is kept in memory between calls; a run that is still training shows
what it has logged so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ftlab.training.rundir import RunDir

RESULT_KEYS = ("status", "stop_reason", "steps", "train_seconds", "trainable_params", "first_loss", "final_loss",
               "final_eval_loss", "best_step", "best_metric", "peak_rss_mb")


def list_runs(root: str | Path) -> list[RunDir]:
    """Run directories under ``root`` (any depth), newest first."""
    root = Path(root)
    found = [RunDir(p.parent) for p in root.glob("**/results.json") if (p.parent / "config.yaml").exists()]
    return sorted(found, key=lambda run: run.read_json("results.json").get("started", 0), reverse=True)


def flat_config(run: RunDir) -> dict[str, object]:
    return {f"{section}.{name}": value for section, values in run.config().to_dict().items()
            for name, value in values.items()}


@dataclass
class Comparison:
    names: list[str]
    configs: list[dict[str, object]]
    results: list[dict[str, object]]

    @property
    def differing(self) -> list[str]:
        """Settings whose values are not the same in every run (run names aside)."""
        keys = sorted(set().union(*self.configs)) if self.configs else []
        return [k for k in keys if k != "train.run_name" and len({repr(c.get(k)) for c in self.configs}) > 1]

    def results_table(self) -> list[dict[str, object]]:
        return [{"run": name, **{k: result.get(k) for k in RESULT_KEYS}}
                for name, result in zip(self.names, self.results)]


def compare_runs(runs: list[str | Path | RunDir]) -> Comparison:
    runs = [r if isinstance(r, RunDir) else RunDir(r) for r in runs]
    return Comparison(names=[r.path.name for r in runs], configs=[flat_config(r) for r in runs],
                      results=[r.read_json("results.json") for r in runs])
