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
- **stage terms** (``train.stage`` after SFT, :class:`StageTerms`): the
  reference model of dpo / kto / grpo / rloo / ppo (0 bytes with a PEFT
  method, a second frozen copy otherwise) and its no-grad forward pass; the KV
  cache of the answers grpo / rloo / ppo sample; a reward model's weights; ppo's
  value model; rm's score head.  dpo, orpo and rm put chosen and rejected
  through the model together: twice the sequences, twice the activations.

The total is less than the sum of the parts: backward allocates each layer's
gradients as it frees that layer's activations, so the two never peak together
(``overlap_gb`` says by how much; the breakdown keeps each part at full size).

The estimate reads a run's own :class:`~ftlab.config.Config` (method and its
settings, ``model.dtype``, ``train.precision``, optimizer, batch size,
``data.max_length``, checkpointing) and the :class:`Hardware` it runs on; how
each method counts (what trains, whether its base is quantized, what its
activations keep) comes from the method registry.  So ``ftlab estimate``, the
config builder's read-out and out-of-memory advice all price the config that
``ftlab train`` runs, and ``benchmarks/estimate_vs_measured.py`` checks them
against models prepared by training's own code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ftlab.config import Config
from ftlab.errors import FtlabError
from ftlab.models.shape import ModelShape, model_shape
from ftlab.training.launch import STRATEGIES
from ftlab.training.methods import METHODS, Method
from ftlab.training.stages import STAGES

# train.optimizer -> (bytes of state per trainable parameter held in fp32, per parameter held in 16 bits)
OPTIMIZER_STATE = {"adamw_torch": (8, 4), "adamw_bnb_8bit": (2, 2), "paged_adamw_8bit": (2, 2), "adafactor": (4, 2),
                   "sgd": (0, 0)}
GB = 1024 ** 3
HALF = ("bfloat16", "float16")

# Saved activation elements per token per layer, in units of (hidden, intermediate, kv width):
# gated MLPs (Llama, Qwen, Mistral, Gemma, Phi-3) vs. two-matrix MLPs (GPT-2, OPT, GPT-NeoX, BLOOM).
ACTIVATION_COEFFS = {True: (7, 4, 4), False: (6, 2, 2)}
# How much less a method's layers keep than full tuning's is the method's ``activation_share`` (measured, in its
# registry entry); adapters on attention only leave the MLP's saved inputs out too (measured 0.75 vs 0.9).
ATTENTION_ONLY_FACTOR = 0.75 / 0.9
# Share of min(activations, gradients) that is not alive at once at the peak (measured: 0.85-1.0).
PEAK_OVERLAP = 0.9
# QLoRA 4-bit: NF4 codes (4 bits) + one fp32 absmax per 64 weights, or 8-bit absmax + second level
# constants with double quantization; 8-bit LLM.int8 adds a per-row fp32 scale (negligible).
QUANT_BITS = {(4, True): 4 + 8 / 64 + 32 / (64 * 256), (4, False): 4 + 32 / 64, (8, True): 8.0, (8, False): 8.0}


@dataclass
class Hardware:
    """Where a config trains: how many GPUs, how they share the model (``ftlab launch-config`` strategies)."""

    gpus: int = 1
    strategy: str = "ddp"  # ddp | fsdp | zero2 | zero3, as `ftlab launch-config --strategy`
    device: str = "cuda"  # cuda | cpu
    attention: str = "sdpa"  # sdpa (flash / memory-efficient) | eager

    def check(self) -> "Hardware":
        problems = []
        if self.strategy not in STRATEGIES:
            problems.append(f"strategy {self.strategy!r} is not one of {', '.join(STRATEGIES)}")
        if self.device not in ("cuda", "cpu"):
            problems.append(f"device must be cuda or cpu, got {self.device!r}")
        if self.attention not in ("sdpa", "eager"):
            problems.append(f"attention must be sdpa (flash/memory-efficient) or eager, got {self.attention!r}")
        if self.gpus < 1:
            problems.append(f"gpus must be at least 1, got {self.gpus}")
        if problems:
            raise FtlabError("Cannot estimate on this hardware: " + "; ".join(problems) + ".")
        return self


