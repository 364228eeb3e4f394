import os

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# CI has no network: a hub id must fail at once, as it does for a person offline, not after retries.
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def noisy_tiny_chat(tmp_path_factory):
    """The built-in model with Gaussian noise on every weight (0.2 of each tensor's spread), saved as a model folder:
    a second model that still answers in streams of letters, but not the built-in model's letters (as a damaged
    export would)."""
    import torch

    from ftlab.models.loader import load_model, load_tokenizer
    from ftlab.models.tiny import BUILTIN_MODEL

    folder = tmp_path_factory.mktemp("models") / "noisy-tiny-chat"
    model, tokenizer = load_model(BUILTIN_MODEL), load_tokenizer(BUILTIN_MODEL)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.2 * parameter.std().nan_to_num(0))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


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


@pytest.fixture(scope="session")
def lora_run(tmp_path_factory):
    """A finished LoRA run (final/ adapter, merged on demand) on a skill the built-in model already has
    (repeating a word): its answers are confident, so they are stable under 8- and 4-bit quantisation.
    Six steps: enough for a non-zero adapter; what it learns does not matter to its users."""
    from ftlab.config import Config
    from ftlab.training.runner import train

    config = Config().override([
        f"train.output_dir={tmp_path_factory.mktemp('lora_run')}", "train.run_name=repeat-lora", "data.task=repeat",
        "data.n_train=64", "data.n_validation=8", "data.n_test=8", "train.max_steps=6", "train.logging_steps=3",
        "train.eval_steps=6", "train.save_steps=6", "train.learning_rate=3e-3", "eval.at_end=false",
        "eval.timeline_prompts=0", "eval.resamples=100"])
    return train(config).run.path


@pytest.fixture(scope="session")
def registry_database(tmp_path_factory):
    """An empty MLflow registry database with its tables created (about 10 s, once): tests copy the file."""
    from ftlab.ops.model_registry import ModelRegistry

    return ModelRegistry(f"sqlite:///{tmp_path_factory.mktemp('registry') / 'mlflow.db'}").uri[len("sqlite:///"):]


@pytest.fixture
def model_registry(registry_database, tmp_path):
    """A fresh, empty model registry in this test's folder (a copy of the session's empty database)."""
    import shutil

    from ftlab.ops.model_registry import ModelRegistry

    folder = tmp_path / "registry"
    folder.mkdir()
    shutil.copy(registry_database, folder / "mlflow.db")
    return ModelRegistry(f"sqlite:///{folder / 'mlflow.db'}")
