"""LoRA (Hu et al. 2021, arXiv:2106.09685): a trainable low-rank update B·A beside each frozen linear layer.

Learning rate: 2e-4, the rate QLoRA used for its 7B and 13B LoRA runs
(Dettmers et al. 2023, arXiv:2305.14314, appendix B.2; 1e-4 for 33B and
65B) and the starting point Unsloth's hyper-parameter guide recommends
(unsloth.ai/docs, "LoRA fine-tuning Hyperparameters Guide").  The other
low-rank methods start from this rate unless their file says otherwise.
"""

from ftlab.training.methods import Method
from ftlab.training.methods._lora import LORA_SETTINGS, check_targets, lora_config, lora_count

LORA_LR = 2e-4
LORA_BUILTIN_LR = 3e-3

ENTRY = Method(
    "lora", "low-rank", "Freeze the base; learn a low-rank update B·A for each target linear layer.",
    activation_share=0.9,
    lr=LORA_LR, builtin_lr=LORA_BUILTIN_LR, count=lora_count, reads=LORA_SETTINGS,
    peft_config=lambda settings, steps: lora_config(settings), check=check_targets)
