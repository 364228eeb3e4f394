"""Full fine-tuning: every weight trains.

Learning rate: 2e-5 for full fine-tuning of 7B-class models, as Stanford
Alpaca trained LLaMA-7B (github.com/tatsu-lab/stanford_alpaca, "Fine-tuning":
lr 2e-5, 3 epochs, warm-up ratio 0.03) and as LIMA used 1e-5 on 65B
(Zhou et al. 2023, arXiv:2305.11206, section 2).  The built-in model is
0.8M parameters and takes 1e-3.
"""

from ftlab.training.methods import Method

ENTRY = Method(
    "full", "full", "Update every weight. Highest quality ceiling, most memory (weights, gradients and two Adam "
    "states for every parameter).",
    lr=2e-5, builtin_lr=1e-3, count=lambda shape, settings: shape.params, new_parameters=False, activations="all")
