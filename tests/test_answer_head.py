"""The LM head on labelled positions only gives TRL's loss, gradients and logged figures, for less work."""

import pytest
import torch

from ftlab.training.answer_head import score_labelled_only


@pytest.fixture(scope="module")
def trainer(tmp_path_factory):
    """TRL's SFTTrainer over LoRA on 32 cipher rows: its model carries TRL's fused LM head."""
    from peft import LoraConfig
    from trl import SFTConfig, SFTTrainer

    from ftlab.config import Config
    from ftlab.data.rows import to_dataset
    from ftlab.data.sources import load_data
    from ftlab.models.loader import load_model, load_tokenizer

    config = Config().override(["data.n_train=32", "data.n_validation=0", "data.n_test=0"])
    rows = to_dataset(load_data(config.data)["train"], "sft")
    args = SFTConfig(output_dir=str(tmp_path_factory.mktemp("sft")), per_device_train_batch_size=16, use_cpu=True,
                     report_to="none", bf16=False, max_length=128)
    return SFTTrainer(model=load_model(config.model.name), args=args, train_dataset=rows,
                      processing_class=load_tokenizer(config.model.name),
                      peft_config=LoraConfig(r=16, lora_alpha=32, target_modules="all-linear", task_type="CAUSAL_LM"))


def _scored(trainer, batch):
    """The fused forward's outputs and the adapter gradients of its loss."""
    model = trainer.model.train()
    outputs = model(**batch, fused_lm_head=True)
    outputs.loss.backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    return outputs, grads


def test_labelled_positions_only_give_trls_loss_gradients_entropy_and_accuracy(trainer):
    batch = next(iter(trainer.get_train_dataloader()))
    labelled = (batch["labels"][:, 1:] != -100).float().mean().item()
    assert labelled < 0.2  # a short answer after a long prompt: the case the head is narrowed for
    base = trainer.model.get_base_model()
    trl_forward = base.forward
    theirs, their_grads = _scored(trainer, batch)
    assert score_labelled_only(base)
    try:
        ours, our_grads = _scored(trainer, batch)
    finally:
        base.forward = trl_forward
    torch.testing.assert_close(ours.loss, theirs.loss)
    torch.testing.assert_close(ours.log_probs, theirs.log_probs)
    torch.testing.assert_close(ours.entropy, theirs.entropy)
    assert torch.equal(ours.is_top1, theirs.is_top1) and torch.equal(ours.label_mask, theirs.label_mask)
    assert our_grads.keys() == their_grads.keys() and len(our_grads) == 2 * 7 * 4  # A and B of 7 projections x 4
    for name, grad in their_grads.items():
        torch.testing.assert_close(our_grads[name], grad, atol=1e-6, rtol=1e-4)


def test_the_wrapped_model_still_generates_and_gives_logits(trainer):
    batch = next(iter(trainer.get_train_dataloader()))
    base = trainer.model.get_base_model()
    trl_forward = base.forward
    model = trainer.model.eval()
    with torch.no_grad():
        before = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        prompt = {"input_ids": batch["input_ids"][:2, :12], "attention_mask": batch["attention_mask"][:2, :12]}
        answer = model.generate(**prompt, max_new_tokens=4, do_sample=False)
        score_labelled_only(base)
        try:
            torch.testing.assert_close(model(input_ids=batch["input_ids"],
                                             attention_mask=batch["attention_mask"]).logits, before)
            assert torch.equal(model.generate(**prompt, max_new_tokens=4, do_sample=False), answer)
        finally:
            base.forward = trl_forward


def test_a_model_whose_logits_trl_transforms_keeps_trls_head(trainer):
    base = trainer.model.get_base_model()
    trl_forward = base.forward
    base.config.final_logit_softcapping = 30.0
    try:
        assert not score_labelled_only(base)
        assert base.forward == trl_forward
    finally:
        del base.config.final_logit_softcapping
