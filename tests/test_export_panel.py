"""The export trade-off panel over an export.json: table rows, the scatter, the drill-down a click opens, static HTML.

``tests/data/export/export.json`` is an export of a quickstart run as ``ftlab export`` writes it: the merged
model, 8-bit and 4-bit artifacts (the 4-bit one loses quality and fails the answers check), a merged model with a
broken chat template (caught by the gate), a format that failed to load and two that were skipped.
"""

import copy
import html
import json
from pathlib import Path

import pytest

from ftlab.errors import FtlabError
from ftlab.widgets import ExportPanel, export_html, tradeoff_figure
from ftlab.widgets.export_panel import artifact_rows, read_export

EXPORT = Path(__file__).parent / "data" / "export"
RECORD = json.loads((EXPORT / "export.json").read_text())
BY_PATH = {a["path"]: a for a in RECORD["artifacts"]}
MEASURED = ["merged", "bnb-8bit", "bnb-4bit", "broken-template"]  # the artifacts with figures, in file order


@pytest.fixture
def panel():
    return ExportPanel(EXPORT)


def test_a_row_per_artifact_with_its_figures_in_display_units():
    rows = {r["path"]: r for r in artifact_rows(RECORD)}
    assert list(rows) == [a["path"] for a in RECORD["artifacts"]]
    four_bit = BY_PATH["bnb-4bit"]
    row = rows["bnb-4bit"]
    assert row["size_mb"] == pytest.approx(four_bit["size_bytes"] / 1e6)
    assert row["p50_ms"] == pytest.approx(four_bit["latency_p50_s"] * 1000)
    assert row["p95_ms"] == pytest.approx(four_bit["latency_p95_s"] * 1000)
    assert [row["difference"], row["low"], row["high"]] == [four_bit["quality"]["difference"],
                                                            *four_bit["quality"]["interval"]]
    assert row["verdict"] == "worse"  # its interval [-0.26, -0.06] excludes 0
    assert rows["bnb-8bit"]["verdict"] == "no clear difference"  # [-0.08, 0.04] holds 0
    assert (row["gate"], row["failing"]) == (False, ["answers"])
    assert rows["broken-template"]["failing"] == ["chat_template", "answers"]
    assert rows["merged"]["gate"] is True and rows["merged"]["failing"] == []
    for skipped in ("torchao-int8", "gguf-q4_k_m", "gptq"):  # no figures: shown as missing, with the reason
        assert rows[skipped]["size_mb"] is None and rows[skipped]["gate"] is None
        assert rows[skipped]["reason"] == BY_PATH[skipped]["reason"]
    # two artifacts of one format are told apart by their folder (where it is not named after the format)
    assert [r["label"] for r in rows.values()] == ["merged", "bnb-8bit", "bnb-4bit", "merged · broken-template",
                                                    "torchao-int8", "gguf-q4_k_m", "gptq"]


def test_the_table_shows_figures_reasons_and_failing_checks(panel):
    table = panel.widget.children[1].value
    assert table.count("<tr") == 1 + len(RECORD["artifacts"])
    assert "<b>fail</b>: chat_template, answers" in table and "<b>fail</b>: answers" in table
    assert "<b>-0.16 [-0.26, -0.06]</b> worse" in table
    assert "+0 [0, 0]" in table  # the merged model against itself
    assert "<b>skipped</b>: needs a CUDA GPU; this machine has none" in table
    assert "<b>failed</b>: torchao int8 weight-only: the artifact did not load (KeyError: &#x27;qdata&#x27;)" in table
    assert "0.9052" in table and "951" in table and "1304" in table  # 4-bit: MB, p50 and p95 ms


