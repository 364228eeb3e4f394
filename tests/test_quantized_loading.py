"""A 4-bit base answers without gradients (evaluation, generation) whatever its layer shapes."""

import torch

from ftlab.models.loader import load_model
from ftlab.models.tiny_archs import tiny_model
from ftlab.training.methods import METHODS


def test_4bit_layers_bitsandbytes_cannot_repack_keep_the_plain_kernel_and_still_answer(tmp_path):
    # down_proj reads 170 features (not a multiple of the 64-wide quantisation block) and the head writes 250
    # outputs (not a multiple of 32): bitsandbytes' AVX512-BF16 repacking stops on both at the first no-grad call.
    tiny_model("llama", intermediate_size=170, vocab_size=250).save_pretrained(tmp_path)
    settings = type("S", (), {"bits": 4, "quant_type": "nf4", "double_quant": True})()
    model = load_model(str(tmp_path), quantization=METHODS["qlora"].quantization(settings)).eval()
    layers = {name: module for name, module in model.named_modules() if type(module).__name__ == "Linear4bit"}
    plain = {name.rsplit(".", 1)[-1] for name, m in layers.items() if m.support_avx512bf16_for_cpu is False}
    assert plain == {"down_proj", "gate_proj", "up_proj"}  # gate/up write 170 outputs; q/k/v/o are 64-wide
    with torch.no_grad():
        logits = model(torch.tensor([[3, 4, 5, 6]])).logits
    assert logits.shape == (1, 4, 250) and torch.isfinite(logits).all()
