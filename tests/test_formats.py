"""Every format from every file type, detection reasons, column mapping, TRL shapes and read errors."""

import json
from pathlib import Path

import pandas as pd
import pytest

from ftlab.data.formats import FORMATS, VIEWS
from ftlab.data.formats.preference import split_shared_text
from ftlab.data.parsing import detect, load
from ftlab.data.rows import to_dataset
from ftlab.errors import FtlabError

EXAMPLES = Path(__file__).parent.parent / "examples" / "data"


@pytest.mark.parametrize("name, fmt, rows, matched", [
    ("qa.jsonl", "qa", 8, "prompt='question', completion='answer'"),
    ("support_qa.csv", "qa", 6, "'prompt', completion='response'"),
    ("alpaca.json", "alpaca", 5, "'instruction', 'output', 'input'"),
    ("sharegpt.json", "sharegpt", 3, "'conversations'"),
    ("messages.jsonl", "messages", 3, "'messages'"),
    ("chat.parquet", "messages", 3, "'messages'"),
    ("cot.jsonl", "cot", 4, "prompt='question', 'rationale', completion='answer'"),
    ("preference.jsonl", "preference", 4, "'chosen', 'rejected', 'prompt'"),
    ("preference_hh.jsonl", "preference", 2, "'chosen', 'rejected'"),
    ("feedback_kto.csv", "kto", 6, "'prompt', 'completion', 'label'"),
    ("reviews.tsv", "classification", 10, "'text', 'label'"),
    ("tickets.xlsx", "classification", 6, "'text', 'label'"),
    ("notes", "text", 2, "'text'"),
])
def test_shipped_examples_are_detected_with_the_fields_that_matched(name, fmt, rows, matched):
    parsed = load(EXAMPLES / name)
    assert parsed.detection.format == fmt
    assert parsed.detection.reason.startswith(f"fields {matched}")
    assert parsed.detection.reason.endswith(f"matched {fmt!r}")
    assert len(parsed.records) == rows and not parsed.problems
    assert parsed.records[0].meta["where"].startswith(name if name != "notes" else "composting.txt")


def test_every_registered_format_has_a_shipped_example_and_a_view():
    found = {load(p).detection.format for p in EXAMPLES.iterdir()
             if p.name not in ("broken.jsonl", "legacy_cp1252.csv")}
    assert found == set(FORMATS)
    assert {f.view for f in FORMATS.values()} <= set(VIEWS)


def test_every_file_type_and_in_memory_source_gives_the_same_records(tmp_path):
    rows = [{"question": "What is 2+2?", "answer": "4"}, {"question": "Capital of France?", "answer": "Paris"}]
    df = pd.DataFrame(rows)
    (tmp_path / "a.json").write_text(json.dumps(rows))
    (tmp_path / "b.json").write_text(json.dumps({"data": rows}))
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_csv(tmp_path / "e.tsv", index=False, sep="\t")
    df.to_excel(tmp_path / "f.xlsx", index=False)
    df.to_parquet(tmp_path / "g.parquet")
    from datasets import Dataset

    sources = [tmp_path / n for n in ("a.json", "b.json", "c.jsonl", "d.csv", "e.tsv", "f.xlsx", "g.parquet")]
    sources += [rows, df, Dataset.from_list(rows)]
    expected = [[{"role": "user", "content": r["question"]}, {"role": "assistant", "content": r["answer"]}]
                for r in rows]
    for source in sources:
        parsed = load(source)
        assert parsed.detection.format == "qa", source
        assert [r.messages for r in parsed.records] == expected, source


def test_explicit_format_and_column_mapping_for_renamed_fields():
    parsed = load(EXAMPLES / "tickets.xlsx", fmt="qa", columns={"prompt": "Frage", "completion": "Antwort"},
                  sheet="faq_de")
    assert parsed.detection.reason == "format 'qa' given; prompt='Frage', completion='Antwort'"
    assert parsed.records[1].messages[1]["content"] == "Geradeaus, dann links."
    assert parsed.records[1].meta["where"] == "tickets.xlsx, faq_de row 3"


