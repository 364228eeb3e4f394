"""Every metric against the library that defines it, computed here on the same rows; Chinese text."""

from types import SimpleNamespace

import numpy as np
import pytest
from rouge_score.rouge_scorer import RougeScorer
from sacrebleu.metrics import BLEU

from ftlab.eval.metrics import METRICS, score

ENGLISH = (["The cat sat on the mat.", "A quick brown fox jumps over the dog", "It is raining today",
            "Paris is the capital of France"],
           ["the cat is on the mat", "The quick brown fox jumped over the lazy dog.", "Today it rains",
            "The capital of France is Paris."])
CHINESE = (["今天天气很好，我们去公园吧", "他喜欢读书", "北京是中国的首都"],
           ["今天天气不错，我们去公园散步吧", "他爱看书", "中国的首都是北京"])
MIXED = (["我喜欢 Python 编程", "请打开 settings 页面"], ["我喜欢Python。", "请打开设置页面"])


def by_char(text):
    """Independent tokenizer for text made only of Chinese characters: one token each."""
    return list(text)


# ---- generation ----

@pytest.mark.parametrize("rows", [ENGLISH, CHINESE, MIXED], ids=["english", "chinese", "mixed"])
def test_bleu_is_sacrebleu_corpus_bleu_with_13a_or_zh(rows):
    predictions, references = rows
    tokenize = "13a" if rows is ENGLISH else "zh"
    expected = BLEU(tokenize=tokenize).corpus_score(predictions, [references]).score / 100
    assert METRICS["bleu"].compute(predictions, references) == expected
    sentence = BLEU(tokenize=tokenize, effective_order=True).sentence_score(predictions[0], [references[0]])
    assert METRICS["bleu"].per_example(predictions[0], references[0]) == sentence.score / 100


@pytest.mark.parametrize("kind", ["rouge1", "rouge2", "rougeL"])
def test_rouge_on_english_is_rouge_score_with_its_default_tokenizer(kind):
    scorer = RougeScorer([kind])
    per_row = [scorer.score(r, p)[kind].fmeasure for p, r in zip(*ENGLISH)]
    assert METRICS[kind].compute(*ENGLISH) == pytest.approx(np.mean(per_row), abs=1e-12)
    assert [METRICS[kind].per_example(p, r) for p, r in zip(*ENGLISH)] == per_row


@pytest.mark.parametrize("kind", ["rouge1", "rouge2", "rougeL"])
def test_rouge_on_chinese_counts_characters_as_rouge_score_does_with_a_character_tokenizer(kind):
    predictions, references = ["今天天气很好", "他喜欢读书"], ["今天天气不错", "他爱看书"]
    scorer = RougeScorer([kind], tokenizer=SimpleNamespace(tokenize=by_char))
    expected = np.mean([scorer.score(r, p)[kind].fmeasure for p, r in zip(predictions, references)])
    assert METRICS[kind].compute(predictions, references) == pytest.approx(expected, abs=1e-12)
    assert RougeScorer([kind]).score("今天天气不错", "今天天气很好")[kind].fmeasure == 0  # why ftlab passes a tokenizer


def test_rouge_scores_a_chinese_paraphrase_by_hand():
    # 今 天 天 气 很 好 / 今 天 天 气 不 错: 4 of 6 characters, 3 of 5 pairs, common subsequence 今天天气
    found = score(["rouge1", "rouge2", "rougeL"], predictions=["今天天气很好"], references=["今天天气不错"])
    assert found == {"rouge1": 0.6667, "rouge2": 0.6, "rougeL": 0.6667}
    # mixed text: English words through rouge-score's own rules (lower-cased, punctuation dropped)
    assert METRICS["rouge1"].per_example("我喜欢 Python!", "我喜欢python") == 1.0


def test_f1_follows_squad_normalisation():
    f1 = METRICS["f1"].per_example
    assert f1("the Eiffel Tower!", "Eiffel tower") == 1.0  # case, punctuation and articles do not count
    assert f1("in Paris, France", "Paris") == 0.5  # precision 1/3, recall 1
    assert f1("London", "Paris") == 0.0
    assert f1("", "") == 1.0 and f1("", "Paris") == 0.0 and f1("the", "Paris") == 0.0
    assert METRICS["f1"].compute(["in Paris, France", "London"], ["Paris", "Paris"]) == 0.25


def test_f1_reads_chinese_by_character_and_english_by_word():
    f1 = METRICS["f1"].per_example
    assert f1("今天天气很好", "今天天气不错") == pytest.approx(4 / 6)  # 今 天 天 气 shared
    assert f1("今天天气很好。", "今天天气很好") == 1.0  # Chinese punctuation goes too
    # 我 喜 欢 python 编 程 against 我 喜 欢 python: precision 4/6, recall 1
    assert f1("我喜欢 Python 编程", "我喜欢Python。") == pytest.approx(0.8)


@pytest.mark.parametrize("name", ["f1", "bleu", "rouge1", "rouge2", "rougeL"])
def test_chinese_paraphrase_scores_between_0_and_1_and_identical_text_1(name):
    metric = METRICS[name]
    paraphrase = metric.compute(*CHINESE)
    assert 0 < paraphrase < 1
    assert 0 < metric.per_example(CHINESE[0][0], CHINESE[1][0]) < 1
    assert metric.compute(CHINESE[1], CHINESE[1]) == pytest.approx(1.0)
    assert 0 < metric.compute(*MIXED) < 1 and metric.compute(MIXED[1], MIXED[1]) == pytest.approx(1.0)
