from dataclasses import fields

import pytest
import yaml

from ftlab.config import SECTIONS, TABS, Config, choices, help_text, paths, tab
from ftlab.training.methods import METHODS
from ftlab.training.stages import STAGES
from ftlab.errors import ConfigError, FtlabError


def test_default_config_is_valid_and_addressable_by_dotted_paths():
    config = Config().validate()
    assert config.get("method.name") == "lora"
    assert config.get("train.max_steps") == 300
    assert "q_proj" in config.get("method.target_modules")


def test_every_field_has_help_text():
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            assert len(help_text(f"{section}.{f.name}")) > 10, f"{section}.{f.name}"
    assert choices("method.name") == METHODS.names() and "p_tuning" in METHODS
    assert choices("train.stage") == STAGES.names() and STAGES.names()[0] == "sft"
    assert {"sft", "cpt", "rm", "dpo", "kto", "orpo", "grpo", "rloo", "ppo"} <= set(STAGES.names())
    assert help_text("method.name").endswith("One of: " + ", ".join(METHODS) + ".")  # the registry's names, now


def test_every_field_belongs_to_a_builder_tab():
    assert {tab(p) for p in paths()} == set(TABS)


def test_yaml_round_trip_keeps_every_value(tmp_path):
    config = Config()
    config.override(["train.learning_rate=1e-4", "method.target_modules=q_proj,v_proj", "data.system_prompt=Be terse.",
                     "method.bits=8", "train.report_to=[tensorboard]", "eval.n_examples=10"])
    path = config.save(tmp_path / "run.yaml")
    loaded = Config.load(path)
    assert loaded == config
    assert loaded.method.target_modules == ["q_proj", "v_proj"]
    assert loaded.train.learning_rate == 1e-4


def test_commented_yaml_lists_help_and_loads_back_to_defaults():
    text = Config().to_yaml(comments=True)
    assert "# Peak learning rate" in text
    assert Config.from_dict(yaml.safe_load(text)) == Config()


def test_overrides_coerce_command_line_strings():
    config = Config().override(["train.max_steps=50", "train.gradient_checkpointing=true", "data.task=date_format",
                                "eval.max_new_tokens=none"])
    assert config.train.max_steps == 50 and config.train.gradient_checkpointing is True
    assert config.data.task == "date_format" and config.eval.max_new_tokens is None


@pytest.mark.parametrize("override, field, words", [
    ("method.name=lorra", "method.name", "unknown method 'lorra' (did you mean lora?); choose one of full, freeze"),
    ("train.learning_rate=0", "train.learning_rate", "greater than 0"),
    ("train.learning_rate=-1e-4", "train.learning_rate", "greater than 0"),
    ("data.train_file=missing/train.jsonl", "data.train_file", "file missing/train.jsonl does not exist"),
    ("data.task=sudoku", "data.task", "unknown task 'sudoku'"),
    ("train.precision=fp8", "train.precision", "not one of auto, fp32, bf16, fp16"),
    ("train.stage=rlhf", "train.stage", "'rlhf' is not one of sft"),
    ("method.lora_dropout=-0.1", "method.lora_dropout", "must not be negative, got -0.1."),
    ("eval.n_examples=0", "eval.n_examples", "must be greater than 0, got 0."),
])
def test_validation_names_the_field_and_the_fix(override, field, words):
    with pytest.raises(ConfigError) as err:
        Config().override([override]).validate()
    assert err.value.field == field
    assert words in str(err.value)


def test_type_errors_and_unknown_names_are_explained():
    with pytest.raises(ConfigError, match=r"train.max_steps: expected int, got 'many'"):
        Config().override(["train.max_steps=many"])
    with pytest.raises(ConfigError,
                       match=r"train.lr: no such setting; train has stage, output_dir, run_name, learning_rate"):
        Config().override(["train.lr=1e-3"])
    with pytest.raises(ConfigError, match=r"optim: unknown section; the sections are model, data, method"):
        Config.from_dict({"optim": {"lr": 1}})
    with pytest.raises(FtlabError, match="not of the form section.field=value"):
        Config().override(["max_steps"])


def test_loading_a_missing_or_broken_file_says_which(tmp_path):
    with pytest.raises(FtlabError, match="nope.yaml does not exist"):
        Config.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(FtlabError, match="bad.yaml is not valid YAML"):
        Config.load(bad)


def test_a_yaml_syntax_error_names_its_line_and_column(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  max_steps: [12\n  batch_size: 8\n")
    with pytest.raises(FtlabError) as err:
        Config.load(bad)
    assert str(err.value) == (f"{bad} is not valid YAML at line 3, column 13: expected ',' or ']', but got ':' "
                              "(while parsing a flow sequence that starts at line 2). Fix the text there (indent "
                              "with spaces, one `name: value` per line).")


def test_reading_a_mapping_collects_every_problem_and_a_mistyped_name_gets_a_guess():
    config, errors = Config.read_dict({"train": {"learnin_rate": 1e-3, "max_steps": "many", "batch_size": 4},
                                       "optim": {"lr": 1}})
    assert [str(e) for e in errors] == [
        "train.learnin_rate: no such setting; did you mean train.learning_rate?",
        "train.max_steps: expected int, got 'many'.",
        "optim: unknown section; the sections are model, data, method, train, stage, eval."]
    assert config.train.batch_size == 4 and config.train.max_steps == Config().train.max_steps


def test_changed_settings_lists_exactly_the_settings_that_differ():
    from ftlab.config import SettingChange, changed_settings

    before = Config()
    after = Config().override(["train.max_steps=50", "method.name=dora", "method.target_modules=[q_proj]"])
    assert changed_settings(before, before) == []
    assert changed_settings(before, after) == [
        SettingChange("method.name", "lora", "dora"),
        SettingChange("method.target_modules", before.method.target_modules, ["q_proj"]),
        SettingChange("train.max_steps", 300, 50)]
