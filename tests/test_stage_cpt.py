"""Continued pretraining (stage cpt) on the fictional domain, replay, and merging a run for the next stage."""

import json

import pytest
import torch

import ftlab
from ftlab.config import Config
from ftlab.data.domain import ATTRIBUTES, world
from ftlab.data.tasks import build_splits
from ftlab.errors import ConfigError, FtlabError


def _cpt(small_config, *overrides):
    return small_config("train.stage=cpt", "data.task=domain_facts", "data.n_train=400", "data.n_validation=32",
                        "data.n_test=32", "data.max_length=128", "train.eval_steps=0", "train.save_steps=0",
                        *overrides)


def test_corpus_states_every_fact_and_test_questions_ask_only_facts_unseen_in_sft_training():
    people = {p.name: p for p in world(0).people}
    documents = [r.text for r in build_splits("domain_facts", 0, 400, 40, 40, rows="text")["train"]]
    assert all(r.format == "text" for r in build_splits("domain_facts", 0, 10, 2, 2, rows="text")["test"])
    for person in people.values():
        about = [d for d in documents if d.startswith(person.name) or f" {person.name}" in d]
        assert len(about) >= 8  # about as many biographies as anyone else, in varied sentence forms
        assert len({d.split(".")[0].replace(person.name, "") for d in about}) > 2
        for attribute in ATTRIBUTES:
            assert all(getattr(person, attribute) in d for d in about)
    qa = build_splits("domain_facts", 0, 2000, 200, 200)
    asked = {split: {next(n for n in people if n in r.messages[0]["content"]) for r in records}
             for split, records in qa.items()}
    assert asked["train"] and asked["test"] and not asked["train"] & (asked["test"] | asked["validation"])
    assert qa["test"][0].messages[0]["content"].endswith("?")
    for record in qa["test"]:  # the answer is a fact the corpus states about the person asked
        question, answer = record.messages[0]["content"], record.messages[1]["content"]
        name = next(n for n in people if n in question)
        assert any(name in d and answer.removesuffix(" guild").split()[-1] in d for d in documents)
    assert len(qa["train"]) == 18 and len(qa["test"]) == 15


def test_cpt_on_a_task_without_documents_names_the_tasks_that_have_them(small_config):
    with pytest.raises(FtlabError) as err:
        ftlab.train(small_config("train.stage=cpt", "data.task=cipher"))
    assert str(err.value) == (
        "Built-in task 'cipher' has no documents, so it gives no plain text to pretrain on (stage cpt); tasks "
        "with documents: domain_facts. Or set data.train_file to your own text (one document per row, format text).")


def test_replay_settings_are_checked():
    config = Config().override(["train.stage=cpt", "data.task=domain_facts", "stage.replay_ratio=0.2"])
    with pytest.raises(ConfigError) as err:
        config.validate()
    assert err.value.field == "stage.replay_tasks"
    with pytest.raises(ConfigError) as err:
        config.override(["stage.replay_tasks=reverse,spell", "stage.replay_ratio=1"]).validate()
    assert err.value.field == "stage.replay_ratio" and "must be below 1" in str(err.value)


def test_replay_mixes_the_asked_share_of_chat_rows():
    from ftlab.models.loader import load_tokenizer
    from ftlab.training.stages.cpt import mix_replay

    tokenizer = load_tokenizer("ftlab/tiny-chat")
    rows = [{"text": r.text} for r in build_splits("domain_facts", 0, 300, 0, 0, rows="text")["train"]]
    mixed = mix_replay(rows, tokenizer, ["reverse", "spell"], 0.25, seed=0)
    replay = [r["text"] for r in mixed if r["text"].startswith("<|im_start|>user\n")]
    assert len(mixed) == 400 and len(replay) == 100
    assert sum("\nReverse: " in t for t in replay) == sum("\nSpell: " in t for t in replay) == 50  # equal shares
    assert all(t.endswith("<|im_end|>") and "<|im_start|>assistant\n" in t for t in replay)
    assert mixed[:5] != rows[:5]  # shuffled together, not appended
    assert mix_replay(rows, tokenizer, ["reverse", "spell"], 0.25, seed=0) == mixed


def test_cpt_lowers_domain_perplexity_and_the_merged_model_loads_for_the_next_stage(small_config):
    from ftlab.models.loader import load_model
    from ftlab.training.merged import merged_model
    from ftlab.training.runner import stage_headline
    from ftlab.training.saved import load_trained
    from ftlab.training.stages import STAGES

    result = ftlab.train(_cpt(small_config, "method.name=lora", "method.lora_r=32", "train.learning_rate=5e-3",
                              "train.max_steps=40", "stage.replay_tasks=reverse", "stage.replay_ratio=0.2"))
    results = json.loads((result.run.path / "results.json").read_text())
    figures = stage_headline(STAGES["cpt"], results)
    assert figures["domain_ppl_after"] < 0.7 * figures["domain_ppl_before"]
    assert figures["fact_ppl_after"] < 0.7 * figures["fact_ppl_before"]
    assert {"general_ppl_before", "general_accuracy_after"} <= set(figures)
    assert "eval" not in results and not (result.run.path / "generations.jsonl").exists()  # nothing to answer

    folder = merged_model(result.run.path)
    assert folder == result.run.path / "merged" and merged_model(result.run.path) == folder
    adapter, tokenizer = load_trained(result.run.path)
    merged = load_model(str(folder)).eval()
    ids = tokenizer("Dorua belongs to the", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        torch.testing.assert_close(merged(ids).logits, adapter(ids).logits, atol=1e-4, rtol=1e-4)
    assert (folder / "tokenizer.json").exists() and not (folder / "adapter_config.json").exists()
