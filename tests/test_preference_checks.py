"""Preference pairs: each check names the row, says what is wrong and what to fix; Chinese lengths count fairly."""

import json
from pathlib import Path

from ftlab.cli import main
from ftlab.data.pair_checks import LengthBias, bias_finding, length_bias, words
from ftlab.data.parsing import load
from ftlab.data.prepare import check
from ftlab.data.quality import Pipeline, build_steps

EXAMPLES = Path(__file__).parent.parent / "examples" / "data"

PHOTOSYNTHESIS = ("光合作用是植物利用光能把二氧化碳和水转化为葡萄糖并释放氧气的过程，"
                  "它发生在叶绿体中，是地球上大多数生命的能量来源。")
ROWS = [
    {"prompt": "What is 2+2?", "chosen": "4", "rejected": "5"},
    {"prompt": "Name a colour.", "chosen": "Blue  is a colour.", "rejected": "Blue is\na colour."},
    {"prompt": "Say hi.", "chosen": "Hi!", "rejected": "   "},
    {"prompt": "Translate 'cat'.", "chosen": "猫", "rejected": "translate 'cat'"},
    {"prompt": "Why is the sky blue?", "chosen": "Why is the sky blue?", "rejected": "Because of Rayleigh scattering."},
    {"prompt": "解释一下光合作用。", "chosen": PHOTOSYNTHESIS, "rejected": "不知道。"},
    {"prompt": "Explain DNS briefly.", "chosen": "DNS 把域名翻译成 IP 地址。",
     "rejected": "DNS maps domain names to IP addresses."},
    {"prompt": [{"role": "user", "content": "Hi"}],
     "chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}],
     "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Go away."}]},
    {"prompt": [{"role": "user", "content": "Plan a trip."}],
     "chosen": [{"role": "assistant", "content": "Where to?"}, {"role": "user", "content": "Paris"},
                {"role": "assistant", "content": "Visit the Louvre."}],
     "rejected": [{"role": "assistant", "content": "Where to?"}, {"role": "user", "content": "Rome"},
                  {"role": "assistant", "content": "No idea."}]},
]

DROPPED = [
    {"where": "pairs.jsonl, line 2",
     "reason": "invalid pair: chosen equals rejected (spaces aside; a pair needs two different answers: write a "
               "worse rejected answer or drop the row)"},
    {"where": "pairs.jsonl, line 3",
     "reason": "invalid pair: empty rejected (every pair needs two answers; write the rejected answer or drop the "
               "row)"},
    {"where": "pairs.jsonl, line 9",
     "reason": "invalid pair: chosen and rejected continue different dialogues (turn 2 of each side: user 'Paris' "
               "vs user 'Rome'); the sides may differ only in their final answer: move shared turns into the "
               "prompt, or split the row"},
]
FLAGGED = [
    {"where": "pairs.jsonl, line 4",
     "reason": "echo: rejected only repeats the prompt \"Translate 'cat'.\" instead of answering it (an easy pair "
               "that teaches little; a plausible but wrong answer teaches more)"},
    {"where": "pairs.jsonl, line 5",
     "reason": "echo: chosen only repeats the prompt 'Why is the sky blue?' instead of answering it (write an "
               "answer or drop the row)"},
    {"where": "pairs.jsonl, line 6",
     "reason": "length ratio: chosen is 18.0x as long as rejected (54 vs 3 words); the pair rewards length as "
               "much as quality: make the rejected answer complete, or the chosen one shorter"},
    {"where": "pairs.jsonl, line 8",
     "reason": "prompt repeated: chosen and rejected start with the prompt's first user turn again, so the model "
               "sees it twice; give either a prompt column or full dialogues in chosen/rejected, not both"},
]


