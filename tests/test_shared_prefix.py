"""A batch's shared prompt prefix runs through the decoder once: the same states and gradients, less work."""

import pytest
import torch

from ftlab.training import shared_prefix
from ftlab.training.shared_prefix import decoder_states, shared_length


def _lora(dropout=0.0):
    from peft import LoraConfig, get_peft_model

    from ftlab.models.loader import load_model

    torch.manual_seed(0)
    model = get_peft_model(load_model("ftlab/tiny-chat"), LoraConfig(r=8, lora_alpha=16, target_modules="all-linear",
                                                                     lora_dropout=dropout))
    for name, parameter in model.named_parameters():
        if "lora_B" in name:  # B starts at zero; nonzero, the adapter's path shows in states and gradients
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
    return tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)


class Calls:
    """The shapes of the token batches the decoder's embedding sees, one per decoder call."""

    def __init__(self, decoder):
        self.shapes = []
        self.handle = decoder.embed_tokens.register_forward_hook(lambda m, i, o: self.shapes.append(tuple(i[0].shape)))


def _states_and_grads(model, batch, share: bool, **kwargs):
    decoder = model.get_base_model().model
    calls = Calls(decoder)
    saving = shared_prefix.MIN_SAVING
    shared_prefix.MIN_SAVING = saving if share else float("inf")
    try:
        states = decoder_states(decoder, input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], **kwargs)
    finally:
        shared_prefix.MIN_SAVING = saving
        calls.handle.remove()
    mask = batch["attention_mask"].bool()
    states[mask].pow(2).mean().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    return states.detach()[mask], grads, calls.shapes


def test_shared_length_counts_the_leading_tokens_every_row_attends_to():
    ids = torch.tensor([[5, 6, 7, 8, 9], [5, 6, 7, 1, 0], [5, 6, 2, 3, 0]])
    assert shared_length(ids, torch.ones_like(ids)) == 2
    assert shared_length(ids[:2], torch.ones_like(ids[:2])) == 3
    left_padded = torch.tensor([[0, 5, 6], [5, 6, 7]]), torch.tensor([[0, 1, 1], [1, 1, 1]])
    assert shared_length(*left_padded) == 0  # a pad in the first column: nothing is shared
    same = torch.tensor([[5, 6, 7], [5, 6, 7]])
    assert shared_length(same, torch.ones_like(same)) == 2  # one token is always left to run per row


def test_the_prefix_runs_once_and_gives_the_plain_forwards_states_and_gradients(batch):
    model = _lora()
    rows, length = batch["input_ids"].shape
    prefix = shared_length(batch["input_ids"], batch["attention_mask"])
    assert prefix == 39  # "<|im_start|>user\nEncrypt with the shift-3 cipher: "
    plain, plain_grads, plain_calls = _states_and_grads(model, batch, share=False)
    shared, shared_grads, shared_calls = _states_and_grads(model, batch, share=True)
    assert plain_calls == [(rows, length)]
    assert shared_calls == [(1, prefix), (rows, length - prefix)]  # 39 + 8 x rest positions instead of 8 x length
    torch.testing.assert_close(shared, plain, atol=1e-4, rtol=1e-4)
    assert shared_grads.keys() == plain_grads.keys() and len(plain_grads) == 2 * 7 * 4  # A and B, 7 projections x 4
    for name, grad in plain_grads.items():
        torch.testing.assert_close(shared_grads[name], grad, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("case", ["dropout", "checkpointing", "position ids", "no shared prefix"])
def test_where_sharing_would_not_be_exact_the_decoder_runs_once_on_the_whole_batch(batch, case):
    model = _lora(dropout=0.1 if case == "dropout" else 0.0)
    decoder = model.get_base_model().model
    if case == "checkpointing":
        model.gradient_checkpointing_enable()
    kwargs = {}
    if case == "position ids":  # packed rows carry their own positions
        kwargs["position_ids"] = torch.arange(batch["input_ids"].shape[1]).expand_as(batch["input_ids"])
    if case == "no shared prefix":
        batch = {k: v.flip(1) for k, v in batch.items()}  # rows now start with their own padding and answers
    calls = Calls(decoder)
    try:
        states = decoder_states(decoder, input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], **kwargs)
    finally:
        calls.handle.remove()
    assert calls.shapes == [tuple(batch["input_ids"].shape)]
    assert states.shape == (*batch["input_ids"].shape, decoder.config.hidden_size)
