"""The estimator prices a run config: exact parameter terms for every method, a measured peak, its arithmetic."""

import pytest

from ftlab.config import Config
from ftlab.errors import FtlabError
from ftlab.models.architecture import inspect_architecture
from ftlab.models.estimate import (GB, GPUS, Hardware, add_gpu, estimate_inference, estimate_memory, estimate_time,
                                   training_flops)
from ftlab.models.shape import model_shape
from ftlab.models.tiny_archs import tiny_model
from ftlab.training.memory_probe import measure_training_step, prepared_model
from ftlab.training.methods import METHODS

CPU = Hardware(device="cpu")


def config(*settings: str) -> Config:
    return Config().override(list(settings))


@pytest.mark.parametrize("arch,method", [("llama", m) for m in METHODS if m != "qlora"]
                         + [("gpt2", "lora"), ("opt", "full"), ("qwen2", "dora")])
def test_parameter_terms_equal_the_model_training_prepares(arch, method):
    """Weights, gradients, optimizer state and adapters, to the byte, for every method in the registry."""
    run = config(f"method.name={method}", "model.dtype=float32", "train.precision=fp32", "train.batch_size=2",
                 "data.max_length=32", "method.lora_r=8", "method.freeze_layers=1",
                 "method.target_modules=all-linear")
    model = tiny_model(arch, layers=3)
    measured = measure_training_step(prepared_model(model, run), run)
    est = estimate_memory(inspect_architecture(model.config), run, CPU)
    assert est.trainable_params == measured.trainable_params
    for part in ("weights", "adapter", "gradients", "optimizer"):
        assert est.breakdown[part] * GB == pytest.approx(getattr(measured, part), abs=256), part


def test_a_quantized_base_is_priced_as_bitsandbytes_stores_it():
    run = config("method.name=qlora", "model.dtype=float32", "train.precision=fp32", "train.batch_size=2",
                 "data.max_length=32", "method.lora_r=8")
    model = tiny_model("llama", width=4, layers=3)
    measured = measure_training_step(prepared_model(model, run), run)
    est = estimate_memory(inspect_architecture(model.config), run, CPU)
    assert est.breakdown["weights"] * GB == pytest.approx(measured.weights, rel=0.02)
    assert est.breakdown["adapter"] * GB == pytest.approx(measured.adapter, abs=256)


def test_total_is_within_15_percent_of_the_measured_peak_when_the_model_dominates():
    run = config("method.name=full", "model.dtype=float32", "train.precision=fp32", "train.batch_size=1",
                 "data.max_length=32")
    model = tiny_model("llama", width=4, layers=4, vocab_size=1024)
    measured = measure_training_step(prepared_model(model, run), run)
    est = estimate_memory(model.config, run, CPU)
    assert measured.weights + measured.gradients + measured.optimizer > 0.8 * measured.peak
    assert est.total_gb * GB == pytest.approx(measured.peak, rel=0.15)


def test_methods_rank_as_expected_for_an_8b_model_by_name():
    results = {m: estimate_memory("meta-llama/Llama-3.1-8B-Instruct",
                                  config(f"method.name={m}", "data.max_length=1024", "train.batch_size=1",
                                         "model.dtype=float32" if m == "full" else "model.dtype=bfloat16"))
               for m in ("full", "freeze", "lora", "qlora", "prompt_tuning")}
    assert results["full"].total_gb > results["lora"].total_gb > results["qlora"].total_gb
    # Freeze tuning keeps activations for its trainable top layers only, so it can undercut LoRA.
    assert results["freeze"].breakdown["activations"] < results["lora"].breakdown["activations"] / 2
    assert results["freeze"].total_gb < results["full"].total_gb
    # 8B parameters: mixed precision full tuning with AdamW holds 6 + 4 + 8 = 18 bytes per parameter.
    full = results["full"].breakdown
    assert full["weights"] + full["gradients"] + full["optimizer"] == pytest.approx(18 * 8e9 / GB, rel=1e-3)
    # 4-bit layers; the 128k-token embeddings and head stay in bf16 (2 GB of the ~5 GB).
    assert results["qlora"].breakdown["weights"] < results["lora"].breakdown["weights"] / 2.5
    # prompt tuning trains 16 x 4096 numbers; its base is frozen in bf16 like LoRA's
    assert results["prompt_tuning"].trainable_params == 16 * 4096
    assert results["prompt_tuning"].breakdown["weights"] == results["lora"].breakdown["weights"]
    assert any("from the name" in a for a in results["lora"].assumptions)
    assert not model_shape("meta-llama/Llama-3.1-8B-Instruct").exact


