import pytest

from ftlab.eval.generate import EvalReport, side_by_side
from ftlab.eval.metrics import chrf, exact_match, score


def test_exact_match_ignores_surrounding_whitespace_only():
    assert exact_match([" abc ", "abd", "ABC"], ["abc", "abc", "abc"]) == pytest.approx(1 / 3)


def test_chrf_gives_partial_credit_in_order():
    refs = ["jhzlghn", "lhwl"]
    assert chrf(refs, refs) == pytest.approx(1.0)
    assert 0 < chrf(["jhzlghx", "lhwx"], refs) < 1
    assert chrf(["qqqqqqq", "qqqq"], refs) < chrf(["jhzlghx", "lhwx"], refs)
    assert set(score(["a"], ["a"])) == {"exact_match", "chrf"}


def test_side_by_side_marks_right_and_wrong_answers():
    base = EvalReport({}, ["p1", "p2"], ["a", "b"], ["x", "b"])
    tuned = EvalReport({}, ["p1", "p2"], ["a", "b"], ["a", "b"])
    rows = side_by_side(base, tuned)
    assert [(r["base_ok"], r["tuned_ok"]) for r in rows] == [(False, True), (True, True)]
