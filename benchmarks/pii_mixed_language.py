"""PII masking on mixed Chinese/English text: recall and precision per kind, and throughput, before and after.

"Before" is ftlab/data/pii.py as committed at a git ref (default HEAD, so an
uncommitted change is compared with what it changes); "after" is the working
tree's.  Both run on the labelled rows of tests/data/pii_mixed.jsonl:

    recall      labelled spans masked exactly (by any mask)
    precision   masked pieces of text that are labelled spans; a wrong mask is
                counted against the kind whose placeholder it used
    throughput  mask_pii over 100k rows drawn from the labelled rows (every row
                has digits, most have personal data: the slow case), best CPU
                time of three runs, before and after taking turns

    python benchmarks/pii_mixed_language.py [--rows 100000] [--before HEAD]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "pii_mixed.jsonl"


def load_module(source: str, name: str):
    path = Path(tempfile.mkdtemp()) / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def masked_parts(original: str, masked: str, masks: set[str]) -> list[tuple[str, str]]:
    """(placeholder, the text it replaced) for each placeholder in ``masked``."""
    token = re.compile("|".join(map(re.escape, masks)))
    pieces = token.split(masked)
    replaced = re.fullmatch("(.+?)".join(map(re.escape, pieces)), original, re.S).groups()
    return list(zip(token.findall(masked), replaced))


def evaluate(module, rows: list[dict], masks: dict[str, str]) -> dict:
    """Per kind: labelled spans, spans masked, masks placed, masks that were right; misses and false masks listed.

    ``masks`` is kind -> placeholder, in the order kinds are tried: a false mask
    counts against the first labelled kind with its placeholder ([ID]: cn_id before ssn).
    """
    labelled = {s["kind"] for r in rows for s in r["spans"]}
    kind_of_mask: dict[str, str] = {}
    for kind in masks:
        if kind in labelled:
            kind_of_mask.setdefault(masks[kind], kind)
    stats = {k: Counter() for k in labelled}
    missed, wrong, touched = [], [], 0
    for row in rows:
        out, _ = module.mask_pii(row["text"])
        parts = masked_parts(row["text"], out, set(masks.values()))
        spans = {s["text"]: s["kind"] for s in row["spans"]}
        got = {text for _, text in parts}
        for text, kind in spans.items():
            stats[kind]["spans"] += 1
            stats[kind]["found"] += text in got
            if text not in got:
                missed.append(f"{kind} {text!r} in {row['text']!r}")
        for mask, text in parts:
            kind = spans.get(text) or kind_of_mask.get(mask, mask)
            stats.setdefault(kind, Counter())["masks"] += 1
            stats[kind]["right"] += text in spans
            if text not in spans:
                wrong.append(f"{text!r} in {row['text']!r}")
        touched += sum(keep not in out for keep in row["keep"])
    return {"stats": stats, "missed": missed, "wrong": wrong, "negatives_masked": touched}


def throughput(module, texts: list[str]) -> float:
    start = time.process_time()
    for text in texts:
        module.mask_pii(text)
    return len(texts) / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--before", default="HEAD", help="git ref of the pii.py to compare with")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    old = subprocess.run(["git", "show", f"{args.before}:ftlab/data/pii.py"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    before = load_module(old, "pii_before")
    after = load_module((ROOT / "ftlab" / "data" / "pii.py").read_text(encoding="utf-8"), "pii_after")
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    masks = {**after.MASKS, **before.MASKS}  # kind -> placeholder, in the order the new pii.py tries them
    results = {"before": evaluate(before, rows, masks), "after": evaluate(after, rows, masks)}

    n_spans = sum(len(r["spans"]) for r in rows)
    n_keep = sum(len(r["keep"]) for r in rows)
    print(f"{len(rows)} labelled rows, {n_spans} spans of personal data, {n_keep} hard negatives "
          f"(before = {args.before})")
    print(f"{'kind':<16}{'spans':>6}   {'before: recall':>14} {'precision':>9}   "
          f"{'after: recall':>13} {'precision':>9}")
    kinds = sorted(set(results["before"]["stats"]) | set(results["after"]["stats"]))
    for kind in kinds + ["overall"]:
        cells = []
        for name in ("before", "after"):
            stats = results[name]["stats"]
            c = sum(stats.values(), Counter()) if kind == "overall" else stats.get(kind, Counter())
            recall = f"{c['found'] / c['spans']:.1%}" if c["spans"] else "-"
            precision = f"{c['right'] / c['masks']:.1%}" if c["masks"] else "-"
            cells.append(f"{recall:>14} {precision:>9}")
        spans = n_spans if kind == "overall" else results["after"]["stats"].get(kind, Counter())["spans"]
        print(f"{kind:<16}{spans:>6}   " + "   ".join(cells))
    for name in ("before", "after"):
        r = results[name]
        print(f"{name}: {len(r['wrong'])} false masks, {r['negatives_masked']} of {n_keep} hard negatives touched")
    for line in results["after"]["missed"]:
        print(f"  after, missed: {line}")
    for line in results["after"]["wrong"]:
        print(f"  after, false mask: {line}")

    rng = random.Random(args.seed)
    texts = [rng.choice(rows)["text"] for _ in range(args.rows)]
    speed = {}
    for module in (before, after):
        module.mask_pii(texts[0])  # compile the joined pattern outside the timing
    for _ in range(3):  # best of three, taking turns, so a change in machine load hits both
        for name, module in (("before", before), ("after", after)):
            speed[name] = max(speed.get(name, 0), throughput(module, texts))
    print(f"throughput on {args.rows} rows (CPU time): before {speed['before']:,.0f} rows/s, "
          f"after {speed['after']:,.0f} rows/s ({speed['after'] / speed['before'] - 1:+.0%})")


if __name__ == "__main__":
    main()
