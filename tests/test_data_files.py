"""A run's data from files: any format, held-out splits by content hash, one data version id, clear errors."""

import json

import pytest

import ftlab
from ftlab.config import DataConfig
from ftlab.data.rows import to_dataset
from ftlab.data.sources import load_data
from ftlab.data.tasks import build_splits
from ftlab.errors import FtlabError


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _pairs(records):
    return [{"prompt": r.messages[0]["content"], "completion": r.messages[1]["content"]} for r in records]


def test_a_jsonl_file_trains_like_a_builtin_task(tmp_path, small_config):
    train_file = _write_jsonl(tmp_path / "cipher.jsonl", _pairs(build_splits("cipher", 0, 200, 1, 1)["train"]))
    result = ftlab.train(small_config(f"data.train_file={train_file}", "train.max_steps=10", "train.eval_steps=5"))
    data = result.run.read_json("data.json")
    assert data["rows"] == {"train": 160, "validation": 20, "test": 20}
    assert data["files"]["train_file"] == str(train_file)
    assert data["version"] == load_data(result.run.config().data).version
    assert result.run.path.name.endswith("-cipher-lora")


def test_held_out_splits_come_from_their_files_or_are_cut_by_content_hash(tmp_path):
    rows = [{"prompt": f"q{i}", "completion": f"a{i}"} for i in range(100)]
    train_file = _write_jsonl(tmp_path / "t.jsonl", rows)
    test_file = tmp_path / "test.csv"
    test_file.write_text("prompt,completion\nx,y\nz,w\n")
    cfg = DataConfig(train_file=str(train_file), test_file=str(test_file))
    data = load_data(cfg)
    assert data.sizes() == {"train": 90, "validation": 10, "test": 2}
    assert load_data(cfg).version == data.version
    assert load_data(DataConfig(train_file=str(train_file), test_file=str(test_file), seed=1)).version != data.version
    # a row's split depends on the row, not on its neighbours: dropping rows moves (almost) nothing else
    held_out = {r.messages[0]["content"] for r in data["validation"]}
    _write_jsonl(train_file, [r for r in rows if r["prompt"] not in ("q3", "q50", "q77")])
    fewer = load_data(cfg)
    moved = held_out ^ {r.messages[0]["content"] for r in fewer["validation"]}
    assert len(moved) <= 3 and fewer.version != data.version


def test_a_prepared_version_keeps_its_own_id(tmp_path):
    from ftlab.data.prepare import prepare

    rows = _pairs(build_splits("cipher", 0, 60, 1, 1)["train"])
    version = prepare([_write_jsonl(tmp_path / "c.jsonl", rows)], tmp_path / "store", steps=["dedup"]).version
    data = load_data(DataConfig(train_file=str(tmp_path / "store")))
    assert data.version == version.id and data.sizes() == version.manifest["splits"]


def test_a_bad_json_line_is_named(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "c", "completion": }\n')
    with pytest.raises(FtlabError, match=r"bad.jsonl, line 2: not valid JSON \(Expecting value, column 31\)"):
        load_data(DataConfig(train_file=str(path)))


def test_any_sft_format_trains_and_unknown_fields_list_what_was_found(tmp_path):
    chat = load_data(DataConfig(train_file=str(_write_jsonl(tmp_path / "chat.jsonl", [{"messages": [
        {"role": "system", "content": "s"}, {"role": "user", "content": "u"},
        {"role": "assistant", "content": "x"}]}] * 3))))
    assert to_dataset(chat["train"], "sft")[0]["prompt"] == [{"role": "system", "content": "s"},
                                                               {"role": "user", "content": "u"}]
    path = _write_jsonl(tmp_path / "odd.jsonl", [{"frage": "a", "antwort": "b"}])
    with pytest.raises(FtlabError, match=r"odd.jsonl: could not tell the data format: no format fits the fields "
                                         r"frage, antwort\. The formats and what they need: preference"):
        load_data(DataConfig(train_file=str(path)))
    corpus = load_data(DataConfig(train_file=str(_write_jsonl(tmp_path / "corpus.jsonl", [{"text": "prose"}] * 3))))
    with pytest.raises(FtlabError) as err:
        to_dataset(corpus["train"], "sft")
    assert str(err.value) == ("corpus.jsonl, line 1: a 'text' row cannot become 'sft' training data (it gives: "
                              "text); supervised fine-tuning needs prompts with answers (Q/A, instruction or chat "
                              "data).")


def test_non_utf8_files_are_reported_with_a_fix(tmp_path):
    path = tmp_path / "latin.jsonl"
    path.write_bytes('{"prompt": "café", "completion": "x"}\n'.encode("latin-1"))
    with pytest.raises(FtlabError, match=r"latin.jsonl: not UTF-8 \(byte 15\); re-save it as UTF-8"):
        load_data(DataConfig(train_file=str(path)))


def test_multi_turn_chat_files_train_with_their_own_system_turns(tmp_path, small_config):
    rows = _pairs(build_splits("cipher", 0, 60, 1, 1)["train"])
    chats = [{"conversations": [{"from": "system", "value": "You encrypt words."},
                                {"from": "human", "value": a["prompt"]}, {"from": "gpt", "value": a["completion"]},
                                {"from": "human", "value": b["prompt"]}, {"from": "gpt", "value": b["completion"]}]}
             for a, b in zip(rows[::2], rows[1::2])]
    path = tmp_path / "chats.json"
    path.write_text(json.dumps(chats))
    first = to_dataset(load_data(DataConfig(train_file=str(path)))["train"], "sft")[0]
    assert first["prompt"][0] == {"role": "system", "content": "You encrypt words."}
    assert len(first["prompt"]) == 4  # system, user, assistant, user: the answer is the last turn
    result = ftlab.train(small_config(f"data.train_file={path}", "data.max_length=384", "train.max_steps=2",
                                      "train.eval_steps=0", "train.save_steps=0"))
    assert result.results["status"] == "completed"