@dataclass
class Numerics:
    """How a config's weights, gradients and activations are held, resolved for a device."""

    weight_bytes: int  # per frozen base weight
    trained_bytes: int  # per trained base weight: fp32 master + the 16-bit copy autocast keeps under mixed precision
    grad_bytes: int  # per trained base weight's gradient
    activation_bytes: int
    state_index: int  # which column of OPTIMIZER_STATE applies
    label: str  # fp32 | mixed | bf16


def numerics(config: Config, shape: ModelShape, device: str) -> tuple[Numerics, list[str]]:
    """``model.dtype`` (``auto``: the checkpoint's own) and ``train.precision`` (``auto``: bf16 on a GPU) -> bytes."""
    notes = []
    dtype = config.model.dtype
    if dtype == "auto":
        dtype = shape.stored_dtype or "bfloat16"
        if shape.stored_dtype is None:
            notes.append("model.dtype auto: weights as stored, assumed bfloat16 (as most hub checkpoints)")
    precision = config.train.precision
    if precision == "auto":
        precision = "bf16" if device == "cuda" else "fp32"
    if dtype in HALF:
        return Numerics(2, 2, 2, 2, 1, "bf16"), notes + ["16-bit weights: pure 16-bit training (2 bytes per "
                                                         "weight and gradient)"]
    if precision in ("bf16", "fp16"):
        return Numerics(4, 6, 4, 2, 0, "mixed"), notes + [
            "mixed precision: fp32 master weights plus the 16-bit copies autocast keeps for backward "
            "(6 bytes per trained parameter)"]
    return Numerics(4, 4, 4, 4, 0, "fp32"), notes


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


def _sharding(hardware: Hardware) -> tuple[int, int, int]:
    """Divisors for (weights, gradients, optimizer) under ZeRO / FSDP on ``gpus`` GPUs."""
    stage = {"ddp": 0, "zero2": 2, "zero3": 3, "fsdp": 3}[hardware.strategy]
    n = hardware.gpus
    return (n if stage >= 3 else 1, n if stage >= 2 else 1, n if stage >= 1 else 1)


def trainable_params(shape: ModelShape, config: Config) -> int:
    """What the method trains, counted from the shape by the method's own formula (its registry entry)."""
    return int(METHODS[config.method.name].count(shape, config.method))


def activation_bytes(shape: ModelShape, config: Config, method: Method, numbers: Numerics,
                     attention: str = "sdpa", sequences: int | None = None, length: int | None = None,
                     logits: bool = True) -> float:
    """Saved activations of one forward pass per GPU (the batch is per device).

    ``sequences`` and ``length`` default to ``train.batch_size`` and ``data.max_length``; a stage changes
    them (chosen and rejected together, sampled answers); ``logits=False`` for a scalar head (rm).
    """
    seq_len = (length or config.data.max_length) + (method.extra_tokens(config.method) if method.extra_tokens else 0)
    tokens = (sequences or config.train.batch_size) * seq_len
    elem = numbers.activation_bytes
    c_h, c_i, c_kv = ACTIVATION_COEFFS[shape.gated_mlp]
    per_layer = c_h * shape.hidden_size + c_i * shape.intermediate_size + c_kv * shape.kv_dim
    if attention == "eager":  # attention probabilities (and their dropout) are kept: quadratic in length
        per_layer += 2 * shape.attention_heads * seq_len
    per_layer *= method.activation_share
    if "target_modules" in method.reads and shape.is_attention_only(config.method.target_modules):
        per_layer *= ATTENTION_ONLY_FACTOR
    layers = shape.layers
    if method.activations == "top_layers":  # nothing below the first trainable layer is recorded for backward
        layers = min(config.method.freeze_layers, shape.layers)
    if config.train.gradient_checkpointing:
        # only each layer's input is kept; one layer at a time is recomputed during backward
        layer_bytes = (layers * shape.hidden_size + per_layer) * elem
    else:
        layer_bytes = layers * per_layer * elem
    # 16-bit logits are upcast to fp32 for the loss
    logits = shape.vocab_size * (3 * 4 + (0 if elem == 4 else 2)) if logits else 0
    return tokens * (layer_bytes + logits + 3 * shape.hidden_size * elem)


# --- training stages ------------------------------------------------------------------------------------

# TRL's GRPOConfig / RLOOConfig default for max_completion_length, used when stage.max_completion_length is empty
DEFAULT_COMPLETION_LENGTH = 256


