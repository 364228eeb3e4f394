"""Measure what a training step really holds in memory, to check the estimator against.

The model is loaded and prepared by training's own code
(:mod:`ftlab.training.preparation`), so the estimator is checked against the
model ``ftlab train`` would train, for any method in the registry.

On the CPU there is no allocator counter like ``torch.cuda.max_memory_allocated``
and the process RSS mixes in Python and library memory, so the peak is read from
PyTorch's profiler with ``profile_memory=True``: it records every tensor
allocation and release, and the running sum over a whole optimizer step (after
a warm-up step created the optimizer state) is the step's peak above what was
already alive.  On a GPU the CUDA allocator's own peak counter is used.
The parts are read from the real objects: parameter, gradient and optimizer
state sizes, and the activations the forward pass saves for backward
(``saved_tensors_hooks``).
"""

from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from typing import Any

from ftlab.config import Config
from ftlab.training.methods import METHODS
from ftlab.training.preparation import load_base, make_optimizer, prepare_model

MB = 2 ** 20


@dataclass
class Measurement:
    weights: int
    gradients: int
    optimizer: int
    activations: int
    adapter: int
    peak: int
    trainable_params: int

    def to_dict(self) -> dict:
        return asdict(self)


def prepared_model(source: Any, config: Config, total_steps: int = 100) -> Any:
    """``source`` (a model name, folder or model object) loaded and prepared as ``config`` trains it.

    A model object is saved to a temporary folder first and loaded from there
    like any local model folder, so quantization and ``model.dtype`` apply.
    """
    if not isinstance(source, str):
        with tempfile.TemporaryDirectory() as folder:
            source.save_pretrained(folder)
            model = load_base(config, name=folder)
    else:
        model = load_base(config, name=source)
    return prepare_model(model, config, total_steps)


def _nbytes(tensors) -> int:
    seen, total = set(), 0
    for t in tensors:
        ptr = t.untyped_storage().data_ptr()
        if ptr not in seen:
            seen.add(ptr)
            total += t.untyped_storage().nbytes()
    return total


def _quant_scales(model) -> int:
    """Bytes of 4-bit quantization constants, which bitsandbytes keeps beside the weight, not in it."""
    total = 0
    for param in model.parameters():
        state = getattr(param, "quant_state", None)
        while state is not None:
            total += state.absmax.untyped_storage().nbytes()
            state = getattr(state, "state2", None)
    return total


def _profiled_peak(fn) -> int:
    """Highest sum of live tensor bytes allocated while ``fn`` runs, from the profiler's memory events.

    The raw ``[memory]`` records (one per allocation, negative for a release)
    are read in time order; the profiler's op tree would attribute them to ops
    and lose the ordering within an op.
    """
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    records = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                     if e.name() == "[memory]")
    live = peak = 0
    for _, nbytes in records:
        live += nbytes
        peak = max(peak, live)
    return peak


def measure_training_step(model, config: Config, seed: int = 0) -> Measurement:
    """Train ``model`` (already prepared for the method) for two steps and read its memory."""
    import torch

    cuda = next(model.parameters()).is_cuda
    torch.manual_seed(seed)
    model.train()
    model.config.use_cache = False
    mixed = config.train.precision in ("bf16", "fp16") and next(model.parameters()).dtype == torch.float32
    if config.train.gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if hasattr(model, "enable_input_require_grads"):
            model.enable_input_require_grads()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = make_optimizer(model, config) or _trainer_optimizer(trainable, config)
    vocab = model.config.get_text_config().vocab_size
    ids = torch.randint(3, vocab, (config.train.batch_size, config.data.max_length), device="cuda" if cuda else "cpu")
    autocast = torch.autocast("cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=mixed)

    def step():
        with autocast:
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()  # creates the optimizer state
    states = [v for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v) and v.dim() > 0]
    adapter = _added_parameters(model) if METHODS[config.method.name].new_parameters else []
    params = list(model.parameters())
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        step()
        peak = torch.cuda.max_memory_allocated()
    else:
        baseline = _nbytes(params) + _quant_scales(model) + _nbytes(states) + _nbytes(list(model.buffers()))
        peak = baseline + _profiled_peak(step)

    param_ptrs = {p.untyped_storage().data_ptr() for p in params}
    saved = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in param_ptrs:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), autocast:
        out = model(input_ids=ids, labels=ids)
    activations = sum(saved.values())
    out.loss.backward()
    gradients = _nbytes([p.grad for p in trainable if p.grad is not None])
    optimizer.zero_grad(set_to_none=True)
    return Measurement(weights=_nbytes(params) - _nbytes(adapter) + _quant_scales(model), gradients=gradients,
                       optimizer=_nbytes(states),
                       activations=activations, adapter=_nbytes(adapter), peak=peak,
                       trainable_params=sum(p.numel() for p in trainable))