def write(tmp_path, rows, name="pairs.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_the_pairs_step_drops_unusable_pairs_and_flags_doubtful_ones(tmp_path):
    records = load(write(tmp_path, ROWS)).records
    result = Pipeline(build_steps(["normalize", "pairs"])).run(records)
    report = result.reports[1]
    assert report.dropped == DROPPED
    assert report.flagged == FLAGGED
    assert [r.where for r in result.records] == [f"pairs.jsonl, line {n}" for n in (1, 4, 5, 6, 7, 8)]
    assert result.records[3].meta["flag"] == FLAGGED[2]["reason"]
    # 6 pairs kept: "4"/"5" and the last row tie; the Chinese, the DNS and two more have the longer chosen side
    assert report.counts == {"chosen_longer": 3, "chosen_shorter": 2, "same_length": 1}
    assert report.notes == []  # too few pairs to speak of a bias


def test_chinese_is_measured_in_characters_and_mixed_pairs_are_not_length_outliers():
    assert words(PHOTOSYNTHESIS) == 54  # one word per Chinese character; punctuation is no word
    assert words("DNS 把域名翻译成 IP 地址。") == 10  # DNS, 7 characters, IP... : 1 + 6 + 1 + 2
    assert words("DNS maps domain names to IP addresses.") == 7
    assert words("Blue  is a colour.") == words("Blue is\na colour.") == 4


def test_data_check_lists_every_finding_by_row_and_inspect_summarises_them(tmp_path, capsys):
    path = write(tmp_path, ROWS)
    assert main(["data", "check", str(path)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(f["where"], f["action"], f["reason"]) for f in out["findings"]] == \
        [(d["where"], "drop", d["reason"]) for d in DROPPED] + [(f["where"], "flag", f["reason"]) for f in FLAGGED]
    assert {f["check"] for f in out["findings"]} == {"pairs"}  # an empty side is reported once, by the pair check
    assert out["dataset"] == []
    assert out["length"] == {"pairs": 6, "chosen_longer_share": 0.6, "mean_ratio": 1.485,
                             "unit": "words (a CJK character is one)"}
    assert main(["data", "inspect", str(path)]) == 0
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert problems[:2] == [
        f"1 row(s) with invalid pair: chosen equals rejected (first: pairs.jsonl, line 2: {DROPPED[0]['reason']})",
        f"1 row(s) with invalid pair: empty rejected (first: pairs.jsonl, line 3: {DROPPED[1]['reason']})"]
    assert f"2 row(s) with echo (first: pairs.jsonl, line 4: {FLAGGED[0]['reason']})" in problems
    assert f"1 row(s) with length ratio (first: pairs.jsonl, line 6: {FLAGGED[2]['reason']})" in problems


def test_a_dataset_whose_chosen_answers_are_mostly_longer_gets_a_length_bias_finding(tmp_path):
    long_zh, short_zh = "这个问题的答案需要仔细解释清楚", "不清楚"
    rows = [{"prompt": f"问题 {i}", "chosen": f"{long_zh}{i}", "rejected": f"{short_zh}{i}"} for i in range(8)]
    rows += [{"prompt": f"Question {i}", "chosen": "Yes.", "rejected": "No, it is not the case."}
             for i in range(2)]
    rows += [{"prompt": f"Question {i}", "chosen": f"The answer is {i} metres.", "rejected": "No idea at all."}
             for i in range(3, 5)]
    out = check(write(tmp_path, rows))
    assert out["findings"] == []  # no single pair is extreme (16 vs 4 words at most): the bias is in the whole
    assert out["dataset"] == [(
        "length bias: the chosen answer is the longer one in 10 of 12 pairs (83%; mean length ratio chosen/rejected "
        "1.94), so a model can learn 'longer is better' instead of what makes an answer good; add pairs where the "
        "chosen answer is the shorter one, or trim chosen answers")]
    report = Pipeline(build_steps(["pairs"])).run(load(write(tmp_path, rows)).records).reports[0]
    assert report.notes == out["dataset"] and report.summary()["notes"] == out["dataset"]
    # the threshold and the minimum number of pairs are step parameters
    assert Pipeline(build_steps(["pairs"], {"pairs": {"bias_share": 0.9}})).run(
        load(write(tmp_path, rows)).records).reports[0].notes == []


def test_bias_thresholds_both_ways_and_the_minimum_number_of_pairs():
    assert bias_finding(LengthBias(9, 9, 0, 0, 3.0)) is None  # 9 pairs with different lengths are too few
    assert bias_finding(LengthBias(10, 7, 3, 0, 1.4)).startswith(
        "length bias: the chosen answer is the longer one in 7 of 10 pairs (70%;")
    assert bias_finding(LengthBias(12, 6, 4, 2, 1.1)) is None  # 60%: a length rule predicts little
    assert bias_finding(LengthBias(10, 2, 8, 0, 0.5)) == (
        "length bias: the chosen answer is the shorter one in 8 of 10 pairs (80%; mean length ratio "
        "chosen/rejected 0.50), so a model can learn 'shorter is better' instead of what makes an answer good; "
        "add pairs where the chosen answer is the longer one")


def test_the_shipped_example_has_no_pair_problems(capsys):
    out = check(EXAMPLES / "preference.jsonl")
    assert out["findings"] == [] and out["dataset"] == []
    # the chosen answer is longer in 3 of 4 pairs (7 x 8 = "56" vs "54" ties): too few pairs to call it a bias
    assert out["counts"]["pairs"] == {"chosen_longer": 3, "chosen_shorter": 0, "same_length": 1}
    assert length_bias(load(EXAMPLES / "preference.jsonl").records).longer_share == 1.0
