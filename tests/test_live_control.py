"""Steering a run while it trains: pause and continue, a new learning rate, evaluate now, save now, events on the
curves, the run's log, one run at a time.  Each drives a real run through the dashboard's buttons or a listener."""

import shutil
import time
import warnings

import pytest

import ftlab
from ftlab.training.live_control import Request


class AskAt:
    """Asks for ``requests`` (step -> list of Request) at each step; the run must log every step
    (train.logging_steps=1), which is how this listener learns the step.  Optionally continues a pause."""

    def __init__(self, plan: dict[int, list[Request]], continue_after_s: float | None = None):
        self.plan, self.continue_after_s = dict(plan), continue_after_s
        self.step, self.paused_at = 0, None

    def update(self, kind, row):
        self.step = row.get("step", self.step)
        if kind == "events" and row["event"] == "pause":
            self.paused_at = time.monotonic()

    def requests(self):
        if self.paused_at is not None and time.monotonic() - self.paused_at >= self.continue_after_s:
            self.paused_at = None
            return [Request("continue")]
        return self.plan.pop(self.step, [])


def _rows(run, key):
    return {row["step"]: row[key] for row in run.read("metrics") if key in row}


def test_pause_holds_the_run_and_continue_finishes_it(small_config):
    from ftlab.widgets import TrainingDashboard

    dashboard = TrainingDashboard(refresh_s=0.0)
    asker = AskAt({6: [Request("pause")]}, continue_after_s=1.0)
    config = small_config("train.max_steps=12", "train.logging_steps=1", "train.eval_steps=0",
                          "train.save_steps=0")
    result = ftlab.train(config, listeners=[dashboard, asker])
    assert result.results["stop_reason"] == "finished" and result.results["steps"] == 12
    pause, go_on = result.run.read("events")
    assert (pause["event"], pause["step"], go_on["event"], go_on["step"]) == ("pause", 6, "continue", 6)
    assert 1.0 <= go_on["paused_s"] < 2.0 and result.results["paused_seconds"] == pytest.approx(go_on["paused_s"],
                                                                                                  abs=0.01)
    assert sorted(_rows(result.run, "loss")) == list(range(1, 13))
    # marked on the live curves: one dotted line per panel and a labelled marker
    markers = dashboard.figure.data[-1]
    assert list(markers.x) == [6] and markers.text[0].startswith("paused 1") and len(dashboard.figure.layout.shapes) == 6
    assert dashboard.controls.pause.description == "Pause" and dashboard.controls.pause.disabled


def test_new_learning_rate_scales_the_schedule_and_lasts_through_resume(small_config):
    common = ("train.max_steps=16", "train.logging_steps=1", "train.eval_steps=0", "train.save_steps=8",
              "train.lr_scheduler=linear", "train.warmup_ratio=0", "train.learning_rate=2e-3")
    straight = ftlab.train(small_config(*common, "train.run_name=straight"))
    changed = ftlab.train(small_config(*common, "train.run_name=changed"),
                          listeners=[AskAt({4: [Request("lr", 6e-3)]})])
    before, after = _rows(straight.run, "learning_rate"), _rows(changed.run, "learning_rate")
    (event,) = changed.run.read("events")
    assert event["event"] == "lr" and event["step"] == 4 and event["to"] == 6e-3
    assert event["from"] == pytest.approx(before[5])  # the rate the next step would have used
    assert all(after[s] == pytest.approx(before[s]) for s in range(1, 5))
    assert all(after[s] == pytest.approx(4 * before[s]) for s in range(5, 17))  # same shape, 6e-3 / 1.5e-3 higher
    # cut back to the checkpoint at step 8 and resumed: the scaled schedule came back with it
    from ftlab.training.rundir import RunDir

    run = RunDir(changed.run.path)
    shutil.rmtree(run.checkpoints_dir / "checkpoint-16")
    resumed = ftlab.resume(run.path)
    assert _rows(resumed.run, "learning_rate")[12] == pytest.approx(4 * before[12])
    assert [e["event"] for e in resumed.run.read("events")] == ["lr", "resumed"]


