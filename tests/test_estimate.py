"""The estimator against real objects: exact parameter terms, a measured peak, and its arithmetic."""

import pytest

from ftlab.errors import FtlabError
from ftlab.models.estimate import (GB, GPUS, TrainingSetup, add_gpu, estimate_inference, estimate_memory,
                                   estimate_time, training_flops)
from ftlab.models.inspect import inspect_architecture
from ftlab.models.measure import measure_training_step, prepare
from ftlab.models.shape import model_shape
from ftlab.models.tiny_archs import tiny_model

MB = 2 ** 20


@pytest.mark.parametrize("arch,method", [("llama", "full"), ("llama", "freeze"), ("llama", "lora"),
                                         ("gpt2", "lora"), ("opt", "full")])
def test_parameter_terms_equal_the_real_objects(arch, method):
    setup = TrainingSetup(method=method, precision="fp32", batch_size=2, seq_len=32, device="cpu",
                          lora_r=8, freeze_trainable_layers=1)
    model = tiny_model(arch, layers=3)
    info = inspect_architecture(model.config)
    measured = measure_training_step(prepare(model, setup), setup)
    est = estimate_memory(info, setup)
    assert est.trainable_params == measured.trainable_params
    assert est.breakdown["weights"] * GB == pytest.approx(measured.weights, abs=256)
    assert est.breakdown["adapter"] * GB == pytest.approx(measured.adapter, abs=256)
    assert est.breakdown["gradients"] * GB == pytest.approx(measured.gradients, abs=256)
    assert est.breakdown["optimizer"] * GB == pytest.approx(measured.optimizer, abs=256)


def test_total_is_within_15_percent_of_the_measured_peak_when_the_model_dominates():
    setup = TrainingSetup(method="full", precision="fp32", batch_size=1, seq_len=32, device="cpu")
    model = tiny_model("llama", width=4, layers=4, vocab_size=1024)
    measured = measure_training_step(prepare(model, setup), setup)
    est = estimate_memory(model.config, setup)
    assert measured.weights + measured.gradients + measured.optimizer > 0.8 * measured.peak
    assert est.total_gb * GB == pytest.approx(measured.peak, rel=0.15)


def test_methods_rank_as_expected_for_an_8b_model_by_name():
    results = {m: estimate_memory("meta-llama/Llama-3.1-8B-Instruct", method=m, seq_len=1024)
               for m in ("full", "freeze", "lora", "qlora")}
    assert results["full"].total_gb > results["lora"].total_gb > results["qlora"].total_gb
    # Freeze tuning keeps activations for its trainable top layers only, so it can undercut LoRA.
    assert results["freeze"].breakdown["activations"] < results["lora"].breakdown["activations"] / 2
    assert results["freeze"].total_gb < results["full"].total_gb
    # 8B parameters: mixed precision full tuning with AdamW holds 6 + 4 + 8 = 18 bytes per parameter.
    assert results["full"].breakdown["weights"] + results["full"].breakdown["gradients"] + \
        results["full"].breakdown["optimizer"] == pytest.approx(18 * 8e9 / GB, rel=1e-3)
    # 4-bit layers; the 128k-token embeddings and head stay in bf16 (2 GB of the ~5 GB).
    assert results["qlora"].breakdown["weights"] < results["lora"].breakdown["weights"] / 2.5
    assert any("from the name" in a for a in results["lora"].assumptions)
    assert not model_shape("meta-llama/Llama-3.1-8B-Instruct").exact


def test_memory_savers_shrink_the_right_terms():
    base = dict(method="full", precision="mixed", batch_size=4, seq_len=2048)
    plain = estimate_memory("Qwen/Qwen2.5-7B", **base)
    ckpt = estimate_memory("Qwen/Qwen2.5-7B", **base, grad_ckpt=True)
    # Checkpointing keeps layer inputs only; the vocabulary-wide logits (152k x 8192 tokens) stay.
    assert ckpt.breakdown["activations"] < plain.breakdown["activations"] / 3
    assert ckpt.breakdown["weights"] == plain.breakdown["weights"]
    adam8 = estimate_memory("Qwen/Qwen2.5-7B", **base, optimizer="adamw_8bit")
    assert adam8.breakdown["optimizer"] == pytest.approx(plain.breakdown["optimizer"] / 4)
    zero1 = estimate_memory("Qwen/Qwen2.5-7B", **base, gpus=4, zero=1)
    zero3 = estimate_memory("Qwen/Qwen2.5-7B", **base, gpus=4, zero=3)
    assert zero1.breakdown["optimizer"] == pytest.approx(plain.breakdown["optimizer"] / 4)
    assert zero1.breakdown["gradients"] == plain.breakdown["gradients"]
    assert zero3.breakdown["gradients"] == pytest.approx(plain.breakdown["gradients"] / 4)
    assert zero3.breakdown["weights"] < plain.breakdown["weights"] / 3
    fsdp = estimate_memory("Qwen/Qwen2.5-7B", **base, gpus=4, fsdp=True)
    assert fsdp.breakdown == zero3.breakdown


def test_kv_cache_of_an_8b_gqa_model():
    # 32 layers x 8 KV heads x 128 dims x (K and V) x 2 bytes x 8192 tokens = exactly 1 GiB.
    result = estimate_inference("meta-llama/Llama-3.1-8B-Instruct", context=8192)
    assert result["breakdown"]["kv_cache"] == 1.0
    quantized = estimate_inference("TheBloke/Llama-2-7B-Chat-GGUF/llama-2-7b-chat.Q4_K_M.gguf", context=8192)
    assert quantized["breakdown"]["weights"] == pytest.approx(7e9 * 4.85 / 8 / GB, rel=1e-3)


def test_flops_time_and_cost():
    shape = model_shape(tiny_model("llama").config)
    full = TrainingSetup(method="full", seq_len=128)
    attention = 6 * shape.layers * shape.hidden_size * 128
    assert training_flops(shape, full, 1000) == (6 * shape.params + attention) * 1000
    ckpt = TrainingSetup(method="full", seq_len=128, grad_ckpt=True)
    assert training_flops(shape, ckpt, 1000) == training_flops(shape, full, 1000) + 2 * shape.params * 1000

    setup = TrainingSetup(method="lora", gpus=2)
    t = estimate_time("meta-llama/Llama-3.1-8B", setup, tokens=10_000_000, gpu="H100-80GB", epochs=3)
    assert t.tokens == 30_000_000 and t.gpu_hours == pytest.approx(2 * t.hours, rel=1e-3)
    assert t.cost == pytest.approx(t.gpu_hours * GPUS["H100-80GB"].price_per_hour, abs=0.01)
    add_gpu("my-card", 24, 100, 0.5)
    slow = estimate_time("meta-llama/Llama-3.1-8B", setup, tokens=10_000_000, gpu="my-card", epochs=3)
    assert slow.hours == pytest.approx(t.hours * 989 / 100, rel=1e-2)
    del GPUS["my-card"]


def test_bad_setups_are_explained():
    with pytest.raises(FtlabError, match="method 'dora' is not one of full, freeze, lora, qlora"):
        estimate_memory("gpt2", method="dora")
    with pytest.raises(FtlabError, match="QLoRA bits must be 4 or 8, got 3"):
        estimate_memory("gpt2", method="qlora", bits=3)
    with pytest.raises(FtlabError, match="cannot be read from its name"):
        estimate_memory("acme/widget")
    with pytest.raises(FtlabError, match="Unknown GPU 'Z80'"):
        estimate_time("gpt2", TrainingSetup(), tokens=100, gpu="Z80")