def test_the_config_decides_the_numbers_it_names():
    """model.dtype auto reads the checkpoint's dtype; train.precision auto means bf16 on a GPU and fp32 on a CPU."""
    tiny = "ftlab/tiny-chat"  # stored in float32
    on_gpu = estimate_memory(tiny, config("method.name=full"), Hardware(device="cuda"))
    on_cpu = estimate_memory(tiny, config("method.name=full"), CPU)
    n = on_cpu.params
    assert on_cpu.breakdown["weights"] * GB == 4 * n  # fp32 weights, fp32 training
    assert on_gpu.breakdown["weights"] * GB == 6 * n  # fp32 masters + bf16 copies under autocast
    pure = estimate_memory(tiny, config("method.name=full", "model.dtype=bfloat16"), CPU)
    assert pure.breakdown["weights"] * GB == 2 * n and pure.breakdown["optimizer"] * GB == 4 * n


def test_memory_savers_shrink_the_right_terms():
    base = ["method.name=full", "model.dtype=float32", "train.precision=bf16", "train.batch_size=4",
            "data.max_length=2048"]
    plain = estimate_memory("Qwen/Qwen2.5-7B", config(*base))
    ckpt = estimate_memory("Qwen/Qwen2.5-7B", config(*base, "train.gradient_checkpointing=true"))
    # Checkpointing keeps layer inputs only; the vocabulary-wide logits (152k x 8192 tokens) stay.
    assert ckpt.breakdown["activations"] < plain.breakdown["activations"] / 3
    assert ckpt.breakdown["weights"] == plain.breakdown["weights"]
    adam8 = estimate_memory("Qwen/Qwen2.5-7B", config(*base, "train.optimizer=adamw_bnb_8bit"))
    assert adam8.breakdown["optimizer"] == pytest.approx(plain.breakdown["optimizer"] / 4)
    zero2 = estimate_memory("Qwen/Qwen2.5-7B", config(*base), Hardware(gpus=4, strategy="zero2"))
    zero3 = estimate_memory("Qwen/Qwen2.5-7B", config(*base), Hardware(gpus=4, strategy="zero3"))
    assert zero2.breakdown["optimizer"] == pytest.approx(plain.breakdown["optimizer"] / 4)
    assert zero2.breakdown["gradients"] == pytest.approx(plain.breakdown["gradients"] / 4)
    assert zero2.breakdown["weights"] == plain.breakdown["weights"]
    assert zero3.breakdown["weights"] < plain.breakdown["weights"] / 3
    fsdp = estimate_memory("Qwen/Qwen2.5-7B", config(*base), Hardware(gpus=4, strategy="fsdp"))
    assert fsdp.breakdown == zero3.breakdown


def test_kv_cache_of_an_8b_gqa_model():
    # 32 layers x 8 KV heads x 128 dims x (K and V) x 2 bytes x 8192 tokens = exactly 1 GiB.
    result = estimate_inference("meta-llama/Llama-3.1-8B-Instruct", context=8192)
    assert result["breakdown"]["kv_cache"] == 1.0
    quantized = estimate_inference("TheBloke/Llama-2-7B-Chat-GGUF/llama-2-7b-chat.Q4_K_M.gguf", context=8192)
    assert quantized["breakdown"]["weights"] == pytest.approx(7e9 * 4.85 / 8 / GB, rel=1e-3)


