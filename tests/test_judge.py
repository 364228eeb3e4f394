"""Pairwise judging with the answers swapped: a verdict stands only when both orders agree."""

import pytest

from ftlab.errors import FtlabError
from ftlab.eval.judge import ModelJudge, check_items, chrf_judge, judge_pairs

ITEMS = [
    {"id": "rev", "prompt": "Reverse: kalum", "reference": "mulak", "a": "mulak", "b": "kalum"},
    {"id": "up", "prompt": "Uppercase: tovi", "reference": "TOVI", "a": "tovi", "b": "TOVI"},
    {"id": "same", "prompt": "Repeat: bor", "reference": "bor", "a": "bor", "b": "bor"},
    {"id": "zh", "prompt": "把日期写成中文: 2031-07-04", "reference": "2031年7月4日", "a": "2031年7月4日", "b": "7月"},
]


def first_always(prompt, first, second, reference):
    """A judge with nothing but position bias."""
    return "first"


def test_the_rule_judge_finds_the_right_answer_in_either_order_and_ties_identical_answers():
    result = judge_pairs(ITEMS, chrf_judge)
    assert result.items == [
        {"id": "rev", "a_first": "a", "b_first": "a", "verdict": "a", "consistent": True},
        {"id": "up", "a_first": "b", "b_first": "b", "verdict": "b", "consistent": True},
        {"id": "same", "a_first": "tie", "b_first": "tie", "verdict": "tie", "consistent": True},
        {"id": "zh", "a_first": "a", "b_first": "a", "verdict": "a", "consistent": True},
    ]
    assert result.verdicts == {"rev": "a", "up": "b", "same": "tie", "zh": "a"}
    assert result.summary() == {"judge": "chrf_judge", "n": 4, "win": 0.5, "tie": 0.25, "loss": 0.25,
                                "consistency": 1.0}


def test_a_judge_that_always_prefers_the_first_answer_is_caught_by_the_swap():
    result = judge_pairs(ITEMS, first_always)
    assert [row["a_first"] for row in result.items] == ["a"] * 4  # judged once, A would win everything
    assert [row["b_first"] for row in result.items] == ["b"] * 4
    assert result.consistency == 0.0
    assert result.rates() == {"win": 0.0, "tie": 1.0, "loss": 0.0}


def test_the_built_in_model_judges_deterministically_and_reports_its_consistency():
    judge = ModelJudge("ftlab/tiny-chat", batch_size=2)  # batches of 2 pad some prompts: positions must not shift
    first, second = judge_pairs(ITEMS, judge), judge_pairs(ITEMS, judge)
    assert first == second
    assert first.judge == "ftlab/tiny-chat"
    assert all(row["a_first"] in ("a", "b", "tie") and row["b_first"] in ("a", "b", "tie") for row in first.items)
    assert all(row["verdict"] == (row["a_first"] if row["consistent"] else "tie") for row in first.items)
    assert 0.0 <= first.consistency <= 1.0
    assert sum(first.rates().values()) == pytest.approx(1.0)
    triples = [(i["prompt"], i["a"], i["b"], i["reference"]) for i in ITEMS]
    unbatched = ModelJudge(judge.model, judge.tokenizer, batch_size=1).preferences(triples)
    assert judge.preferences(triples) == pytest.approx(unbatched, abs=1e-4)


def test_a_loaded_model_needs_its_tokenizer():
    with pytest.raises(FtlabError) as error:
        ModelJudge(object())
    assert str(error.value) == ("tokenizer: a loaded model judges through its chat template, so pass its tokenizer "
                                "too: ModelJudge(model, tokenizer), or pass the model's name instead.")


def test_the_rule_judge_needs_a_reference():
    item = {k: v for k, v in ITEMS[0].items() if k != "reference"}
    with pytest.raises(FtlabError) as error:
        judge_pairs([item], chrf_judge)
    assert str(error.value) == ("reference: the chrF judge compares each answer with the item's reference, and this "
                                "item has none (prompt 'Reverse: kalum'). Give every item a 'reference', or use a "
                                "ModelJudge.")


def test_a_judge_answering_outside_the_three_verdicts_is_named():
    with pytest.raises(FtlabError) as error:
        judge_pairs(ITEMS, lambda *_: "A")
    assert str(error.value) == "judge: <lambda> answered 'A' for item 'rev'; a judge answers one of first, second, tie."


@pytest.mark.parametrize("items, message", [
    ([], 'items: the list is empty; pass at least one item {"id", "prompt", "a", "b"} with an optional "reference".'),
    ([ITEMS[0], {"id": "x", "prompt": "p", "a": "1"}],
     'items[1]: field \'b\' is missing; an item is {"id", "prompt", "a", "b"} with an optional "reference".'),
    ([{"id": "x", "prompt": "p", "a": 1, "b": "2"}], "items[0]: field 'a' must be text, got int."),
    ([{"id": 1.5, "prompt": "p", "a": "1", "b": "2"}],
     "items[0]: field 'id' must be a string or an integer, got float."),
    ([ITEMS[0], ITEMS[1], ITEMS[0]],
     "items[2]: field 'id' repeats 'rev' (items[0]); every item needs its own id."),
    (["rev"], 'items[0]: expected a dict {"id", "prompt", "a", "b"} with an optional "reference", got str.'),
])
def test_items_that_do_not_fit_the_shape_are_refused_with_the_field_named(items, message):
    with pytest.raises(FtlabError) as error:
        check_items(items)
    assert str(error.value) == message


def test_something_that_is_not_a_judge_is_refused():
    with pytest.raises(FtlabError) as error:
        judge_pairs(ITEMS, 3)
    assert str(error.value) == ("judge: expected a rule function (prompt, first, second, reference) -> verdict, a "
                                "model name or a ModelJudge, got int.")
