"""Each quality step: what it removed, changed or flagged, and why."""

import random
from pathlib import Path

import pytest

from ftlab.data.parsing import load
from ftlab.data.pii import iban_ok, luhn_ok, mask_pii
from ftlab.data.quality import (Balance, ContentScreen, DropEmpty, ExactDedup, GenerateQA, LengthFilter, MaskPII,
                                NearDedup, Normalize, Perplexity, Pipeline, PreferenceCheck, StepReport, build_steps)
from ftlab.data.records import Record
from ftlab.data.splits import remove_leakage, split_records
from ftlab.errors import FtlabError

EXAMPLES = Path(__file__).parent.parent / "examples" / "data"


def qa(q, a, where):
    return Record("qa", [{"role": "user", "content": q}, {"role": "assistant", "content": a}], meta={"where": where})


def run(step, records, seed=0):
    report = StepReport(step.name, step.params(), rows_in=len(records))
    out = step.apply(records, random.Random(seed), report)
    return out, report


def test_messy_file_through_the_default_pipeline_reports_every_drop_and_change():
    records = load(EXAMPLES / "messy_support.csv").records
    steps = build_steps(["normalize", "drop_empty", "dedup", "near_dedup", "pii", "screen"],
                        {"screen": {"words": ["weapon"]}})
    result = Pipeline(steps, seed=0).run(records)
    by_step = {r.step: r for r in result.reports}
    assert [(r.step, r.rows_in, r.rows_out) for r in result.reports] == [
        ("normalize", 13, 13), ("drop_empty", 13, 11), ("dedup", 11, 10), ("near_dedup", 10, 9), ("pii", 9, 9),
        ("screen", 9, 8)]
    assert by_step["normalize"].changed == [
        {"where": "messy_support.csv, line 2", "what": "whitespace: 2 field(s)"},
        {"where": "messy_support.csv, line 4", "what": "whitespace: 1 field(s)"},
        {"where": "messy_support.csv, line 8", "what": "unicode NFC: 2 field(s)"}]
    assert by_step["drop_empty"].dropped == [
        {"where": "messy_support.csv, line 10", "reason": "empty assistant turn"},
        {"where": "messy_support.csv, line 14", "reason": "empty user turn"}]
    assert by_step["dedup"].dropped == [
        {"where": "messy_support.csv, line 3", "reason": "exact duplicate of messy_support.csv, line 2"}]
    assert by_step["near_dedup"].dropped == [
        {"where": "messy_support.csv, line 4",
         "reason": "near duplicate of messy_support.csv, line 2 (similarity 0.88)"}]
    assert by_step["pii"].counts == {"credit_card": 1, "email": 1, "iban": 1, "ipv4": 1, "phone": 1,
                                     "url_credentials": 1}
    assert by_step["screen"].dropped == [{"where": "messy_support.csv, line 12", "reason": "banned content 'weapon'"}]
    texts = [r.messages[1]["content"] for r in result.records]
    assert "Sure — I changed the card [CARD] on the account of [EMAIL]." in texts
    assert "Connect to [IP] or https://[CREDENTIALS]@intranet.example.com/status to check." in texts
    assert any("café" in t and "e\u0301" not in t for t in texts)  # NFC: one character


def test_pii_checksums_decide_what_is_a_card_or_an_iban():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")
    text = ("card 4111-1111-1111-1111, order 4111 1111 1111 1112, iban DE89370400440532013000, "
            "not iban DE89370400440532013001, ssn 123-45-6789, v6 2001:db8::8a2e:370:7334, "
            "ip 10.0.0.1 not 999.1.2.3, mail a.b@c.org, date 2024-01-15, tel +44 20 7946 0958")
    masked, counts = mask_pii(text)
    assert masked == ("card [CARD], order 4111 1111 1111 1112, iban [IBAN], not iban DE89370400440532013001, "
                      "ssn [ID], v6 [IP], ip [IP] not 999.1.2.3, mail [EMAIL], date 2024-01-15, tel [PHONE]")
    assert counts == {"email": 1, "credit_card": 1, "iban": 1, "ssn": 1, "ipv4": 1, "ipv6": 1, "phone": 1}
    only_mail, counts = mask_pii(text, ("email",))
    assert counts == {"email": 1} and "4111-1111-1111-1111" in only_mail


def test_pii_step_rejects_unknown_kinds():
    with pytest.raises(FtlabError, match=r"pii: unknown kind\(s\) passport; the kinds are url_credentials, email"):
        run(MaskPII(kinds=["passport"]), [qa("a", "b", "row 1")])