def test_missing_fields_list_the_fields_found_and_the_formats_that_fit():
    rows = [{"text": "great", "label": "pos", "note": "x"}]
    with pytest.raises(FtlabError) as err:
        detect(rows, "qa")
    assert str(err.value).startswith("format 'qa' needs prompt (prompt/question/query) + completion "
                                     "(completion/answer/response); missing prompt, completion. "
                                     "Fields found: text, label, note. Formats that fit these fields: "
                                     "classification, text.")
    with pytest.raises(FtlabError, match=r"no format fits the fields foo, bar\. The formats and what they need: "
                                         r"preference: chosen"):
        detect([{"foo": 1, "bar": 2}])


def test_label_values_decide_between_kto_and_classification():
    assert detect([{"prompt": "p", "completion": "c", "label": "good"}]).format == "kto"
    assert detect([{"prompt": "p", "completion": "c", "label": "sports"}]).format == "qa"
    assert detect([{"text": "t", "label": True}]).format == "classification"


def test_sharegpt_roles_map_to_chat_roles_and_tool_turns_are_kept():
    record = load(EXAMPLES / "sharegpt.json").records[1]
    assert [m["role"] for m in record.messages] == ["user", "assistant", "tool", "assistant"]


def test_alpaca_input_and_history_become_turns():
    records = load(EXAMPLES / "alpaca.json").records
    assert records[0].messages[0]["content"].startswith("Summarise the text in one sentence.\n\nThe meeting")
    assert records[2].messages[0]["content"] == "Give three synonyms for 'happy'."  # empty input: no blank tail
    assert records[3].messages[0] == {"role": "system", "content": "Answer with one word."}
    assert [m["role"] for m in records[4].messages] == ["user", "assistant", "user", "assistant"]


def test_shared_dialogue_prefix_of_full_text_pairs_is_split_off():
    record = load(EXAMPLES / "preference_hh.jsonl").records[1]
    assert record.messages == [
        {"role": "user", "content": "What's a good first programming language?"},
        {"role": "assistant", "content": "Python is a common choice."},
        {"role": "user", "content": "Why?"}]
    assert record.chosen[0]["content"].startswith("Its syntax is readable")
    assert record.rejected == [{"role": "assistant", "content": "Because."}]
    # no speaker markers: nothing to split, however much the texts share
    assert split_shared_text("The answer is 4", "The answer is 5") == ([], "The answer is 4", "The answer is 5")


def test_shared_prefix_of_message_list_pairs_is_split_off():
    record = load(EXAMPLES / "preference_messages.jsonl").records[0]
    assert record.messages == [{"role": "user", "content": "Recommend a book on statistics."}]
    assert record.rejected == [{"role": "assistant", "content": "Read a textbook."}]


def test_trl_shapes():
    sft = to_dataset(load(EXAMPLES / "cot.jsonl").records, "sft")
    assert sft[0]["prompt"] == [{"role": "user", "content": "A shop sells pens at 3 for $2. How much do 12 pens cost?"}]
    assert sft[0]["completion"][0]["content"] == ("12 pens are 4 groups of 3. Each group costs $2, so 4 × $2 = $8."
                                                  "\n\nAnswer: $8")
    chat = to_dataset(load(EXAMPLES / "messages.jsonl").records, "sft")
    assert [m["role"] for m in chat[2]["prompt"]] == ["user", "assistant", "user"]
    assert chat[2]["completion"] == [{"role": "assistant", "content": "About 6.21 miles."}]
    dpo = to_dataset(load(EXAMPLES / "preference.jsonl").records, "preference")
    assert dpo.column_names == ["prompt", "chosen", "rejected"] and dpo[3]["rejected"][0]["content"] == "54"
    kto = to_dataset(load(EXAMPLES / "feedback_kto.csv").records, "kto")
    assert kto["label"] == [True, False, True, False, True, False]
    assert len(to_dataset(load(EXAMPLES / "feedback_kto.csv").records, "sft")) == 3  # bad answers are not imitated
    paired = to_dataset(load(EXAMPLES / "preference.jsonl").records, "kto")
    assert len(paired) == 8 and paired[1]["completion"][0]["content"] == "It's a thing in computers."
    with pytest.raises(FtlabError) as err:
        to_dataset(load(EXAMPLES / "qa.jsonl").records, "preference")
    assert str(err.value) == ("qa.jsonl, line 1: a 'qa' row cannot become 'preference' training data (it gives: sft); "
                              "preference training needs pairs of a chosen and a rejected answer.")


