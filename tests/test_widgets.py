"""The widgets without a browser: drive them as a training run would, check what they hold."""

import ftlab
from ftlab.widgets import TrainingDashboard, run_figure


def _trace(figure, name):
    return next(t for t in figure.data if t.name == name)


def test_dashboard_follows_a_real_training_run(small_config):
    dashboard = TrainingDashboard(title="test", refresh_s=0.0)
    result = ftlab.train(small_config(), listeners=[dashboard])
    metrics = result.run.read("metrics")

    assert dashboard.progress.max == 30 and dashboard.progress.value == 30
    assert dashboard.progress.bar_style == "success"
    assert "30/30 steps" in dashboard.status.value and "done" in dashboard.status.value
    losses = [m["loss"] for m in metrics if "loss" in m]
    assert list(_trace(dashboard.figure, "train loss").y) == losses
    assert list(_trace(dashboard.figure, "eval loss").x) == [15, 30]
    assert len(_trace(dashboard.figure, "learning rate").y) == len(losses)
    assert min(_trace(dashboard.figure, "process RSS").y) > 50
    assert not _trace(dashboard.figure, "GPU memory").y  # no GPU here: the trace stays empty and hidden


def test_dashboard_shows_eta_while_running():
    dashboard = TrainingDashboard(refresh_s=0.0)
    dashboard.update("begin", {"max_steps": 100, "step": 0, "time": 0.0})
    dashboard.update("metrics", {"step": 25, "loss": 1.5, "elapsed": 10.0})
    assert dashboard.progress.value == 25
    assert "ETA 0:30" in dashboard.status.value and "loss 1.5000" in dashboard.status.value


def test_redraws_are_throttled(monkeypatch):
    dashboard = TrainingDashboard(refresh_s=60.0)
    draws = []
    monkeypatch.setattr(dashboard, "redraw", lambda: draws.append(1))
    dashboard.update("begin", {"max_steps": 1000, "step": 0, "time": 0.0})
    for step in range(1, 1001):
        dashboard.update("progress", {"step": step, "max_steps": 1000, "elapsed": step * 0.01})
        dashboard.update("metrics", {"step": step, "loss": 1.0, "elapsed": step * 0.01})
    dashboard.update("end", {"step": 1000, "max_steps": 1000, "elapsed": 10.0})
    assert len(draws) == 2  # begin and end only: no redraw inside the refresh window
    assert len(dashboard.metrics) == 1000


def test_static_figure_reads_a_run_directory(small_config):
    result = ftlab.train(small_config("train.max_steps=10", "train.eval_steps=5"))
    figure = run_figure(result.run.path)
    assert list(_trace(figure, "eval loss").x) == [5, 10]
    assert len(_trace(figure, "train loss").y) == 2
    assert figure.layout.title.text == result.run.path.name


def test_a_sampled_group_is_an_escaped_table_shaded_by_the_group_mean():
    dashboard = TrainingDashboard(refresh_s=0.0)
    dashboard.update("begin", {"max_steps": 10, "step": 0, "time": 0.0, "stage": "grpo"})
    dashboard.update("groups", {"step": 4, "prompt": "Say <b>hi</b>", "reference": "hi & bye", "parts": ["correct"],
                                "answers": [{"answer": "<script>x</script>", "reward": 0.0, "parts": {"correct": 0.0}},
                                            {"answer": "hi & bye", "reward": 1.0, "parts": {"correct": 1.0}}]})
    shown = dashboard.stage_group.value
    assert "&lt;script&gt;x&lt;/script&gt;" in shown and "<script>" not in shown
    assert "Say &lt;b&gt;hi&lt;/b&gt;" in shown and "hi &amp; bye" in shown and "mean reward 0.5" in shown
    assert shown.count("background:#e6f4ea") == 1 and shown.count("background:#fdecea") == 1


def test_a_pipeline_s_next_stage_replaces_the_stage_panel():
    dashboard = TrainingDashboard(refresh_s=0.0)
    dashboard.update("begin", {"max_steps": 10, "step": 0, "time": 0.0, "stage": "dpo"})
    dashboard.stage_notes.value = "a DPO note"
    dashboard.update("begin", {"max_steps": 10, "step": 0, "time": 0.0, "stage": "grpo"})
    assert len(dashboard.widget.children) == 6 and dashboard.stage_figure in dashboard.widget.children
    assert dashboard.stage.name == "grpo" and dashboard.stage_notes.value == ""
