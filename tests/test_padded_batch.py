"""PaddedBatch gives TRL's collator's batches, tensor for tensor, and leaves the other cases to TRL."""

import pytest
import torch
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

from ftlab.training.padded_batch import PaddedBatch, padded_batches


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """40 cipher rows as TRL's SFT preparation tokenizes them (prompt masked in the labels), and the pad id."""
    from trl import SFTConfig, SFTTrainer

    from ftlab.config import Config
    from ftlab.data.rows import to_dataset
    from ftlab.data.sources import load_data
    from ftlab.models.loader import load_model, load_tokenizer

    config = Config().override(["data.n_train=40", "data.n_validation=0", "data.n_test=0"])
    tokenizer = load_tokenizer(config.model.name)
    trainer = SFTTrainer(model=load_model(config.model.name), train_dataset=to_dataset(
        load_data(config.data)["train"], "sft"), processing_class=tokenizer,
        args=SFTConfig(output_dir=str(tmp_path_factory.mktemp("sft")), report_to="none", use_cpu=True,
                       max_length=128))
    data = trainer.train_dataset
    return [{"input_ids": data[i]["input_ids"], "labels": data[i]["labels"]} for i in range(len(data))], \
        tokenizer.pad_token_id


def same(ours: dict, theirs: dict) -> None:
    assert list(ours) == list(theirs)
    for key, tensor in theirs.items():
        assert ours[key].dtype == tensor.dtype and torch.equal(ours[key], tensor), key


@pytest.mark.parametrize("settings", [{}, {"pad_to_multiple_of": 8}], ids=["longest", "multiple_of_8"])
def test_batches_equal_trls(rows, settings):
    examples, pad_id = rows
    theirs, ours = DataCollatorForLanguageModeling(pad_token_id=pad_id, **settings), \
        PaddedBatch(pad_token_id=pad_id, **settings)
    lengths = {len(r["input_ids"]) for r in examples}
    assert len(lengths) > 3  # rows of several lengths, so there is padding to get right
    for start in range(0, len(examples), 16):
        batch = examples[start:start + 16]
        same(ours(batch), theirs(batch))
    without_labels = [{"input_ids": r["input_ids"]} for r in examples[:5]]  # labels default to the inputs
    same(ours(without_labels), theirs(without_labels))
    if settings:
        assert ours(examples[:16])["input_ids"].shape[1] % 8 == 0


def test_padding_free_and_position_ids_stay_with_trl(rows):
    examples, pad_id = rows
    for settings in ({"padding_free": True}, {"return_position_ids": True}):
        ours = PaddedBatch(pad_token_id=pad_id, **settings)(examples[:4])
        theirs = DataCollatorForLanguageModeling(pad_token_id=pad_id, **settings)(examples[:4])
        assert "position_ids" in ours
        for key, value in theirs.items():
            assert torch.equal(torch.as_tensor(ours[key]), torch.as_tensor(value)), key


def test_only_trls_own_collator_is_swapped(rows):
    class Holder:
        data_collator = DataCollatorForLanguageModeling(pad_token_id=rows[1], pad_to_multiple_of=4)

    trainer = Holder()
    padded_batches(trainer)
    assert type(trainer.data_collator) is PaddedBatch and trainer.data_collator.pad_to_multiple_of == 4
    mine = object()
    trainer.data_collator = mine
    padded_batches(trainer)
    assert trainer.data_collator is mine


def test_ftlabs_sft_trainer_pads_with_it(tmp_path):
    from ftlab.config import Config
    from ftlab.training.rundir import RunDir
    from ftlab.training.runner import build_trainer

    config = Config().override(["data.n_train=16", "data.n_validation=4", "data.n_test=4", "train.max_steps=2",
                                f"train.output_dir={tmp_path}"]).validate()
    trainer, _ = build_trainer(config, RunDir.create(config), [])
    assert type(trainer.data_collator) is PaddedBatch