@dataclass
class StageTerms:
    """What a training stage adds to SFT's memory, in bytes, before sharding; each is a named breakdown line.

    - ``reference``: the frozen reference model's weights.  With a PEFT method
      TRL runs the same base with the adapter disabled: no second copy, 0 bytes.
      Otherwise a second frozen copy in ``model.dtype``: params x weight bytes.
    - ``reference_activations``: the reference's forward pass runs under
      ``no_grad``, so it keeps nothing for backward; at its peak one layer's
      working tensors and the vocabulary-wide logits (16-bit logits and their
      fp32 log-probs) are alive for its tokens, on top of the policy's saved
      activations.
    - ``kv_cache``: sampling keeps K and V for every layer and token of the
      answers sampled at once (TRL's generation batch: ``batch_size x
      grad_accum`` answers, ``batch_size / num_generations`` prompts per step) of
      ``data.max_length`` prompt + ``max_completion_length`` answer tokens, in the
      activations' dtype.
    - ``reward_model``: the weights of ``stage.reward_model`` (its own shape if it
      can be read, else the policy's), frozen.
    - ``value_model`` (ppo): a second model with a value head trained in full:
      params x (trained + gradient + optimizer bytes); its activations are not counted.
    - ``score_head`` (rm): one fp32 output per hidden unit, trained with its
      gradient and AdamW state (16 bytes each); the vocabulary logits go.
    """

    sequences: int | None = None  # sequences per step through the policy (None: train.batch_size)
    length: int | None = None  # tokens per sequence (None: data.max_length)
    logits: bool = True
    reference: float | None = None
    reference_activations: float | None = None
    kv_cache: float | None = None
    reward_model: float | None = None
    value_model: float | None = None
    score_head: float | None = None

    def parts(self, weight_divisor: int = 1) -> dict[str, float]:
        """The named lines that apply; weight copies are sharded like the policy's weights (ZeRO-3 / FSDP)."""
        out = {}
        for name in ("reference", "reference_activations", "kv_cache", "reward_model", "value_model", "score_head"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value / weight_divisor if name in ("reference", "value_model") else value
        return out


def stage_terms(shape: ModelShape, config: Config, method: Method, numbers: Numerics, hardware: Hardware,
                assumptions: list[str] | None = None) -> StageTerms:
    """The memory terms ``train.stage`` adds, read from ``stage.*`` (getattr with defaults: fields may be missing)."""
    notes = assumptions if assumptions is not None else []
    stage = STAGES[config.train.stage]
    settings = config.stage
    terms = StageTerms()
    batch, length = config.train.batch_size, config.data.max_length
    elem = numbers.activation_bytes
    if stage.rows == "preference":  # dpo, orpo, rm: chosen and rejected through the model in one batch
        terms.sequences = 2 * batch
        notes.append(f"{stage.name}: chosen and rejected answers in one batch, {2 * batch} sequences per step")
    if stage.head == "sequence_classification":
        terms.logits = False
        terms.score_head = (4 + 4 + OPTIMIZER_STATE[config.train.optimizer][0]) * shape.hidden_size
        notes.append("rm: a one-output score head replaces the vocabulary logits (the LM head's weights stay "
                     "counted)")
    ref_sequences = terms.sequences or batch
    if stage.name == "kto":
        ref_sequences = 2 * batch
        notes.append("kto: the reference also scores a mismatched (KL) batch, twice the sequences under no_grad")
    if stage.rows == "prompt":  # grpo, rloo, ppo: answers are sampled every step, then trained on
        generations = settings.num_generations
        completion = settings.max_completion_length
        if completion is None:
            completion = DEFAULT_COMPLETION_LENGTH
            notes.append(f"{stage.name}: stage.max_completion_length empty, {completion} answer tokens assumed "
                         "(TRL's default)")
        # TRL's batch counts answers: a step trains on batch_size answers to batch_size / num_generations
        # prompts, and samples the answers of grad_accum steps at once.
        sampled = batch * config.train.grad_accum
        terms.length = length + int(completion)
        terms.kv_cache = float(kv_cache_bytes(shape, terms.length, sampled, elem))
        notes.append(f"{stage.name}: {batch} answers per step ({max(batch // generations, 1)} prompt(s) x "
                     f"{generations}), {sampled} sampled at once, each {length} prompt + {completion} answer tokens, "
                     "held in the KV cache while sampling and trained on afterwards")
        if settings.reward_model:
            try:
                reward_params = model_shape(settings.reward_model).params
            except (FtlabError, OSError, ValueError):  # a run directory or a name that does not say its size
                reward_params = shape.params
                notes.append(f"reward model {settings.reward_model!r}: its size could not be read; the policy's "
                             "assumed")
            terms.reward_model = float(numbers.weight_bytes * reward_params)
        if stage.value_model:
            state = OPTIMIZER_STATE[config.train.optimizer][numbers.state_index]
            terms.value_model = float(shape.params * (numbers.trained_bytes + numbers.grad_bytes + state))
            notes.append(f"{stage.name}: a value model (a copy of the reward model, or of the base with a value "
                         "head) trains in full beside the policy; its activations are not counted")
    if stage.reference and not (stage.rows == "prompt" and settings.beta == 0):  # RL: a KL term needs one
        peft = method.new_parameters
        terms.reference = 0.0 if peft else float(numbers.weight_bytes * shape.params)
        tokens = ref_sequences * (terms.length or length)
        c_h, c_i, c_kv = ACTIVATION_COEFFS[shape.gated_mlp]
        one_layer = (c_h * shape.hidden_size + c_i * shape.intermediate_size + c_kv * shape.kv_dim) * elem
        terms.reference_activations = float(tokens * (one_layer + shape.vocab_size * (elem + 4)))
        notes.append(f"{stage.name}: reference model " + (
            "= the base with the adapter disabled (no second copy)" if peft
            else f"= a second frozen copy of the weights ({numbers.weight_bytes} bytes per parameter)")
            + "; its forward pass runs under no_grad")
    return terms


def estimate_memory(model: Any, config: Config | None = None, hardware: Hardware | None = None) -> MemoryEstimate:
    """Peak training memory per GPU for ``model`` (a name, folder, config or shape) trained as ``config`` says."""
    config = config or Config()
    hardware = (hardware or Hardware()).check()
    method = METHODS[config.method.name]
    stage = STAGES.get(config.train.stage)
    problems = [p for p in config.problems() if p.field.startswith(("method.", "train."))
                and not p.field.startswith("train.output_dir")
                and not (p.field == "train.stage" and stage is not None)]  # a stage is priced even where it cannot run
    if problems:
        raise FtlabError("Cannot estimate this config: " + "; ".join(str(p) for p in problems))
    shape = model_shape(model)
    numbers, assumptions = numerics(config, shape, hardware.device)
    assumptions = list(shape.assumptions) + assumptions
    n, t = shape.params, trainable_params(shape, config)
    w_div, g_div, o_div = _sharding(hardware)
    state = OPTIMIZER_STATE[config.train.optimizer]

    adapter = 0.0
    if not method.new_parameters:  # a subset of the base weights trains in place
        weights = numbers.weight_bytes * (n - t) + numbers.trained_bytes * t
        grads = numbers.grad_bytes * t
        optimizer = state[numbers.state_index] * t
    else:  # the base is frozen (quantized or not); new fp32 parameters train (PEFT keeps adapters in fp32)
        if method.quantized:
            bits = QUANT_BITS[(config.method.bits, config.method.double_quant)]
            weights = shape.layer_linear_params * bits / 8 + (n - shape.layer_linear_params) * numbers.weight_bytes
            assumptions.append(f"{method.name} {config.method.bits}-bit base: layer linear weights at {bits:.3f} "
                               f"bits each (codes + scales); embeddings, norms and head unquantized")
        else:
            weights = numbers.weight_bytes * n
        adapter = 4 * (method.added(shape, config.method) if method.added else t)
        grads = 4 * t
        optimizer = state[0] * t
    assumptions.append(f"{method.name}: {t:,} trainable parameters ({method.summary.split(':')[0].split('.')[0]})")
    if config.train.optimizer.startswith("paged"):
        assumptions.append("paged optimizer: its state can move to CPU memory under pressure, so this peak "
                           "is an upper bound")
    if hardware.gpus > 1:
        assumptions.append(f"{hardware.gpus} GPUs with {hardware.strategy}: weights / gradients / optimizer state "
                           f"divided by {w_div} / {g_div} / {o_div}")
        if w_div > 1:  # one layer is gathered in full while it computes
            weights = weights / w_div + 2 * shape.params_per_layer
            adapter = adapter / w_div  # FSDP / ZeRO-3 shard the adapters with the layers they sit in (measured)

    terms = stage_terms(shape, config, method, numbers, hardware, assumptions)
    activations = activation_bytes(shape, config, method, numbers, hardware.attention, terms.sequences,
                                   terms.length, logits=terms.logits)
    if config.train.gradient_checkpointing:
        assumptions.append("gradient checkpointing: only layer inputs are kept; one layer is recomputed at a time")
    grads, optimizer = grads / g_div, optimizer / o_div
    # Backward frees each layer's activations as it allocates that layer's gradients: the two overlap.
    overlap = PEAK_OVERLAP * min(activations, grads)
    stage_parts = terms.parts(w_div)
    if "kv_cache" in stage_parts:  # answers are sampled (grads freed, no activations kept), then trained on
        training = grads + activations - overlap + stage_parts.get("reference_activations", 0.0)
        overlap += min(stage_parts["kv_cache"], training)
        assumptions.append("sampling and training alternate: the KV cache and the training step's gradients "
                           "and activations never peak together")
    body = weights + grads + optimizer + activations + adapter + sum(stage_parts.values()) - overlap
    overhead = (0.5 * GB + 0.05 * body) if hardware.device == "cuda" else 0.0
    if hardware.device == "cuda":
        assumptions.append("overhead: 0.5 GB CUDA context + 5% allocator slack")
    breakdown = {"weights": weights, "gradients": grads, "optimizer": optimizer,
                 "activations": activations, "adapter": adapter, **stage_parts, "overhead": overhead}
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


def training_flops(shape: ModelShape, config: Config, tokens: int) -> float:
    """FLOPs of training on ``tokens`` tokens: 2N forward, 2N input-gradients, 2N weight-gradients per token.

    Only trainable weights need weight-gradients, and frozen layers below the
    first trainable one need no backward at all; checkpointing runs the forward
    twice.  Attention adds 6·layers·hidden·seq_len per token (causal).
    """
    method = METHODS[config.method.name]
    n = shape.active_params or shape.params
    t = trainable_params(shape, config)
    attention = 6 * shape.layers * shape.hidden_size * config.data.max_length
    if method.activations == "all" and not method.new_parameters and t >= n:
        per_token = 6 * n + attention
    elif method.activations == "top_layers":
        share = min(config.method.freeze_layers, shape.layers) / shape.layers
        per_token = 2 * n + 4 * t + attention * (1 + 2 * share) / 3
    else:
        per_token = 4 * n + 6 * t + attention
    if config.train.gradient_checkpointing:
        per_token += 2 * n
    return float(per_token) * tokens


def estimate_time(model: Any, config: Config, tokens: int, gpu: str = "A100-80GB", epochs: float = 1.0,
                  utilization: float | None = None, hardware: Hardware | None = None) -> TimeEstimate:
    """Wall time, GPU-hours and cost of ``epochs`` passes over ``tokens`` training tokens."""
    shape = model_shape(model)
    hardware = (hardware or Hardware()).check()
    spec = get_gpu(gpu)
    quantized = METHODS[config.method.name].quantized
    assumptions = []
    if utilization is None:
        utilization = 0.25 if quantized else 0.35
        assumptions.append(f"{utilization:.0%} of peak throughput (typical model FLOPs utilization"
                           + ("; a quantized base is dequantized on the fly" if quantized else "") + ")")
    if shape.active_params:
        assumptions.append("mixture of experts: compute from the active parameters")
    total_tokens = int(tokens * epochs)
    flops = training_flops(shape, config, total_tokens)
    seconds = flops / (spec.tflops * 1e12 * utilization * hardware.gpus)
    hours = seconds / 3600
    return TimeEstimate(tokens=total_tokens, flops=flops, hours=round(hours, 4),
                        gpu_hours=round(hours * hardware.gpus, 4),
                        cost=round(hours * hardware.gpus * spec.price_per_hour, 2), gpu=spec.name,
                        utilization=utilization, assumptions=assumptions)
