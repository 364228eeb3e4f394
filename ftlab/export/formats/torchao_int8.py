"""``torchao_int8``: torchao int8 weight-only quantisation, which runs on a CPU.

Checked on this stack (torchao 0.18.0 from PyPI, torch 2.13 CPU, transformers
5.24): ``from_pretrained(..., quantization_config=TorchAoConfig(Int8WeightOnlyConfig()))``
turns every Linear weight into a torchao ``Int8Tensor`` (int8 values with a
per-row scale; activations stay in the model's dtype), ``save_pretrained``
writes those tensors to safetensors, and loading the folder gives back the
same tensors and identical logits.  torchao's wheel also ships CUDA-only
kernels (mxfp8, cutlass) that cannot load on a CPU machine and are not needed
here; ftlab silences the warning they print at import (see ``ftlab/__init__``).
"""

from __future__ import annotations

from pathlib import Path

from ftlab.export.formats import ExportFormat
from ftlab.export.formats._transformers import open_folder, save_quantized
from ftlab.export.runtime import TransformersRuntime


def build(source: Path, out: Path) -> None:
    from torchao.quantization import Int8WeightOnlyConfig
    from transformers import TorchAoConfig

    save_quantized(source, out, TorchAoConfig(Int8WeightOnlyConfig()))


def open_artifact(folder: Path) -> TransformersRuntime:
    return open_folder(folder, folder.name)


def unavailable() -> str | None:
    from transformers.utils import import_utils

    try:
        import torchao
    except ImportError:
        return "needs the torchao package (pip install torchao), which is not installed here."
    except Exception as exc:  # noqa: BLE001 - a torchao built for another torch fails at import with its own error
        return f"torchao is installed but cannot be imported with this torch: {type(exc).__name__}: {exc}"
    if not import_utils.is_torchao_available():
        return (f"torchao {torchao.__version__} is older than {import_utils.TORCHAO_MIN_VERSION}, the oldest this "
                "transformers quantises with; upgrade it (pip install -U torchao).")
    return None


ENTRY = ExportFormat("torchao_int8", "torchao int8 weight-only Linear weights (per-row scales), saved quantised; "
                     "runs on CPU.", build, open_artifact, unavailable=unavailable, order=12)
