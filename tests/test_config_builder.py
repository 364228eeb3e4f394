"""The config builder without a browser: set controls as a person would, check the config they built."""

import json

import pytest

from ftlab.config import Config
from ftlab.widgets import ConfigBuilder


def test_controls_write_through_to_the_config():
    builder = ConfigBuilder()
    builder.set("method.name", "qlora")
    builder.set("train.learning_rate", 5e-4)
    builder.set("method.target_modules", ["q_proj", "v_proj"])
    builder.set("data.task", "date_format")
    builder.set("train.gradient_checkpointing", True)
    config = builder.config
    assert (config.method.name, config.train.learning_rate) == ("qlora", 5e-4)
    assert config.method.target_modules == ["q_proj", "v_proj"]
    assert config.data.task == "date_format" and config.train.gradient_checkpointing is True
    assert builder.problems == {}
    assert "config is valid" in builder.summary.value


def test_every_setting_has_a_control_with_its_help_as_tooltip():
    builder = ConfigBuilder()
    fields = {f"{section}.{name}" for section, values in Config().to_dict().items() for name in values}
    assert set(builder.controls) == fields
    assert builder.controls["train.learning_rate"].tooltip.startswith("Peak learning rate")


def test_invalid_values_are_flagged_at_their_control():
    builder = ConfigBuilder()
    builder.set("train.learning_rate", -1.0)
    builder.set("train.eval_steps", 30)
    assert "must be greater than 0, got -1.0" in builder.errors["train.learning_rate"].value
    assert "must be a multiple of train.eval_steps (30)" in builder.errors["train.save_steps"].value
    assert "ftlab-invalid" in builder.controls["train.learning_rate"]._dom_classes
    assert "2 setting(s) to fix" in builder.summary.value
    builder.set("train.learning_rate", 1e-3)
    assert builder.errors["train.learning_rate"].value == ""
    assert "ftlab-invalid" not in builder.controls["train.learning_rate"]._dom_classes


def test_a_value_of_the_wrong_type_is_flagged_and_not_written():
    builder = ConfigBuilder()
    builder.set("eval.n_examples", "fifty")
    assert "expected int, got 'fifty'" in builder.errors["eval.n_examples"].value
    assert builder.config.eval.n_examples is None
    builder.set("eval.n_examples", "50")
    assert builder.config.eval.n_examples == 50 and builder.errors["eval.n_examples"].value == ""
    builder.set("method.target_modules", "")
    assert "list the linear layers to adapt" in builder.errors["method.target_modules"].value
    builder.set("data.train_file", "missing.jsonl")
    assert "file missing.jsonl does not exist" in builder.errors["data.train_file"].value


def test_method_specific_settings_show_only_for_their_method():
    builder = ConfigBuilder()
    assert builder.rows["method.bits"].layout.display == "none"
    builder.set("method.name", "qlora")
    assert builder.rows["method.bits"].layout.display is None
    builder.set("method.name", "prompt_tuning")
    assert builder.rows["method.lora_r"].layout.display == "none"
    assert builder.rows["method.num_virtual_tokens"].layout.display is None


def test_stage_tab_shows_the_settings_of_the_chosen_stage_and_builds_its_config():
    builder = ConfigBuilder()
    assert builder.rows["stage.beta"].layout.display == "none"  # sft reads no stage.* setting
    builder.set("train.stage", "dpo")
    assert builder.rows["stage.beta"].layout.display is None and builder.rows["stage.sft_weight"].layout.display is None
    assert builder.rows["stage.replay_ratio"].layout.display == "none"
    builder.set("stage.beta", 0.3)
    builder.set("stage.sft_weight", 1.0)
    assert (builder.config.train.stage, builder.config.stage.beta, builder.config.stage.sft_weight) == ("dpo", 0.3, 1.0)
    assert "stage:\n  beta: 0.3" in builder.config.to_yaml()
    builder.set("stage.beta", -1.0)
    assert "must not be negative, got -1.0" in builder.errors["stage.beta"].value


def test_trainable_parameter_readout_follows_the_method():
    builder = ConfigBuilder()
    builder.set("method.name", "full")
    assert "trainable parameters: <b>820,864</b> of 820,864" in builder.summary.value
    builder.set("method.name", "lora")
    builder.set("method.lora_r", 8)
    lora8 = builder.summary.value
    builder.set("method.lora_r", 16)
    assert lora8 != builder.summary.value and "trainable parameters: <b>77,824</b>" in lora8


