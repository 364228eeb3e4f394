"""The data explorer without a browser: set its controls, check the rows and plots it produces."""

from pathlib import Path

from ftlab.data.parsing import load
from ftlab.data.prepare import prepare
from ftlab.widgets import DataExplorer
from ftlab.widgets.data_explorer import filter_records, render_record

EXAMPLES = Path(__file__).parent.parent / "examples" / "data"


def test_search_filters_and_pages_rows(tmp_path):
    prepared = prepare([EXAMPLES / "messy_support.csv", EXAMPLES / "qa.jsonl", EXAMPLES / "support_qa.csv"],
                       tmp_path, ["normalize", "drop_empty", "dedup", "pii"], validation=0, test=0)
    explorer = DataExplorer(prepared, page_size=4)
    train = prepared.version.splits["train"]
    assert explorer.split.options == ("train",)
    assert explorer.visible == train[:4]
    assert explorer.position.value == f"page 1/{-(-len(train) // 4)} · {len(train)} rows"
    explorer.next_button.click()
    assert explorer.visible == train[4:8]
    explorer.search.value = "CARD]"
    assert [r.where for r in explorer.visible] == ["messy_support.csv, line 5"] and explorer.page == 0
    assert "Sure — I changed the card [CARD]" in explorer.rows_html.value
    explorer.search.value = "qa.jsonl"  # the row's place is searchable too
    assert len(explorer.matching) == 8
    explorer.search.value = "no such text anywhere"
    assert explorer.visible == [] and "no rows match" in explorer.rows_html.value


def test_label_filter_and_plots_for_classification(tmp_path):
    prepared = prepare([EXAMPLES / "reviews.tsv"], tmp_path, ["normalize"], validation=0.2, test=0.2)
    explorer = DataExplorer(prepared)
    explorer.label.value = "negative"
    assert {r.label for r in explorer.matching} == {"negative"} and explorer.matching
    figures = explorer.figures()
    assert set(figures) == {"lengths", "labels", "drops"}
    labels = {trace.name: dict(zip(trace.x, trace.y)) for trace in figures["labels"].data}
    assert sum(labels["train"].values()) == len(prepared.version.splits["train"])
    hist = next(t for t in figures["lengths"].data if t.name == "train")
    assert sorted(hist.x) == sorted(len(r.joined()) for r in prepared.version.splits["train"])


def test_drop_reasons_plot_counts_each_reason_per_step(tmp_path):
    prepared = prepare([EXAMPLES / "messy_support.csv"], tmp_path, ["normalize", "drop_empty", "dedup"],
                       validation=0, test=0)
    fig = DataExplorer(prepared).figures()["drops"]
    bars = {t.name: dict(zip(t.x, t.y)) for t in fig.data}
    assert bars["empty assistant turn"]["drop_empty"] == 1 and bars["empty user turn"]["drop_empty"] == 1
    assert bars["exact duplicate"]["dedup"] == 1 and bars["exact duplicate"]["normalize"] == 0


def test_cards_by_format():
    pair = render_record(load(EXAMPLES / "preference.jsonl").records[0])
    assert "display:flex" in pair and pair.index("chosen") < pair.index("rejected")
    assert "A mutex is a lock" in pair and "It&#x27;s a thing in computers." in pair
    chat = render_record(load(EXAMPLES / "sharegpt.json").records[0])
    assert chat.count("<b>assistant</b>") == 2 and "<b>system</b>" in chat
    cot = render_record(load(EXAMPLES / "cot.jsonl").records[0])
    assert cot.index("<b>Q</b>") < cot.index("<b>rationale</b>") < cot.index("<b>A</b>")
    kto = [render_record(r) for r in load(EXAMPLES / "feedback_kto.csv").records[:2]]
    assert "👍 good" in kto[0] and "👎 bad" in kto[1]
    assert "&lt;script&gt;" in render_record(load([{"question": "<script>", "answer": "x"}]).records[0])


def test_filter_records_by_format():
    records = load(EXAMPLES / "alpaca.json").records + load(EXAMPLES / "qa.jsonl").records
    assert len(filter_records(records, fmt="alpaca")) == 5
    assert [r.where for r in filter_records(records, "canberra")] == ["qa.jsonl, line 8"]