def test_evaluate_now_and_save_now_land_on_the_step_asked(small_config):
    config = small_config("train.max_steps=10", "train.logging_steps=1", "train.eval_steps=100",
                          "train.save_steps=0")
    result = ftlab.train(config, listeners=[AskAt({3: [Request("evaluate"), Request("save")]})])
    assert sorted(_rows(result.run, "eval_loss")) == [3, 10]  # asked, and the trainer's own at the last step
    assert [p.name for p in result.run.checkpoints_dir.glob("checkpoint-*")] == ["checkpoint-3"]
    assert [e["event"] for e in result.run.read("events")] == ["evaluate", "save"]


def test_evaluate_without_a_validation_pass_says_why(small_config):
    from ftlab.widgets import TrainingDashboard

    dashboard = TrainingDashboard(refresh_s=0.0)
    config = small_config("train.max_steps=6", "train.eval_steps=0", "train.save_steps=0", "train.logging_steps=1")
    result = ftlab.train(config, listeners=[dashboard, AskAt({2: [Request("evaluate"), Request("lr", "fast")]})])
    evaluate, lr = result.run.read("events")
    assert evaluate["error"] == ("This run has no validation pass to run (train.eval_steps is 0); set "
                                 "train.eval_steps > 0 before training to evaluate during it.")
    assert lr["error"] == "learning rate 'fast' is not a number; type one such as 1e-4."
    assert result.results["stop_reason"] == "finished" and not dashboard.figure.layout.shapes  # nothing done
    assert dashboard.controls.evaluate.tooltip == "This run has no validation pass (train.eval_steps is 0)"


def test_a_second_run_in_the_same_process_is_refused(small_config):
    inner_config = small_config("train.max_steps=2", "train.run_name=inner")
    refused = []

    class StartAnother:
        def update(self, kind, row):
            if kind == "begin":
                with pytest.raises(ftlab.FtlabError) as err:
                    ftlab.train(inner_config)
                refused.append(str(err.value))

    outer = ftlab.train(small_config("train.max_steps=2", "train.run_name=outer", "train.eval_steps=0",
                                     "train.save_steps=0"), listeners=[StartAnother()])
    assert refused == [f"A run is already training in this process ({outer.run.path}); stop it (the dashboard's "
                       "Stop button) or wait for it to end, then start this one."]
    assert ftlab.train(inner_config).results["status"] == "completed"  # and once it ended, the next one starts


def test_library_output_goes_to_the_log_panel_and_log_txt(small_config, capfd):
    from ftlab.widgets import TrainingDashboard

    dashboard = TrainingDashboard(refresh_s=0.0)

    class Warn:
        def update(self, kind, row):
            if kind == "begin":
                warnings.warn("a library's note", UserWarning)  # (pytest's settings ignore FutureWarnings)

    result = ftlab.train(small_config("train.max_steps=4", "train.eval_steps=0", "train.save_steps=0"),
                         listeners=[dashboard, Warn()])
    captured = capfd.readouterr()
    assert "a library's note" not in captured.err + captured.out  # not between the cells
    log = (result.run.path / "log.txt").read_text()
    assert "UserWarning: a library's note" in log
    assert "256 train rows, 32 validation rows, 32 test rows" in log and "trained to step 4 in" in log
    assert "UserWarning: a library's note" in dashboard.log_view.value
    assert dashboard._answers.get_title(1).startswith(f"Log ({len(log.splitlines())} lines")


def test_without_a_log_listener_warnings_still_show(small_config):
    class Warn:
        def update(self, kind, row):
            if kind == "begin":
                warnings.warn("shown as before", UserWarning)

    with pytest.warns(UserWarning, match="shown as before"):  # reported as ever (here to pytest)
        result = ftlab.train(small_config("train.max_steps=2", "train.eval_steps=0", "train.save_steps=0"),
                             listeners=[Warn()])
    assert "UserWarning: shown as before" in (result.run.path / "log.txt").read_text()


def test_run_figure_marks_the_events(small_config):
    from ftlab.widgets import run_figure

    result = ftlab.train(small_config("train.max_steps=6", "train.eval_steps=0", "train.save_steps=0",
                                      "train.logging_steps=1"),
                         listeners=[AskAt({3: [Request("save")], 5: [Request("stop", "enough")]})])
    figure = run_figure(result.run.path)
    markers = figure.data[-1]
    assert list(markers.x) == [3, 5] and list(markers.text) == ["save", "stop"]
    assert "stop at step 5: enough" in markers.hovertext[1]
    assert result.results["stop_reason"] == "stopped: enough" and result.results["steps"] == 5
