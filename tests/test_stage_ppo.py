"""Stage ppo: PPO with a value model, through ftlab's subclass of TRL's GRPOTrainer."""

import pytest
import torch
from rl_start import merged_sft_start
from test_stage_grpo import rl_config

import ftlab
from ftlab.training.rundir import RunDir
from ftlab.training.stages._ppo_trainer import VALUE_FILE, gae, whiten
from ftlab.training.stages._rl import KL_BUDGET


def test_gae_with_lambda_one_is_the_reward_to_go_minus_the_value():
    rewards = torch.tensor([[0.0, -0.1, 1.0, 0.0], [0.5, 0.0, 0.0, 0.0]])
    values = torch.tensor([[0.2, 0.4, 0.6, 9.0], [0.1, 9.0, 9.0, 9.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0]])  # 9.0: past the answer's end, ignored
    advantages = gae(rewards, values, mask, gamma=1.0, lam=1.0)
    assert advantages.flatten().tolist() == pytest.approx([0.9 - 0.2, 0.9 - 0.4, 1.0 - 0.6, 0, 0.5 - 0.1, 0, 0, 0])
    # lambda 0: one-step temporal differences
    assert gae(rewards, values, mask, 1.0, 0.0)[0].tolist() == pytest.approx([0.4 - 0.2, 0.5 - 0.4, 0.4, 0.0])
    white = whiten(advantages, mask)
    assert white[mask.bool()].mean().item() == pytest.approx(0.0, abs=1e-6)
    assert white[mask.bool()].var(unbiased=False).item() == pytest.approx(1.0, abs=1e-4)
    assert white[~mask.bool()].abs().sum().item() == 0


def test_ppo_from_a_weak_sft_start_raises_the_held_out_reward_within_the_kl_budget(tmp_path, tmp_path_factory):
    start = merged_sft_start(tmp_path_factory.getbasetemp())
    result = ftlab.train(rl_config(tmp_path, "train.stage=ppo", f"model.name={start}", "train.max_steps=80",
                                   "train.logging_steps=5"))
    before, after = result.results["stage_before"], result.results["stage_after"]
    assert after["reward"] > before["reward"] + 0.05, (before, after)
    logged = [row for row in result.run.read("metrics") if "value_loss" in row]
    assert len(logged) >= 10 and all(row["value_loss"] >= 0 for row in logged)
    kls = [row["kl"] for row in result.run.read("metrics") if "kl" in row]
    assert 0 < max(kls) < KL_BUDGET  # measured against the adapter-disabled start, penalised in the reward


def test_an_interrupted_ppo_run_resumes_with_its_value_model_on_the_same_curve(tmp_path, tmp_path_factory):
    from test_controls import StopAt

    start = merged_sft_start(tmp_path_factory.getbasetemp())
    settings = ("train.stage=ppo", f"model.name={start}", "data.n_validation=0", "train.batch_size=8",
                "stage.num_generations=4", "train.max_steps=4", "train.save_steps=2", "train.logging_steps=1")
    straight = ftlab.train(rl_config(tmp_path / "a", *settings))
    config = rl_config(tmp_path / "b", *settings)
    with pytest.raises(KeyboardInterrupt):
        ftlab.train(config, listeners=[StopAt(3, KeyboardInterrupt())])
    run = RunDir(next((tmp_path / "b").iterdir()))
    assert (run.checkpoints_dir / "checkpoint-2" / VALUE_FILE).is_file()

    ftlab.resume(run.path)

    def curve(r, key):
        return [row[key] for row in r.read("metrics") if key in row]

    # the value loss after the resume continues the straight run's: the value model came back from the checkpoint
    assert curve(run, "value_loss") == pytest.approx(curve(straight.run, "value_loss"), rel=1e-4)
    assert curve(run, "reward") == pytest.approx(curve(straight.run, "reward"), rel=1e-4)
