"""The sizes the estimator needs, read from a config when there is one and from the name when not.

With a config the numbers are exact (see :mod:`ftlab.models.architecture`).  With a
name only, the parameter count comes from the name and the rest from the
shape of a published model of about that size; every such stand-in is listed
in ``assumptions`` so the person knows which figures are typical, not read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ftlab.errors import FtlabError
from ftlab.models.architecture import ArchitectureInfo, inspect_architecture
from ftlab.models.names import parse_model_name
from ftlab.models.tiny import BUILTIN_MODEL

# Published decoder shapes by size: (billions, layers, hidden, attention heads, kv heads, vocabulary).
TYPICAL_SHAPES = [
    (0.135, 30, 576, 9, 3, 49152),       # SmolLM2-135M
    (0.5, 24, 896, 14, 2, 151936),       # Qwen2.5-0.5B
    (1.1, 22, 2048, 32, 4, 32000),       # TinyLlama-1.1B
    (1.5, 28, 1536, 12, 2, 151936),      # Qwen2.5-1.5B
    (3.2, 28, 3072, 24, 8, 128256),      # Llama-3.2-3B
    (8.0, 32, 4096, 32, 8, 128256),      # Llama-3.1-8B
    (14.0, 48, 5120, 40, 8, 152064),     # Qwen2.5-14B
    (32.0, 64, 5120, 40, 8, 152064),     # Qwen2.5-32B
    (70.0, 80, 8192, 64, 8, 128256),     # Llama-3.1-70B
    (405.0, 126, 16384, 128, 8, 128256),  # Llama-3.1-405B
]


@dataclass
class ModelShape:
    """What memory and compute depend on; ``exact`` is False when read from a name."""

    name: str
    params: int
    layers: int
    hidden_size: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    layer_linear_params: int
    gated_mlp: bool = True
    active_params: int | None = None
    exact: bool = True
    info: ArchitectureInfo | None = None
    assumptions: list[str] = field(default_factory=list)

    @property
    def kv_dim(self) -> int:
        return self.kv_heads * self.head_dim

    @property
    def params_per_layer(self) -> float:
        """One decoder layer (exact from a config; its linear weights only, by name)."""
        return self.info.layer_params if self.info is not None else self.layer_linear_params / self.layers

    def linear_layers(self, targets: list[str] | str) -> list[tuple[int, int, int]]:
        """(how many, in features, out features) of each adapted linear layer kind.

        Read from the architecture when there is one; by name, the typical Llama
        layout (q, k, v, o + gate, up, down) stands in.
        """
        if self.info is not None:
            names = self.info.resolve_targets(targets)
            return [(g.count, g.in_features, g.out_features) for g in self.info.linears if g.name in names]
        h, kv, i, n = self.hidden_size, self.kv_dim, self.intermediate_size, self.layers
        llama = {"q_proj": (n, h, h), "k_proj": (n, h, kv), "v_proj": (n, h, kv), "o_proj": (n, h, h),
                 "gate_proj": (n, h, i), "up_proj": (n, h, i), "down_proj": (n, i, h)}
        if targets in ("attention", ["attention"]):
            return [llama[k] for k in ("q_proj", "k_proj", "v_proj", "o_proj")]
        if isinstance(targets, str) or list(targets) in (["all-linear"], ["all_linear"]) \
                or not set(targets) <= set(llama):
            if not isinstance(targets, str) and list(targets) not in (["all-linear"], ["all_linear"]):
                self.assumptions.append(f"adapters on {', '.join(targets)}: counted as attention + MLP (no "
                                        "config to read the layers from)")
            return list(llama.values())
        return [llama[k] for k in targets]

    def lora_params(self, targets: list[str] | str, r: int) -> int:
        """Rank-r factors A (r x in) and B (out x r) beside every adapted layer."""
        return sum(n * r * (fan_in + fan_out) for n, fan_in, fan_out in self.linear_layers(targets))

    def is_attention_only(self, targets: list[str] | str) -> bool:
        if self.info is not None:
            names = set(self.info.resolve_targets(targets))
            return bool(names) and all(g.block == "attention" for g in self.info.linears if g.name in names)
        return targets in ("attention", ["attention"]) or (
            not isinstance(targets, str) and set(targets) <= {"q_proj", "k_proj", "v_proj", "o_proj"})

    @property
    def bias_params(self) -> int:
        return self.info.bias_params if self.info is not None else 0

    @property
    def norm_params(self) -> int:
        """Normalisation scales; by name, two per layer and a final one (Llama layout)."""
        return self.info.norm_params if self.info is not None else (2 * self.layers + 1) * self.hidden_size

    @property
    def stored_dtype(self) -> str | None:
        return self.info.stored_dtype if self.info is not None else None


def shape_from_architecture(info: ArchitectureInfo, name: str) -> ModelShape:
    return ModelShape(
        name=name, params=info.params, layers=info.layers, hidden_size=info.hidden_size,
        attention_heads=info.attention_heads, kv_heads=info.kv_heads, head_dim=info.head_dim,
        intermediate_size=info.intermediate_size, vocab_size=info.vocab_size,
        layer_linear_params=info.layer_linear_params,
        gated_mlp=any(g.name in ("gate_proj", "gate_up_proj", "w1", "w3") for g in info.linears),
        info=info)


def shape_from_name(model_id: str) -> ModelShape:
    parsed = parse_model_name(model_id)
    if parsed.params_b is None:
        raise FtlabError(f"The size of {model_id!r} cannot be read from its name ({parsed.describe()}). "
                         "Pass a local model folder (with config.json) instead, or a name that states the "
                         "size, such as 'Qwen2.5-7B-Instruct'.")
    params = int(parsed.params_b * 1e9)
    billions, layers, hidden, heads, kv_heads, vocab = min(
        TYPICAL_SHAPES, key=lambda s: abs(math.log(s[0] / parsed.params_b)))
    embeddings = 2 * vocab * hidden  # untied input and output embeddings, as in most models above 3B
    linear = max(params - embeddings, int(0.5 * params))
    attention = 2 * hidden * hidden + 2 * hidden * (hidden // heads) * kv_heads
    intermediate = int((linear / layers - attention) / (3 * hidden))  # gated MLP: gate, up, down
    assumptions = [
        f"no config: {parsed.params_b:g}B parameters from the name; layers, widths and vocabulary of a "
        f"typical {billions:g}B decoder ({layers} layers, hidden {hidden}, {kv_heads}/{heads} KV heads, "
        f"vocabulary {vocab})",
    ] + parsed.notes
    return ModelShape(
        name=model_id, params=params, layers=layers, hidden_size=hidden, attention_heads=heads,
        kv_heads=kv_heads, head_dim=hidden // heads, intermediate_size=max(intermediate, hidden),
        vocab_size=vocab, layer_linear_params=linear,
        active_params=int(parsed.active_params_b * 1e9) if parsed.active_params_b else None,
        exact=False, assumptions=assumptions)


def model_shape(source: Any) -> ModelShape:
    """A shape from an ArchitectureInfo, a config (object or dict), a local folder, or a name."""
    if isinstance(source, ModelShape):
        return source
    if isinstance(source, ArchitectureInfo):
        return shape_from_architecture(source, source.architecture)
    if not isinstance(source, str):
        return shape_from_architecture(inspect_architecture(source), getattr(source, "model_type", "config"))
    if source == BUILTIN_MODEL or Path(source).exists():
        return shape_from_architecture(inspect_architecture(source), source)
    return shape_from_name(source)
