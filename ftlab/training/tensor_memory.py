"""Memory a training run holds in tensors, measured from the objects themselves.

Process memory (RSS) on a CPU is dominated by the Python runtime and
libraries for small models, so comparing methods by RSS says little.  The
tensors a method keeps — weights (packed 4-bit ones at their real size),
gradients of the trainable parameters, optimizer state — are what changes
between methods and what grows with model size.
"""

from __future__ import annotations

MB = 1024 * 1024


def tensor_memory(model, optimizer=None) -> dict[str, float]:
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    weights += sum(b.numel() * b.element_size() for b in model.buffers())
    # Gradients are freed after each step; during backward each trainable parameter has one of its size.
    gradients = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)
    state = 0
    if optimizer is not None:
        for per_param in optimizer.state.values():
            state += sum(v.numel() * v.element_size() for v in per_param.values() if hasattr(v, "numel"))
    return {"weights_mb": round(weights / MB, 3), "gradients_mb": round(gradients / MB, 3),
            "optimizer_mb": round(state / MB, 3), "state_mb": round((weights + gradients + state) / MB, 3)}
