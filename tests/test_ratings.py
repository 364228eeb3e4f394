"""Human ratings: saved line by line, read back after a crash, summed up with intervals and judge agreement."""

import json

import pytest
from sklearn.metrics import cohen_kappa_score

from ftlab.errors import FtlabError
from ftlab.eval.ratings import RatingLog, agreement, read_ratings, shown_left, summarize, wilson

ITEMS = [{"id": f"q{i}", "prompt": f"question {i}", "a": f"answer a{i}", "b": f"answer b{i}"} for i in range(8)]


@pytest.fixture
def log(tmp_path):
    return RatingLog(tmp_path, ITEMS, systems=("base", "tuned"))


def test_a_rating_is_one_json_line_in_system_terms(log, tmp_path):
    row = log.record("q1", "b", left="b", score_a=2, score_b=5)
    lines = (tmp_path / "ratings.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0]) == row
    assert {k: v for k, v in row.items() if k != "time"} == {
        "item": "q1", "system_a": "base", "system_b": "tuned", "left": "b", "choice": "b", "score_a": 2,
        "score_b": 5}
    assert row["time"] > 1.7e9
    assert log.read() == [row] == read_ratings(tmp_path, ("base", "tuned"))
    assert read_ratings(tmp_path, ("tuned", "dpo")) == []


def test_summary_counts_the_latest_rating_of_each_item_with_wilson_intervals(log):
    for item, choice, score_a in [("q0", "a", 4), ("q1", "a", 5), ("q2", "tie", None), ("q3", "b", 2),
                                  ("q4", "b", None), ("q0", "tie", 3)]:  # q0 rated again: the second one counts
        log.record(item, choice, score_a=score_a)
    summary = summarize(log.read())
    assert summary["n"] == 5 and summary["systems"] == ["base", "tuned"]
    assert summary["interval"] == "95% Wilson score"
    assert summary["win"]["rate"] == pytest.approx(1 / 5)
    assert summary["tie"]["rate"] == pytest.approx(2 / 5)
    assert summary["loss"]["rate"] == pytest.approx(2 / 5)
    assert (summary["win"]["low"], summary["win"]["high"]) == pytest.approx((0.0362, 0.6245), abs=1e-4)
    assert (summary["tie"]["low"], summary["tie"]["high"]) == pytest.approx((0.1176, 0.7693), abs=1e-4)
    assert summary["mean_score_a"] == pytest.approx((5 + 2 + 3) / 3) and summary["n_scored_a"] == 3
    assert summary["mean_score_b"] is None and summary["n_scored_b"] == 0


def test_wilson_keeps_width_where_every_rating_agrees():
    assert wilson(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)


def test_agreement_with_a_judge_is_scikit_learns_kappa_on_the_items_both_rated(log):
    people = {"q0": "a", "q1": "a", "q2": "tie", "q3": "b", "q4": "b", "q5": "a"}
    judge = {"q0": "a", "q1": "tie", "q2": "tie", "q3": "b", "q4": "a", "q5": "a", "q6": "b"}  # q6 not rated
    for item, choice in people.items():
        log.record(item, choice)
    result = agreement(log.read(), judge)
    ids = list(people)
    expected = cohen_kappa_score([people[i] for i in ids], [judge[i] for i in ids])
    assert result == {"n": 6, "agreement": pytest.approx(4 / 6), "kappa": pytest.approx(expected)}
    assert 0 < result["kappa"] < result["agreement"]  # chance agreement is discounted


def test_kappa_is_none_where_it_is_undefined(log):
    log.record("q0", "a")
    log.record("q1", "a")
    assert agreement(log.read(), {"q0": "a", "q1": "a"}) == {"n": 2, "agreement": 1.0, "kappa": None}


def test_a_torn_last_line_is_skipped_and_the_next_rating_still_reads(log, tmp_path):
    log.record("q0", "a")
    log.record("q1", "tie")
    with open(tmp_path / "ratings.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"item": "q2", "system_a": "base", "sys')  # a session killed mid-write
    assert [r["item"] for r in read_ratings(tmp_path)] == ["q0", "q1"]
    reopened = RatingLog(tmp_path, ITEMS, systems=("base", "tuned"))
    reopened.record("q2", "b")  # starts its own line instead of joining the torn one
    assert [(r["item"], r["choice"]) for r in reopened.read()] == [("q0", "a"), ("q1", "tie"), ("q2", "b")]


def test_left_sides_are_random_per_item_and_fixed_by_the_seed():
    sides = [shown_left(item["id"], seed=0) for item in ITEMS]
    assert sides == [shown_left(item["id"], seed=0) for item in ITEMS]
    assert set(sides) == {"a", "b"}
    assert sides != [shown_left(item["id"], seed=1) for item in ITEMS]


@pytest.mark.parametrize("call, message", [
    (lambda log: log.record("q99", "a"),
     "item_id: 'q99' is not one of the 8 items being rated ('q0', 'q1', 'q2', 'q3', 'q4', ...)."),
    (lambda log: log.record("q1", "A"),
     "choice: 'A' is not a choice; a choice is 'a', 'b' or 'tie', in system terms."),
    (lambda log: log.record("q1", "a", left="left"),
     "left: 'left' is not a system; left is 'a' or 'b', the system shown on the left."),
    (lambda log: log.record("q1", "a", score_b=6),
     "score_b: 6 is not a score; a score is a whole number from 1 to 5, or None."),
    (lambda log: log.record("q1", "a", score_a=4.5),
     "score_a: 4.5 is not a score; a score is a whole number from 1 to 5, or None."),
])
def test_bad_ratings_are_refused_with_the_field_named_and_nothing_saved(log, tmp_path, call, message):
    with pytest.raises(FtlabError) as error:
        call(log)
    assert str(error.value) == message
    assert not (tmp_path / "ratings.jsonl").exists()


def test_a_run_directory_that_does_not_exist_is_named(tmp_path):
    missing = tmp_path / "runs" / "nope"
    with pytest.raises(FtlabError) as error:
        RatingLog(missing, ITEMS)
    assert str(error.value) == (f"run_dir: {missing} does not exist or is not a folder; ratings are saved as "
                                "ratings.jsonl inside an existing run directory (or any folder), so create it "
                                "first or pass another.")


def test_the_two_systems_must_be_two_different_names(tmp_path):
    with pytest.raises(FtlabError) as error:
        RatingLog(tmp_path, ITEMS, systems=("base", "base"))
    assert str(error.value) == ("systems: expected the names of system A and system B, two different strings, "
                                "got ['base', 'base'].")


def test_summaries_refuse_nothing_and_mixed_pairs(tmp_path):
    with pytest.raises(FtlabError) as error:
        summarize([])
    assert str(error.value) == "ratings: there are none to summarise yet; rate at least one item."
    RatingLog(tmp_path, ITEMS, ("base", "tuned")).record("q0", "a")
    RatingLog(tmp_path, ITEMS, ("tuned", "dpo")).record("q0", "b")
    with pytest.raises(FtlabError) as error:
        summarize(read_ratings(tmp_path))
    assert str(error.value) == ("ratings: they compare 2 pairs of systems (base vs tuned, tuned vs dpo); summarise "
                                "one pair at a time: read_ratings(run_dir, systems=(a, b)).")


def test_agreement_needs_shared_items_and_valid_verdicts(log):
    log.record("q0", "a")
    with pytest.raises(FtlabError) as error:
        agreement(log.read(), {"q5": "a"})
    assert str(error.value) == ("verdicts: no rated item has a judge verdict; judge the items that were rated "
                                "(the ids must match).")
    with pytest.raises(FtlabError) as error:
        agreement(log.read(), {"q0": "first"})
    assert str(error.value) == "verdicts: item 'q0' has 'first'; a verdict is 'a', 'b' or 'tie'."
