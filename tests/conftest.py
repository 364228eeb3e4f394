import os

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# CI has no network: a hub id must fail at once, as it does for a person offline, not after retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def small_config(tmp_path):
    """A config that trains the built-in model for a few seconds."""
    from ftlab.config import Config

    def make(*overrides: str) -> Config:
        config = Config()
        config.override([
            f"train.output_dir={tmp_path / 'runs'}", "data.n_train=256", "data.n_validation=32",
            "data.n_test=32", "train.max_steps=30", "train.logging_steps=5", "train.eval_steps=15",
            "train.save_steps=15", "train.learning_rate=3e-3", "eval.resamples=100",
        ])
        return config.override(list(overrides))

    return make
