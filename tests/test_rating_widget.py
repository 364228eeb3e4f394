"""The rating widget without a browser: click its buttons and send keys through the message path the browser uses."""

import importlib.util
import sys
from pathlib import Path

import pytest

from ftlab.errors import FtlabError
from ftlab.eval.judge import chrf_judge, judge_pairs
from ftlab.eval.ratings import read_ratings

# An editable install maps ftlab.widgets to the checkout it was installed from, which may not be this one
# (a git worktree): load this checkout's widgets under that name unless they are already imported.
if "ftlab.widgets" not in sys.modules:
    _WIDGETS = Path(__file__).resolve().parent.parent / "widgets"
    _spec = importlib.util.spec_from_file_location("ftlab.widgets", _WIDGETS / "__init__.py",
                                                   submodule_search_locations=[str(_WIDGETS)])
    sys.modules["ftlab.widgets"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["ftlab.widgets"])

from ftlab.widgets import RatingWidget  # noqa: E402

SYSTEMS = ("base-model", "tuned-model")
ITEMS = [{"id": f"q{i}", "prompt": f"Reverse: word{i}", "reference": f"{i}drow", "a": f"{i}drow", "b": f"word{i}"}
         for i in range(4)]


def send_key(widget: RatingWidget, key: str) -> None:
    """What the browser sends when a key is pressed on the keyboard strip: a custom comm message."""
    widget.keyboard._handle_msg({"content": {"data": {"method": "custom", "content": {"key": key}}}, "buffers": []})


def shown_text(widget: RatingWidget) -> str:
    return " ".join([widget.prompt.value, widget.progress.value, widget.keyboard.hint]
                    + [a.value for a in widget.answers.values()] + [b.description for b in widget.buttons])


@pytest.fixture
def widget(tmp_path):
    return RatingWidget(ITEMS, tmp_path, systems=SYSTEMS, seed=3)


def test_answers_are_shown_blind_and_sides_are_randomised_per_item(widget):
    lefts = []
    while not widget.done:
        assert all(name not in shown_text(widget) for name in SYSTEMS)
        assert widget.current[widget.left] in widget.answers["left"].value
        lefts.append(widget.left)
        widget.skip()
    assert set(lefts) == {"a", "b"}  # seed 3 puts system B on the left for some items


def test_buttons_record_the_choice_in_system_terms_save_it_and_advance(widget, tmp_path):
    seen = []
    widget.on_rating(seen.append)
    expected = []
    for button, side in zip(widget.buttons[:3], ("left", "tie", "right")):
        left = widget.left
        expected.append((widget.current["id"], left, {"left": left, "tie": "tie", "right": "ab"[left == "a"]}[side]))
        button.click()
    assert [(r["item"], r["left"], r["choice"]) for r in read_ratings(tmp_path)] == expected
    assert widget.ratings == read_ratings(tmp_path) == seen
    assert widget.progress.value == "<b>3 of 4 rated</b>"
    assert widget.current["id"] == "q3"


def test_keys_choose_score_the_focused_answer_and_skip(widget, tmp_path):
    left = widget.left
    send_key(widget, "4")  # the left answer is focused first
    assert widget.focus == "right"
    send_key(widget, "2")
    send_key(widget, "b")  # B is better: the answer on the right
    right = "ab"[left == "a"]
    row = read_ratings(tmp_path)[-1]
    assert (row["item"], row["choice"], row["left"]) == ("q0", right, left)
    assert (row[f"score_{left}"], row[f"score_{right}"]) == (4, 2)

    assert widget.focus == "left" and widget.score_buttons["left"].value is None  # the next item starts afresh
    left = widget.left
    send_key(widget, "ArrowLeft")
    send_key(widget, "n")
    send_key(widget, "t")
    assert [(r["item"], r["choice"]) for r in read_ratings(tmp_path)] == [("q0", right), ("q1", left), ("q3", "tie")]
    assert [r["score_a"] for r in read_ratings(tmp_path)[1:]] == [None, None]
    assert widget.skipped == ["q2"]
    assert widget.progress.value == "<b>3 of 4 rated</b> · 1 skipped"


def test_the_end_shows_the_summary_with_system_names_and_judge_agreement(tmp_path):
    verdicts = judge_pairs(ITEMS, chrf_judge).verdicts  # system A's reversed word wins every item
    widget = RatingWidget(ITEMS, tmp_path, systems=SYSTEMS, seed=3, verdicts=verdicts)
    for key in ("ArrowDown", "ArrowDown", "ArrowDown", "ArrowDown"):
        send_key(widget, key)
    assert widget.done
    assert widget.progress.value == "<b>4 of 4 rated</b>"
    assert all(button.disabled for button in widget.buttons) and widget.button_row.layout.display == "none"
    assert widget.keyboard.shortcuts == [] and widget.keyboard.hint == "all items rated"
    assert ("<b>base-model vs tuned-model</b> over 4 rated items; 95% Wilson intervals in brackets<br>"
            "base-model better: 0% (0%–49%) · tie: 100% (51%–100%) · tuned-model better: 0% (0%–49%)<br>"
            "agreement with the judge: 0% of 4 items, Cohen's kappa 0.00") in widget.summary.value


def test_a_new_widget_on_the_same_run_resumes_at_the_first_unrated_item(widget, tmp_path):
    widget.choose("left")
    widget.skip()
    widget.choose("tie")
    again = RatingWidget(ITEMS, tmp_path, systems=SYSTEMS, seed=3)
    assert again.current["id"] == "q1"
    assert again.progress.value == "<b>2 of 4 rated</b>"
    assert again.ratings == widget.ratings


def test_without_scores_the_digits_are_not_shortcuts(tmp_path):
    widget = RatingWidget(ITEMS, tmp_path, scores=False)
    assert widget.keyboard.shortcuts == ["a", "ArrowLeft", "t", "ArrowDown", "b", "ArrowRight", "n"]
    with pytest.raises(FtlabError) as error:
        widget.press("3")
    assert str(error.value) == "scores: this widget was built with scores=False, so answers take no score."


def test_bad_input_is_refused_with_the_field_named(widget, tmp_path):
    with pytest.raises(FtlabError) as error:
        RatingWidget(ITEMS, tmp_path / "missing")
    assert str(error.value).startswith(f"run_dir: {tmp_path / 'missing'} does not exist or is not a folder;")
    with pytest.raises(FtlabError) as error:
        RatingWidget(ITEMS, tmp_path, verdicts={"q0": "a"})
    assert str(error.value) == ("verdicts: no judge verdict for item 'q1' (3 items have none); judge the same items "
                                "that are rated, e.g. judge_pairs(items).verdicts.")
    with pytest.raises(FtlabError) as error:
        widget.press("x")
    assert str(error.value) == ("key: 'x' is not a rating shortcut; the keys are a, ArrowLeft, t, ArrowDown, b, "
                                "ArrowRight, n, 1, 2, 3, 4, 5.")
    with pytest.raises(FtlabError) as error:
        widget.choose("up")
    assert str(error.value) == "side: 'up' is not a side; choose 'left', 'right' or 'tie'."
    for _ in ITEMS:
        widget.skip()
    with pytest.raises(FtlabError) as error:
        widget.choose("left")
    assert str(error.value) == "Every item has been rated or skipped; there is no current item to choose for."
    assert widget.summary.value == "Nothing was rated."
