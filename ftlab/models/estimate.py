"""Will it fit, and how long will it take?  Training/inference memory, FLOPs, time and cost.

Memory is the sum of what a training step keeps alive at its peak, per GPU:

- **weights**: the model as loaded (fp32 = 4 bytes/param; mixed precision keeps
  fp32 masters *and* the 16-bit copies autocast makes for the forward pass;
  QLoRA stores the layers' linear weights in 4 or 8 bits plus their scales).
- **gradients**: one per trainable parameter, in the trainable weights' dtype.
- **optimizer**: AdamW keeps two fp32 moments (8 bytes/param), 8-bit AdamW two
  8-bit moments (2 bytes/param); paged variants have the same size but can
  spill to CPU memory under pressure.
- **activations**: what the forward pass saves for backward.  The per-token,
  per-layer counts below were measured with ``saved_tensors_hooks`` on
  transformers' Llama- and OPT-style layers (``benchmarks/estimate_vs_measured.py``
  re-checks them); the logits term is three vocabulary-wide fp32 tensors
  (logits, log-softmax, their gradient), which dominates at small widths and
  large vocabularies.
- **adapter**: LoRA weights (fp32).
- **overhead**: CUDA context and allocator slack on a GPU; none on the CPU.

The total is less than the sum of the parts: backward allocates each layer's
gradients as it frees that layer's activations, so the two never peak together
(``overlap_gb`` says by how much; the breakdown keeps each part at full size).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ftlab.errors import FtlabError
from ftlab.models.shape import ModelShape, model_shape

METHODS = ("full", "freeze", "lora", "qlora")
PRECISIONS = ("fp32", "mixed", "bf16")
# optimizer -> (bytes of state per trainable parameter, bytes per parameter in pure bf16 training)
OPTIMIZERS = {
    "adamw": (8, 4), "adamw_8bit": (2, 2), "paged_adamw": (8, 4), "paged_adamw_8bit": (2, 2),
    "adafactor": (4, 2), "sgd": (0, 0),
}
GB = 1024 ** 3

# Saved activation elements per token per layer, in units of (hidden, intermediate, kv width):
# gated MLPs (Llama, Qwen, Mistral, Gemma, Phi-3) vs. two-matrix MLPs (GPT-2, OPT, GPT-NeoX, BLOOM).
ACTIVATION_COEFFS = {True: (7, 4, 4), False: (6, 2, 2)}
# LoRA saves less than full tuning: a frozen linear layer needs no copy of its input for its own gradient.
LORA_ACTIVATION_SHARE = {"attention": 0.75, "attention_mlp": 0.9, "all_linear": 0.9}
# Share of min(activations, gradients) that is not alive at once at the peak (measured: 0.85-1.0).
PEAK_OVERLAP = 0.9
# QLoRA 4-bit: NF4 codes (4 bits) + one fp32 absmax per 64 weights, or 8-bit absmax + second level
# constants with double quantization; 8-bit LLM.int8 adds a per-row fp32 scale (negligible).
QUANT_BITS = {(4, True): 4 + 8 / 64 + 32 / (64 * 256), (4, False): 4 + 32 / 64, (8, True): 8.0, (8, False): 8.0}


@dataclass
class TrainingSetup:
    """How a model is to be trained: method, precision, batch shape, memory savers, GPUs."""

    method: str = "lora"
    precision: str = "mixed"
    bits: int = 4
    double_quant: bool = True
    batch_size: int = 1
    seq_len: int = 2048
    grad_accum: int = 1
    grad_ckpt: bool = False
    optimizer: str = "adamw"
    lora_r: int = 16
    lora_targets: list[str] | str = "all_linear"
    freeze_trainable_layers: int = 2
    gpus: int = 1
    zero: int = 0
    fsdp: bool = False
    attention: str = "sdpa"
    device: str = "cuda"

    def check(self) -> "TrainingSetup":
        problems = []
        if self.method not in METHODS:
            problems.append(f"method {self.method!r} is not one of {', '.join(METHODS)}")
        if self.precision not in PRECISIONS:
            problems.append(f"precision {self.precision!r} is not one of {', '.join(PRECISIONS)}")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer {self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
        if self.method == "qlora" and self.bits not in (4, 8):
            problems.append(f"QLoRA bits must be 4 or 8, got {self.bits}")
        if self.zero not in (0, 1, 2, 3):
            problems.append(f"ZeRO stage must be 0, 1, 2 or 3, got {self.zero}")
        if self.attention not in ("sdpa", "eager"):
            problems.append(f"attention must be sdpa (flash/memory-efficient) or eager, got {self.attention!r}")
        for name in ("batch_size", "seq_len", "grad_accum", "gpus", "lora_r"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, got {getattr(self, name)}")
        if problems:
            raise FtlabError("Cannot estimate this setup: " + "; ".join(problems) + ".")
        return self


@dataclass
class MemoryEstimate:
    total_gb: float
    breakdown: dict[str, float]
    trainable_params: int
    params: int
    overlap_gb: float = 0.0
    assumptions: list[str] = field(default_factory=list)

    def fits(self, gpu_memory_gb: float) -> bool:
        return self.total_gb <= gpu_memory_gb

    def to_dict(self, digits: int = 4) -> dict:
        """Rounded to ``digits`` decimals of a GB for people and JSON."""
        data = asdict(self)
        data["total_gb"] = round(self.total_gb, digits)
        data["overlap_gb"] = round(self.overlap_gb, digits)
        data["breakdown"] = {k: round(v, digits) for k, v in self.breakdown.items()}
        return data


def _sharding(setup: TrainingSetup) -> tuple[int, int, int]:
    """Divisors for (weights, gradients, optimizer) under ZeRO / FSDP on ``gpus`` GPUs."""
    stage = 3 if setup.fsdp else setup.zero
    n = setup.gpus
    return (n if stage >= 3 else 1, n if stage >= 2 else 1, n if stage >= 1 else 1)


def trainable_params(shape: ModelShape, setup: TrainingSetup) -> int:
    if setup.method == "full":
        return shape.params
    if setup.method == "freeze":
        layers = min(setup.freeze_trainable_layers, shape.layers)
        return int(shape.params_per_layer * layers)
    return shape.lora_params(setup.lora_targets, setup.lora_r)


def activation_bytes(shape: ModelShape, setup: TrainingSetup) -> float:
    """Saved activations of one forward pass per GPU (the batch is per device)."""
    tokens = setup.batch_size * setup.seq_len
    elem = 4 if setup.precision == "fp32" else 2
    c_h, c_i, c_kv = ACTIVATION_COEFFS[shape.gated_mlp]
    per_layer = c_h * shape.hidden_size + c_i * shape.intermediate_size + c_kv * shape.kv_dim
    if setup.attention == "eager":  # attention probabilities (and their dropout) are kept: quadratic in length
        per_layer += 2 * shape.attention_heads * setup.seq_len
    if setup.method in ("lora", "qlora"):
        per_layer *= LORA_ACTIVATION_SHARE.get(setup.lora_targets if isinstance(setup.lora_targets, str)
                                               else "all_linear", 0.9)
    layers = shape.layers
    if setup.method == "freeze":  # nothing below the first trainable layer is recorded for backward
        layers = min(setup.freeze_trainable_layers, shape.layers)
    if setup.grad_ckpt:
        # only each layer's input is kept; one layer at a time is recomputed during backward
        layer_bytes = (layers * shape.hidden_size + per_layer) * elem
    else:
        layer_bytes = layers * per_layer * elem
    logits = shape.vocab_size * (3 * 4 + (0 if elem == 4 else 2))  # 16-bit logits are upcast to fp32 for the loss
    return tokens * (layer_bytes + logits + 3 * shape.hidden_size * elem)


def estimate_memory(model: Any, setup: TrainingSetup | None = None, **changes) -> MemoryEstimate:
    """Peak training memory per GPU for ``model`` (a name, folder, config or shape) under ``setup``."""
    setup = (setup or TrainingSetup())
    if changes:
        setup = TrainingSetup(**{**asdict(setup), **changes})
    setup.check()
    shape = model_shape(model)
    assumptions = list(shape.assumptions)
    n, t = shape.params, trainable_params(shape, setup)
    w_div, g_div, o_div = _sharding(setup)
    state, state_bf16 = OPTIMIZERS[setup.optimizer]
    half = setup.precision != "fp32"

    adapter = 0.0
    if setup.method == "full":
        weights = {"fp32": 4 * n, "mixed": 6 * n, "bf16": 2 * n}[setup.precision]
        grads = (2 if setup.precision == "bf16" else 4) * t
        optimizer = (state_bf16 if setup.precision == "bf16" else state) * t
        if setup.precision == "mixed":
            assumptions.append("mixed precision: fp32 master weights plus the 16-bit copies autocast keeps for "
                               "backward (6 bytes/param)")
    elif setup.method == "freeze":
        weights = (2 if half else 4) * (n - t) + (6 if setup.precision == "mixed" else 2 if half else 4) * t
        grads = (2 if setup.precision == "bf16" else 4) * t
        optimizer = (state_bf16 if setup.precision == "bf16" else state) * t
        assumptions.append(f"freeze tuning: the last {min(setup.freeze_trainable_layers, shape.layers)} of "
                           f"{shape.layers} layers are trained")
    else:
        if setup.method == "qlora":
            bits = QUANT_BITS[(setup.bits, setup.double_quant)]
            rest = 2 if half else 4
            weights = shape.layer_linear_params * bits / 8 + (n - shape.layer_linear_params) * rest
            assumptions.append(f"QLoRA {setup.bits}-bit: layer linear weights at {bits:.3f} bits each "
                               f"(codes + scales); embeddings, norms and head at {8 * rest} bits")
        else:
            weights = (2 if half else 4) * n
        adapter = 4 * t
        grads = 4 * t
        optimizer = state * t
        targets = setup.lora_targets if isinstance(setup.lora_targets, str) else ", ".join(setup.lora_targets)
        assumptions.append(f"LoRA rank {setup.lora_r} on {targets}: adapters, their gradients and optimizer "
                           "state in fp32")
    if setup.optimizer.startswith("paged"):
        assumptions.append("paged optimizer: its state can move to CPU memory under pressure, so this peak "
                           "is an upper bound")
    if setup.gpus > 1:
        stage = "FSDP (full shard)" if setup.fsdp else f"ZeRO stage {setup.zero}" if setup.zero else "DDP"
        assumptions.append(f"{setup.gpus} GPUs with {stage}: weights / gradients / optimizer state divided by "
                           f"{w_div} / {g_div} / {o_div}")
        if w_div > 1:  # one layer is gathered in full while it computes
            weights = weights / w_div + 2 * shape.params_per_layer

    activations = activation_bytes(shape, setup)
    if setup.grad_ckpt:
        assumptions.append("gradient checkpointing: only layer inputs are kept; one layer is recomputed at a time")
    grads, optimizer = grads / g_div, optimizer / o_div
    # Backward frees each layer's activations as it allocates that layer's gradients: the two overlap.
    overlap = PEAK_OVERLAP * min(activations, grads)
    body = weights + grads + optimizer + activations + adapter - overlap
    overhead = (0.5 * GB + 0.05 * body) if setup.device == "cuda" else 0.0
    if setup.device == "cuda":
        assumptions.append("overhead: 0.5 GB CUDA context + 5% allocator slack")
    breakdown = {"weights": weights, "gradients": grads, "optimizer": optimizer,
                 "activations": activations, "adapter": adapter, "overhead": overhead}
    breakdown = {k: v / GB for k, v in breakdown.items()}
    if overlap:
        assumptions.append(f"activations and gradients never peak together: the total is "
                           f"{overlap / GB:.3g} GB below the sum of the parts")
    return MemoryEstimate(total_gb=(body + overhead) / GB, breakdown=breakdown, trainable_params=t,
                          params=n, overlap_gb=overlap / GB, assumptions=assumptions)


def kv_cache_bytes(shape: ModelShape, context: int, batch_size: int = 1, bytes_per_value: int = 2) -> int:
    return 2 * shape.layers * shape.kv_dim * context * batch_size * bytes_per_value


def estimate_inference(model: Any, context: int = 4096, batch_size: int = 1, weight_bits: float | None = None,
                       device: str = "cuda") -> dict:
    """Serving memory: weights at their stored width plus the KV cache for ``context`` tokens."""
    from ftlab.models.names import parse_model_name

    shape = model_shape(model)
    assumptions = list(shape.assumptions)
    if weight_bits is None:
        weight_bits = parse_model_name(shape.name).quant_bits
        if weight_bits is None:
            weight_bits = 16
            assumptions.append("weights in 16-bit (the name states no quantization)")
    weights = shape.params * weight_bits / 8
    kv = kv_cache_bytes(shape, context, batch_size)
    overhead = 0.5 * GB + 0.05 * (weights + kv) if device == "cuda" else 0.0
    breakdown = {"weights": weights / GB, "kv_cache": kv / GB, "overhead": overhead / GB}
    return {"total_gb": round(sum(breakdown.values()), 3), "breakdown": {k: round(v, 4) for k, v in breakdown.items()},
            "context": context, "batch_size": batch_size, "assumptions": assumptions}


# --- time and cost -------------------------------------------------------------------------------------

@dataclass
class GpuSpec:
    """An accelerator: memory, dense bf16 throughput (TFLOP/s) and a price per hour; edit to taste."""

    name: str
    memory_gb: float
    tflops: float
    price_per_hour: float


# Dense 16-bit tensor throughput from the vendors' data sheets; prices are rough 2025 on-demand cloud
# rates in USD.  Change an entry (GPUS["A100-80GB"].price_per_hour = 1.2) or add one with add_gpu().
GPUS: dict[str, GpuSpec] = {g.name: g for g in [
    GpuSpec("T4", 16, 65, 0.35),
    GpuSpec("RTX-3090", 24, 71, 0.25),
    GpuSpec("RTX-4090", 24, 165, 0.40),
    GpuSpec("A10G", 24, 70, 1.00),
    GpuSpec("L4", 24, 121, 0.80),
    GpuSpec("L40S", 48, 362, 1.00),
    GpuSpec("A100-40GB", 40, 312, 1.50),
    GpuSpec("A100-80GB", 80, 312, 1.80),
    GpuSpec("H100-80GB", 80, 989, 2.50),
    GpuSpec("H200", 141, 989, 3.50),
    GpuSpec("MI300X", 192, 1307, 3.00),
]}


def add_gpu(name: str, memory_gb: float, tflops: float, price_per_hour: float) -> GpuSpec:
    GPUS[name] = GpuSpec(name, memory_gb, tflops, price_per_hour)
    return GPUS[name]


def get_gpu(name: str) -> GpuSpec:
    if name not in GPUS:
        raise FtlabError(f"Unknown GPU {name!r}; known: {', '.join(GPUS)}. Add yours with "
                         "ftlab.models.estimate.add_gpu(name, memory_gb, tflops, price_per_hour).")
    return GPUS[name]


@dataclass
class TimeEstimate:
    tokens: int
    flops: float
    hours: float
    gpu_hours: float
    cost: float
    gpu: str
    utilization: float
    assumptions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def training_flops(shape: ModelShape, setup: TrainingSetup, tokens: int) -> float:
    """FLOPs of training on ``tokens`` tokens: 2N forward, 2N input-gradients, 2N weight-gradients per token.

    Only trainable weights need weight-gradients, and frozen layers below the
    first trainable one need no backward at all; checkpointing runs the forward
    twice.  Attention adds 6·layers·hidden·seq_len per token (causal).
    """
    n = shape.active_params or shape.params
    t = trainable_params(shape, setup)
    attention = 6 * shape.layers * shape.hidden_size * setup.seq_len
    if setup.method == "full":
        per_token = 6 * n + attention
    elif setup.method == "freeze":
        share = min(setup.freeze_trainable_layers, shape.layers) / shape.layers
        per_token = 2 * n + 4 * t + attention * (1 + 2 * share) / 3
    else:
        per_token = 4 * n + 6 * t + attention
    if setup.grad_ckpt:
        per_token += 2 * n
    return float(per_token) * tokens


def estimate_time(model: Any, setup: TrainingSetup, tokens: int, gpu: str = "A100-80GB", epochs: float = 1.0,
                  utilization: float | None = None) -> TimeEstimate:
    """Wall time, GPU-hours and cost of ``epochs`` passes over ``tokens`` training tokens."""
    shape = model_shape(model)
    spec = get_gpu(gpu)
    assumptions = []
    if utilization is None:
        utilization = 0.35 if setup.method != "qlora" else 0.25
        assumptions.append(f"{utilization:.0%} of peak throughput (typical model FLOPs utilization"
                           + ("; QLoRA dequantizes weights on the fly" if setup.method == "qlora" else "") + ")")
    if shape.active_params:
        assumptions.append("mixture of experts: compute from the active parameters")
    total_tokens = int(tokens * epochs)
    flops = training_flops(shape, setup, total_tokens)
    seconds = flops / (spec.tflops * 1e12 * utilization * setup.gpus)
    hours = seconds / 3600
    return TimeEstimate(tokens=total_tokens, flops=flops, hours=round(hours, 4),
                        gpu_hours=round(hours * setup.gpus, 4),
                        cost=round(hours * setup.gpus * spec.price_per_hour, 2), gpu=spec.name,
                        utilization=utilization, assumptions=assumptions)
