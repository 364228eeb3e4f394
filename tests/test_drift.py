"""Drift: simulated traffic against training data.  Prompts drawn from the training task (new draws, not the
training rows) raise no alert; another task, Chinese text, longer prompts, refusals and slow answers raise the
alerts that name them.

The reference is the cipher task's training split, with token counts by the built-in model's tokenizer (one
token per character, so ``len``); tests/data/pii_mixed.jsonl supplies real Chinese customer-service text.
"""

import json
from pathlib import Path

import pytest

from ftlab.cli import main
from ftlab.data.rows import training_rows
from ftlab.data.tasks import build_splits
from ftlab.errors import FtlabError
from ftlab.ops.drift import (
    Reference,
    Thresholds,
    drift_over_time,
    jensen_shannon,
    psi,
    reference_from_run,
    summarise,
    text_units,
    unit_counts,
)
from ftlab.ops.request_log import RequestLog, RequestRecord

CHINESE = [json.loads(line)["text"] for line in
           (Path(__file__).parent / "data" / "pii_mixed.jsonl").read_text(encoding="utf-8").splitlines()]
SORRY = "I'm sorry, I can't help with that."


def task_pairs(task: str, seed: int, n: int) -> list[tuple[str, str]]:
    rows = training_rows(build_splits(task, seed, n, 1, 1)["train"], "prompt")
    return [(row["prompt"][-1]["content"], row["reference"]) for row in rows]


@pytest.fixture(scope="module")
def cipher_reference() -> Reference:
    prompts, answers = zip(*task_pairs("cipher", 0, 1000))
    return Reference.from_texts(prompts, answers, len, "the cipher task's training split")


def traffic(pairs, latency: float = 0.2, start: int = 0) -> list[RequestRecord]:
    return [RequestRecord(user=f"u{i % 37}", version="1", prompt=p, answer=a, prompt_tokens=len(p),
                          answer_tokens=len(a), latency_s=latency, time=float(start + i))
            for i, (p, a) in enumerate(pairs)]


def test_text_units_are_cjk_characters_and_trigrams_of_other_words():
    assert text_units("你好 Abc 2031") == ["你", "好", " ab", "abc", "bc ", " 00", "000", "000", "00 "]
    assert text_units("请联系张三zhangsan") == ["请", "联", "系", "张", "三", " zh", "zha", "han", "ang",
                                               "ngs", "gsa", "san", "an "]
    same = unit_counts(["abc def"])
    assert jensen_shannon(same, same) == 0.0
    assert jensen_shannon(unit_counts(["abc"]), unit_counts(["你好"])) == pytest.approx(1.0)
    assert psi([1, 2, 3, 4] * 50, [1, 2, 3, 4] * 50) == pytest.approx(0.0, abs=1e-9)
    assert psi(list(range(100)), [200] * 100) > 2


def test_prompts_from_the_training_task_raise_no_alert(cipher_reference):
    for seed in range(101, 106):  # five windows of 100 new draws
        report = summarise(traffic(task_pairs("cipher", seed, 100)), cipher_reference)
        assert report.enough and report.alerts == [], report.summary()
    assert report.summary() == "100 requests against the cipher task's training split: no drift alert."
    vocabulary = report.check("vocabulary")
    assert vocabulary.value < vocabulary.noise + 0.05  # no more than sampling alone gives


def test_another_task_shifts_vocabulary_and_lengths(cipher_reference):
    report = summarise(traffic(task_pairs("date_format", 7, 100)), cipher_reference)
    assert {c.name for c in report.alerts} == {"prompt_chars", "prompt_tokens", "vocabulary", "answer_chars"}
    vocabulary = report.check("vocabulary")
    assert vocabulary.value - vocabulary.noise > 0.3
    assert vocabulary.message.startswith(f"prompt vocabulary or topic has shifted: Jensen-Shannon "
                                         f"{vocabulary.value:.2f} bits vs {vocabulary.noise:.2f} between samples of "
                                         "the training prompts (alert above 0.1 more); most over-represented: ")
    assert "'000'" in vocabulary.message  # digits, folded: the dates
    assert report.check("prompt_chars").message.startswith("prompts are longer than in training: median")


def test_chinese_prompts_are_a_vocabulary_shift_shown_by_their_characters(cipher_reference):
    chinese = [(text, "好的") for text in CHINESE[:100]]
    report = summarise(traffic(chinese), cipher_reference)
    assert "vocabulary" in {c.name for c in report.alerts}
    assert report.check("vocabulary").value > 0.9  # almost nothing in common with the cipher prompts
    assert sum(len(u) == 1 for u in report.new_units) >= 4  # single CJK characters lead the new units


def test_chinese_traffic_against_chinese_training_data_is_in_distribution():
    reference = Reference.from_texts(CHINESE[:120], ["好的"] * 120, len, "Chinese customer-service texts")
    same = summarise(traffic([(text, "好的") for text in CHINESE[120:]]), reference)
    assert "vocabulary" not in {c.name for c in same.alerts}, same.summary()
    english = summarise(traffic(task_pairs("cipher", 3, 57)), reference)
    assert "vocabulary" in {c.name for c in english.alerts}


