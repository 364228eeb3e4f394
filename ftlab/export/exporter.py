"""``ftlab export``: a run's model built into each asked format, each artifact measured and gated.

For every format (default: all registered; those that cannot be built here are
recorded as skipped, with the reason) the artifact is built into
``OUT/<format>.partial`` and renamed to ``OUT/<format>`` only once complete, so
a full disk or any other failure mid-write leaves no half artifact under the
final name: the partial folder is removed and the artifact is recorded as
failed with the reason.  Each built artifact is then opened in its own runtime
and measured on this machine: size on disk (the whole folder), load time,
per-prompt latency p50 / p95 and tokens/s, the quality re-check against the
unquantised model (:mod:`ftlab.export.quality_recheck`) and the sanity gate against the
trained model (:mod:`ftlab.export.gate`).  Everything goes to ``OUT/export.json``
(written even when a gate fails); :func:`problems` lists what failed, which
makes ``ftlab export`` exit 1.

The reference for quality is the run's merged model (``RUN/merged``, or
``RUN/final`` when that is a whole model); for a prompt-learning run, which
cannot be merged, it is the trained adapter on its base, and only ``merged``
(the adapter with its base reference) is exported.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ftlab.config import Config
from ftlab.data.rows import Example, examples
from ftlab.data.sources import load_data
from ftlab.errors import FtlabError
from ftlab.eval.evaluation import answer_budget, default_max_new_tokens
from ftlab.export import gate, quality_recheck
from ftlab.export.formats import FORMATS
from ftlab.export.opening import ARTIFACT_FILE
from ftlab.export.runtime import TransformersRuntime
from ftlab.files import atomic_write_json, read_json
from ftlab.training.rundir import RunDir

EXPORT_FILE = "export.json"
# 50 test prompts: about 35 s of CPU time per artifact on the built-in model (the quickstart's export, four
# artifacts and the reference, took 183 s of CPU time), and enough for an interval a 10-point drop stands out of.
DEFAULT_PROMPTS = 50
GATE_PROMPTS = 8  # the first test examples: the fixed prompts of the gate's answers check


def folder_size(folder: Path) -> int:
    """Bytes of every file under ``folder``: what the artifact really takes on disk."""
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())


def check_run(run_dir: str | Path) -> Path:
    """``run_dir`` if it is a run directory with a final model, else why not and what to do."""
    run = Path(run_dir)
    if not (run / "config.yaml").is_file():
        raise FtlabError(f"{run} is not a run directory (no config.yaml); ftlab export takes a run directory "
                         "made by ftlab train or ftlab quickstart.")
    if not (run / "final").is_dir():
        status = read_json(run / "results.json").get("status", "unknown")
        raise FtlabError(f"{run} has no final model to export (no final/ folder; the run's status is {status!r}, "
                         f"see {run / 'results.json'}). Export a finished run, or finish this one with "
                         f"ftlab resume {run}.")
    return run


def is_prompt_learning(config: Config) -> bool:
    from ftlab.training.methods import METHODS

    return METHODS[config.method.name].family == "prompt"


def _machine() -> dict:
    import torch

    return {"host": socket.gethostname(), "cpu_cores": os.cpu_count(), "cuda": torch.cuda.is_available(),
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def _machine_words(machine: dict) -> str:
    if machine["cuda"]:
        return f"{machine['host']}, {machine['gpu']}"
    return f"{machine['host']}, {machine['cpu_cores']} CPU cores and no CUDA GPU"


@dataclass
class Baseline:
    """What every artifact of one run is compared with, measured once per export."""

    run: Path
    config: Config
    source: Path  # what the formats build from: the merged model (or a prompt-learning run's adapter)
    reference: str  # the unquantised model the quality re-check compares with, in words
    metric: str
    examples: list[Example]
    max_new_tokens: int
    reference_answers: quality_recheck.Answers
    reference_size: int
    expected: gate.Expected

    def to_json(self) -> dict:
        return {"run_dir": str(self.run), "reference": self.reference, "metric": self.metric,
                "prompts": len(self.examples), "max_new_tokens": self.max_new_tokens,
                "reference_figures": {"size_bytes": self.reference_size, **self.reference_answers.timing()}}


def source_model(run: Path, config: Config) -> Path:
    """The folder formats build from: the merged model, or a prompt-learning run's adapter (not mergeable)."""
    from ftlab.training.merged import merged_model

    return run / "final" if is_prompt_learning(config) else merged_model(run)


def _check_prompts(prompts: int) -> None:
    if prompts < 1:
        raise FtlabError(f"--prompts must be at least 1 (got {prompts}): the quality re-check needs test examples.")


