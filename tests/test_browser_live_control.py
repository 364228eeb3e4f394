"""The dashboard's buttons in a real JupyterLab, clicked while the cell that trains is busy: Pause, then Continue
(the run completes with the pause recorded), a new learning rate, then Stop (the run ends early with a checkpoint
and stop_reason).  Before ipykernel 7's subshells were used, these clicks reached the kernel only after the cell.

Screenshots and the measured click-to-stop delay go to $FTLAB_SCREENSHOTS/live_control (/tmp/ftlab-screenshots).
"""

import json
import re
import time

import pytest
from browser import jupyterlab, notebook, open_and_run, screenshot_folder

from ftlab.training.rundir import RunDir

pytestmark = pytest.mark.browser

SETUP = """\
import ftlab
from ftlab.config import Config
from ftlab.widgets import TrainingDashboard


def config(name, steps):
    return Config().override([
        "train.output_dir={runs}", f"train.run_name={{name}}", "data.task=cipher", "data.n_train=512",
        "data.n_validation=32", "data.n_test=16", f"train.max_steps={{steps}}", "train.logging_steps=5",
        "train.eval_steps=0", "train.save_steps=0", "eval.at_end=false", "eval.timeline_prompts=0"])
"""
PAUSE_RUN = """\
paused = TrainingDashboard(title="pause and continue", refresh_s=0.5)
display(paused)
first = ftlab.train(config("pause", 150), listeners=[paused])
print("pause run:", first.results["status"], first.results["stop_reason"], first.results["steps"])
"""
STOP_RUN = """\
stopped = TrainingDashboard(title="a new learning rate, then stop", refresh_s=0.5)
display(stopped)
second = ftlab.train(config("stop", 3000), listeners=[stopped])
print("stop run:", second.results["status"], second.results["stop_reason"], second.results["steps"])
"""


def _step(cell) -> int:
    """The step the dashboard shows ("37/150 steps ..."), 0 before the first."""
    found = re.search(r"(\d+)/\d+ steps", cell.locator(".widget-html-content").first.inner_text())
    return int(found.group(1)) if found else 0


def _wait_for_step(cell, step: int, timeout_s: float = 180) -> int:
    deadline = time.monotonic() + timeout_s
    while (now := _step(cell)) < step:
        assert time.monotonic() < deadline, f"the dashboard did not reach step {step} (shows {now})"
        time.sleep(0.2)
    return now


def _button(cell, label: str):
    """A dashboard button by its label (its icon adds no text)."""
    return cell.locator("button.jupyter-button", has_text=re.compile(rf"^\s*{label}\s*$"))


def _events(run_dir, wanted: int, timeout_s: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while len(events := RunDir(run_dir).read("events")) < wanted and time.monotonic() < deadline:
        time.sleep(0.2)
    return events


def test_pause_continue_learning_rate_and_stop_reach_a_busy_cell(tmp_path):
    import nbformat
    from playwright.sync_api import expect

    shots = screenshot_folder("live_control")
    runs = tmp_path / "runs"
    with jupyterlab(tmp_path) as (base, folder):
        nbformat.write(notebook(SETUP.format(runs=runs), PAUSE_RUN, STOP_RUN), folder / "live.ipynb")
        with open_and_run(base, "live.ipynb") as page:
            page.set_viewport_size({"width": 1280, "height": 1400})
            first, second = page.locator(".jp-CodeCell").nth(2), page.locator(".jp-CodeCell").nth(3)

            # Pause while the cell trains; the step holds; Continue finishes the run.
            _wait_for_step(first, 20)
            _button(first, "Pause").click()
            expect(first.get_by_text(re.compile(r"paused at step \d+/150"))).to_be_visible(timeout=30_000)
            held = int(re.search(r"paused at step (\d+)", first.inner_text()).group(1))
            time.sleep(3)
            assert f"paused at step {held}/150" in first.inner_text()
            first.screenshot(path=str(shots / "1_paused.png"))
            _button(first, "Continue").click()
            expect(first.locator(".jp-OutputArea")).to_contain_text("pause run: completed finished 150",
                                                                   timeout=180_000)
            pause, go_on = RunDir(runs / "pause").read("events")
            assert (pause["event"], pause["step"], go_on["event"], go_on["step"]) == ("pause", held, "continue", held)
            assert go_on["paused_s"] >= 3
            results = RunDir(runs / "pause").read_json("results.json")
            assert results["paused_seconds"] == pytest.approx(go_on["paused_s"], abs=0.01)
            first.screenshot(path=str(shots / "2_continued_and_done.png"))

            # A new learning rate typed into the box, then Stop: a checkpoint at the step it stopped on.
            _wait_for_step(second, 20)
            rate = second.locator("input[type=number]").first
            rate.fill("0.001")
            rate.press("Enter")
            _button(second, "Set lr").click()
            (lr,) = _events(runs / "stop", 1)
            assert lr["event"] == "lr" and lr["to"] == pytest.approx(0.001)
            _wait_for_step(second, lr["step"] + 10)
            shown = _step(second)
            clicked = time.time()
            _button(second, "Stop").click()
            expect(second.locator(".jp-OutputArea")).to_contain_text("stop run: completed stopped: stop button",
                                                                    timeout=120_000)
            results = RunDir(runs / "stop").read_json("results.json")
            stop = RunDir(runs / "stop").read("events")[-1]
            assert stop["event"] == "stop" and results["steps"] == stop["step"] < 3000
            assert (runs / "stop" / "checkpoints" / f"checkpoint-{stop['step']}").is_dir()
            assert "stopped (stop button); checkpoint saved" in second.inner_text()
            # the curves are drawn, with the events marked: one dotted line per panel for each
            plot = second.locator(".js-plotly-plot").first
            expect(plot.locator(".scatterlayer .trace path.js-line").first).to_be_visible()
            expect(plot.locator(".shapelayer path")).to_have_count(12)  # lr and stop, six panels each
            second.screenshot(path=str(shots / "3_lr_then_stopped.png"))
            delay = {"steps_after_the_click": stop["step"] - shown,
                     "seconds_click_to_applied": round(stop["applied"] - clicked, 3),
                     "seconds_in_kernel_from_click_to_applied": round(stop["applied"] - stop["asked"], 3),
                     "seconds_per_step": results["seconds_per_step"]}
            (shots / "click_to_stop.json").write_text(json.dumps(delay, indent=1))
            print("click to stop:", delay)
            assert delay["seconds_click_to_applied"] < 5  # it lands between two steps, not when the cell ends
