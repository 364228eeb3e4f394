"""The fine-tuning method registry: one file per method in this package.

A method decides three things, and only these: how the base model is loaded
(full precision or quantized), which parameters train (all, a subset, or new
adapter / prompt parameters through PEFT), and the few hooks where it needs
more than a plain trainer (LoRA+ and LoRA-FA bring their own optimizer,
AdaLoRA re-allocates ranks after each step, PiSSA and OLoRA rewrite the base
weights at init and convert their adapter when saving).  Everything else about
a run is the same for every method, which is what makes methods comparable.

Each entry also says which ``method.*`` settings it reads (the config builder
shows those, validation checks those), how the memory estimator counts it,
and a learning rate to start from: ``lr`` for real 1-10B models, from
published practice (cited in the method's file), and ``builtin_lr`` measured
on the built-in model (``benchmarks/method_learning_rates.py``).

This module imports nothing from ftlab but the registry; the hooks import
PEFT, transformers and bitsandbytes when they run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ftlab.registry import Registry

FAMILIES = ("full", "selective", "low-rank", "scaling", "prompt")
# Which layers' activations the forward pass keeps for backward (see ftlab.models.estimate.activation_bytes):
#   all          every layer's (new parameters or not; how much of each layer is ``activation_share``)
#   top_layers   nothing below the first trainable layer (freeze)
ACTIVATIONS = ("all", "top_layers")


@dataclass(frozen=True)
class Method:
    """One fine-tuning method.  ``settings`` in the hooks is the run's ``MethodConfig``."""

    name: str
    family: str
    summary: str
    lr: float  # a starting learning rate for 1-10B models (cited in the method's file)
    builtin_lr: float  # measured on ftlab/tiny-chat: leaves the plateau within a few hundred steps
    count: Callable[[Any, Any], int]  # trainable parameters from a ModelShape and the settings (the estimator)
    reads: tuple[str, ...] = ()  # the method.* settings it uses
    new_parameters: bool = True  # adapters / prompts (True) or a subset of the base weights (False)
    added: Callable[[Any, Any], int] | None = None  # parameters it adds, if more than train (LoRA-FA's frozen A)
    activations: str = "all"
    # Saved activations per layer relative to full fine-tuning's, measured by benchmarks/estimate_vs_measured.py
    # on five architectures: a frozen linear layer keeps no copy of its input, so most methods keep less.
    activation_share: float = 1.0
    extra_tokens: Callable[[Any], int] | None = None  # virtual tokens put before every sequence
    quantization: Callable[[Any], Any] | None = None  # BitsAndBytesConfig for the frozen base
    peft_config: Callable[[Any, int], Any] | None = None  # (settings, total optimizer steps) -> PEFT config
    select: Callable[[Any, Any], list[str]] | None = None  # names of the parameters that train (after PEFT)
    optimizer: Callable[[Any, Any, Any], Any] | None = None  # (model, settings, TrainConfig) -> torch optimizer
    callbacks: Callable[[Any, Any], list] | None = None  # (model, settings) -> TrainerCallbacks
    check: Callable[[Any], Iterable[tuple[str, str]]] | None = None  # settings -> (field, problem) pairs
    rewrites_base: bool = False  # init changes the base weights: the saved adapter is converted back
    stages: tuple[str, ...] | None = None  # training stages it supports; None: every stage
    order: int = 0  # position within its family in lists

    @property
    def uses_peft(self) -> bool:
        return self.peft_config is not None

    @property
    def quantized(self) -> bool:
        return self.quantization is not None

    def supports(self, stage: str) -> bool:
        return self.stages is None or stage in self.stages


METHODS: Registry[Method] = Registry("method", __name__,
                                     sort_key=lambda m: (FAMILIES.index(m.family), m.order, m.name))
