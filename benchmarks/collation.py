"""Collating the quickstart's batches: TRL's language-modelling collator against ftlab's PaddedBatch.

Both get the same 16-row batches of the quickstart's tokenized training rows
(from TRL's own dataset preparation); the script checks that their tensors
are identical, then prints the median time per batch of each.

    OMP_NUM_THREADS=1 python benchmarks/collation.py [--batches 125] [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path


def quickstart_rows(workdir: Path) -> tuple[list[dict], int]:
    """The quickstart's training rows as TRL tokenized them (train_speed's bare-TRL arm), and the pad id."""
    from train_speed import build_trl, job_config  # this folder is on sys.path when the script runs

    trainer = build_trl(job_config(10, workdir, "collation"), workdir)
    dataset = trainer.train_dataset
    rows = [{k: dataset[i][k] for k in ("input_ids", "labels")} for i in range(len(dataset))]
    return rows, trainer.processing_class.pad_token_id


def main() -> None:
    import torch
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from ftlab.training.padded_batch import PaddedBatch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=125, help="batches of 16 rows per timing (125: 2,000 rows)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows, pad_id = quickstart_rows(Path(tmp))
    batches = [rows[(16 * i) % (len(rows) - 16):][:16] for i in range(args.batches)]
    collators = {"TRL DataCollatorForLanguageModeling": DataCollatorForLanguageModeling(pad_token_id=pad_id),
                 "ftlab PaddedBatch": PaddedBatch(pad_token_id=pad_id)}
    theirs, ours = collators.values()
    for batch in batches:
        a, b = theirs(batch), ours(batch)
        assert list(a) == list(b) and all(torch.equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)
    print(f"identical tensors, keys and dtypes on {len(batches)} batches of 16 rows")
    for name, collate in collators.items():
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for batch in batches:
                collate(batch)
            times.append((time.perf_counter() - start) / len(batches))
        print(f"{name:<38} {1000 * statistics.median(times):.3f} ms per batch of 16")


if __name__ == "__main__":
    main()
