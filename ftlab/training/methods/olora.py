"""OLoRA (Büyükakyüz 2024, arXiv:2406.01775): LoRA initialised from a QR decomposition of each weight.

Orthonormal factors from the weight itself make the first steps count, as in
PiSSA; like PiSSA it moves that part out of the base weights at init, so the
saved adapter is converted back to one that loads on the unchanged base.
Starts at LoRA's rate.
"""

from ftlab.training.methods import Method
from ftlab.training.methods._lora import LORA_SETTINGS, check_targets, lora_config, lora_count
from ftlab.training.methods.lora import LORA_LR

ENTRY = Method(
    "olora", "low-rank", "LoRA initialised from an orthonormal (QR) basis of each weight, which speeds up the "
    "first steps; saved as a plain LoRA adapter.",
    activation_share=0.9,
    lr=LORA_LR, builtin_lr=1e-3, count=lora_count, reads=LORA_SETTINGS,
    peft_config=lambda settings, steps: lora_config(settings, init_lora_weights="olora"), check=check_targets,
    rewrites_base=True, order=6)