def prepare(run_dir: str | Path, prompts: int = DEFAULT_PROMPTS) -> Baseline:
    """The run's test examples, the reference model's answers to them, and the trained model's gate figures."""
    from ftlab.models.loader import load_model, load_tokenizer
    from ftlab.training.methods import METHODS
    from ftlab.training.saved import load_trained

    _check_prompts(prompts)
    run = check_run(run_dir)
    config = RunDir(run).config()
    source = source_model(run, config)
    chosen = examples(load_data(config.data)["test"], config.data.system_prompt)[:prompts]
    if not chosen:
        raise FtlabError(f"{run}: the run's test split has no examples to re-check quality on; give the run a test "
                         "split (data.n_test or data.test_file).")
    trained = TransformersRuntime(*load_trained(run), name=f"{run.name}/final")
    budget = default_max_new_tokens(config) or answer_budget(trained.tokenizer, [e.reference for e in chosen])
    expected = gate.expect(trained, run, [e.prompt for e in chosen[:GATE_PROMPTS]], budget,
                           quantized_training=METHODS[config.method.name].quantized)
    if source == run / "final":  # full fine-tuning or a prompt method: the trained model is the reference
        reference, words = trained, f"{source} (the trained model as saved; nothing to merge)"
        if is_prompt_learning(config):
            words = (f"{source} ({config.method.name} adapter on {config.model.name}; a prompt-learning adapter "
                     "cannot be merged)")
    else:
        reference = TransformersRuntime(load_model(str(source)), load_tokenizer(str(source)), name=str(source))
        words = f"{source} (the run's adapter merged into {config.model.name}, full precision)"
        trained.close()
    answers = quality_recheck.answer_all(reference, chosen, budget)
    reference.close()
    return Baseline(run, config, source, words, quality_recheck.task_metric(config), chosen, budget, answers,
                    folder_size(source), expected)


def skip_reason(name: str, config: Config, machine: dict) -> str | None:
    """Why ``name`` is not built for this run on this machine, or None."""
    fmt = FORMATS[name]
    if fmt.needs_gpu and not machine["cuda"]:
        return (f"{name} needs a CUDA GPU and this machine ({_machine_words(machine)}) has none; export it on a GPU "
                f"machine (ftlab export RUN_DIR --format {name}). The other formats are built here.")
    missing = fmt.unavailable()
    if missing:
        return f"{name} {missing}"
    if name != "merged" and is_prompt_learning(config):
        return (f"{config.method.name} is a prompt-learning method: its virtual tokens cannot be merged into the "
                f"weights, so there is no merged model to convert to {name}; only merged (the adapter with its base "
                "reference) is exported.")
    return None


def build_artifact(name: str, source: Path, out: Path, info: dict) -> str | None:
    """Build ``out/name`` through ``out/name.partial``; None when complete, else why it failed (nothing is left
    under ``out/name`` half-written)."""
    final, partial = out / name, out / f"{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        partial.mkdir(parents=True)
        FORMATS[name].build(source, partial)
        atomic_write_json(partial / ARTIFACT_FILE, {**read_json(partial / ARTIFACT_FILE), **info, "format": name})
        if final.exists():  # a previous export's artifact: replaced only by a complete one
            old = out / f"{name}.old"
            shutil.rmtree(old, ignore_errors=True)
            final.rename(old)
            partial.rename(final)
            shutil.rmtree(old)
        else:
            partial.rename(final)
        return None
    except Exception as exc:  # noqa: BLE001 - any failure mid-write is recorded, the partial removed
        kept = (f" The earlier artifact at {final} was left as it was." if final.exists()
                else f" Nothing was left at {final}.")
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return (f"{name}: the disk filled up while writing {partial} ({exc.strerror or 'no space left'}); the "
                    f"partial folder was removed.{kept} Free space on that disk or export to another --out.")
        return f"{name}: building failed ({type(exc).__name__}: {exc}); the partial folder was removed.{kept}"
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def measure(baseline: Baseline, name: str, folder: Path) -> dict:
    """Open the artifact in its own runtime; its size, load time, latency, quality re-check and gate."""
    fmt = FORMATS[name]
    began = time.perf_counter()
    runtime = fmt.open(folder)
    load_seconds = time.perf_counter() - began
    try:
        answers = quality_recheck.answer_all(runtime, baseline.examples, baseline.max_new_tokens)
        checked = gate.run_gate(runtime, answers.texts[:GATE_PROMPTS], baseline.expected, fmt.lossless, folder, name)
    finally:
        runtime.close()
    scored = quality_recheck.recheck(baseline.metric, baseline.examples, answers.texts,
                                     baseline.reference_answers.texts, baseline.config.eval.resamples,
                                     baseline.config.data.seed)
    size = folder_size(folder)
    return {"size_bytes": size, "size_ratio": round(size / baseline.reference_size, 4) if baseline.reference_size
            else None, "load_seconds": round(load_seconds, 3), **answers.timing(), "quality": scored,
            "gate": checked.to_json()}


