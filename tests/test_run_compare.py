"""The run comparison widget: choose runs, read their curves, final figures and the settings that differ."""

import ftlab
from ftlab.widgets import RunComparison
from ftlab.widgets.html_table import HIGHLIGHT


def test_choosing_two_runs_overlays_their_curves_and_highlights_the_setting_that_differs(small_config, tmp_path):
    for name, rate in (("slow", "1e-4"), ("fast", "3e-3")):
        ftlab.train(small_config("train.max_steps=6", "train.eval_steps=0", "train.save_steps=0", "eval.at_end=false",
                                 "eval.timeline_prompts=0", f"train.learning_rate={rate}", f"train.run_name={name}"))
    view = RunComparison(tmp_path / "runs")
    assert sorted(label for label, _ in view.select.options) == ["fast", "slow"]
    view.choose(["slow", "fast"])
    assert [trace.name for trace in view.figure.data] == ["slow", "fast"]
    assert all(len(trace.x) >= 1 for trace in view.figure.data)  # train loss logged every 5 steps
    settings = view.config_table.value
    assert "train.learning_rate" in settings and "0.0001" in settings and "0.003" in settings
    assert settings.count("<tr") == 2 and settings.count(HIGHLIGHT) == 1  # header + the one differing setting
    assert "final_loss" in view.results_table.value and view.results_table.value.count("<tr") == 3
    view.only_differences.value = False  # every setting, the differing one still marked
    assert view.config_table.value.count("<tr") > 20 and view.config_table.value.count(HIGHLIGHT) == 1
