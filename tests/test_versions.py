"""Data versions: same inputs same id, diffs, rollback, atomic writes, and the id a training run records."""

import json
import shutil
from pathlib import Path

import pytest

from ftlab.data.prepare import prepare
from ftlab.data.versions import diff, list_versions, load_version, rollback
from ftlab.errors import FtlabError

EXAMPLES = Path(__file__).parent.parent / "examples" / "data"
STEPS = ["normalize", "drop_empty", "dedup", "pii"]


def test_same_inputs_and_steps_give_the_same_version_id(tmp_path):
    shutil.copy(EXAMPLES / "messy_support.csv", tmp_path / "support.csv")
    first = prepare([EXAMPLES / "messy_support.csv"], tmp_path / "a", STEPS, seed=0).version
    again = prepare([EXAMPLES / "messy_support.csv"], tmp_path / "b", STEPS, seed=0).version
    moved = prepare([tmp_path / "support.csv"], tmp_path / "c", STEPS, seed=0).version
    assert first.id == again.id
    assert moved.id != first.id  # another file name is another source...
    assert moved.manifest["sources"][0]["files"][0]["sha256"] == first.manifest["sources"][0]["files"][0]["sha256"]
    assert prepare([EXAMPLES / "messy_support.csv"], tmp_path / "a", STEPS, seed=1).version.id != first.id
    assert prepare([EXAMPLES / "messy_support.csv"], tmp_path / "a", STEPS[:-1], seed=0).version.id != first.id


def test_manifest_records_sources_steps_counts_and_seed(tmp_path):
    version = prepare([EXAMPLES / "messy_support.csv"], tmp_path, STEPS, seed=7).version
    m = json.loads((version.path / "manifest.json").read_text())
    assert m["version"] == version.path.name == version.id
    assert m["seed"] == 7
    assert [s["step"] for s in m["steps"]] == STEPS and m["steps"][0]["params"] == {"form": "NFC",
                                                                                    "collapse_spaces": True}
    assert [(c["step"], c["rows_in"], c["rows_out"]) for c in m["counts"]] == [
        ("parse", 13, 13), ("normalize", 13, 13), ("drop_empty", 13, 11), ("dedup", 11, 10), ("pii", 10, 10),
        ("leakage", 10, 10 - sum(1 for c in m["counts"] if c["step"] == "leakage" and c["dropped"]))]
    assert m["sources"][0]["format"] == "qa" and len(m["sources"][0]["files"][0]["sha256"]) == 64
    assert sum(m["splits"].values()) == m["counts"][-1]["rows_out"]
    report = json.loads((version.path / "report.json").read_text())
    assert report[2]["dropped"][0] == {"where": "messy_support.csv, line 10", "reason": "empty assistant turn"}
    loaded = load_version(tmp_path)
    assert loaded.id == version.id and [r.key() for r in loaded.splits["train"]] == \
        [r.key() for r in version.splits["train"]]
    assert loaded.splits["train"][0].meta["where"].startswith("messy_support.csv, line")


def test_list_diff_and_rollback(tmp_path):
    store = tmp_path / "store"
    old = prepare([EXAMPLES / "qa.jsonl"], store, ["normalize"], validation=0, test=0).version
    edited = tmp_path / "qa.jsonl"
    lines = (EXAMPLES / "qa.jsonl").read_text().splitlines()
    lines[1] = lines[1].replace("Mercury.", "Mercury, at 0.39 AU.")
    del lines[2]
    lines.append(json.dumps({"id": "qa-9", "question": "Largest ocean?", "answer": "The Pacific."}))
    edited.write_text("\n".join(lines) + "\n")
    new = prepare([edited], store, ["normalize"], validation=0, test=0).version
    assert [v["version"] for v in list_versions(store)] == [old.id, new.id]
    assert [v["current"] for v in list_versions(store)] == [False, True]
    changes = diff(old, new)
    assert changes["summary"] == {"added": 1, "removed": 1, "changed": 1, "moved": 0}
    assert changes["added"] == [{"split": "train", "row": "qa-9"}]
    assert changes["removed"] == [{"split": "train", "row": "qa-3"}]
    assert changes["changed"][0]["row"] == "qa-2"
    assert changes["changed"][0]["after"]["messages"][1]["content"] == "Mercury, at 0.39 AU."
    assert rollback(store) == old.id
    assert load_version(store).id == old.id
    assert load_version(store, new.id[:6]).id == new.id  # a prefix is enough
    with pytest.raises(FtlabError, match="no earlier version to roll back to"):
        rollback(store)
    with pytest.raises(FtlabError, match=rf"no version 'ffff'; the versions are: {old.id}, {new.id}"):
        load_version(store, "ffff")


def test_a_failed_prepare_leaves_no_version_behind(tmp_path):
    with pytest.raises(FtlabError, match="no rows left: step 'length' removed all"):
        prepare([EXAMPLES / "qa.jsonl"], tmp_path, ["length"], params={"length": {"min_length": 10_000}})
    assert list(tmp_path.iterdir()) == []


def test_training_on_a_prepared_version_records_its_id(tmp_path, small_config):
    import ftlab
    from ftlab.data.tasks import build_splits

    rows = [{"prompt": r.messages[0]["content"], "completion": r.messages[1]["content"]}
            for r in build_splits("cipher", 0, 120, 1, 1)["train"]]
    data = tmp_path / "cipher.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    version = prepare([data], tmp_path / "store", ["normalize", "dedup"], validation=0.1, test=0.1).version
    result = ftlab.train(small_config(f"data.train_file={tmp_path / 'store'}", "train.max_steps=2",
                                      "train.eval_steps=0", "train.save_steps=0"))
    recorded = result.run.read_json("data.json")
    assert recorded["version"] == version.id
    assert recorded["rows"] == version.manifest["splits"]