def test_the_scatter_plots_size_against_latency_and_against_quality(panel):
    def measured(key):
        return [BY_PATH[p][key] for p in MEASURED]

    trace = panel.figure.data[0]
    assert list(trace.text) == ["merged", "bnb-8bit", "bnb-4bit", "merged · broken-template"]
    assert list(trace.x) == pytest.approx([s / 1e6 for s in measured("size_bytes")])
    assert list(trace.y) == pytest.approx([s * 1000 for s in measured("latency_p50_s")])
    assert list(trace.error_y.array) == pytest.approx(
        [(p95 - p50) * 1000 for p50, p95 in zip(measured("latency_p50_s"), measured("latency_p95_s"))])
    assert panel.figure.layout.xaxis.range == pytest.approx((0, 1.3 * BY_PATH["merged"]["size_bytes"] / 1e6))
    assert list(trace.marker.color) == ["#16a34a", "#16a34a", "#dc2626", "#dc2626"]  # gate passed / failed
    assert "latency p50 184 ms, p95 241 ms, 87.9 tokens/s" in trace.hovertext[0]

    panel.axis.value = "quality"  # the same points against the quality difference, the interval as error bars
    trace = panel.figure.data[0]
    quality = measured("quality")
    assert list(trace.y) == [q["difference"] for q in quality]
    assert list(trace.error_y.array) == pytest.approx([q["interval"][1] - q["difference"] for q in quality])
    assert list(trace.error_y.arrayminus) == pytest.approx([q["difference"] - q["interval"][0] for q in quality])
    assert panel.figure.layout.yaxis.title.text == "quality difference"
    assert [s.y0 for s in panel.figure.layout.shapes] == [0]  # the no-difference line

    static = tradeoff_figure(RECORD, "quality")  # what a saved notebook keeps: a plain figure, the same points
    assert type(static).__name__ == "Figure" and list(static.data[0].y) == list(trace.y)
    with pytest.raises(FtlabError, match=r"y='size': the trade-off figure plots size against 'latency' or "
                                         r"'quality'\."):
        tradeoff_figure(RECORD, "size")


def test_a_click_on_an_artifact_opens_its_worst_regressions_and_gate_checks(panel):
    assert "click an artifact" in panel.detail.value
    panel.buttons[panel.labels.index("bnb-4bit")].click()
    assert panel.shown == "bnb-4bit"
    detail = panel.detail.value
    regressions = BY_PATH["bnb-4bit"]["quality"]["regressions"]
    assert "worst regressions (5 of 8)" in detail
    shown = [r for r in regressions if html.escape(r["question"]) in detail]
    assert [r["index"] for r in shown] == [3, 11, 29, 31, 42]  # equal drops: the file's order, the 6th left out
    assert "Encrypt with the shift-3 cipher: &lt;b&gt;tam&lt;/b&gt;" in detail  # escaped, not markup
    failing = next(c for c in BY_PATH["bnb-4bit"]["gate"]["checks"] if not c["passed"])
    assert html.escape(failing["detail"]) in detail and html.escape(failing["fix"]) in detail
    assert detail.index(">answers<") < detail.index(">chat_template<")  # the failing check first

    panel.buttons[panel.labels.index("merged · broken-template")].click()
    assert "copy chat_template.jinja from the run&#x27;s final model into the artifact folder" in panel.detail.value
    assert "&lt;|im_start|&gt;" in panel.detail.value  # what the broken artifact answered

    panel.buttons[panel.labels.index("gptq")].click()
    assert panel.detail.value.endswith("<div><b>skipped</b>: needs a CUDA GPU; this machine has none</div>")

    panel.buttons[0].click()
    assert "no regressions: no sample scores lower than with the reference model" in panel.detail.value
    with pytest.raises(FtlabError, match=r"no artifact 'int4' in .*export\.json; choose one of merged, bnb-8bit, "):
        panel.show("int4")


def test_the_button_colours_say_which_artifacts_need_a_look(panel):
    assert [b.button_style for b in panel.buttons] == ["success", "success", "danger", "danger", "danger", "", ""]


def test_the_static_html_holds_the_table_and_every_artifacts_drill_down(panel):
    page = export_html(EXPORT / "export.json")
    assert page == panel.html()
    assert panel.widget.children[1].value in page
    for artifact in RECORD["artifacts"]:
        assert f"({artifact['path']})</div>" in page
    for regression in BY_PATH["bnb-4bit"]["quality"]["regressions"][:5]:
        assert f"<td style='padding:2px 8px;border:1px solid #e5e7eb;vertical-align:top'>{regression['index']}</td>" \
               in page
    assert "plotly" not in page


def test_a_missing_or_incomplete_export_says_what_to_do(tmp_path):
    with pytest.raises(FtlabError) as missing:
        ExportPanel(tmp_path)
    assert str(missing.value) == (f"{tmp_path / 'export.json'} does not exist; export first (ftlab export RUN_DIR "
                                  "--format FORMAT --out DIR) and give the --out folder or its export.json.")
    torn = copy.deepcopy(RECORD)
    del torn["artifacts"][2]["status"]
    (tmp_path / "export.json").write_text(json.dumps(torn))
    with pytest.raises(FtlabError) as incomplete:
        read_export(tmp_path / "export.json")
    assert str(incomplete.value) == (f"{tmp_path / 'export.json'}: artifacts[2] has no 'status'; the file is "
                                     "incomplete (an interrupted export?): export again.")
    (tmp_path / "export.json").write_text(json.dumps({"run_dir": "runs/x"}))
    with pytest.raises(FtlabError, match=r"has no 'artifacts' list; it was not written by ftlab export"):
        read_export(tmp_path)