def test_flops_time_and_cost():
    shape = model_shape(tiny_model("llama").config)
    full = config("method.name=full", "data.max_length=128")
    attention = 6 * shape.layers * shape.hidden_size * 128
    assert training_flops(shape, full, 1000) == (6 * shape.params + attention) * 1000
    ckpt = config("method.name=full", "data.max_length=128", "train.gradient_checkpointing=true")
    assert training_flops(shape, ckpt, 1000) == training_flops(shape, full, 1000) + 2 * shape.params * 1000

    lora, two = config("method.name=lora"), Hardware(gpus=2)
    t = estimate_time("meta-llama/Llama-3.1-8B", lora, tokens=10_000_000, gpu="H100-80GB", epochs=3, hardware=two)
    assert t.tokens == 30_000_000 and t.gpu_hours == pytest.approx(2 * t.hours, rel=1e-3)
    assert t.cost == pytest.approx(t.gpu_hours * GPUS["H100-80GB"].price_per_hour, abs=0.01)
    add_gpu("my-card", 24, 100, 0.5)
    slow = estimate_time("meta-llama/Llama-3.1-8B", lora, tokens=10_000_000, gpu="my-card", epochs=3, hardware=two)
    assert slow.hours == pytest.approx(t.hours * 989 / 100, rel=1e-2)
    del GPUS["my-card"]


def test_bad_configs_and_hardware_are_explained():
    with pytest.raises(FtlabError, match=r"unknown method 'lorra' \(did you mean lora\?\)"):
        estimate_memory("gpt2", config("method.name=lorra"))
    with pytest.raises(FtlabError, match=r"Cannot estimate this config: method.lora_r: must be greater than 0"):
        estimate_memory("gpt2", config("method.lora_r=0"))
    with pytest.raises(FtlabError, match=r"strategy 'zero1' is not one of ddp, fsdp, zero2, zero3"):
        estimate_memory("gpt2", config(), Hardware(gpus=2, strategy="zero1"))
    with pytest.raises(FtlabError, match="cannot be read from its name"):
        estimate_memory("acme/widget", config())
    with pytest.raises(FtlabError, match="Unknown GPU 'Z80'"):
        estimate_time("gpt2", config(), tokens=100, gpu="Z80")


# --- training stages after SFT -------------------------------------------------------------------------------

LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"
FP32 = ("model.dtype=float32", "train.precision=fp32", "train.batch_size=2", "data.max_length=256")


def stage(name, method, *settings, model=LLAMA_8B, hardware=CPU):
    return estimate_memory(model, config(f"train.stage={name}", f"method.name={method}", *FP32, *settings), hardware)


def test_sft_keeps_its_breakdown_lines():
    assert list(stage("sft", "lora").breakdown) == ["weights", "gradients", "optimizer", "activations", "adapter",
                                                    "overhead"]


def test_dpo_reference_is_free_with_lora_and_a_second_copy_with_full_tuning():
    sft, dpo, orpo = stage("sft", "lora"), stage("dpo", "lora"), stage("orpo", "lora")
    # the adapter is switched off for the reference pass: same base, no second copy
    assert dpo.breakdown["reference"] == 0
    # chosen and rejected go through together: twice the sequences, twice the saved activations
    assert dpo.breakdown["activations"] == pytest.approx(2 * sft.breakdown["activations"])
    # the no-grad reference pass keeps nothing for backward: its transient is a fraction of the policy's
    assert 0 < dpo.breakdown["reference_activations"] < dpo.breakdown["activations"] / 5
    assert "reference" not in orpo.breakdown and orpo.breakdown["activations"] == dpo.breakdown["activations"]
    assert dpo.total_gb - orpo.total_gb == pytest.approx(dpo.breakdown["reference_activations"])
    full, full_orpo = stage("dpo", "full"), stage("orpo", "full")
    assert full.breakdown["reference"] == full.breakdown["weights"] == pytest.approx(4 * full.params / GB)
    assert full.total_gb - full_orpo.total_gb == pytest.approx(
        full.breakdown["reference"] + full.breakdown["reference_activations"])
    assert any("second frozen copy" in a for a in full.assumptions)
    # freeze tuning trains base weights in place, so TRL copies the model for the reference too
    assert stage("dpo", "freeze").breakdown["reference"] == full.breakdown["reference"]
    # ZeRO-3 shards the reference like the policy
    sharded = stage("dpo", "full", hardware=Hardware(gpus=4, strategy="zero3"))
    assert sharded.breakdown["reference"] == pytest.approx(full.breakdown["reference"] / 4)


