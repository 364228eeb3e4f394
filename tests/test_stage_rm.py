"""Stage rm: a reward model learns to rank the right cipher answer above its near miss, and loads back."""

import pytest
import torch
from rl_start import merged_sft_start

import ftlab
from ftlab.config import Config
from ftlab.training.runner import stage_headline
from ftlab.training.stages import STAGES


@pytest.fixture(scope="module")
def rm_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rm")
    start = merged_sft_start(tmp_path_factory.getbasetemp())
    config = Config().override([
        f"train.output_dir={folder}", "train.run_name=rm", "train.stage=rm", f"model.name={start}",
        "method.name=full", "data.task=cipher", "data.n_train=1000", "data.n_validation=100", "train.max_steps=100",
        "train.learning_rate=2e-3", "train.eval_steps=0", "train.save_steps=0", "train.logging_steps=20"])
    return ftlab.train(config)


def test_reward_model_ranks_more_held_out_pairs_the_right_way_after_training(rm_run):
    results = rm_run.results
    before, after = results["stage_before"], results["stage_after"]
    assert after["pairs"] == 100
    assert after["pair_accuracy"] >= before["pair_accuracy"] + 0.1
    assert after["margin"] > before["margin"]
    headline = stage_headline(STAGES["rm"], results)
    assert headline["pair_accuracy_after"] == after["pair_accuracy"] and "eval" not in results  # no generation
    assert rm_run.model.config.num_labels == 1


def test_reward_model_loads_back_from_its_run_directory_and_scores(rm_run):
    from ftlab.training.reward_model import load_reward_model, score
    from ftlab.training.saved import load_trained

    model, tokenizer = load_trained(rm_run.run.path)
    assert model.config.num_labels == 1
    prompt = [{"role": "user", "content": "Encrypt with the shift-3 cipher: bold"}]
    dialogues = [prompt + [{"role": "assistant", "content": a}] for a in ("erog", "erng", "xyz")]
    trained = score(rm_run.model, rm_run.tokenizer, dialogues)
    torch.testing.assert_close(torch.tensor(score(model, tokenizer, dialogues)), torch.tensor(trained))
    reward_model = load_reward_model(rm_run.run.path)
    assert load_reward_model(str(rm_run.run.path)) is reward_model  # loaded once
    assert reward_model([prompt] * 3, ["erog", "erng", "xyz"]) == pytest.approx(trained, abs=1e-5)


def test_a_run_of_another_stage_is_not_a_reward_model(tmp_path):
    from ftlab.errors import FtlabError
    from ftlab.training.reward_model import load_reward_model

    Config().override(["train.stage=sft"]).save(tmp_path / "config.yaml")
    with pytest.raises(FtlabError, match="is a run of stage 'sft', not a reward model"):
        load_reward_model(tmp_path)
