"""The model picker and strategy wizard without a browser: set values, check the objects they produce."""

import pytest

from ftlab.errors import FtlabError
from ftlab.config import Config
from ftlab.models.estimate import estimate_memory
from ftlab.widgets import ModelPicker, StrategyWizard


def test_picker_bars_are_the_estimates_and_follow_the_controls():
    picker = ModelPicker(model="meta-llama/Llama-3.1-8B-Instruct", gpu="A100-40GB", batch_size=2, max_length=1024)
    bars = {t.name: t for t in picker.figure.data}
    lora = estimate_memory("meta-llama/Llama-3.1-8B-Instruct", Config().override([
        "method.name=lora", "model.dtype=bfloat16", "train.batch_size=2", "data.max_length=1024"]))
    i = list(bars["weights"].x).index("LoRA")
    assert bars["activations"].y[i] == lora.breakdown["activations"]
    assert bars["peak (parts overlap)"].y[i] == lora.total_gb
    assert picker.figure.layout.shapes[0].y0 == 40
    assert "full (mixed)" not in picker.fitting() and "QLoRA 4-bit" in picker.fitting()

    before = bars["activations"].y[i]
    picker.gradient_checkpointing.value = True
    assert bars["activations"].y[i] < before / 2
    picker.max_length.value = 4096
    picker.batch_size.value = 8
    assert picker.estimates["LoRA"].breakdown["activations"] > before
    picker.gpu.value = "H200"
    assert picker.figure.layout.shapes[0].y0 == 141 and "H200" in picker.status.value


def test_picker_shows_errors_instead_of_raising():
    picker = ModelPicker()
    picker.model.value = "acme/widget"
    assert "cannot be read from its name" in picker.status.value and picker.estimates == {}


def test_wizard_recommends_and_hands_the_config_on():
    received = []
    wizard = StrategyWizard(on_config=received.append)
    wizard.gpu.value = "RTX-4090"
    wizard.data_size.value = 500
    wizard.quality.value = "high"
    assert wizard.use_button.disabled
    wizard.recommend_button.click()
    rec = wizard.recommendation
    assert rec.memory.total_gb <= 24 and rec.config.train.num_epochs == 11  # 500 examples: many passes
    assert rec.choices["method"].reason in wizard.output.value
    assert f"Estimated peak memory {rec.memory.total_gb:.1f} GB of 24 GB" in wizard.output.value
    wizard.use_button.click()
    assert received == [rec.config] and wizard.config is rec.config
    rec.config.validate()


def test_wizard_reports_what_cannot_fit():
    wizard = StrategyWizard(model="meta-llama/Llama-3.1-70B-Instruct")
    wizard.gpu.value = "T4"
    wizard.recommend()
    assert "Nothing fits in 16 GB" in wizard.output.value and wizard.use_button.disabled
    with pytest.raises(FtlabError, match="Press Recommend first"):
        wizard.hand_on()