def test_kto_reference_scores_a_kl_batch_too_and_rm_has_a_score_head_instead_of_logits():
    dpo, kto = stage("dpo", "lora"), stage("kto", "lora")
    assert kto.breakdown["reference_activations"] == pytest.approx(dpo.breakdown["reference_activations"])
    assert kto.breakdown["activations"] == pytest.approx(stage("sft", "lora").breakdown["activations"])
    rm = stage("rm", "lora")
    assert rm.breakdown["score_head"] * GB == 16 * 4096  # weight, gradient, two AdamW moments per hidden unit
    # no vocabulary logits: 2 x 2 sequences x 256 tokens x 128,256 x 3 fp32 tensors fewer than DPO's
    logits = 2 * 2 * 256 * 128_256 * 12
    assert (dpo.breakdown["activations"] - rm.breakdown["activations"]) * GB == pytest.approx(logits)


def test_grpo_kv_cache_scales_with_generations_and_answer_length():
    def kv(*settings):
        return stage("grpo", "lora", *settings).breakdown["kv_cache"] * GB

    base = kv("stage.num_generations=4", "stage.max_completion_length=256")
    # TRL's batch counts answers: 2 (K, V) x 32 layers x 8 KV heads x 128 x 4 bytes x 2 answers x
    # (256 prompt + 256 answer) tokens; more answers per prompt means fewer prompts, not more memory
    assert base == 2 * 32 * 1024 * 4 * 2 * (256 + 256)
    assert kv("stage.num_generations=8", "stage.max_completion_length=256") == base
    assert kv("stage.num_generations=4", "stage.max_completion_length=256", "train.grad_accum=4") == 4 * base
    assert kv("stage.num_generations=4", "stage.max_completion_length=768") == 2 * base  # 256 + 768 = 2 x 512
    assert kv("stage.num_generations=4") == base  # empty: TRL's default of 256 answer tokens
    rloo = stage("rloo", "lora", "stage.num_generations=4", "stage.max_completion_length=256")
    assert rloo.breakdown["kv_cache"] * GB == base


def test_grpo_reference_reward_model_and_phases():
    lora = stage("grpo", "lora", "stage.num_generations=4", "stage.max_completion_length=64")
    assert lora.breakdown["reference"] == 0
    assert "reference" not in stage("grpo", "lora", "stage.beta=0").breakdown  # no KL term, no reference
    full = stage("grpo", "full", "stage.num_generations=4", "stage.max_completion_length=64")
    assert full.breakdown["reference"] == full.breakdown["weights"]
    # sampling and training alternate: the KV cache is never alive with gradients and activations
    parts = full.breakdown
    assert full.total_gb == pytest.approx(sum(parts.values()) - full.overlap_gb)
    assert full.overlap_gb >= parts["kv_cache"]
    with_rm = stage("grpo", "lora", "stage.reward_model=ftlab/tiny-chat")
    tiny = model_shape("ftlab/tiny-chat").params
    assert with_rm.breakdown["reward_model"] * GB == 4 * tiny
    unknown = stage("grpo", "lora", "stage.reward_model=runs/my-rm")
    assert unknown.breakdown["reward_model"] == unknown.breakdown["weights"]
    assert any("its size could not be read" in a for a in unknown.assumptions)
    ppo = stage("ppo", "lora", "stage.max_completion_length=64")
    assert ppo.breakdown["kv_cache"] == pytest.approx(lora.breakdown["kv_cache"])  # batch_size answers either way
    assert ppo.breakdown["value_model"] * GB == pytest.approx(16 * ppo.params)  # fp32 weights, grads, AdamW


def test_an_unknown_stage_is_still_refused():
    with pytest.raises(FtlabError, match=r"train.stage: 'dpoo' is not one of"):
        estimate_memory(LLAMA_8B, config("train.stage=dpoo"))