def test_length_filter_in_characters_and_in_model_tokens():
    from ftlab.models.loader import load_tokenizer

    rows = [qa("hi", "ok", "row 1"), qa("What is the capital of France?", "Paris.", "row 2"),
            qa("Tell me everything. " * 20, "No.", "row 3")]
    kept, report = run(LengthFilter(min_length=10, max_length=200), rows)
    assert [r.where for r in kept] == ["row 2"]
    assert report.dropped == [{"where": "row 1", "reason": "too short (5 chars < 10)"},
                              {"where": "row 3", "reason": "too long (404 chars > 200)"}]
    tokenizer = load_tokenizer("ftlab/tiny-chat")
    step = LengthFilter(min_length=1, max_length=30, tokenizer=tokenizer)
    kept, report = run(step, rows)
    n_tokens = len(tokenizer(rows[1].joined(), add_special_tokens=False)["input_ids"])
    assert [r.where for r in kept] == ["row 1"] and n_tokens > 30
    assert report.dropped[0]["reason"] == f"too long ({n_tokens} tokens > 30)"
    assert step.params()["tokenizer"] != "None"  # recorded by name in manifests


def test_exact_dedup_by_prompt_keeps_the_first_answer():
    rows = [qa("Q1", "A", "row 1"), qa("Q1", "B", "row 2"), qa("Q2", "A", "row 3")]
    kept, report = run(ExactDedup(by="prompt"), rows)
    assert [r.where for r in kept] == ["row 1", "row 3"]
    assert report.dropped == [{"where": "row 2", "reason": "exact duplicate of row 1"}]
    assert len(run(ExactDedup(), rows)[0]) == 3


def test_near_dedup_threshold():
    base = "The quick brown fox jumps over the lazy dog near the river bank today."
    rows = [qa(base, "x", "row 1"), qa(base.replace("today", "tonight"), "x", "row 2"),
            qa("A completely different sentence about databases and indexes.", "x", "row 3")]
    kept, report = run(NearDedup(threshold=0.8), rows)
    assert [r.where for r in kept] == ["row 1", "row 3"]
    assert report.dropped[0]["reason"].startswith("near duplicate of row 1 (similarity 0.8")
    assert len(run(NearDedup(threshold=0.95), rows)[0]) == 3


def test_screen_can_flag_instead_of_drop_and_takes_regexes():
    rows = [qa("how to pick a lock", "no", "row 1"), qa("buy cheap pills at http://spam.example", "x", "row 2"),
            qa("locksmith hours?", "9-5", "row 3")]
    kept, report = run(ContentScreen(words=["lock"], patterns=[r"cheap\s+pills"], action="flag"), rows)
    assert len(kept) == 3  # "locksmith" is not the word "lock"
    assert report.flagged == [{"where": "row 1", "reason": "banned content 'lock'"},
                              {"where": "row 2", "reason": "banned content 'cheap pills'"}]
    assert kept[0].meta["flag"] == "banned content 'lock'"
    with pytest.raises(FtlabError, match=r"screen: pattern '\(' is not a valid regex"):
        run(ContentScreen(patterns=["("]), rows)


def test_balance_under_and_over_sampling_is_seeded():
    rows = load(EXAMPLES / "reviews.tsv").records  # 5 positive, 3 negative, 2 neutral
    under, report = run(Balance("under"), rows, seed=1)
    assert sorted(r.label for r in under) == ["negative", "negative", "neutral", "neutral", "positive", "positive"]
    assert len(report.dropped) == 4 and report.dropped[0]["reason"].startswith("undersampled class 'positive' (5 → 2)")
    assert [r.where for r in under] == [r.where for r in run(Balance("under"), rows, seed=1)[0]]
    over, report = run(Balance("over"), rows, seed=1)
    assert len(over) == 15 and report.counts["added"] == 5
    assert any(r.where.endswith("(copy 1)") for r in over)
    with pytest.raises(FtlabError, match="balance: needs a label on every row"):
        run(Balance(), [qa("a", "b", "row 1")])


def test_preference_pairs_must_differ_and_not_be_empty():
    def pair(c, r, where):
        return Record("preference", [{"role": "user", "content": "q"}], chosen=[{"role": "assistant", "content": c}],
                      rejected=[{"role": "assistant", "content": r}], meta={"where": where})

    kept, report = run(PreferenceCheck(), [pair("a", "b", "row 1"), pair("same", "same", "row 2"),
                                           pair("a", " ", "row 3")])
    assert [r.where for r in kept] == ["row 1"]
    assert [(d["where"], d["reason"].split(" (")[0]) for d in report.dropped] == [
        ("row 2", "invalid pair: chosen equals rejected"), ("row 3", "invalid pair: empty rejected")]