def _entry(name: str, status: str, reason: str | None = None, figures: dict | None = None) -> dict:
    return {"format": name, "path": name, "status": status, "reason": reason, "size_bytes": None,
            "load_seconds": None, "latency_p50_s": None, "latency_p95_s": None, "tokens_per_second": None,
            "quality": None, "gate": None, **(figures or {})}


def output_folder(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Where the artifacts go: ``out``, else ``RUN_DIR/export`` beside the run's own records."""
    return Path(out) if out is not None else Path(run_dir) / "export"


def choose_formats(formats: Sequence[str] | None) -> list[str]:
    """The asked formats (each checked against the registry), or every registered one."""
    if not formats:
        return list(FORMATS.names())
    for name in formats:
        FORMATS[name]  # an unknown name stops here with the registry's closest-name message
    return list(dict.fromkeys(formats))


def export(run_dir: str | Path, formats: Sequence[str] | None = None, out: str | Path | None = None,
           prompts: int = DEFAULT_PROMPTS) -> dict:
    """Build, measure and gate ``formats`` of the run (default: every format that can be built here) into
    ``out`` (default ``RUN_DIR/export``); write and return ``export.json``.  See the module docstring."""
    run = check_run(run_dir)
    names = choose_formats(formats)
    _check_prompts(prompts)
    config = RunDir(run).config()
    out = output_folder(run, out)
    out.mkdir(parents=True, exist_ok=True)
    machine = _machine()
    skipped = {name: skip_reason(name, config, machine) for name in names}
    source = source_model(run, config) if any(reason is None for reason in skipped.values()) else None
    info = {"run_dir": str(run), "method": config.method.name, "base_model": config.model.name,
            "contents": "adapter" if is_prompt_learning(config) else "model"}
    baseline: Baseline | None = None  # measured once the first artifact is built: nothing to compare before
    artifacts = []
    for name in names:
        if skipped[name] is not None:
            artifacts.append(_entry(name, "skipped", skipped[name]))
            continue
        failure = build_artifact(name, source, out, info)
        if failure is not None:
            artifacts.append(_entry(name, "failed", failure))
            continue
        baseline = baseline or prepare(run, prompts)
        try:
            artifacts.append(_entry(name, "ok", figures=measure(baseline, name, out / name)))
        except Exception as exc:  # noqa: BLE001 - one artifact that will not run does not stop the others
            artifacts.append(_entry(name, "failed", f"{name}: built at {out / name}, but opening it or answering "
                                    f"with it failed ({type(exc).__name__}: {exc})."))
    header = baseline.to_json() if baseline else {"run_dir": str(run), "reference": str(source) if source else None,
                                                  "metric": quality_recheck.task_metric(config)}
    # Like the artifacts' paths, the run's is relative to the export folder: the folder and its run move together
    # (a notebook's runs/, a copied results tree) and export.json still finds both.
    report = {**header, "run_dir": os.path.relpath(run.resolve(), out.resolve()),
              "machine": machine, "artifacts": artifacts}
    atomic_write_json(out / EXPORT_FILE, report)
    return report


def recheck(run_dir: str | Path, artifact_dir: str | Path, prompts: int = DEFAULT_PROMPTS) -> dict:
    """Measure and gate an artifact that already exists (an earlier export, perhaps edited since): its
    ``export.json`` entry, not written anywhere."""
    folder = Path(artifact_dir)
    marker = folder / ARTIFACT_FILE
    if not marker.exists():
        raise FtlabError(f"{folder} is not an exported artifact (no {ARTIFACT_FILE}); export one with ftlab export.")
    name = read_json(marker)["format"]
    figures = measure(prepare(run_dir, prompts), name, folder)
    return {**_entry(name, "ok", figures=figures), "path": str(folder)}


def problems(report: dict) -> list[str]:
    """One message per artifact that failed to build or failed a gate check, with the fix; and one when no
    artifact was built at all (every asked format skipped)."""
    if not any(a["status"] != "skipped" for a in report["artifacts"]):
        asked = ", ".join(a["format"] for a in report["artifacts"])
        return [f"nothing was exported: every asked format was skipped ({asked}); see the reasons above."]
    out = []
    for artifact in report["artifacts"]:
        if artifact["status"] == "failed":
            out.append(f"export of {artifact['format']} failed: {artifact['reason']}")
        elif artifact["status"] == "ok" and not artifact["gate"]["passed"]:
            for check in artifact["gate"]["checks"]:
                if not check["passed"]:
                    out.append(f"export gate failed for {artifact['format']} ({artifact['path']}): "
                               f"{check['name']}: {check['detail']} Fix: {check['fix']}")
    return out
