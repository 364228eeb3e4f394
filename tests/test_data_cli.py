"""``ftlab data inspect / prepare / versions / diff / rollback`` as a person runs them."""

import json
import subprocess
import sys
from pathlib import Path

from ftlab.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples" / "data"


def test_inspect_prints_format_reason_rows_fields_sample_and_problems(capsys):
    assert main(["data", "inspect", str(EXAMPLES / "messy_support.csv"), "--sample", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["format"] == "qa"
    assert out["reason"] == "fields prompt='question', completion='answer' matched 'qa'"
    assert out["rows"] == 13 and out["fields"] == ["question", "answer"]
    assert out["sample"][0]["messages"][0]["content"] == "  How do I reset my password?  "
    assert out["problems"] == [
        "1 row(s) with empty assistant turn (first: messy_support.csv, line 10: empty assistant turn)",
        "1 row(s) with empty user turn (first: messy_support.csv, line 14: empty user turn)",
        "1 row(s) with exact duplicate (first: messy_support.csv, line 3: exact duplicate of messy_support.csv, "
        "line 2)",
        "3 row(s) contain personal data (1 credit_card, 1 email, 1 iban, 1 ipv4, 1 phone, 1 url_credentials; "
        "first: messy_support.csv, line 5)"]


def test_inspect_with_explicit_format_and_columns(capsys):
    code = main(["data", "inspect", str(EXAMPLES / "tickets.xlsx"), "--sheet", "faq_de", "--format", "qa",
                 "--column", "prompt=Frage", "--column", "completion=Antwort"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["format"], out["rows"], out["problems"]) == ("qa", 2, [])


def test_inspect_flags_imbalanced_classes(tmp_path, capsys):
    assert main(["data", "inspect", str(EXAMPLES / "reviews.tsv")]) == 0
    assert json.loads(capsys.readouterr().out)["problems"] == []
    path = tmp_path / "spam.jsonl"
    path.write_text("".join(json.dumps({"text": f"message {i}", "label": "spam" if i < 9 else "ham"}) + "\n"
                            for i in range(12)))
    assert main(["data", "inspect", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["problems"] == ["classes are imbalanced: {'spam': 9, 'ham': 3}"]


def test_prepare_prints_the_version_id_and_writes_splits_and_manifest(tmp_path, capsys):
    out_dir = tmp_path / "store"
    code = main(["data", "prepare", str(EXAMPLES / "messy_support.csv"), str(EXAMPLES / "support_qa.csv"),
                 "--out", str(out_dir), "--steps", "normalize,drop_empty,dedup,pii,screen",
                 "--param", "screen.words=[weapon]", "--validation", "0.2", "--test", "0"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    folder = out_dir / out["version"]
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "report.json", "test.jsonl",
                                                         "train.jsonl", "validation.jsonl"]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["steps"][-1] == {"step": "screen",
                                     "params": {"words": ["weapon"], "patterns": [], "action": "drop"}}
    screen = next(c for c in out["counts"] if c["step"] == "screen")
    assert screen["dropped"] == 1 and screen["counts"] == {"weapon": 1}
    train_rows = (folder / "train.jsonl").read_text().splitlines()
    assert len(train_rows) == out["splits"]["train"] and out["splits"]["test"] == 0
    # the same command again gives the same id
    assert main(["data", "prepare", str(EXAMPLES / "messy_support.csv"), str(EXAMPLES / "support_qa.csv"),
                 "--out", str(out_dir), "--steps", "normalize,drop_empty,dedup,pii,screen",
                 "--param", "screen.words=[weapon]", "--validation", "0.2", "--test", "0"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == out["version"]


def test_versions_diff_and_rollback_commands(tmp_path, capsys):
    store = str(tmp_path / "store")
    main(["data", "prepare", str(EXAMPLES / "qa.jsonl"), "--out", store, "--steps", "normalize"])
    first = json.loads(capsys.readouterr().out)["version"]
    main(["data", "prepare", str(EXAMPLES / "qa.jsonl"), "--out", store, "--steps", "normalize", "--seed", "1"])
    second = json.loads(capsys.readouterr().out)["version"]
    assert main(["data", "versions", store]) == 0
    assert [v["version"] for v in json.loads(capsys.readouterr().out)] == [first, second]
    assert main(["data", "diff", store, first]) == 0
    changes = json.loads(capsys.readouterr().out)
    # another seed: the same rows, some of them in other splits
    assert changes["summary"]["moved"] > 0 and changes["summary"]["added"] == changes["summary"]["removed"] == 0
    assert main(["data", "rollback", store]) == 0
    assert json.loads(capsys.readouterr().out) == {"current": first}


def test_errors_exit_2_with_one_paragraph(tmp_path):
    bad = subprocess.run([sys.executable, "-m", "ftlab.cli", "data", "inspect", str(EXAMPLES / "broken.jsonl")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.strip().endswith("broken.jsonl, line 3: not valid JSON (Unterminated string starting at, "
                                       "column 33).")
    assert "Traceback" not in bad.stderr
    wrong = subprocess.run([sys.executable, "-m", "ftlab.cli", "data", "prepare", str(EXAMPLES / "qa.jsonl"),
                            "--out", str(tmp_path), "--steps", "normalize,dedupe"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "unknown step 'dedupe'" in wrong.stderr