def test_longer_prompts_on_the_same_topic_alert_on_length_only(cipher_reference):
    pairs = task_pairs("cipher", 11, 400)
    longer = [(" ".join(p for p, _ in pairs[i:i + 4]), pairs[i][1]) for i in range(0, 400, 4)]
    report = summarise(traffic(longer), cipher_reference)
    assert {c.name for c in report.alerts} == {"prompt_chars", "prompt_tokens"}
    check = report.check("prompt_chars")
    assert check.live > 3 * check.reference
    assert check.message == (f"prompts are longer than in training: median {check.live:g} characters vs "
                             f"{check.reference:g} (PSI {check.value:.2f}, {check.noise:.2f} from sampling alone; "
                             "alert above 0.25 more)")


def test_refusals_and_slow_answers_alert(cipher_reference):
    pairs = task_pairs("cipher", 12, 100)
    refusing = [(p, SORRY if i % 5 == 0 else a) for i, (p, a) in enumerate(pairs)]
    report = summarise(traffic(refusing, latency=7.5), cipher_reference)
    assert {"refusal_rate", "latency_p95_s"} <= {c.name for c in report.alerts}
    assert report.check("refusal_rate").message == ("the model refuses more: 20% of answers (20 of 100) vs 0% of "
                                                    "the training answers")
    assert report.check("latency_p95_s").message == ("answers are slow: p95 latency 7.50 s over the 5 s budget "
                                                     "(p50 7.50 s)")
    relaxed = summarise(traffic(refusing, latency=7.5), cipher_reference, Thresholds(refusal_rate=0.3,
                                                                                     latency_p95_s=10))
    assert not {"refusal_rate", "latency_p95_s"} & {c.name for c in relaxed.alerts}


def test_a_few_requests_show_figures_without_alerts(cipher_reference):
    report = summarise(traffic([(text, "好的") for text in CHINESE[:10]]), cipher_reference)
    assert not report.enough and report.alerts == []
    assert report.summary().startswith("10 requests against the cipher task's training split: too few requests to "
                                       "raise alerts; prompts: median")
    with pytest.raises(FtlabError) as err:
        summarise([], cipher_reference)
    assert str(err.value) == "no requests to summarise: the request log is empty."


def test_drift_over_time_shows_when_the_shift_began(cipher_reference):
    records = traffic(task_pairs("cipher", 21, 200)) + traffic([(t, "好的") for t in CHINESE[:100]], start=200)
    windows = drift_over_time(records, cipher_reference, window=100)
    assert [w["requests"] for w in windows] == [100, 100, 100]
    assert [bool(w["alerts"]) for w in windows] == [False, False, True]
    assert windows[2]["vocabulary"] > windows[0]["vocabulary"] + 0.5


def test_the_reference_is_the_runs_training_split(lora_run):
    from ftlab.export.opening import open_runtime

    reference = reference_from_run(lora_run)
    version = json.loads((Path(lora_run) / "data.json").read_text())["version"]
    assert reference.source == f"run {Path(lora_run).name}, train split, data version {version}"
    assert len(reference.prompts) == 64 and all(p.startswith("Repeat") for p in reference.prompts)
    runtime = open_runtime("ftlab/tiny-chat")  # prompts counted as the server counts them (usage.prompt_tokens)
    assert reference.prompt_tokens[:5] == [len(runtime.encode(runtime.render([{"role": "user", "content": p}])))
                                           for p in reference.prompts[:5]]
    runtime.close()
    assert reference.notes == []
    with pytest.raises(FtlabError, match="is not a run directory .no config.yaml.; drift compares traffic"):
        reference_from_run(Path(lora_run).parent)


def test_the_drift_command_exits_1_on_an_alert(lora_run, tmp_path, capsys):
    from ftlab.export.opening import open_runtime

    runtime = open_runtime("ftlab/tiny-chat")
    quiet, shifted = RequestLog(tmp_path / "quiet.jsonl"), RequestLog(tmp_path / "shifted.jsonl")
    for record in traffic(task_pairs("repeat", 5, 60)):
        # as the server logs it: the prompt's tokens in the chat template (usage.prompt_tokens)
        record.prompt_tokens = len(runtime.encode(runtime.render([{"role": "user", "content": record.prompt}])))
        quiet.write(record)
    runtime.close()
    for record in traffic([(t, "好的") for t in CHINESE[:60]]):
        shifted.write(record)
    assert main(["drift", str(quiet.path), "--run", str(lora_run)]) == 0
    assert capsys.readouterr().out.strip().endswith("no drift alert.")
    assert main(["drift", str(shifted.path), "--run", str(lora_run), "--json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "vocabulary" in report["alerts"] and report["requests"] == 60
    assert "ftlab: drift alert: prompt vocabulary or topic has shifted" in captured.err