def test_a_system_prompt_goes_first_unless_the_row_brings_its_own():
    rows = to_dataset(load(EXAMPLES / "alpaca.json").records, "sft", system_prompt="Be kind.")
    assert rows[0]["prompt"][0] == {"role": "system", "content": "Be kind."}
    assert rows[3]["prompt"][0] == {"role": "system", "content": "Answer with one word."}  # its own


def test_rows_that_cannot_be_read_are_listed_with_their_place():
    rows = [{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
            {"messages": [{"role": "user", "content": "no answer"}]},
            {"messages": [{"role": "narrator", "content": "x"}, {"role": "assistant", "content": "y"}]}]
    parsed = load(rows)
    assert len(parsed.records) == 1
    assert parsed.problems == [
        {"where": "row 2", "problem": "the dialogue has no assistant turn to learn from"},
        {"where": "row 3", "problem": "turn 1 of 'messages' has role 'narrator'; expected one of assistant, "
                                      "system, tool, user"}]


def test_messages_stored_as_json_text_in_csv_cells_are_parsed(tmp_path):
    path = tmp_path / "chat.csv"
    pd.DataFrame([{"messages": json.dumps([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}])}]
                 ).to_csv(path, index=False)
    assert load(path).records[0].messages[1] == {"role": "assistant", "content": "b"}


def test_a_malformed_json_line_is_named():
    with pytest.raises(FtlabError, match=r"broken.jsonl, line 3: not valid JSON \(Unterminated string"):
        load(EXAMPLES / "broken.jsonl")


def test_a_non_utf8_file_says_so_and_suggests_an_encoding():
    with pytest.raises(FtlabError) as err:
        load(EXAMPLES / "legacy_cp1252.csv")
    assert str(err.value) == (f"{EXAMPLES / 'legacy_cp1252.csv'}: not UTF-8 (byte 29); re-save it as UTF-8, e.g. "
                              "`iconv -f cp1252 -t utf-8 legacy_cp1252.csv > fixed.csv`, or read it with "
                              "encoding='cp1252' (`--encoding cp1252` on the command line).")
    assert load(EXAMPLES / "legacy_cp1252.csv", encoding="cp1252").records[0].messages[1]["content"] == \
        "A small restaurant – coffee house."


def test_messy_csv_with_bom_crlf_and_blank_lines_reads_every_row():
    parsed = load(EXAMPLES / "messy_support.csv")
    assert parsed.detection.fields == ["question", "answer"]  # the BOM is not part of the first name
    assert len(parsed.records) == 13
    assert parsed.records[7].meta["where"] == "messy_support.csv, line 10"  # the blank line 9 is skipped


def test_csv_rows_with_too_many_cells_are_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("question,answer\nq1,a1\nq2,a2,extra\n")
    with pytest.raises(FtlabError, match=r"bad.csv, line 3: 3 cells but the header has 2 \(question, answer\)"):
        load(path)


def test_a_utf16_export_is_recognised_by_its_byte_order_mark(tmp_path):
    path = tmp_path / "excel_export.csv"
    path.write_bytes("text,label\nsehr gut,positiv\nschlecht,negativ\n".encode("utf-16"))
    with pytest.raises(FtlabError, match=r"excel_export.csv: not UTF-8 \(byte 0\); .* encoding='utf-16'"):
        load(path)
    assert [r.label for r in load(path, encoding="utf-16").records] == ["positiv", "negativ"]