def test_memory_estimate_readout_follows_batch_and_checkpointing():
    import re

    def estimate(builder):
        return float(re.search(r"estimated peak training memory: <b>([0-9.e+-]+) GB</b>", builder.summary.value)[1])

    builder = ConfigBuilder()
    builder.set("model.name", "meta-llama/Meta-Llama-3.1-8B-Instruct")  # from the name alone, offline
    builder.set("method.name", "full")
    full = estimate(builder)
    builder.set("method.name", "qlora")
    qlora = estimate(builder)
    builder.set("train.gradient_checkpointing", True)
    assert estimate(builder) < qlora < full
    for method in ("prompt_tuning", "ia3", "lora_fa"):  # every method in the registry is priced
        builder.set("method.name", method)
        assert 0 < estimate(builder) < full, method


def test_save_and_load_round_trip(tmp_path):
    builder = ConfigBuilder()
    builder.set("method.name", "dora")
    builder.set("train.max_steps", 123)
    path = builder.save(tmp_path / "run.yaml")
    other = ConfigBuilder()
    other.load(path)
    assert other.config == builder.config
    assert other.controls["method.name"].value == "dora" and other.controls["train.max_steps"].value == 123


def test_saving_an_invalid_config_says_why_and_writes_nothing(tmp_path):
    builder = ConfigBuilder()
    builder.set("train.batch_size", 0)
    builder.path_box.value = str(tmp_path / "bad.yaml")
    builder.save_button.click()
    assert "train.batch_size: must be greater than 0" in builder.message.value
    assert not (tmp_path / "bad.yaml").exists()


def test_export_single_device_command(tmp_path):
    builder = ConfigBuilder(export_dir=tmp_path)
    builder.set("train.max_steps", 40)
    builder.export_button.click()
    assert builder.command == f"ftlab train {tmp_path / 'config.yaml'}"
    assert Config.load(tmp_path / "config.yaml").train.max_steps == 40


@pytest.mark.parametrize("strategy", ["ddp", "fsdp", "zero2", "zero3"])
def test_export_accelerate_configs_that_accelerate_accepts(tmp_path, strategy):
    from accelerate.commands.config.config_args import ClusterConfig
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser

    builder = ConfigBuilder(export_dir=tmp_path)
    builder.set("train.precision", "bf16")
    builder.strategy.value, builder.gpus.value = strategy, 4
    command = builder.export()
    accelerate_file = tmp_path / f"accelerate_{strategy}.yaml"
    assert command.startswith(f"accelerate launch --config_file {accelerate_file} -m ftlab.cli train")
    cluster = ClusterConfig.from_yaml_file(str(accelerate_file))  # rejects unknown keys
    assert cluster.num_processes == 4 and cluster.mixed_precision == "bf16"
    args = launch_command_parser().parse_args(["--config_file", str(accelerate_file), "-m", "ftlab.cli", "train",
                                               str(tmp_path / "config.yaml")])
    args, *_ = _validate_launch_command(args)
    if strategy == "fsdp":
        assert args.use_fsdp and args.fsdp_transformer_layer_cls_to_wrap == "LlamaDecoderLayer"
    if strategy.startswith("zero"):
        ds = json.loads((tmp_path / f"ds_zero{strategy[-1]}.json").read_text())
        assert args.use_deepspeed and ds["zero_optimization"]["stage"] == int(strategy[-1])
        _check_deepspeed_json(ds, tmp_path)


def _check_deepspeed_json(ds: dict, tmp_path):
    """Fill the "auto" values as the Trainer does, then let DeepSpeed's own config parser read the result."""
    from deepspeed.runtime.config import DeepSpeedConfig
    from transformers.integrations.deepspeed import HfTrainerDeepSpeedConfig, unset_hf_deepspeed_config
    from trl import SFTConfig

    from ftlab.models.loader import load_model

    model = load_model("ftlab/tiny-chat")  # before the ZeRO-3 config exists, which would make loading sharded
    hf = HfTrainerDeepSpeedConfig(ds)
    try:
        args = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=16, gradient_accumulation_steps=2,
                         max_grad_norm=1.0, report_to="none", bf16=False)
        hf.trainer_config_process(args)
        hf.trainer_config_finalize(args, model, num_training_steps=100)
    finally:
        unset_hf_deepspeed_config()  # it is process-global
    assert "auto" not in json.dumps(hf.config)
    parsed = DeepSpeedConfig(hf.config)
    assert parsed.zero_optimization_stage == ds["zero_optimization"]["stage"]
    assert parsed.train_micro_batch_size_per_gpu == 16 and parsed.gradient_clipping == 1.0
