"""Stages grpo and rloo: from a weak cipher SFT start, RL with verifiable rewards raises the held-out reward."""

import math
import pytest
from rl_start import merged_sft_start

import ftlab
from ftlab.config import Config
from ftlab.errors import ConfigError, FtlabError
from ftlab.training.rewards import REWARDS, Reward
from ftlab.training.runner import stage_headline
from ftlab.training.stages import STAGES


def rl_config(folder, *overrides):
    return Config().override([
        f"train.output_dir={folder}", "method.name=lora", "data.task=cipher", "data.n_train=500",
        "data.n_validation=64", "train.batch_size=32", "stage.num_generations=8", "stage.temperature=0.7",
        "stage.rewards=correct,letters", "train.learning_rate=1e-3", "train.max_steps=40", "train.eval_steps=0",
        "train.save_steps=0", "train.logging_steps=10", "eval.at_end=false", *overrides])


@pytest.mark.parametrize("stage", ["grpo", "rloo"])
def test_rl_from_a_weak_sft_start_raises_the_held_out_reward(tmp_path, tmp_path_factory, stage):
    start = merged_sft_start(tmp_path_factory.getbasetemp())
    result = ftlab.train(rl_config(tmp_path, f"train.stage={stage}", f"model.name={start}"))
    before, after = result.results["stage_before"], result.results["stage_after"]
    assert after["prompts"] == 64 and set(after) >= {"reward_correct", "reward_letters"}
    assert after["reward"] > before["reward"]
    headline = stage_headline(STAGES[stage], result.results)
    assert headline["reward_before"] == before["reward"] and headline["reward_after"] == after["reward"]
    logged = [row for row in result.run.read("metrics") if "reward" in row]
    assert "rewards/correct/mean" in logged[-1] and "rewards/letters/mean" in logged[-1]
    if stage == "grpo":
        assert logged[-1]["kl"] > 0  # measured against the adapter-disabled start


@pytest.mark.parametrize("stage", ["grpo", "rloo"])
def test_one_sampled_group_with_its_rewards_is_recorded_and_shown_every_logging_interval(tmp_path, tmp_path_factory,
                                                                                       stage):
    import html

    from ftlab.widgets.dashboard import TrainingDashboard

    start = merged_sft_start(tmp_path_factory.getbasetemp())
    dashboard = TrainingDashboard(refresh_s=0)
    result = ftlab.train(rl_config(tmp_path, f"train.stage={stage}", f"model.name={start}", "data.n_validation=0",
                                   "train.batch_size=8", "stage.num_generations=4", "train.max_steps=5",
                                   "train.logging_steps=2"), listeners=[dashboard])
    groups = result.run.read("groups")
    # one group per logging interval, not one per reward call (each part is called for every batch)
    assert [g["step"] for g in groups] == [0, 2, 4]
    for group in groups:
        assert group["parts"] == ["correct", "letters"] and len(group["answers"]) == 4
        assert group["prompt"].startswith("Encrypt with the shift-3 cipher: ")
        for answer in group["answers"]:  # the scores are the reward functions' own, summed
            parts = {name: REWARDS[name].score([answer["answer"]], [group["reference"]])[0]
                     for name in ("correct", "letters")}
            assert answer["parts"] == pytest.approx(parts) and answer["reward"] == pytest.approx(sum(parts.values()))
    assert len({a["reward"] for g in groups for a in g["answers"]}) > 1  # a weak start: rewards that differ

    last = groups[-1]
    assert dashboard.group == last and dashboard.stage_group in dashboard.widget.children
    shown = dashboard.stage_group.value
    assert f"One sampled group at step {last['step']}" in shown and html.escape(last["prompt"]) in shown
    for answer in last["answers"]:
        assert html.escape(answer["answer"]) in shown and f"<b>{answer['reward']:.4g}</b>" in shown


def _raises(answers, references):
    raise ValueError("boom")


@pytest.mark.parametrize("name, score, message", [
    ("explodes", _raises, "reward function 'explodes' raised ValueError: boom (first answer of the batch: "),
    ("not_a_number", lambda answers, references: [math.nan] * len(answers),
     "reward function 'not_a_number' returned nan for the answer "),
])
def test_a_reward_that_raises_or_returns_nan_stops_the_run_naming_it(tmp_path, monkeypatch, name, score, message):
    REWARDS.names()
    monkeypatch.setitem(REWARDS._entries, name, Reward(name, "a broken reward", score))
    config = rl_config(tmp_path, "train.stage=grpo", f"stage.rewards={name}", "data.n_validation=0",
                       "train.batch_size=8", "stage.num_generations=4", "train.max_steps=1")
    with pytest.raises(FtlabError) as err:
        ftlab.train(config)
    assert str(err.value).startswith(message)
    assert ftlab.training.rundir.RunDir(next(tmp_path.iterdir())).read_json("results.json")["status"] == "failed"


def test_groups_must_fit_the_batch(tmp_path):
    with pytest.raises(ConfigError) as err:
        rl_config(tmp_path, "train.stage=grpo", "train.batch_size=12").validate()
    assert err.value.field == "stage.num_generations" and "must divide train.batch_size" in str(err.value)