def _added_parameters(model) -> list:
    """The parameters PEFT added (trained or frozen): named with the tuner's prefix, or the prompt encoder's."""
    prefix = getattr(getattr(model, "base_model", None), "prefix", None)
    return [p for name, p in model.named_parameters()
            if (prefix and prefix in name) or name.startswith("prompt_encoder.")]


def _trainer_optimizer(params: list, config: Config):
    """The optimizer the trainer builds for ``train.optimizer`` (AdamW, 8-bit AdamW, Adafactor, SGD)."""
    import torch
    from transformers import Trainer, TrainingArguments

    with tempfile.TemporaryDirectory() as folder:
        args = TrainingArguments(output_dir=folder, optim=config.train.optimizer,
                                 learning_rate=config.train.learning_rate, use_cpu=not torch.cuda.is_available(),
                                 report_to="none")
    cls, kwargs = Trainer.get_optimizer_cls_and_kwargs(args)
    return cls(params, **kwargs)


def compare_with_estimate(source: Any, config: Config, label: str = "") -> dict:
    """One row of the estimate-vs-measured table: the estimator's figures next to a measured training step."""
    from ftlab.models.architecture import inspect_architecture
    from ftlab.models.estimate import GB, Hardware, estimate_memory

    architecture = inspect_architecture(source if isinstance(source, str) else source.config)
    measured = measure_training_step(prepared_model(source, config), config)
    estimate = estimate_memory(architecture, config, Hardware(device="cpu"))
    exact = all(abs(estimate.breakdown[part] * GB - getattr(measured, part)) < 1024
                for part in ("gradients", "optimizer"))
    return {"model": label or architecture.model_type, "method": config.method.name,
            "params (M)": round(architecture.params / 1e6, 2), "trainable": measured.trainable_params,
            "estimated trainable": estimate.trainable_params,
            "estimated MB": round(estimate.total_gb * GB / MB, 2), "measured MB": round(measured.peak / MB, 2),
            "error %": round(100 * (estimate.total_gb * GB / measured.peak - 1), 1),
            "exact params/grads/optimizer": exact and estimate.trainable_params == measured.trainable_params}


def estimate_vs_measured(archs: list[str], methods: list[str], settings: list[str], width: int = 4, layers: int = 4,
                         vocab_size: int = 2048) -> list[dict]:
    """The estimate-vs-measured table: every method on the built-in model and tiny instances of ``archs``.

    ``settings`` are config overrides shared by every row (batch, length, dtype...).  A method PEFT cannot
    apply to an architecture gives a row that says so instead of figures.
    """
    from ftlab.errors import FtlabError
    from ftlab.models.tiny_archs import tiny_model

    rows = []
    for arch in archs:
        source = "ftlab/tiny-chat" if arch == "builtin" else \
            tiny_model(arch, width=width, layers=layers, vocab_size=vocab_size)
        for method in methods:
            config = Config().override([f"method.name={method}", *settings])
            try:
                rows.append(compare_with_estimate(source, config, arch))
            except FtlabError as exc:
                rows.append({"model": arch, "method": method, "unsupported": str(exc)})
    return rows


def compare_sharded_run(run_dir: Any) -> dict:
    """A sharded row of the estimate-vs-measured table: what one process of a finished multi-process run
    held (``per_rank_*`` in its results.json) next to the estimator's per-GPU figures for the same setup.

    The estimator's weights under FSDP / ZeRO-3 include one decoder layer gathered in full while it
    computes; a measurement after training sees only the shard at rest, so measured weights are lower
    by about that layer.  Gradients and optimizer state are sharded alike in both.
    """
    from ftlab.errors import FtlabError
    from ftlab.models.estimate import GB, Hardware, estimate_memory
    from ftlab.training.rundir import RunDir

    run = RunDir(run_dir)
    results, config = run.read_json("results.json"), run.config()
    if "per_rank_weights_mb" not in results:
        raise FtlabError(f"{run.path} has no per-rank memory in results.json: it was not a finished run of "
                         "several processes (FSDP or DDP).")
    strategy = "ddp" if results["strategy"] == "ddp" else "fsdp"
    processes = results["processes"]
    estimate = estimate_memory(config.model.name, config, Hardware(gpus=processes, strategy=strategy, device="cpu"))
    parts = estimate.breakdown
    estimated = {"weights": (parts["weights"] + parts["adapter"]) * GB / MB,
                 "gradients": parts["gradients"] * GB / MB, "optimizer": parts["optimizer"] * GB / MB}
    row = {"model": config.model.name, "method": config.method.name, "strategy": f"{strategy} x{processes}"}
    for part, value in estimated.items():
        row[f"{part} MB/rank estimated"] = round(value, 3)
        row[f"{part} MB/rank measured"] = results[f"per_rank_{part}_mb"]
    return row
