"""GPTQ and AWQ exports, which only a CUDA GPU builds: built, reopened on the GPU, gated and re-checked.

Skipped on machines without CUDA (CI) and where gptqmodel is not installed; run with ``pytest -m gpu``.
"""

import pytest
import torch

from ftlab.export.exporter import export, folder_size
from ftlab.export.formats import FORMATS

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


@pytest.mark.parametrize("name", ["gptq", "awq"])
def test_a_gpu_format_is_built_smaller_than_the_merged_model_and_passes_the_gate(lora_run, tmp_path, name):
    missing = FORMATS[name].unavailable()
    if missing:
        pytest.skip(missing)
    report = export(lora_run, [name], tmp_path, prompts=8)
    artifact = report["artifacts"][0]
    assert artifact["status"] == "ok", artifact["reason"]
    assert artifact["size_bytes"] == folder_size(tmp_path / name) < report["reference_figures"]["size_bytes"]
    assert artifact["gate"]["passed"], artifact["gate"]
    assert artifact["quality"]["n"] == 8 and artifact["tokens_per_second"] > 0
