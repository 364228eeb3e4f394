"""Metrics through the registry, and evaluation on records with their whole prompt dialogue."""

import pytest

from ftlab.data.records import Record
from ftlab.data.rows import Example, examples
from ftlab.eval.evaluation import EvalReport, evaluate, side_by_side
from ftlab.eval.metrics import METRICS, score
from ftlab.errors import FtlabError


def test_exact_match_ignores_surrounding_whitespace_only():
    found = score(["exact_match"], predictions=[" abc ", "abd", "ABC"], references=["abc"] * 3)
    assert found == {"exact_match": pytest.approx(0.3333, abs=1e-4)}


def test_chrf_gives_partial_credit_in_order():
    chrf = METRICS["chrf"].compute
    refs = ["jhzlghn", "lhwl"]
    assert chrf(refs, refs) == pytest.approx(1.0)
    assert 0 < chrf(["jhzlghx", "lhwx"], refs) < 1
    assert chrf(["qqqqqqq", "qqqq"], refs) < chrf(["jhzlghx", "lhwx"], refs)
    # characters: Chinese needs no word segmentation
    assert 0 < METRICS["chrf"].per_example("今天天气很好", "今天天气不错") < 1


def test_score_picks_the_metrics_its_inputs_allow_and_names_what_is_missing():
    assert set(score(predictions=["a"], references=["a"])) >= {"exact_match", "chrf"}
    with pytest.raises(FtlabError, match="metric 'chrf' needs references, which this evaluation does not produce"):
        score(["chrf"], predictions=["a"])


def test_side_by_side_marks_right_and_wrong_answers():
    shown = [Example([{"role": "user", "content": "p1"}], "a", "row 1"),
             Example([{"role": "user", "content": "p2"}], "b", "row 2")]
    rows = side_by_side(EvalReport("base", "test", {}, {}, shown, ["x", "b"]),
                        EvalReport("tuned", "test", {}, {}, shown, ["a", "b"]))
    assert [(r["prompt"], r["base_ok"], r["tuned_ok"]) for r in rows] == [("p1", False, True), ("p2", True, True)]


def test_evaluation_prompts_carry_the_system_prompt_and_earlier_turns():
    """What the model answers at evaluation is the prompt it trained on, context and all."""
    dialogue = Record("messages", [{"role": "system", "content": "Answer in French."},
                                   {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Salut"},
                                   {"role": "user", "content": "Thanks"}, {"role": "assistant", "content": "Merci"}])
    plain = Record("qa", [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}])
    first, second = examples([dialogue, plain], system_prompt="Be brief.")
    assert [t["role"] for t in first.prompt] == ["system", "user", "assistant", "user"]
    assert first.prompt[0]["content"] == "Answer in French." and first.reference == "Merci"  # its own system turn wins
    assert second.prompt == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}]


def test_evaluate_answers_from_the_chat_template_of_the_whole_dialogue():
    from ftlab.models.generation import chat_texts
    from ftlab.models.loader import load_model, load_tokenizer

    tokenizer = load_tokenizer("ftlab/tiny-chat")
    records = [Record("qa", [{"role": "user", "content": f"Repeat: {w}"}, {"role": "assistant", "content": w}])
               for w in ("bako", "tumile", "sorap")]
    text = chat_texts(tokenizer, [examples(records, system_prompt="Be brief.")[0].prompt])[0]
    assert text == ("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nRepeat: bako<|im_end|>\n"
                    "<|im_start|>assistant\n")
    report = evaluate(load_model("ftlab/tiny-chat"), tokenizer, records, n_examples=2)
    assert len(report.rows()) == 2 and report.rows()[0]["prompt"] == "Repeat: bako"
    assert report.metrics["exact_match"] == 1.0  # repeating is one of the built-in model's pre-training skills
