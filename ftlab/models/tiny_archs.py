"""Small configs of real hub architectures, for checking ftlab against real module layouts offline.

Each entry uses the architecture's own config class with its own field names,
shrunk to a few layers; ``tiny_config`` scales width and depth so the same
layouts serve unit tests (kilobytes) and the memory benchmark (tens of MB).
"""

from __future__ import annotations

from typing import Any

# model_type -> config fields at width 1 (hidden 64); tokens ids 0..2 exist in every vocabulary.
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "llama": dict(hidden_size=64, intermediate_size=176, num_attention_heads=4, num_key_value_heads=2),
    "qwen2": dict(hidden_size=64, intermediate_size=176, num_attention_heads=4, num_key_value_heads=2),
    "qwen3": dict(hidden_size=64, intermediate_size=176, num_attention_heads=4, num_key_value_heads=2, head_dim=16),
    "mistral": dict(hidden_size=64, intermediate_size=176, num_attention_heads=4, num_key_value_heads=2),
    "gemma": dict(hidden_size=64, intermediate_size=176, num_attention_heads=4, num_key_value_heads=1, head_dim=16),
    "phi3": dict(hidden_size=64, intermediate_size=176, num_attention_heads=4, num_key_value_heads=2),
    "gpt2": dict(n_embd=64, n_head=4),
    "gpt_neox": dict(hidden_size=64, intermediate_size=256, num_attention_heads=4),
    "opt": dict(hidden_size=64, ffn_dim=256, num_attention_heads=4, word_embed_proj_dim=64),
    "bloom": dict(hidden_size=64, n_head=4),
    "falcon": dict(hidden_size=64, num_attention_heads=4, new_decoder_architecture=False, multi_query=True),
}
_WIDTH_FIELDS = ("hidden_size", "intermediate_size", "n_embd", "ffn_dim", "word_embed_proj_dim", "head_dim")
_LAYER_FIELD = {"gpt2": "n_layer", "bloom": "n_layer"}


def tiny_config(model_type: str, width: int = 1, layers: int = 2, vocab_size: int = 256, **overrides):
    """A transformers config of ``model_type`` with hidden size 64*width and ``layers`` layers."""
    from transformers import AutoConfig

    fields = dict(ARCHITECTURES[model_type])
    for name in _WIDTH_FIELDS:
        if name in fields and name != "head_dim":
            fields[name] *= width
    fields[_LAYER_FIELD.get(model_type, "num_hidden_layers")] = layers
    fields.update(vocab_size=vocab_size, bos_token_id=0, eos_token_id=1, pad_token_id=2,
                  max_position_embeddings=512, tie_word_embeddings=False)
    if model_type == "gpt2":
        fields["n_positions"] = fields.pop("max_position_embeddings")
    fields.update(overrides)
    return AutoConfig.for_model(model_type, **fields)


def tiny_model(model_type: str, seed: int = 0, **kwargs):
    """A randomly initialised causal LM of ``tiny_config(model_type, **kwargs)``."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(tiny_config(model_type, **kwargs))
