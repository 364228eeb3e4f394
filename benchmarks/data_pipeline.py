"""How fast the data stage is on a realistic 100k-row JSONL file.

Generates support-desk style Q/A rows (seeded, made-up product names and details) with ~5% exact duplicates, ~5%
near duplicates (a word changed), ~10% rows with personal data and stray
whitespace, then times each part separately:

    load + normalise + exact dedup + PII masking + split    target <= 30 s on 2 cores
    near-duplicate removal (MinHash/LSH) on the same rows   target <= 120 s

    python benchmarks/data_pipeline.py [--rows 100000] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

TOPICS = ["password", "invoice", "delivery", "refund", "subscription", "account", "order", "warranty", "coupon",
          "shipping address", "payment method", "gift card", "newsletter", "two-factor login", "return label"]
VERBS = ["change", "cancel", "find", "update", "reset", "download", "track", "renew", "remove", "add"]
WHEN = ["today", "after checkout", "on mobile", "from abroad", "without an account", "before it ships",
        "for a business", "during a sale", "on the website", "by phone"]
STEPS = ["Open Settings", "Go to Orders", "Choose Account", "Tap the menu", "Visit the help centre"]


def make_rows(n: int, seed: int) -> list[dict]:
    """Support tickets: a few templates filled with made-up product names and details, as varied as real ones."""
    from ftlab.data.tasks import pseudo_word

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        kind = rng.random()
        if rows and kind < 0.05:
            rows.append(dict(rows[rng.randrange(len(rows))]))  # exact duplicate
            continue
        if rows and kind < 0.10:
            row = dict(rows[rng.randrange(len(rows))])
            row["answer"] = row["answer"].replace(" the ", " this ", 1) + " Thanks!"
            rows.append(row)  # near duplicate
            continue
        topic, verb, when = rng.choice(TOPICS), rng.choice(VERBS), rng.choice(WHEN)
        product = " ".join(pseudo_word(rng).title() for _ in range(2))
        detail = " ".join(pseudo_word(rng) for _ in range(rng.randint(4, 12)))
        question = f"How do I {verb} the {topic} of my {product} {when}? It says {detail}."
        answer = (f"{rng.choice(STEPS)}, pick {product} and choose '{verb.title()} {topic}'. "
                  f"{' '.join(pseudo_word(rng) for _ in range(rng.randint(5, 15))).capitalize()}. "
                  f"It takes about {rng.randint(1, 30)} minutes. Reference {rng.randint(10000, 99999)}-{i}.")
        if kind < 0.20:
            answer += rng.choice([f" Write to user{i}@example.com for help.", f" Call +1 415 555 {i % 10000:04d}.",
                                  " Card 4111 1111 1111 1111 was charged.",
                                  f" Server 10.0.{i % 250}.{i % 200} logged it."])
            question = f"  {question}\u00a0 "
        rows.append({"id": f"t{i}", "question": question, "answer": answer})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from ftlab.data.parsing import load
    from ftlab.data.quality import ExactDedup, MaskPII, NearDedup, Normalize, Pipeline
    from ftlab.data.splits import split_records

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "support.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for row in make_rows(args.rows, args.seed):
                fh.write(json.dumps(row) + "\n")
        size_mb = path.stat().st_size / 1e6
        print(f"generated {args.rows} rows, {size_mb:.1f} MB")

        # wall-clock and CPU seconds: on a shared machine the CPU figure is the one to compare
        times, cpu = {}, {}
        c0, t0 = time.process_time(), time.perf_counter()
        records = load(path).records
        times["load"], cpu["load"] = time.perf_counter() - t0, time.process_time() - c0
        for step in (Normalize(), ExactDedup(), MaskPII()):
            c0, t0 = time.process_time(), time.perf_counter()
            records = Pipeline([step], seed=args.seed).run(records).records
            times[step.name], cpu[step.name] = time.perf_counter() - t0, time.process_time() - c0
        c0, t0 = time.process_time(), time.perf_counter()
        splits = split_records(records, 0.1, 0.1, args.seed)
        times["split"], cpu["split"] = time.perf_counter() - t0, time.process_time() - c0
        core = sum(times.values())
        for name, seconds in times.items():
            print(f"  {name:<10} {seconds:6.2f} s wall  {cpu[name]:6.2f} s cpu")
        print(f"load + normalise + exact dedup + PII + split: {core:.2f} s wall, {sum(cpu.values()):.2f} s cpu "
              f"for {args.rows} rows (target <= 30 s) -> {'OK' if core <= 30 else 'TOO SLOW'}")
        print(f"  rows kept {sum(len(s) for s in splits.values())}, splits "
              f"{ {k: len(v) for k, v in splits.items()} }")

        c0, t0 = time.process_time(), time.perf_counter()
        kept = Pipeline([NearDedup()], seed=args.seed).run(records)
        near = time.perf_counter() - t0
        print(f"near-duplicate removal: {near:.2f} s wall, {time.process_time() - c0:.2f} s cpu for {len(records)} "
              f"rows, dropped "
              f"{len(records) - len(kept.records)} (target <= 120 s) -> {'OK' if near <= 120 else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
