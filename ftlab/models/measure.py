"""Measure what a training step really holds in memory, to check the estimator against.

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

from ftlab.models.estimate import TrainingSetup


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


def _layer_list(model):
    import torch

    lists = [m for m in model.modules() if isinstance(m, torch.nn.ModuleList)]
    return max(lists, key=len)


def prepare(model, setup: TrainingSetup):
    """The model as ``setup.method`` trains it: all weights, the last layers, or LoRA adapters."""
    from peft import LoraConfig, get_peft_model

    from ftlab.models.inspect import inspect_architecture

    if setup.method == "full":
        return model
    if setup.method == "freeze":
        model.requires_grad_(False)
        for layer in list(_layer_list(model))[-setup.freeze_trainable_layers:]:
            layer.requires_grad_(True)
        return model
    targets = setup.lora_targets
    if isinstance(targets, str):
        targets = inspect_architecture(model.config).lora_presets[targets]
    return get_peft_model(model, LoraConfig(r=setup.lora_r, lora_alpha=2 * setup.lora_r, target_modules=targets))


def quantized_copy(model, bits: int):
    """Reload ``model`` with bitsandbytes-quantized linear layers, as QLoRA loads a base model."""
    import torch
    from transformers import AutoModelForCausalLM, BitsAndBytesConfig

    quant = (BitsAndBytesConfig(load_in_8bit=True) if bits == 8 else
             BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                bnb_4bit_compute_dtype=torch.float32))
    with tempfile.TemporaryDirectory() as folder:
        model.save_pretrained(folder)
        return AutoModelForCausalLM.from_pretrained(folder, quantization_config=quant)


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


def measure_training_step(model, setup: TrainingSetup, seed: int = 0) -> Measurement:
    """Train ``model`` (already prepared for the method) for two steps and read its memory."""
    import torch

    cuda = next(model.parameters()).is_cuda
    torch.manual_seed(seed)
    model.train()
    model.config.use_cache = False
    if setup.grad_ckpt:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if hasattr(model, "enable_input_require_grads"):
            model.enable_input_require_grads()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4)
    vocab = model.config.get_text_config().vocab_size
    ids = torch.randint(3, vocab, (setup.batch_size, setup.seq_len), device="cuda" if cuda else "cpu")
    autocast = torch.autocast("cuda" if cuda else "cpu", dtype=torch.bfloat16,
                              enabled=setup.precision == "mixed")

    def step():
        with autocast:
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    step()  # creates the optimizer state
    states = [v for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v) and v.dim() > 0]
    adapter = [p for n, p in model.named_parameters() if "lora_" in n]
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
