"""PiSSA (Meng et al. 2024, arXiv:2404.02948): LoRA initialised from each weight's principal singular vectors.

Training starts on the directions that matter most, so it converges faster;
the paper trained PiSSA, LoRA and full fine-tuning alike at 2e-5.  The init
moves the principal part out of the base weights, so the saved adapter is
converted back to one that loads on the unchanged base.  A fast randomized
SVD (4 subspace iterations) replaces a full SVD of every weight.
"""

from ftlab.training.methods import Method
from ftlab.training.methods._lora import LORA_SETTINGS, check_targets, lora_config, lora_count

ENTRY = Method(
    "pissa", "low-rank", "LoRA initialised from the principal singular vectors of each weight, so training starts "
    "on the directions that matter most; converges faster.",
    activation_share=0.9,
    lr=2e-5, builtin_lr=1e-3, count=lora_count, reads=LORA_SETTINGS,
    peft_config=lambda settings, steps: lora_config(settings, init_lora_weights="pissa_niter_4"),
    check=check_targets, rewrites_base=True, order=5)
