"""A finished run as a plain model folder, so a later stage can start from it (``model.name=RUN/merged``).

For an adapter run the adapter is merged into the base weights; a full
fine-tune's model is saved as it is.  Either way the folder loads with
``from_pretrained`` like any model, tokenizer included.
"""

from __future__ import annotations

from pathlib import Path


def merged_model(run_dir: str | Path) -> Path:
    """``run_dir/merged``: the run's final model with any adapter merged in; written once, then reused."""
    from ftlab.training.saved import load_trained

    folder = Path(run_dir) / "merged"
    if (folder / "config.json").is_file():
        return folder
    model, tokenizer = load_trained(run_dir)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    partial = folder.with_name("merged.partial")
    model.save_pretrained(partial)
    tokenizer.save_pretrained(partial)
    partial.rename(folder)  # a crash half-way leaves no folder that looks complete
    return folder
