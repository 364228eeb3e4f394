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

from dataclasses import dataclass, field, replace

from ftlab.config import Config
from ftlab.errors import FtlabError
from ftlab.models.estimate import (MemoryEstimate, TimeEstimate, TrainingSetup, estimate_memory,
                                   estimate_time)
from ftlab.models.shape import ModelShape, model_shape

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
    setup: TrainingSetup
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


def _lora_shape(task: TaskProfile) -> tuple[int, float, str, str]:
    if task.data_size < 1000:
        r, dropout, why = 8, 0.1, "under 1k examples: a small rank and dropout 0.1 limit overfitting"
    elif task.data_size < 20000:
        r, dropout, why = 16, 0.05, "1k-20k examples: rank 16 is the common default"
    else:
        r, dropout, why = 32, 0.0, "20k+ examples carry enough signal for rank 32 without dropout"
    if task.domain_specificity == "high":
        r, why = r * 2, why + "; a very domain-specific task needs more adapter capacity (rank x2)"
    targets = "attention" if task.task_type == "classification" and task.domain_specificity == "low" \
        else "all_linear"
    target_why = ("attention only suffices to steer a model towards a familiar label set" if targets == "attention"
                  else "adapters on every linear layer (attention + MLP) learn new content best, as in QLoRA")
    return r, dropout, targets, target_why


def _epochs(task: TaskProfile) -> tuple[float, str]:
    if task.data_size < 1000:
        return 3.0, "small data: three passes, watch validation loss for overfitting"
    if task.data_size < 20000:
        return 2.0, "medium data: two passes"
    return 1.0, "large data: one pass is usually enough and avoids memorising"


def _config_targets(shape: ModelShape, preset: str) -> list[str]:
    if shape.info is not None:
        return list(shape.info.lora_presets[preset])
    if preset == "all_linear":
        return ["all-linear"]
    return ["q_proj", "k_proj", "v_proj", "o_proj"]  # the Llama/Qwen/Mistral names