def test_drop_empty_names_the_empty_part():
    rows = [Record("text", text="  ", meta={"where": "a.txt"}), Record("cot", [
        {"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], rationale="", meta={"where": "r"})]
    assert run(DropEmpty(), rows)[1].dropped == [{"where": "a.txt", "reason": "empty text"},
                                                 {"where": "r", "reason": "empty rationale"}]


def test_perplexity_ranks_garbled_rows_worst_with_the_tiny_model():
    words = ["Reverse: kodabe", "Uppercase: mofit", "Repeat: salune", "xq#7 zz!! ~~ @@@ 0x0x0x }{ ]]"]
    rows = [Record("text", text=w, meta={"where": f"row {i + 1}"}) for i, w in enumerate(words)]
    kept, report = run(Perplexity(drop_fraction=0.25), rows)
    assert [d["where"] for d in report.dropped] == ["row 4"]
    assert all(r.meta["perplexity"] < rows[3].meta["perplexity"] for r in kept)


def test_generated_qa_answers_are_sentences_of_the_document():
    docs = load(EXAMPLES / "notes").records
    kept, report = run(GenerateQA(chunk_chars=300, per_chunk=1), docs)
    assert all(r.format == "qa" for r in kept) and len(kept) == report.counts["generated"] >= 4
    source = " ".join(" ".join(d.text.split()) for d in docs)
    for record in kept:
        question, answer = record.messages[0]["content"], record.messages[1]["content"]
        assert answer in source and record.meta["generated_from"] in ("composting.txt", "solar.txt")
        assert question.startswith(("What does the text on", "Complete this sentence from the text on"))
    assert [r.messages for r in kept] == [r.messages for r in run(GenerateQA(chunk_chars=300, per_chunk=1), docs)[0]]
    assert report.dropped[0]["reason"].startswith("replaced by ")


def test_an_empty_result_says_which_step_removed_what():
    rows = [qa("a", "", "x.csv, line 2"), qa("b", " ", "x.csv, line 3")]
    with pytest.raises(FtlabError) as err:
        Pipeline(build_steps(["normalize", "drop_empty"])).run(rows)
    assert str(err.value) == ("no rows left: step 'drop_empty' removed all 2 remaining rows (2 empty assistant turn). "
                              "First dropped: x.csv, line 2 (empty assistant turn). Counts per step: normalize 2→2; "
                              "drop_empty 2→0. Loosen that step's parameters or leave it out.")


def test_unknown_steps_and_parameters_are_named():
    with pytest.raises(FtlabError, match=r"unknown step 'dedupe'; the steps are normalize, drop_empty, length"):
        build_steps(["dedupe"])
    with pytest.raises(FtlabError, match=r"step 'near_dedup': .*'treshold'.*its parameters are threshold, num_perm"):
        build_steps(["near_dedup"], {"near_dedup": {"treshold": 0.9}})


def test_splits_are_seeded_and_stratified():
    rows = [Record("classification", text=f"t{i}", label="a" if i % 4 else "b", meta={"where": f"row {i}"})
            for i in range(200)]
    splits = split_records(rows, validation=0.1, test=0.1, seed=3)
    assert [len(splits[s]) for s in ("train", "validation", "test")] == [160, 20, 20]
    assert sum(r.label == "b" for r in splits["validation"]) == 5  # a quarter of the rows are 'b', in every split
    assert sum(r.label == "b" for r in splits["test"]) == 5
    again = split_records(rows, validation=0.1, test=0.1, seed=3)
    other = split_records(rows, validation=0.1, test=0.1, seed=4)
    assert [r.where for r in again["test"]] == [r.where for r in splits["test"]]
    assert [r.where for r in other["test"]] != [r.where for r in splits["test"]]
    with pytest.raises(FtlabError, match=r"validation \(0.5\) \+ test \(0.5\) leaves no training rows"):
        split_records(rows, 0.5, 0.5)


def test_leakage_between_splits_is_removed_from_held_out_splits():
    train = [qa("What is the boiling point of water at sea level?", "100 C", "train 1"), qa("Q", "A", "train 2")]
    splits = {"train": train,
              "validation": [qa("What is the boiling point of water at sea level ?", "100 C", "val 1"),
                             qa("Unrelated question about knitting patterns", "Purl", "val 2")],
              "test": [qa("Q", "A", "test 1")]}
    report = StepReport("leakage", {})
    clean = remove_leakage(splits, 0.8, report)
    assert [r.where for r in clean["validation"]] == ["val 2"] and clean["test"] == []
    assert report.dropped[0] == {"where": "val 1",
                                 "reason": "validation row nearly repeats train row train 1 (similarity 0.84)"}
    assert report.dropped[1] == {"where": "test 1", "reason": "test row is an exact copy of train row train 2"}


def test_normalize_collapses_spaces_and_invisible_characters():
    record = qa("  a\u200b  b\r\n\r\n\r\n\r\nc\u00a0 ", "x", "row 1")
    kept, report = run(Normalize(), [record])
    assert kept[0].messages[0]["content"] == "a b\n\nc"
    assert report.changed == [{"where": "row 1", "what": "whitespace: 1 field(s)"}]


def test_generated_qa_with_a_model_makes_one_pair_per_chunk():
    from ftlab.data.synthesize import chunk_text

    docs = load(EXAMPLES / "notes").records
    kept, report = run(GenerateQA(chunk_chars=300, model="ftlab/tiny-chat", max_new_tokens=8), docs)
    assert len(kept) == sum(len(chunk_text(d.text, 300)) for d in docs) == report.counts["generated"]
    assert kept[0].meta["where"] == "composting.txt, chunk 1, pair 1"
    assert all(r.format == "qa" and [m["role"] for m in r.messages] == ["user", "assistant"] for r in kept)
