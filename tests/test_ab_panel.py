"""The A/B panel without a browser: set the controls, press the gate button, check the analysis, figure and HTML."""

import pytest

from ftlab.ops.request_log import RequestLog
from ftlab.ops.simulate import simulate_ab_traffic
from ftlab.widgets import ABPanel, ab_figure, ab_html

HALF = {"1": 0.5, "2": 0.5}


@pytest.fixture(scope="module")
def better():
    return simulate_ab_traffic(300, HALF, {"1": 0.5, "2": 0.7}, requests_per_user=8, user_spread=0.25, seed=3)


def test_the_panel_shows_both_arms_the_difference_and_how_it_narrowed(better, tmp_path):
    log = RequestLog(tmp_path / "requests.jsonl")
    for record in better:
        log.write(record)
    panel = ABPanel(log.path, control="1", candidate="2")
    a = panel.analysis
    assert a.verdict == "better" and a.level == 0.95
    bars, band, line = panel.figure.data
    assert list(bars.x) == ["version 1", "version 2"]
    assert list(bars.y) == pytest.approx([a.control_arm.mean * 100, a.candidate_arm.mean * 100])
    assert list(bars.error_y.array) == pytest.approx([(a.control_arm.interval[1] - a.control_arm.mean) * 100,
                                                      (a.candidate_arm.interval[1] - a.candidate_arm.mean) * 100])
    assert line.y[-1] == pytest.approx(a.difference * 100)  # the last point is the whole log
    assert list(line.x) == sorted(line.x) and line.x[-1] == 300
    widths = [band.y[i] - band.y[-1 - i] for i in range(len(line.x))]  # upper minus lower bound per point
    assert widths[-1] < widths[0] / 1.5  # the interval narrowed as users arrived
    table = panel.table.value
    assert "<b>better</b>" in table and "users still needed" in table and "none (decided)" in table
    assert f"{a.difference * 100:.4g}" in table


def test_changing_the_controls_reruns_the_analysis(better):
    panel = ABPanel(better, control="1", candidate="2")
    at95 = panel.analysis.interval
    panel.level.value = 0.99
    assert panel.analysis.level == 0.99
    assert panel.analysis.interval[0] < at95[0] and panel.analysis.interval[1] > at95[1]
    assert "99% interval" in panel.table.value
    needed = panel.analysis.users_required
    panel.min_effect.value = 0.02
    assert panel.analysis.users_required > 4 * needed  # a smaller effect needs (0.05/0.02)^2 = 6x the users
    panel.metric.value = "score"  # the simulated log has wins only: the panel says so instead of a table
    assert panel.error == ("version 1 has 0 user(s) with a known score in the log (versions logged: 1, 2); an A/B "
                           "test needs at least 2 users on each side with outcomes.")
    assert "cannot analyse:" in panel.table.value and panel.analysis.metric == "win"
    panel.metric.value = "win"
    assert panel.error is None and "<b>better</b>" in panel.table.value


def test_the_gate_button_promotes_in_the_registry(better, model_registry, lora_run):
    for _ in range(2):
        model_registry.register(lora_run, "repeat")
    model_registry.promote("repeat", 1)
    panel = ABPanel(better, control="1", candidate="2", registry=model_registry, name="repeat")
    assert not panel.gate_button.disabled
    panel.gate_button.click()
    assert panel.decision.action == "promote"
    assert model_registry.by_alias("repeat", "production").version == 2
    assert "<b>gate: promote</b>" in panel.table.value and "registry: repeat@production -&gt; version 2" in panel.html()
    assert ABPanel(better, "1", "2").gate_button.disabled  # no registry: nothing to press


def test_the_static_view_needs_no_kernel(better):
    panel = ABPanel(better, control="1", candidate="2")
    page = ab_html(panel.analysis)
    assert page.startswith("<div class='ftlab-ab'><h3>A/B test: version 2 against 1</h3>")
    assert "bootstrap over users within each arm" in page
    figure = ab_figure(panel.analysis)
    assert type(figure).__name__ == "Figure" and figure.layout.title.text.startswith("better: 2 vs 1")
