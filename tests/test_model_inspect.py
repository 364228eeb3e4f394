"""The inspector on tiny random instances of real architectures: counts and LoRA presets are the real ones."""

import pytest

from ftlab.errors import FtlabError
from ftlab.models.architecture import PRESETS, inspect_architecture
from ftlab.models.tiny_archs import ARCHITECTURES, tiny_config, tiny_model


@pytest.mark.parametrize("model_type", sorted(ARCHITECTURES))
def test_count_and_presets_match_the_real_model(model_type):
    from peft import LoraConfig, get_peft_model

    info = inspect_architecture(tiny_config(model_type, layers=3).to_dict())
    model = tiny_model(model_type, layers=3)
    assert info.params == sum(p.numel() for p in model.parameters())
    assert info.layers == 3 and info.vocab_size == 256 and info.hidden_size == 64
    assert info.embedding_params == 256 * 64

    for preset in PRESETS:
        targets = info.lora_presets[preset]
        peft_model = get_peft_model(tiny_model(model_type, layers=3), LoraConfig(r=4, target_modules=targets))
        wrapped = [n for n, m in peft_model.named_modules() if hasattr(m, "lora_A") and "lora_A" not in n]
        expected = {g.name: g.count for g in info.linears if g.name in targets}
        assert len(wrapped) == sum(expected.values()), (preset, wrapped)
        # Every named target really wraps something, and the adapter size is what the inspector predicts.
        assert all(any(w.endswith("." + name) for w in wrapped) for name in targets)
        trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
        assert trainable == info.lora_params(preset, r=4)
    # attention-only adapts fewer layers than attention + MLP, which covers every layer linear.
    assert 0 < len(info.lora_presets["attention"]) < len(info.lora_presets["attention_mlp"])


def test_gpt2_output_projections_are_told_apart():
    info = inspect_architecture(tiny_config("gpt2"))
    assert info.lora_presets["attention"] == ["c_attn", "attn.c_proj"]
    assert "mlp.c_proj" in info.lora_presets["attention_mlp"]


def test_builtin_model_folder_and_head_counts():
    info = inspect_architecture("ftlab/tiny-chat")
    assert (info.params, info.layers, info.attention_heads, info.kv_heads, info.head_dim) == (820864, 4, 4, 2, 32)
    assert info.tie_word_embeddings


def test_config_errors_are_explained(tmp_path):
    with pytest.raises(FtlabError, match="needs a 'model_type'"):
        inspect_architecture({"hidden_size": 64})
    with pytest.raises(FtlabError, match="not a local model folder"):
        inspect_architecture(str(tmp_path / "nowhere"))
    with pytest.raises(FtlabError, match="are not linear layers of this llama model"):
        inspect_architecture(tiny_config("llama")).lora_params(["query"], r=8)


def test_training_accepts_the_qualified_preset_names():
    from ftlab.errors import ConfigError
    from ftlab.models.loader import check_target_modules

    model = tiny_model("gpt2")
    check_target_modules(model, inspect_architecture(model.config).lora_presets["attention"])
    with pytest.raises(ConfigError, match="attn.c_fc not found in the model"):
        check_target_modules(model, ["attn.c_fc"])