def _candidates(method: str, prefer_ckpt: bool, gpus: int):
    """Setups from most to least memory-hungry for one method.

    Without checkpointing only batches of 4 or more are tried: below that,
    recomputing activations to keep a batch of 4+ is the better trade.
    """
    plain = [] if prefer_ckpt else [(b, False) for b in (16, 8, 4)]
    for batch, ckpt in plain + [(b, True) for b in (16, 8, 4, 2, 1)]:
        yield dict(method=method, batch_size=batch, grad_ckpt=ckpt, zero=3 if method == "full" and gpus > 1 else 0)


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
    device = "cpu" if resources.on_cpu else "cuda"

    if model is not None:
        shapes = [(model, model_shape(model), "the model you chose")]
    else:
        want, why = _preferred_band(task, resources)
        cap = options.get("max_band_b")
        if cap:
            want, why = min(want, cap), why + f"; the {preset} preset caps the size at {cap:g}B"
        fitting = [b for b in SIZE_BANDS if b[0] <= want] or SIZE_BANDS[:1]
        shapes = [(name, model_shape(name), why) for _, name in reversed(fitting)]

    methods = _method_order(task, resources, options)
    r, dropout, targets, target_why = _lora_shape(task)
    chosen = None
    longest = seq_len
    for name, shape, why in shapes:
        if shape.info is not None and shape.info.max_position_embeddings:
            seq_len = min(longest, shape.info.max_position_embeddings)  # no longer than the model can read
        for method, method_why in methods:
            for candidate in _candidates(method, seq_len >= 4096, max(resources.gpus, 1)):
                setup = TrainingSetup(precision="fp32" if resources.on_cpu else "mixed", seq_len=seq_len,
                                      lora_r=r, lora_targets=targets, gpus=max(resources.gpus, 1),
                                      device=device, **candidate)
                memory = estimate_memory(shape, setup)
                if memory.fits(limit):
                    chosen = (name, shape, why, method, method_why, setup, memory)
                    break
            if chosen:
                break
        if chosen:
            break
    if chosen is None:
        raise FtlabError(f"Nothing fits in {limit:g} GB: even the smallest candidate with QLoRA 4-bit, batch 1 "
                         "and gradient checkpointing needs more. Use a GPU with more memory, more GPUs, or "
                         "a shorter output length (sequence length).")
    name, shape, why, method, method_why, setup, memory = chosen
    size_b = shape.params / 1e9
    choices["model"] = Choice(name, why if name == model else f"{size_b:.2g}B band: {why}")
    if shapes[0][0] != name:
        choices["model"] = Choice(name, choices["model"].reason + f"; larger candidates did not fit in {limit:g} GB")
    choices["method"] = Choice(method, method_why)

    epochs, epochs_why = _epochs(task)
    if options.get("epochs"):
        epochs, epochs_why = float(options["epochs"]), f"the {preset} preset runs a single pass"
    effective = 16 if task.data_size < 5000 else 32
    per_step = setup.batch_size * max(resources.gpus, 1)
    accum = max(1, effective // per_step)
    lr = {"full": 2e-5, "freeze": 5e-5}.get(method, 2e-4)
    lr_why = ("full fine-tuning moves every weight: a small learning rate protects what the model knows"
              if method == "full" else "adapters start at zero and need a larger learning rate (1e-4..3e-4)")

    choices["lora"] = Choice({"r": r, "alpha": 2 * r, "dropout": dropout, "targets": targets},
                             f"{target_why}; alpha = 2r keeps the update scale steady across ranks") \
        if method != "full" else Choice(None, "full fine-tuning trains every weight: no adapters")
    choices["epochs"] = Choice(epochs, epochs_why)
    choices["learning_rate"] = Choice(lr, lr_why)
    choices["batch"] = Choice({"batch_size": setup.batch_size, "grad_accum": accum,
                               "effective": setup.batch_size * accum * max(resources.gpus, 1)},
                              f"the largest per-device batch that fits, accumulated to about {effective} "
                              "examples per update for stable gradients")
    choices["precision"] = Choice("fp32" if resources.on_cpu else "bf16",
                                  "CPUs train in fp32" if resources.on_cpu else
                                  "bf16 halves activation memory with fp32's range; no loss scaling needed")
    choices["gradient_checkpointing"] = Choice(setup.grad_ckpt, "needed to fit: recompute activations in backward "
                                               "(about 30% slower)" if setup.grad_ckpt else
                                               "not needed: activations fit, so keep the faster path")
    choices["sequence_length"] = Choice(seq_len, f"{task.output_length} outputs"
                                        + (" across several tasks" if task.task_type == "multi-task" else "")
                                        + (" (capped at the model's context)" if seq_len < longest else ""))
    if method == "full" and resources.gpus > 1:
        choices["sharding"] = Choice("ZeRO-3 / FSDP", f"shards weights, gradients and optimizer state over "
                                     f"{resources.gpus} GPUs; launch with accelerate")

    stages = _stages(task, method)
    config = _build_config(name, shape, method, setup, epochs, lr, accum, r, dropout, targets, seq_len,
                           resources, train_file)
    time = None
    tokens = task.data_size * seq_len // 2
    if resources.gpu and not resources.on_cpu:
        time = estimate_time(shape, setup, tokens=tokens, gpu=resources.gpu, epochs=epochs)
        time.assumptions.append(f"{task.data_size} examples of about {seq_len // 2} tokens (half the sequence "
                                "length) each")
        if resources.time_budget_hours and time.hours > resources.time_budget_hours:
            choices["epochs"] = Choice(epochs, epochs_why + f"; note: estimated {time.hours:.1f} h exceeds the "
                                       f"{resources.time_budget_hours:g} h budget — train on a subset or a "
                                       "smaller model")
    return Recommendation(config=config, setup=setup, memory=memory, choices=choices, stages=stages, time=time,
                          memory_limit_gb=limit)


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


def _build_config(name, shape, method, setup, epochs, lr, accum, r, dropout, targets, seq_len, resources,
                  train_file) -> Config:
    config = Config()
    config.model.name = name
    config.model.dtype = "auto" if resources.on_cpu else ("float32" if method == "full" else "bfloat16")
    config.method.name = method
    config.method.lora_r, config.method.lora_alpha, config.method.lora_dropout = r, 2 * r, dropout
    config.method.target_modules = _config_targets(shape, targets)
    config.method.bits = setup.bits
    config.train.learning_rate = lr
    config.train.max_steps = 0
    config.train.num_epochs = epochs
    config.train.batch_size = setup.batch_size
    config.train.grad_accum = accum
    config.train.warmup_ratio = 0.03
    config.train.precision = "fp32" if resources.on_cpu else "bf16"
    config.train.gradient_checkpointing = setup.grad_ckpt
    config.data.max_length = seq_len
    if train_file:
        config.data.train_file = train_file
    return config.validate()

