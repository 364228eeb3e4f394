"""Memory a training run holds in tensors, measured from the objects themselves.

Process memory (RSS) on a CPU is dominated by the Python runtime and
libraries for small models, so comparing methods by RSS says little.  The
tensors a method keeps — weights (packed 4-bit ones at their real size),
gradients of the trainable parameters, optimizer state — are what changes
between methods and what grows with model size.

Under FSDP each process holds a shard of every sharded tensor (a DTensor):
the whole-model figures count the full tensors, the ``per_rank_`` figures
what this process holds, which is what sharding divides.
"""

from __future__ import annotations

MB = 1024 * 1024


def _held(tensor, per_rank: bool):
    """The tensor as counted: this process's shard of a DTensor when ``per_rank``, else the whole tensor."""
    return tensor.to_local() if per_rank and hasattr(tensor, "to_local") else tensor


def tensor_memory(model, optimizer=None, per_rank: bool = False) -> dict[str, float]:
    def size(tensor) -> int:
        held = _held(tensor, per_rank)
        return held.numel() * held.element_size()

    weights = sum(size(p) for p in model.parameters()) + sum(size(b) for b in model.buffers())
    # Gradients are freed after each step; during backward each trainable parameter has one of its size.
    gradients = sum(size(p) for p in model.parameters() if p.requires_grad)
    state = 0
    if optimizer is not None:
        for per_param in optimizer.state.values():
            state += sum(size(v) for v in per_param.values() if hasattr(v, "numel"))
    prefix = "per_rank_" if per_rank else ""
    return {f"{prefix}weights_mb": round(weights / MB, 3), f"{prefix}gradients_mb": round(gradients / MB, 3),
            f"{prefix}optimizer_mb": round(state / MB, 3),
            f"{prefix}state_mb": round((weights + gradients + state) / MB, 3)}
