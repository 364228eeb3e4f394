import json

import pytest

import ftlab
from ftlab.config import DataConfig
from ftlab.data.loading import data_version, load_splits, read_file
from ftlab.data.tasks import build_splits
from ftlab.errors import FtlabError


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_jsonl_file_trains_like_a_builtin_task(tmp_path, small_config):
    rows = build_splits("cipher", 0, 200, 1, 1)["train"].to_list()
    train_file = _write_jsonl(tmp_path / "cipher.jsonl", rows)
    result = ftlab.train(small_config(f"data.train_file={train_file}", "train.max_steps=10", "train.eval_steps=5"))
    data = result.run.read_json("data.json")
    assert data["rows"] == {"train": 160, "validation": 20, "test": 20}
    assert data["files"]["train_file"] == str(train_file)
    assert result.run.path.name.endswith("-cipher-lora")


def test_held_out_splits_come_from_their_files_or_are_carved_out_seeded(tmp_path):
    rows = [{"prompt": f"q{i}", "completion": f"a{i}"} for i in range(100)]
    train_file = _write_jsonl(tmp_path / "t.jsonl", rows)
    test_file = tmp_path / "test.csv"
    test_file.write_text("prompt,completion\nx,y\nz,w\n")
    splits = load_splits(DataConfig(train_file=str(train_file), test_file=str(test_file)))
    assert (len(splits["train"]), len(splits["validation"]), len(splits["test"])) == (90, 10, 2)
    again = load_splits(DataConfig(train_file=str(train_file), test_file=str(test_file)))
    assert data_version(splits) == data_version(again)
    other = load_splits(DataConfig(train_file=str(train_file), test_file=str(test_file), seed=1))
    assert data_version(splits) != data_version(other)


def test_a_bad_json_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "c", "completion": }\n')
    with pytest.raises(FtlabError, match=r"bad.jsonl, line 2: not valid JSON \(Expecting value, column 31\)"):
        read_file(path)


def test_any_sft_format_trains_and_unknown_fields_list_what_was_found(tmp_path):
    qa = read_file(_write_jsonl(tmp_path / "qa.jsonl", [{"question": "a", "answer": "b"}]))
    assert qa.to_list() == [{"prompt": "a", "completion": "b"}]
    chat = read_file(_write_jsonl(tmp_path / "chat.jsonl", [{"messages": [
        {"role": "system", "content": "s"}, {"role": "user", "content": "u"}, {"role": "assistant", "content": "x"}]}]))
    assert chat[0]["context"] == [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
    path = _write_jsonl(tmp_path / "odd.jsonl", [{"frage": "a", "antwort": "b"}])
    with pytest.raises(FtlabError, match=r"odd.jsonl: could not tell the data format: no format fits the fields "
                                         r"frage, antwort\. The formats and what they need: preference"):
        read_file(path)
    text = _write_jsonl(tmp_path / "corpus.jsonl", [{"text": "plain prose"}])
    with pytest.raises(FtlabError, match=r"corpus.jsonl: raw text \(format 'text'\) is for continued pretraining"):
        read_file(text)


def test_non_utf8_files_are_reported_with_a_fix(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes('{"prompt": "café", "completion": "x"}\n'.encode("latin-1"))
    with pytest.raises(FtlabError, match=r"latin.jsonl: not UTF-8 \(byte 15\); re-save it as UTF-8"):
        read_file(path)


def test_multi_turn_chat_files_train_with_their_own_system_turns(tmp_path, small_config):
    rows = build_splits("cipher", 0, 60, 1, 1)["train"].to_list()
    chats = [{"conversations": [{"from": "system", "value": "You encrypt words."},
                                {"from": "human", "value": a["prompt"]}, {"from": "gpt", "value": a["completion"]},
                                {"from": "human", "value": b["prompt"]}, {"from": "gpt", "value": b["completion"]}]}
             for a, b in zip(rows[::2], rows[1::2])]
    path = tmp_path / "chats.json"
    path.write_text(json.dumps(chats))
    splits = load_splits(DataConfig(train_file=str(path)))
    assert splits["train"][0]["context"][0] == {"role": "system", "content": "You encrypt words."}
    assert len(splits["train"][0]["context"]) == 4  # system, user, assistant, user: the answer is the last turn
    result = ftlab.train(small_config(f"data.train_file={path}", "data.max_length=384", "train.max_steps=2",
                                      "train.eval_steps=0", "train.save_steps=0"))
    assert result.results["status"] == "completed"
