"""Architecture facts from a model config alone: sizes, exact parameter count, linear layers, LoRA presets.

The model is built on PyTorch's ``meta`` device: every module and parameter
exists with its real shape, but no memory is allocated and nothing is
downloaded.  Counting parameters on that model gives the exact number the real
one has (tied embeddings counted once), and walking its modules gives the
linear layers' real names, which is what LoRA's ``target_modules`` must match.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ftlab.errors import FtlabError

# Words in a module path that mark the attention block / the feed-forward block of a layer.
ATTENTION_WORDS = ("attn", "attention")
PRESETS = ("attention", "attention_mlp", "all_linear")
PRESET_LABELS = {"attention": "attention only", "attention_mlp": "attention + MLP", "all_linear": "all linear"}


@dataclass
class LinearGroup:
    """All linear layers that share a name (e.g. every layer's ``q_proj``)."""

    name: str
    block: str  # attention | mlp | other
    count: int
    in_features: int
    out_features: int
    params: int


@dataclass
class ArchitectureInfo:
    model_type: str
    architecture: str
    params: int
    layers: int
    hidden_size: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    intermediate_size: int
    vocab_size: int
    max_position_embeddings: int | None
    tie_word_embeddings: bool
    embedding_params: int
    layer_params: int
    bias_params: int = 0
    norm_params: int = 0  # 1-D normalisation scales (what BitFit trains on bias-free models)
    stored_dtype: str | None = None  # the checkpoint's dtype, as model.dtype "auto" loads it
    linears: list[LinearGroup] = field(default_factory=list)
    lora_presets: dict[str, list[str]] = field(default_factory=dict)

    @property
    def linear_names(self) -> list[str]:
        return [g.name for g in self.linears]

    @property
    def layer_linear_params(self) -> int:
        """Parameters in the decoder layers' linear weights: what 4/8-bit quantization shrinks."""
        return sum(g.params for g in self.linears if g.block != "other")

    def lora_params(self, targets: list[str] | str, r: int) -> int:
        """Trainable parameters of LoRA adapters of rank ``r`` on ``targets`` (a preset or module names)."""
        names = self.resolve_targets(targets)
        return sum(g.count * r * (g.in_features + g.out_features) for g in self.linears if g.name in names)

    def resolve_targets(self, targets: list[str] | str) -> list[str]:
        if isinstance(targets, str):
            targets = self.lora_presets["all_linear"] if targets == "all-linear" else self.lora_presets[targets]
        if list(targets) == ["all-linear"]:
            return self.lora_presets["all_linear"]
        unknown = [t for t in targets if t not in self.linear_names]
        if unknown:
            raise FtlabError(f"Target module(s) {', '.join(unknown)} are not linear layers of this "
                             f"{self.model_type} model; its linear layers are {', '.join(self.linear_names)}.")
        return list(targets)

    def to_dict(self) -> dict:
        return asdict(self)


def load_config(source: Any, trust_remote_code: bool = False):
    """A transformers config from a config object, a dict, a local folder/config.json, or a hub id."""
    from transformers import AutoConfig, PretrainedConfig

    from ftlab.models.tiny import resolve_model_path

    if isinstance(source, PretrainedConfig):
        return source
    if isinstance(source, dict):
        data = dict(source)
        if "model_type" not in data:
            raise FtlabError("A config dict needs a 'model_type' (e.g. 'llama') to know which architecture it is.")
        return AutoConfig.for_model(data.pop("model_type"), **data)
    path = Path(resolve_model_path(str(source)))
    if path.is_file() and path.suffix == ".json":
        return load_config(json.loads(path.read_text()))
    try:
        return AutoConfig.from_pretrained(str(path), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FtlabError(f"No config for {source!r}: it is not a local model folder and could not be fetched "
                         f"from the hub ({first}). Pass a folder with config.json, or estimate by name only.") from None


def meta_model(config):
    """The causal-LM model of ``config`` with every tensor on the meta device (no memory, no weights)."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        try:
            return AutoModelForCausalLM.from_config(config)
        except ValueError as exc:
            raise FtlabError(f"transformers cannot build a causal language model from a {config.model_type!r} "
                             f"config: {str(exc).splitlines()[0]}") from None


def inspect_architecture(source: Any, trust_remote_code: bool = False) -> ArchitectureInfo:
    """Facts about an architecture from its config: ``source`` is a config, dict, folder or hub id."""
    import torch

    config = load_config(source, trust_remote_code)
    model = meta_model(config)
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    params = sum(p.numel() for p in model.parameters())
    embeddings = model.get_input_embeddings()
    embedding_params = sum(p.numel() for p in embeddings.parameters())
    heads = _first(text, "num_attention_heads", "n_head")
    hidden = _first(text, "hidden_size", "n_embd", "d_model")
    linears = linear_groups(model)
    layer_lists = [m for m in model.modules() if isinstance(m, torch.nn.ModuleList)]
    layer_params = sum(p.numel() for p in max(layer_lists, key=len)[-1].parameters()) if layer_lists else 0
    kv_heads = _first(text, "num_key_value_heads", "num_kv_heads", "multi_query_group_num", default=heads) or heads
    if getattr(text, "multi_query", False) and not getattr(text, "new_decoder_architecture", False):
        kv_heads = 1  # Falcon-7B style multi-query attention: one key/value head shared by all
    return ArchitectureInfo(
        model_type=config.model_type,
        architecture=type(model).__name__,
        params=params,
        layers=_first(text, "num_hidden_layers", "n_layer", "num_layers"),
        hidden_size=hidden,
        attention_heads=heads,
        kv_heads=kv_heads,
        head_dim=_first(text, "head_dim", default=None) or hidden // heads,
        intermediate_size=_first(text, "intermediate_size", "n_inner", "ffn_dim", "ffn_hidden_size", default=None)
        or 4 * hidden,  # GPT-2 and BLOOM leave it implicit: 4 x hidden
        vocab_size=text.vocab_size,
        max_position_embeddings=_first(text, "max_position_embeddings", "n_positions", "seq_length", default=None),
        tie_word_embeddings=bool(getattr(text, "tie_word_embeddings", False)),
        embedding_params=embedding_params,
        layer_params=layer_params,
        bias_params=sum(p.numel() for n, p in model.named_parameters() if n.endswith(".bias")),
        norm_params=sum(p.numel() for n, p in model.named_parameters() if p.dim() == 1 and "norm" in n.lower()),
        stored_dtype=_dtype_name(getattr(text, "dtype", None)),
        linears=linears,
        lora_presets=lora_presets(linears),
    )


def _dtype_name(dtype: Any) -> str | None:
    """'bfloat16' from torch.bfloat16 or the string a config.json holds."""
    if dtype is None:
        return None
    return str(dtype).replace("torch.", "")


def _first(config, *names: str, default: Any = ...) -> Any:
    for name in names:
        value = getattr(config, name, None)
        if value is not None:
            return value
    if default is ...:
        raise FtlabError(f"The {config.model_type!r} config has none of {', '.join(names)}; ftlab cannot read "
                         "its size.")
    return default


def _is_linear(module) -> bool:
    import torch

    return isinstance(module, torch.nn.Linear) or type(module).__name__ in ("Conv1D", "Linear4bit", "Linear8bitLt")


def _features(module) -> tuple[int, int]:
    if type(module).__name__ == "Conv1D":  # GPT-2 stores the weight transposed: (in, out)
        return module.weight.shape[0], module.weight.shape[1]
    return module.in_features, module.out_features


def linear_groups(model) -> list[LinearGroup]:
    """Group the linear layers by the name LoRA would match, and say which block each is in.

    A short name that is used in two blocks (GPT-2's ``c_proj`` is both the
    attention output and the MLP output) is qualified by its parent
    (``attn.c_proj``, ``mlp.c_proj``) so each preset names exactly the layers
    it means; PEFT matches target names as suffixes of module paths.
    """
    found = []
    for path, module in model.named_modules():
        if not _is_linear(module) or path.rsplit(".", 1)[-1] == "lm_head":
            continue
        parts = path.split(".")
        in_layer = any(p.isdigit() for p in parts)
        block = ("attention" if in_layer and any(w in p for p in parts[:-1] for w in ATTENTION_WORDS)
                 else "mlp" if in_layer else "other")
        found.append((parts, block, module))
    short_blocks = defaultdict(set)
    for parts, block, _ in found:
        short_blocks[parts[-1]].add(block)
    groups: dict[str, LinearGroup] = {}
    for parts, block, module in found:
        name = parts[-1] if len(short_blocks[parts[-1]]) == 1 else ".".join(parts[-2:])
        fan_in, fan_out = _features(module)
        size = sum(p.numel() for p in module.parameters(recurse=False))
        group = groups.setdefault(name, LinearGroup(name, block, 0, fan_in, fan_out, 0))
        group.count += 1
        group.params += size
    return list(groups.values())


def lora_presets(linears: list[LinearGroup]) -> dict[str, list[str]]:
    attention = [g.name for g in linears if g.block == "attention"]
    mlp = [g.name for g in linears if g.block == "mlp"]
    return {"attention": attention, "attention_mlp": attention + mlp, "all_linear": [g.name for g in linears]}
