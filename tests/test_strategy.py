"""The recommender: reasons for every choice, configs that validate and train, and never a setup that won't fit."""

import itertools

import pytest

import ftlab
from ftlab.errors import FtlabError
from ftlab.models.estimate import estimate_memory
from ftlab.models.strategy import PRESETS, Resources, TaskProfile, recommend


def test_every_choice_has_a_reason_and_the_config_validates():
    rec = recommend(TaskProfile(), Resources(gpu_memory_gb=24, gpu="A10G"))
    assert {"model", "method", "lora", "epochs", "learning_rate", "batch", "precision",
            "gradient_checkpointing"} <= set(rec.choices)
    assert all(c.reason for c in rec.choices.values())
    config = rec.config
    assert config.model.name == rec.choices["model"].value and config.method.name == rec.choices["method"].value
    assert config.method.lora_alpha == 2 * config.method.lora_r
    assert rec.choices["gradient_checkpointing"].value == config.train.gradient_checkpointing
    assert rec.time is not None and rec.time.cost > 0


GRID = list(itertools.product([6, 8, 12, 16, 24, 40, 80], [1, 4], ["low", "medium", "high"],
                              ["classification", "generation", "multi-task"], ["short", "long"], [None, *PRESETS]))


@pytest.mark.parametrize("memory,gpus,quality,task_type,length,preset", GRID[::7])
def test_never_recommends_what_the_estimator_says_will_not_fit(memory, gpus, quality, task_type, length, preset):
    task = TaskProfile(task_type=task_type, output_length=length, quality=quality, data_size=100_000)
    resources = Resources(gpu_memory_gb=memory, gpus=gpus, budget="high", expertise="expert")
    try:
        rec = recommend(task, resources, preset=preset)
    except FtlabError as exc:
        assert "Nothing fits" in str(exc)
        return
    again = estimate_memory(rec.config.model.name, rec.config, rec.hardware)  # the config as it will train
    assert again.total_gb == rec.memory.total_gb <= memory


def test_small_gpu_gets_qlora_and_big_budget_gets_full_tuning():
    small = recommend(TaskProfile(), Resources(gpu_memory_gb=12), model="meta-llama/Llama-3.1-8B-Instruct")
    assert small.choices["method"].value == "qlora" and small.config.train.gradient_checkpointing
    big = recommend(TaskProfile(quality="high", data_size=200_000),
                    Resources(gpu_memory_gb=80, gpus=8, budget="high", expertise="expert"))
    assert big.choices["method"].value == "full" and "sharding" in big.choices
    beginner = recommend(TaskProfile(quality="high", data_size=200_000),
                         Resources(gpu_memory_gb=80, gpus=8, budget="high", expertise="beginner"))
    assert beginner.choices["method"].value != "full"


def test_presets_change_the_plan():
    quick = recommend(TaskProfile(), Resources(gpu_memory_gb=80), preset="quick experiment")
    production = recommend(TaskProfile(), Resources(gpu_memory_gb=80), preset="production")
    constrained = recommend(TaskProfile(), Resources(gpu_memory_gb=80), preset="resource constrained")
    assert quick.memory.params < production.memory.params
    assert quick.config.train.num_epochs == 1
    assert constrained.choices["method"].value == "qlora"


def test_defaults_follow_published_practice():
    """Rank 8-16, LoRA at 2e-4 and full tuning at 2e-5 (halved from 30B), epochs falling as data grows."""
    from ftlab.models.strategy import practice_epochs

    assert [practice_epochs(n) for n in (300, 1_000, 10_000, 100_000, 5_000_000)] == [12.0, 10.0, 6.0, 2.0, 1.0]
    small = recommend(TaskProfile(data_size=800), Resources(gpu_memory_gb=24), model="Qwen/Qwen2.5-7B-Instruct")
    assert small.config.method.lora_r == 8 and small.config.train.num_epochs == 10
    assert small.config.train.learning_rate == 2e-4 and small.config.method.lora_dropout == 0.1
    assert small.config.train.warmup_ratio == 0.03
    large = recommend(TaskProfile(data_size=100_000), Resources(gpu_memory_gb=80, gpus=8),
                      model="Qwen/Qwen2.5-72B-Instruct")
    assert large.config.method.lora_r == 16 and large.config.train.num_epochs == 2
    assert large.config.train.learning_rate == 1e-4 and large.config.method.lora_dropout == 0.05
    full = recommend(TaskProfile(quality="high", data_size=200_000),
                     Resources(gpu_memory_gb=80, gpus=8, budget="high", expertise="expert"))
    assert full.config.method.name == "full" and full.config.train.learning_rate == 2e-5


def test_multi_stage_plans():
    rec = recommend(TaskProfile(domain_specificity="high", domain_text_tokens=200_000_000, preference_data=True),
                    Resources(gpu_memory_gb=24))
    assert [s.value.split()[0] for s in rec.stages] == ["continued", "supervised", "DPO"]


def test_bad_answers_and_impossible_budgets_are_explained():
    with pytest.raises(FtlabError, match="task type 'poetry' is not one of classification, generation, multi-task"):
        recommend(TaskProfile(task_type="poetry"))
    with pytest.raises(FtlabError, match="Nothing fits in 1 GB"):
        recommend(TaskProfile(), Resources(gpu_memory_gb=1), model="meta-llama/Llama-3.1-70B-Instruct")
    with pytest.raises(FtlabError, match="Unknown preset 'fast'"):
        recommend(preset="fast")


def test_recommended_config_trains_as_it_is(tmp_path):
    rec = recommend(TaskProfile(data_size=500), Resources(gpus=0), model="ftlab/tiny-chat")
    config = rec.config
    assert config.method.target_modules == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                            "down_proj"]
    # Only the length of the run and where it goes are changed, to keep the test short.
    config.override([f"train.output_dir={tmp_path}", "train.max_steps=4", "train.eval_steps=0",
                     "train.save_steps=0", "train.logging_steps=2", "data.n_train=64", "data.n_test=8",
                     "data.n_validation=8"])
    result = ftlab.train(config)
    assert result.results["status"] == "completed" and result.results["steps"] == 4
