"""The drift panel without a browser: the checks table, the length histograms, the timeline, the thresholds."""

import json
from pathlib import Path

import pytest

from ftlab.data.rows import training_rows
from ftlab.data.tasks import build_splits
from ftlab.ops.drift import Reference
from ftlab.ops.request_log import RequestRecord
from ftlab.widgets import DriftPanel, drift_html
from ftlab.widgets.drift_panel import length_figure, timeline_figure

CHINESE = [json.loads(line)["text"] for line in
           (Path(__file__).parent / "data" / "pii_mixed.jsonl").read_text(encoding="utf-8").splitlines()]


def pairs(task, seed, n):
    return [(r["prompt"][-1]["content"], r["reference"]) for r in training_rows(build_splits(task, seed, n, 1, 1)
                                                                                  ["train"], "prompt")]


@pytest.fixture(scope="module")
def reference():
    prompts, answers = zip(*pairs("cipher", 0, 1000))
    return Reference.from_texts(prompts, answers, len, "the cipher task's training split")


@pytest.fixture(scope="module")
def records():
    """200 requests like the training data, then 100 Chinese ones (answered in 3 s)."""
    rows = pairs("cipher", 31, 200) + [(text, "好的") for text in CHINESE[:100]]
    return [RequestRecord(user=f"u{i}", version="1", prompt=p, answer=a, prompt_tokens=len(p), answer_tokens=len(a),
                          latency_s=0.2 if i < 200 else 3.0, time=float(i)) for i, (p, a) in enumerate(rows)]


def test_the_panel_shows_the_checks_lengths_and_when_the_shift_began(reference, records):
    panel = DriftPanel(records, reference, window=100)
    alerts = {c.name for c in panel.report.alerts}
    assert "vocabulary" in alerts and "latency_p95_s" not in alerts
    assert panel.table.value.count("<b>alert</b>") == len(panel.report.alerts)
    assert "most over-represented prompt units: " in panel.table.value
    train, live = panel.lengths.data
    assert list(train.x) == [len(p) for p in reference.prompts] and list(live.x) == [len(r.prompt) for r in records]
    vocabulary, _, marked = panel.timeline.data
    assert list(vocabulary.x) == [1, 2, 3] and list(marked.x) == [3]  # only the Chinese window alerts
    assert vocabulary.y[2] > vocabulary.y[0] + 0.3


def test_thresholds_and_the_length_choice_redraw(reference, records):
    panel = DriftPanel(records, reference, window=100)
    panel.latency.value = 1.0  # the Chinese requests took 3 s: p95 now over budget
    assert "latency_p95_s" in {c.name for c in panel.report.alerts}
    assert "answers are slow: p95 latency 3.00 s over the 1 s budget" in panel.table.value
    panel.js.value = 1.0  # no divergence can pass this
    assert "vocabulary" not in {c.name for c in panel.report.alerts}
    marked = panel.timeline.data[2]  # the Chinese window still alerts, on its short answers only
    assert list(marked.x) == [3] and "vocabulary" not in marked.hovertext[0] and "answer_chars" in marked.hovertext[0]
    panel.measure.value = "answer_chars"
    assert list(panel.lengths.data[1].x) == [len(r.answer) for r in records]
    assert panel.lengths.layout.title.text == "answer length (characters)"


def test_the_static_view_needs_no_kernel(reference, records):
    panel = DriftPanel(records, reference, window=100)
    page = drift_html(panel.report)
    assert page == panel.html() and page.startswith("<div class='ftlab-drift'><h3>Drift: 300 requests against the "
                                                    "cipher task&#x27;s training split</h3>")
    assert type(length_figure("prompt_chars", reference, records)).__name__ == "Figure"
    assert type(timeline_figure([])).__name__ == "Figure"
