"""From "what is the task, what do I have" to a config that trains: method, size, hyper-parameters, reasons.

The rules are the usual advice of fine-tuning practice (QLoRA for small GPUs,
LoRA on all linear layers for generation, fewer epochs on more data), written
down so each choice carries its reason.  Every candidate is priced by the
memory estimator before it is chosen: the recommender walks from the preferred
setup towards cheaper ones (checkpointing, smaller batch, 4-bit base, smaller
model) and stops at the first the estimator says fits, so it never recommends
what the estimator says will not fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from ftlab.config import Config
from ftlab.errors import FtlabError
from ftlab.models.estimate import Hardware, MemoryEstimate, TimeEstimate, estimate_memory, estimate_time
from ftlab.models.shape import ModelShape, model_shape
from ftlab.training.methods import METHODS

TASK_TYPES = ("classification", "generation", "multi-task")
LEVELS = ("low", "medium", "high")
OUTPUT_LENGTHS = ("short", "medium", "long")
EXPERTISE = ("beginner", "intermediate", "expert")

# Size bands, smallest first, each with an instruct model of that size used when no model is given.
SIZE_BANDS = [(0.5, "Qwen/Qwen2.5-0.5B-Instruct"), (1.5, "Qwen/Qwen2.5-1.5B-Instruct"),
              (3.0, "Qwen/Qwen2.5-3B-Instruct"), (7.0, "Qwen/Qwen2.5-7B-Instruct"),
              (14.0, "Qwen/Qwen2.5-14B-Instruct"), (32.0, "Qwen/Qwen2.5-32B-Instruct"),
              (72.0, "Qwen/Qwen2.5-72B-Instruct")]
SEQ_LEN = {"short": 512, "medium": 1024, "long": 2048}


@dataclass
class TaskProfile:
    task_type: str = "generation"
    domain_specificity: str = "medium"
    output_length: str = "medium"
    data_size: int = 2000
    quality: str = "medium"
    domain_text_tokens: int = 0
    preference_data: bool = False


@dataclass
class Resources:
    gpu_memory_gb: float = 24.0
    gpus: int = 1
    gpu: str | None = None
    time_budget_hours: float | None = None
    budget: str = "medium"
    expertise: str = "intermediate"
    cpu_memory_gb: float = 8.0

    @property
    def on_cpu(self) -> bool:
        return self.gpus == 0 or self.gpu_memory_gb == 0


# Presets adjust the answers before the rules run; the rules stay the same.
PRESETS: dict[str, dict] = {
    "quick experiment": {"task": {"quality": "low"}, "resources": {"budget": "low"}, "max_band_b": 3.0,
                         "epochs": 1},
    "production": {"task": {"quality": "high"}, "resources": {}, "max_band_b": None, "epochs": None},
    "resource constrained": {"task": {}, "resources": {"budget": "low"}, "max_band_b": 7.0, "epochs": None,
                             "prefer_qlora": True},
}


@dataclass
class Choice:
    value: object
    reason: str


@dataclass
class Recommendation:
    config: Config
    hardware: Hardware
    memory: MemoryEstimate
    choices: dict[str, Choice]
    stages: list[Choice] = field(default_factory=list)
    time: TimeEstimate | None = None
    memory_limit_gb: float = 0.0

    def reasons(self) -> list[str]:
        return [f"{name}: {c.value} — {c.reason}" for name, c in self.choices.items()] + \
               [f"stage {i + 1}: {s.value} — {s.reason}" for i, s in enumerate(self.stages)]

    def to_dict(self) -> dict:
        return {"choices": {k: {"value": c.value, "reason": c.reason} for k, c in self.choices.items()},
                "stages": [{"stage": s.value, "reason": s.reason} for s in self.stages],
                "memory": self.memory.to_dict(), "memory_limit_gb": self.memory_limit_gb,
                "time": self.time.to_dict() if self.time else None, "config": self.config.to_dict()}


def _check(task: TaskProfile, resources: Resources) -> None:
    problems = []
    for value, allowed, name in [(task.task_type, TASK_TYPES, "task type"),
                                 (task.domain_specificity, LEVELS, "domain specificity"),
                                 (task.output_length, OUTPUT_LENGTHS, "output length"),
                                 (task.quality, LEVELS, "quality"), (resources.budget, LEVELS, "budget"),
                                 (resources.expertise, EXPERTISE, "expertise")]:
        if value not in allowed:
            problems.append(f"{name} {value!r} is not one of {', '.join(allowed)}")
    if task.data_size < 1:
        problems.append(f"data size must be at least 1 example, got {task.data_size}")
    if resources.gpu_memory_gb < 0 or resources.gpus < 0:
        problems.append("GPU memory and GPU count cannot be negative")
    if problems:
        raise FtlabError("Cannot recommend: " + "; ".join(problems) + ".")


def _preferred_band(task: TaskProfile, resources: Resources) -> tuple[float, str]:
    if task.task_type == "classification" and task.output_length == "short":
        size, why = 1.5, "classification with short outputs needs understanding more than fluent generation"
    elif task.task_type == "multi-task" or task.output_length == "long":
        size, why = 14.0, "several tasks or long, structured outputs need a larger model's capacity"
    else:
        size, why = 7.0, "open-ended generation benefits from a 7B-class model"
    if task.quality == "high":
        size, why = size * 2, why + "; the high quality bar calls for the next size up"
    if task.quality == "low" or resources.budget == "low":
        size, why = size / 4, why + "; a low budget or quality bar favours a model 4x smaller"
    return size, why


# --- published practice: each fact once, with its source ------------------------------------------------
# Rank: start at 16 (Unsloth's LoRA hyper-parameter guide, unsloth.ai/docs, "LoRA Rank"); QLoRA found that once
# every linear layer is adapted, the rank matters little (Dettmers et al. 2023, arXiv:2305.14314, section 4).
# Under 1k examples a smaller rank (8, the LoRA paper's usual setting) leaves less room to overfit.
RANK = 16
SMALL_DATA_RANK = 8
# Alpha = 2r keeps the update's scale steady when the rank changes (Unsloth's guide: alpha = r or 2r).
ALPHA_PER_RANK = 2
# LoRA dropout: 0.1 for models up to 13B, 0.05 for 33B and 65B (QLoRA, appendix B.2).
DROPOUT_SMALL_MODEL, DROPOUT_LARGE_MODEL, LARGE_MODEL_B = 0.1, 0.05, 30.0
# Learning rate: each method's starting rate is in its registry entry (LoRA's 2e-4 and full tuning's 2e-5 with
# their sources in ftlab/training/methods/lora.py and full.py); QLoRA halved LoRA's rate for 33B and 65B.
LARGE_MODEL_LR_FACTOR = 0.5
# Warm-up: 3% of the steps (Stanford Alpaca's recipe, github.com/tatsu-lab/stanford_alpaca: warmup_ratio 0.03).
WARMUP_RATIO = 0.03
# Epochs fall as data grows: LIMA trained 15 epochs on 1,000 examples (Zhou et al. 2023, arXiv:2305.11206,
# section 2); Alpaca 3 on 52k; Unsloth's guide recommends 1-3 for most instruction sets.  A straight line in
# log(data size) through 10 epochs at 1k and 2.5 at 100k follows them, between 1 and 15.
EPOCHS_AT_1K, EPOCHS_AT_100K, MAX_EPOCHS = 10.0, 2.5, 15


def practice_epochs(data_size: int) -> float:
    """Epochs for ``data_size`` examples: about 10 at 1k, 2-3 at 100k, one pass for millions."""
    decades = math.log10(max(data_size, 1) / 1000)
    epochs = EPOCHS_AT_1K - (EPOCHS_AT_1K - EPOCHS_AT_100K) / 2 * decades
    return float(min(MAX_EPOCHS, max(1, round(epochs))))


def _lora_shape(task: TaskProfile) -> tuple[int, str, str]:
    if task.data_size < 1000:
        r, why = SMALL_DATA_RANK, "under 1k examples: rank 8 leaves less room to overfit"
    else:
        r, why = RANK, "rank 16 is the usual starting point; with every linear layer adapted, rank matters little"
    if task.domain_specificity == "high":
        r, why = r * 2, why + "; a very domain-specific task needs more adapter capacity (rank x2)"
    targets = "attention" if task.task_type == "classification" and task.domain_specificity == "low" \
        else "all_linear"
    target_why = ("attention only suffices to steer a model towards a familiar label set" if targets == "attention"
                  else "adapters on every linear layer (attention + MLP) learn new content best, as in QLoRA")
    return r, targets, why + "; " + target_why


def _config_targets(shape: ModelShape, preset: str) -> list[str]:
    if shape.info is not None:
        return list(shape.info.lora_presets[preset])
    if preset == "all_linear":
        return ["all-linear"]
    return ["q_proj", "k_proj", "v_proj", "o_proj"]  # the Llama/Qwen/Mistral names


def _candidates(prefer_ckpt: bool):
    """(batch size, checkpointing) from most to least memory-hungry.

    Without checkpointing only batches of 4 or more are tried: below that,
    recomputing activations to keep a batch of 4+ is the better trade.
    """
    plain = [] if prefer_ckpt else [(b, False) for b in (16, 8, 4)]
    return plain + [(b, True) for b in (16, 8, 4, 2, 1)]


def _candidate_config(name: str, shape: ModelShape, method: str, batch: int, ckpt: bool, r: int, targets: str,
                      seq_len: int, epochs: float, resources: Resources, train_file: str | None) -> Config:
    size_b = shape.params / 1e9
    config = Config()
    config.model.name = name
    config.model.dtype = "auto" if resources.on_cpu else ("float32" if method == "full" else "bfloat16")
    config.method.name = method
    config.method.lora_r, config.method.lora_alpha = r, ALPHA_PER_RANK * r
    config.method.lora_dropout = DROPOUT_LARGE_MODEL if size_b >= LARGE_MODEL_B else DROPOUT_SMALL_MODEL
    config.method.target_modules = _config_targets(shape, targets)
    config.train.learning_rate = METHODS[method].lr * (LARGE_MODEL_LR_FACTOR if size_b >= LARGE_MODEL_B else 1)
    config.train.max_steps = 0
    config.train.num_epochs = epochs
    config.train.batch_size = batch
    config.train.warmup_ratio = WARMUP_RATIO
    config.train.precision = "fp32" if resources.on_cpu else "bf16"
    config.train.gradient_checkpointing = ckpt
    config.data.max_length = seq_len
    if train_file:
        config.data.train_file = train_file
    return config


def recommend(task: TaskProfile | None = None, resources: Resources | None = None, model: str | None = None,
              preset: str | None = None, train_file: str | None = None) -> Recommendation:
    """A fitted, explained training plan as an ftlab Config (for ``model`` if given, else a size band)."""
    task, resources = task or TaskProfile(), resources or Resources()
    options = PRESETS.get(preset, {}) if preset else {}
    if preset and preset not in PRESETS:
        raise FtlabError(f"Unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    task = replace(task, **options.get("task", {}))
    resources = replace(resources, **options.get("resources", {}))
    _check(task, resources)
    choices: dict[str, Choice] = {}
    seq_len = SEQ_LEN[task.output_length] * (2 if task.task_type == "multi-task" else 1)
    limit = resources.cpu_memory_gb if resources.on_cpu else resources.gpu_memory_gb
    gpus = max(resources.gpus, 1)

    if model is not None:
        shapes = [(model, model_shape(model), "the model you chose")]
    else:
        want, why = _preferred_band(task, resources)
        cap = options.get("max_band_b")
        if cap:
            want, why = min(want, cap), why + f"; the {preset} preset caps the size at {cap:g}B"
        fitting = [b for b in SIZE_BANDS if b[0] <= want] or SIZE_BANDS[:1]
        shapes = [(name, model_shape(name), why) for _, name in reversed(fitting)]

    epochs, epochs_why = practice_epochs(task.data_size), (
        f"{task.data_size:,} examples: epochs fall as data grows (about 10 at 1k, 2-3 at 100k)")
    if options.get("epochs"):
        epochs, epochs_why = float(options["epochs"]), f"the {preset} preset runs a single pass"
    methods = _method_order(task, resources, options)
    r, targets, lora_why = _lora_shape(task)
    chosen = None
    longest = seq_len
    for name, shape, why in shapes:
        if shape.info is not None and shape.info.max_position_embeddings:
            seq_len = min(longest, shape.info.max_position_embeddings)  # no longer than the model can read
        for method, method_why in methods:
            strategy = "zero3" if method == "full" and gpus > 1 else "ddp"
            hardware = Hardware(gpus=gpus, strategy=strategy, device="cpu" if resources.on_cpu else "cuda")
            for batch, ckpt in _candidates(seq_len >= 4096):
                config = _candidate_config(name, shape, method, batch, ckpt, r, targets, seq_len, epochs, resources,
                                           train_file)
                memory = estimate_memory(shape, config, hardware)
                if memory.fits(limit):
                    chosen = (name, shape, why, method, method_why, config, hardware, memory)
                    break
            if chosen:
                break
        if chosen:
            break
    if chosen is None:
        raise FtlabError(f"Nothing fits in {limit:g} GB: even the smallest candidate with QLoRA 4-bit, batch 1 "
                         "and gradient checkpointing needs more. Use a GPU with more memory, more GPUs, or "
                         "a shorter output length (sequence length).")
    name, shape, why, method, method_why, config, hardware, memory = chosen
    size_b = shape.params / 1e9
    choices["model"] = Choice(name, why if name == model else f"{size_b:.2g}B band: {why}")
    if shapes[0][0] != name:
        choices["model"] = Choice(name, choices["model"].reason + f"; larger candidates did not fit in {limit:g} GB")
    choices["method"] = Choice(method, method_why)

    effective = 16 if task.data_size < 5000 else 32
    batch = config.train.batch_size
    config.train.grad_accum = max(1, effective // (batch * gpus))
    large = size_b >= LARGE_MODEL_B
    lr_why = (f"the method's published starting rate ({METHODS[method].lr:g})"
              + ("; halved for a model of 30B+, as QLoRA did for 33B and 65B" if large else ""))
    if method != "full":
        choices["lora"] = Choice({"r": r, "alpha": ALPHA_PER_RANK * r, "dropout": config.method.lora_dropout,
                                  "targets": targets},
                                 f"{lora_why}; alpha = 2r keeps the update scale steady across ranks; dropout "
                                 f"{config.method.lora_dropout:g} as QLoRA used at this size")
    else:
        choices["lora"] = Choice(None, "full fine-tuning trains every weight: no adapters")
    choices["epochs"] = Choice(epochs, epochs_why)
    choices["learning_rate"] = Choice(config.train.learning_rate, lr_why)
    choices["warmup"] = Choice(WARMUP_RATIO, "3% of the steps warm up, as in the Alpaca recipe")
    choices["batch"] = Choice({"batch_size": batch, "grad_accum": config.train.grad_accum,
                               "effective": batch * config.train.grad_accum * gpus},
                              f"the largest per-device batch that fits, accumulated to about {effective} "
                              "examples per update for stable gradients")
    choices["precision"] = Choice(config.train.precision, "CPUs train in fp32" if resources.on_cpu else
                                  "bf16 halves activation memory with fp32's range; no loss scaling needed")
    ckpt = config.train.gradient_checkpointing
    choices["gradient_checkpointing"] = Choice(ckpt, "needed to fit: recompute activations in backward "
                                               "(about 30% slower)" if ckpt else
                                               "not needed: activations fit, so keep the faster path")
    choices["sequence_length"] = Choice(seq_len, f"{task.output_length} outputs"
                                        + (" across several tasks" if task.task_type == "multi-task" else "")
                                        + (" (capped at the model's context)" if seq_len < longest else ""))
    if method == "full" and gpus > 1:
        choices["sharding"] = Choice("ZeRO-3 / FSDP", f"shards weights, gradients and optimizer state over "
                                     f"{gpus} GPUs; launch with accelerate")

    stages = _stages(task, method)
    time = None
    tokens = task.data_size * seq_len // 2
    if resources.gpu and not resources.on_cpu:
        time = estimate_time(shape, config, tokens=tokens, gpu=resources.gpu, epochs=epochs, hardware=hardware)
        time.assumptions.append(f"{task.data_size} examples of about {seq_len // 2} tokens (half the sequence "
                                "length) each")
        if resources.time_budget_hours and time.hours > resources.time_budget_hours:
            choices["epochs"] = Choice(epochs, epochs_why + f"; note: estimated {time.hours:.1f} h exceeds the "
                                       f"{resources.time_budget_hours:g} h budget — train on a subset or a "
                                       "smaller model")
    return Recommendation(config=config.validate(), hardware=hardware, memory=memory, choices=choices, stages=stages,
                          time=time, memory_limit_gb=limit)


def _method_order(task: TaskProfile, resources: Resources, options: dict) -> list[tuple[str, str]]:
    lora = ("lora", "LoRA trains under 1% of the weights at near full-tuning quality and keeps the base "
                    "model intact (less forgetting)")
    qlora = ("qlora", "QLoRA keeps the frozen base in 4 bits: the same adapters in about a quarter of the "
                      "weight memory")
    full = ("full", "high quality bar, plenty of data and budget: full fine-tuning has the highest ceiling")
    if resources.on_cpu:
        return [("lora", "on a CPU, LoRA is the cheapest method that trains (4-bit kernels need a GPU)")]
    if options.get("prefer_qlora"):
        return [qlora]
    order = [lora, qlora]
    if (task.quality == "high" and task.data_size >= 50000 and resources.budget == "high"
            and resources.expertise != "beginner"):
        order.insert(0, full)
    return order


def _stages(task: TaskProfile, method: str) -> list[Choice]:
    stages = []
    if task.domain_text_tokens >= 50_000_000 and task.domain_specificity == "high":
        stages.append(Choice("continued pretraining on the domain text",
                             f"{task.domain_text_tokens / 1e6:.0f}M tokens of domain text teach vocabulary "
                             "and facts that a few thousand examples cannot"))
    stages.append(Choice(f"supervised fine-tuning ({method})", "teaches the task's input/output format "
                         "(this config)"))
    if task.preference_data:
        stages.append(Choice("DPO on preference pairs", "after SFT, preference pairs align style and quality "
                             "beyond what imitation reaches"))
    return stages
