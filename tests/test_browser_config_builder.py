"""The config builder in a real JupyterLab, driven with the mouse and keyboard: a control changed in the page
rewrites the YAML text beside it, text typed into the YAML sets the controls, a typing mistake is flagged at its
field, and the diff against an earlier run lists what changed.

The headless tests set the widgets' values in the kernel; this one changes them in the page, so each change goes
from the browser's widget state through the kernel's observers and back to the page.  Screenshots, one per step,
go to $FTLAB_SCREENSHOTS/config_builder (/tmp/ftlab-screenshots).
"""

import re

import pytest
from browser import jupyterlab, notebook, open_and_run, screenshot_folder

from ftlab.config import Config
from ftlab.training.rundir import RunDir

pytestmark = pytest.mark.browser


BUILDER = """\
from ftlab.config import Config
from ftlab.widgets import ConfigBuilder

builder = ConfigBuilder(Config.load({config!r}))
builder
"""


def _type_over_line(page, textarea, line: int, text: str) -> None:
    """Put the caret on ``line`` (from 1) of the text area with the keyboard, select that line and type ``text``."""
    textarea.click()
    page.keyboard.press("Control+Home")
    for _ in range(line - 1):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("End")
    page.keyboard.press("Shift+Home")
    page.keyboard.type(text)


def _line(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_a_control_changed_in_the_page_rewrites_the_yaml_and_typed_yaml_sets_the_controls(tmp_path):
    import nbformat
    from playwright.sync_api import expect

    SCREENSHOTS = screenshot_folder("config_builder")
    earlier = Config().override([f"train.output_dir={tmp_path / 'runs'}", "train.run_name=earlier"])
    RunDir.create(earlier)  # what an earlier run leaves: its config.yaml (and results.json)
    start = earlier.save(tmp_path / "start.yaml")
    with jupyterlab(tmp_path) as (base, folder):
        nbformat.write(notebook(BUILDER.format(config=str(start))), folder / "builder.ipynb")
        with open_and_run(base, "builder.ipynb") as page:
            page.set_viewport_size({"width": 1600, "height": 1500})  # the tabs and the YAML side by side
            output = page.locator(".jp-OutputArea-output").last
            yaml_box = output.locator(".ftlab-yaml textarea")
            expect(yaml_box).to_have_value(re.compile(r"\n  learning_rate: 0\.002\n"))

            # 1. A control, clicked and typed into: the YAML follows.
            output.get_by_role("tab", name="Method", exact=True).click()
            output.locator(".ftlab-setting-method-name select").select_option("dora")
            expect(yaml_box).to_have_value(re.compile(r"^method:\n  name: dora\n", re.MULTILINE))
            output.get_by_role("tab", name="Hyper-parameters", exact=True).click()
            rate = output.locator(".ftlab-setting-train-learning_rate input")
            rate.click()
            page.keyboard.press("Control+a")
            page.keyboard.type("0.0005")
            page.keyboard.press("Enter")
            expect(yaml_box).to_have_value(re.compile(r"\n  learning_rate: 0\.0005\n"))
            output.screenshot(path=SCREENSHOTS / "1_control_changed_the_yaml.png")

            # 2. The YAML, typed into: the control follows once the text area is left.
            text = yaml_box.input_value()
            _type_over_line(page, yaml_box, _line(text, "  max_steps:"), "  max_steps: 77")
            output.get_by_text("the controls follow").click()  # leaving the box sends the edit
            steps = output.locator(".ftlab-setting-train-max_steps input")
            expect(steps).to_have_value("77")
            expect(yaml_box).to_have_value(re.compile(r"\n  max_steps: 77\n"))
            output.screenshot(path=SCREENSHOTS / "2_yaml_changed_the_control.png")

            # 3. The diff against the earlier run: exactly the three settings changed above.
            output.locator(".ftlab-runs select").select_option(label="earlier")
            diff = output.locator(".ftlab-diff")
            expect(diff).to_contain_text("3 setting(s) differ from earlier")
            cells = diff.locator("td").all_inner_texts()
            assert cells == ["method.name", "lora", "dora", "train.learning_rate", "0.002", "0.0005",
                             "train.max_steps", "300", "77"]
            diff.scroll_into_view_if_needed()
            output.screenshot(path=SCREENSHOTS / "3_diff_against_the_earlier_run.png")

            # 4. A value that is no number: flagged at its control with its line, the config left as it was.
            line = _line(yaml_box.input_value(), "  batch_size:")
            _type_over_line(page, yaml_box, line, "  batch_size: big")
            output.get_by_text("the controls follow").click()
            flag = f"in the YAML, line {line}: expected int, got 'big'."
            expect(output.get_by_text(flag, exact=False)).to_be_visible()
            expect(output.locator(".ftlab-yaml-error")).to_contain_text(
                f"line {line}: train.batch_size: expected int, got 'big'.")
            expect(output.locator(".ftlab-setting-train-batch_size input")).to_have_value("16")
            expect(diff).to_contain_text("3 setting(s) differ from earlier")
            output.locator(".ftlab-yaml").scroll_into_view_if_needed()
            output.screenshot(path=SCREENSHOTS / "4_yaml_error_at_its_field.png")

            # 5. Text that is no YAML: the line named under the text area; then fixed, and the control follows.
            _type_over_line(page, yaml_box, line, "  batch_size: [16")
            output.get_by_text("the controls follow").click()
            expect(output.locator(".ftlab-yaml-error")).to_contain_text(
                f"the YAML text is not valid YAML at line {line + 1}, column 13: expected ',' or ']', but got ':'")
            output.screenshot(path=SCREENSHOTS / "5_yaml_syntax_error.png")
            _type_over_line(page, yaml_box, line, "  batch_size: 8")
            output.get_by_text("the controls follow").click()
            expect(output.locator(".ftlab-setting-train-batch_size input")).to_have_value("8")
            expect(output.locator(".ftlab-yaml-error")).to_have_count(0)
            expect(diff).to_contain_text("4 setting(s) differ from earlier")
