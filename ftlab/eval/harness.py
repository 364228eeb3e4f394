"""Standard benchmarks through EleutherAI's lm-evaluation-harness, on a loaded model or a run's model.

Where a network exists, ``run_harness(model, tokenizer, ["hellaswag", ...])``
runs the harness's own task definitions and datasets.  Offline (CI, the
built-in model), :func:`builtin_task` writes a harness task over one of
ftlab's built-in tasks — a local JSONL dataset and a YAML definition — so the
same adapter runs end to end with nothing downloaded.  The model is handed to
the harness as an object (``HFLM(pretrained=model)``), prompts go through the
tokenizer's chat template, and generation stops at the end-of-turn token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import yaml

from ftlab.data.tasks import build_splits, get_task
from ftlab.files import atomic_write_text, write_jsonl


def builtin_task(task: str, folder: str | Path, n: int = 50, seed: int = 0) -> str:
    """Write ``ftlab_<task>``: ``n`` test examples of a built-in task as a harness task; returns its folder."""
    spec = get_task(task)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"prompt": r.messages[0]["content"], "completion": r.messages[1]["content"]}
            for r in build_splits(spec, seed, 1, 1, n)["test"]]
    data = write_jsonl(folder / f"ftlab_{task}.jsonl", rows)
    definition = {
        "task": f"ftlab_{task}", "dataset_path": "json", "dataset_kwargs": {"data_files": {"test": str(data)}},
        "test_split": "test", "output_type": "generate_until", "doc_to_text": "{{prompt}}",
        "doc_to_target": "{{completion}}",
        "generation_kwargs": {"until": ["<|im_end|>"], "do_sample": False, "max_gen_toks": spec.max_new_tokens},
        "filter_list": [{"name": "strip", "filter": [{"function": "remove_whitespace"}, {"function": "take_first"}]}],
        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}],
    }
    atomic_write_text(folder / f"ftlab_{task}.yaml", yaml.safe_dump(definition, sort_keys=False))
    return str(folder)


def run_harness(model: Any, tokenizer: Any, tasks: Sequence[str], limit: int | None = None,
                include_path: str | None = None, batch_size: int = 16, chat: bool = True) -> dict:
    """The harness's results per task: ``{task: {metric: value, ...}}``."""
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    harness_model = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
    results = simple_evaluate(model=harness_model, tasks=list(tasks), limit=limit,
                              task_manager=TaskManager(include_path=include_path), apply_chat_template=chat,
                              log_samples=False)
    return {task: {k.split(",")[0]: (float(v) if isinstance(v, float) or hasattr(v, "item") else v)
                   for k, v in figures.items() if k not in ("alias", "name")}
            for task, figures in results["results"].items()}
