"""lm-evaluation-harness through ftlab's adapter, offline: a built-in task written as a harness task."""

import pytest

from ftlab.data.tasks import build_splits
from ftlab.eval.evaluation import evaluate
from ftlab.eval.harness import builtin_task, run_harness
from ftlab.models.loader import load_model, load_tokenizer


@pytest.mark.slow
def test_the_harness_scores_a_builtin_task_as_ftlab_does(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    model, tokenizer = load_model("ftlab/tiny-chat"), load_tokenizer("ftlab/tiny-chat")
    folder = builtin_task("reverse", tmp_path, n=20)
    harness = run_harness(model, tokenizer, ["ftlab_reverse"], include_path=folder)["ftlab_reverse"]
    ours = evaluate(model, tokenizer, build_splits("reverse", 0, 1, 1, 20)["test"], max_new_tokens=12, resamples=0)
    assert harness["sample_len"] == 20
    assert harness["exact_match"] == pytest.approx(ours.metrics["exact_match"], abs=0.051)  # one answer of 20
    assert 0.3 < harness["exact_match"] <= 1.0  # reversing is a pre-training skill, not always right
