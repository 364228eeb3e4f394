"""The config builder without a browser: set controls as a person would, check the config they built."""

import html
import json

import pytest
import yaml

from ftlab.config import Config
from ftlab.widgets import ConfigBuilder
from ftlab.widgets.html_table import CELL


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


def _line(text: str, start: str) -> int:
    """The line (from 1) of the YAML text that starts with ``start``."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_editing_the_yaml_text_sets_the_controls():
    builder = ConfigBuilder()
    held = builder.config  # a notebook's reference keeps seeing the config the builder shows
    text = (builder.yaml.value.replace("  name: lora\n", "  name: qlora\n")
            .replace("  learning_rate: 0.002\n", "  learning_rate: 5e-4\n")
            .replace("  max_steps: 300\n", "")  # a setting left out is its default, as in a file
            .replace("  batch_size: 16\n", "  batch_size: 4\n"))
    builder.set("train.max_steps", 123)
    builder.set_yaml(text)
    assert builder.yaml_problems == [] and builder.problems == {}
    assert builder.config is held
    assert (held.method.name, held.train.learning_rate, held.train.max_steps, held.train.batch_size) == \
        ("qlora", 5e-4, 300, 4)
    assert builder.controls["method.name"].value == "qlora"
    assert builder.controls["train.learning_rate"].value == 5e-4
    assert builder.controls["train.max_steps"].value == 300 and builder.controls["train.batch_size"].value == 4
    assert builder.rows["method.bits"].layout.display is None  # qlora's own settings show
    assert builder.yaml.value == held.to_yaml()  # rewritten in the form Config.save writes
    assert "  learning_rate: 0.0005\n  max_steps: 300\n" in builder.yaml.value


def test_yaml_that_does_not_parse_is_explained_by_line_and_changes_nothing():
    builder = ConfigBuilder()
    builder.set("train.max_steps", 123)
    before = Config.from_dict(builder.config.to_dict())
    text = builder.yaml.value.replace("  max_steps: 123\n", "  max_steps: [123\n")
    line = _line(text, "  max_steps:")
    builder.set_yaml(text)
    expected = (f"the YAML text is not valid YAML at line {line + 1}, column 13: expected ',' or ']', but got ':' "
                f"(while parsing a flow sequence that starts at line {line}). Fix the text there (indent with "
                "spaces, one `name: value` per line).")
    assert builder.yaml_problems == [expected]
    assert html.escape(expected) in builder.yaml_message.value
    assert "Not applied: the config keeps its last good values" in builder.yaml_message.value
    assert "ftlab-invalid" in builder.yaml._dom_classes
    assert builder.config == before and builder.controls["train.max_steps"].value == 123
    assert builder.yaml.value == text  # the person's text stays, to be fixed
    builder.set_yaml(text.replace("[123", "124"))
    assert builder.yaml_problems == [] and builder.yaml_message.value == ""
    assert builder.config.train.max_steps == 124 and "ftlab-invalid" not in builder.yaml._dom_classes


def test_an_unknown_name_or_a_bad_value_in_the_yaml_is_flagged_at_its_field():
    builder = ConfigBuilder()
    before = Config.from_dict(builder.config.to_dict())
    text = (builder.yaml.value.replace("  learning_rate: 0.002\n", "  learnin_rate: 0.001\n")
            .replace("  batch_size: 16\n", "  batch_size: big\n")
            .replace("  dtype: auto\n", "  dtype: auto\n  colour: red\n"))
    builder.set_yaml(text)
    lr, batch, colour = _line(text, "  learnin_rate:"), _line(text, "  batch_size:"), _line(text, "  colour:")
    assert builder.yaml_problems == [
        f"line {colour}: model.colour: no such setting; model has name, dtype, trust_remote_code.",
        f"line {lr}: train.learnin_rate: no such setting; did you mean train.learning_rate?",
        f"line {batch}: train.batch_size: expected int, got 'big'."]
    assert builder.problems == {
        "train.learning_rate": f"in the YAML, line {lr}: train.learnin_rate is not a setting; did you mean this one?",
        "train.batch_size": f"in the YAML, line {batch}: expected int, got 'big'."}
    assert builder.problems["train.batch_size"] in builder.errors["train.batch_size"].value
    assert "ftlab-invalid" in builder.controls["train.batch_size"]._dom_classes
    assert "model.colour: no such setting" in builder.yaml_message.value  # no control of its own: under the text
    assert builder.config == before and builder.controls["train.batch_size"].value == 16
    assert "2 setting(s) to fix" in builder.summary.value
    assert "estimated peak training memory" in builder.summary.value  # of the config kept, which is valid
    # A value that reads but breaks a rule is taken and flagged, as from its control.
    builder.set_yaml(builder.config.to_yaml().replace("  learning_rate: 0.002\n", "  learning_rate: -1\n"))
    assert builder.yaml_problems == [] and builder.config.train.learning_rate == -1.0
    assert builder.problems == {"train.learning_rate": "must be greater than 0, got -1.0."}
    assert builder.controls["train.learning_rate"].value == -1.0


def test_changing_a_control_rewrites_the_yaml_text():
    builder = ConfigBuilder()
    builder.set("method.name", "dora")
    builder.set("method.target_modules", ["q_proj", "v_proj"])
    assert "method:\n  name: dora\n" in builder.yaml.value
    assert "  target_modules:\n  - q_proj\n  - v_proj\n" in builder.yaml.value
    assert Config.from_dict(yaml.safe_load(builder.yaml.value)) == builder.config
    builder.set_yaml(builder.yaml.value.replace("  batch_size: 16\n", "  batch_size: big\n"))
    assert builder.problems  # a pending edit that did not read...
    builder.set("train.max_steps", 50)  # ...gives way to the newer change at a control
    assert builder.yaml_problems == [] and builder.problems == {}
    assert builder.yaml.value == builder.config.to_yaml() and "  max_steps: 50\n  num_epochs" in builder.yaml.value
    builder.set("eval.n_examples", "fifty")  # a control value the config cannot take leaves the text alone
    assert "expected int, got 'fifty'" in builder.errors["eval.n_examples"].value
    assert builder.yaml.value == builder.config.to_yaml() and "  n_examples: null\n" in builder.yaml.value


def test_diff_against_an_earlier_run_lists_exactly_the_changed_settings(tmp_path):
    from ftlab.config import SettingChange
    from ftlab.training.rundir import RunDir

    earlier = Config().override([f"train.output_dir={tmp_path / 'runs'}", "train.run_name=earlier"])
    run = RunDir.create(earlier)
    builder = ConfigBuilder(Config.from_dict(earlier.to_dict()))
    assert builder.runs.options == (("(none)", ""), ("earlier", str(run.path)))
    assert builder.runs.label == "(none)" and builder.diff_view.value == ""
    builder.runs.value = str(run.path)
    assert "the same settings as <b>earlier</b>" in builder.diff_view.value
    builder.set("method.name", "dora")
    builder.set_yaml(builder.yaml.value.replace("  max_steps: 300\n", "  max_steps: 77\n"))
    builder.set("eval.metrics", ["exact_match"])
    assert builder.diff_against(run.path) == [SettingChange("method.name", "lora", "dora"),
                                              SettingChange("train.max_steps", 300, 77),
                                              SettingChange("eval.metrics", [], ["exact_match"])]
    shown = builder.diff_view.value
    assert "3 setting(s) differ from <b>earlier</b>" in shown
    for row in (("method.name", "lora", "dora"), ("train.max_steps", "300", "77"),
                ("eval.metrics", "(empty)", "exact_match")):
        assert "".join(f"<td style='{CELL}'>{cell}</td>" for cell in (f"<code>{row[0]}</code>", *row[1:])) in shown
    later = RunDir.create(Config.from_dict(builder.config.to_dict()).override(["train.run_name=later"]))
    later.update_results(started=run.read_json("results.json")["started"] + 1)
    builder.runs_button.click()  # a run finished since: listed again, newest first
    assert [label for label, _ in builder.runs.options] == ["(none)", "later", "earlier"]
    assert builder.runs.value == str(run.path) and "3 setting(s) differ" in builder.diff_view.value
    builder.runs.value = str(later.path)
    assert builder.diff_against(later.path) == [SettingChange("train.run_name", "later", "earlier")]
    (later.path / "config.yaml").write_text("train:\n  lr: 0.1\n")  # e.g. written by an older ftlab
    builder.list_runs()
    builder.runs.value = str(later.path)
    assert "train.lr: no such setting" in builder.diff_view.value
    builder.set("train.max_steps", 78)  # the builder keeps working
    assert builder.config.train.max_steps == 78
