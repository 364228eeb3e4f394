"""A batch's shared prompt prefix runs through the decoder once: the same outputs and gradients, less work."""

import copy

import pytest
import torch

from ftlab.training.shared_prefix import share_prefix, shared_length


def _model(head="causal_lm", dropout=0.0):
    """The built-in model with LoRA on every projection, B drawn at random (so the adapter's path shows)."""
    from peft import LoraConfig, get_peft_model

    from ftlab.config import Config
    from ftlab.training.preparation import load_base

    torch.manual_seed(0)
    base = load_base(Config(), head=head)
    task = "CAUSAL_LM" if head == "causal_lm" else "SEQ_CLS"
    model = get_peft_model(base, LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", lora_dropout=dropout,
                                            task_type=task))
    for name, parameter in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(parameter, std=0.05)
    return model.train()


@pytest.fixture(scope="module")
def batch():
    """Eight cipher rows through the chat template, right-padded: 39 shared tokens, then the word and answer."""
    from ftlab.data.tasks import build_splits
    from ftlab.models.loader import load_tokenizer

    tokenizer = load_tokenizer("ftlab/tiny-chat")
    rows = build_splits("cipher", n_train=8, n_validation=0, n_test=0)["train"]
    texts = [tokenizer.apply_chat_template(row.messages, tokenize=False) for row in rows]
    return dict(tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False))


def _decoder(model):
    return model.get_base_model().base_model


class Calls:
    """The shapes of the token batches the decoder's embedding sees, one per decoder pass."""

    def __init__(self, model):
        self.shapes = []
        embed = _decoder(model).embed_tokens
        self.handle = embed.register_forward_hook(lambda m, i, o: self.shapes.append(tuple(i[0].shape)))


def _outputs_and_grads(model, batch):
    calls = Calls(model)
    try:
        out = model(**batch)
    finally:
        calls.handle.remove()
    values = out.logits[batch["attention_mask"].bool()] if out.logits.dim() == 3 else out.logits
    values.pow(2).mean().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    return values.detach(), grads, calls.shapes


def test_shared_length_counts_the_leading_tokens_every_row_attends_to():
    ids = torch.tensor([[5, 6, 7, 8, 9], [5, 6, 7, 1, 0], [5, 6, 2, 3, 0]])
    assert shared_length(ids, torch.ones_like(ids)) == 2
    assert shared_length(ids[:2], torch.ones_like(ids[:2])) == 3
    left_padded = torch.tensor([[0, 5, 6], [5, 6, 7]]), torch.tensor([[0, 1, 1], [1, 1, 1]])
    assert shared_length(*left_padded) == 0  # a pad in the first column: nothing is shared
    same = torch.tensor([[5, 6, 7], [5, 6, 7]])
    assert shared_length(same, torch.ones_like(same)) == 2  # one token is always left to run per row


@pytest.mark.parametrize("head", ["causal_lm", "sequence_classification"])  # SFT / DPO, and the reward model
def test_the_prefix_runs_once_and_gives_the_plain_forwards_outputs_and_gradients(batch, head):
    model = _model(head)
    rows, length = batch["input_ids"].shape
    prefix = shared_length(batch["input_ids"], batch["attention_mask"])
    assert prefix == 39  # "<|im_start|>user\nEncrypt with the shift-3 cipher: "
    plain, plain_grads, plain_calls = _outputs_and_grads(model, batch)
    assert share_prefix(model)
    shared, shared_grads, shared_calls = _outputs_and_grads(model, batch)
    assert plain_calls == [(rows, length)]
    assert shared_calls == [(1, prefix), (rows, length - prefix)]  # 39 + 8 x rest positions instead of 8 x length
    torch.testing.assert_close(shared, plain, atol=1e-4, rtol=1e-4)
    assert shared_grads.keys() == plain_grads.keys() and len(plain_grads) >= 2 * 7 * 4  # A and B, 7 projections x 4
    for name, grad in plain_grads.items():  # to float rounding: a thousandth of the tensor's largest entry
        torch.testing.assert_close(shared_grads[name], grad, atol=1e-3 * grad.abs().max().item(), rtol=1e-3)


@pytest.mark.parametrize("case", ["dropout", "checkpointing", "position ids", "no shared prefix", "one row"])
def test_where_sharing_would_not_be_exact_the_decoder_runs_once_on_the_whole_batch(batch, case):
    model = _model(dropout=0.1 if case == "dropout" else 0.0)
    assert share_prefix(model)
    if case == "checkpointing":
        model.gradient_checkpointing_enable()
    if case == "position ids":  # packed rows carry their own positions
        batch = {**batch, "position_ids": torch.arange(batch["input_ids"].shape[1]).expand_as(batch["input_ids"])}
    if case == "no shared prefix":
        batch = {k: v.flip(1) for k, v in batch.items()}  # rows now start with their own padding and answers
    if case == "one row":
        batch = {k: v[:1] for k, v in batch.items()}
    calls = Calls(model)
    try:
        model(**batch)
    finally:
        calls.handle.remove()
    assert calls.shapes == [tuple(batch["input_ids"].shape)]


def test_generation_and_a_deep_copy_are_unchanged(batch):
    model = _model().eval()
    prompt = {k: v[:2, :45] for k, v in batch.items()}
    with torch.no_grad():
        before = model.generate(**prompt, max_new_tokens=6, do_sample=False)
        share_prefix(model)
        assert torch.equal(model.generate(**prompt, max_new_tokens=6, do_sample=False), before)
    twin = copy.deepcopy(model).train()
    assert _decoder(twin).forward.__self__ is _decoder(twin)  # the copy's wrapper runs the copy's own layers
    twin_shapes = Calls(twin)
    twin(**batch)
    assert twin_shapes.shapes == [(1, 39), (8, batch["input_ids"].shape[1] - 39)]


def test_training_on_a_cpu_shares_the_prefix(tmp_path):
    import ftlab

    config = ftlab.Config().override([f"train.output_dir={tmp_path}", "train.max_steps=2", "train.eval_steps=0",
                                      "train.save_steps=0", "eval.at_end=false", "data.n_train=32"])
    result = ftlab.train(config)
    assert _decoder(result.model)._shares_prefix
