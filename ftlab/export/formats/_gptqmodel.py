"""What GPTQ and AWQ share: both are calibrated 4-bit quantisations done by the gptqmodel package on a GPU.

Both read calibration prompts: how each layer's weights are rounded depends on
the activations they see.  They come from the run the merged model belongs to
(its training prompts in the model's chat form, ``CALIBRATION_ROWS`` of them),
so the rounding favours what the model is used for.  The quantised folder is
what transformers loads back (its config carries the ``quantization_config``),
on the GPU.  Neither has a CPU path that ftlab checks, so both refuse a CPU
machine before they start (``needs_gpu``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ftlab.errors import FtlabError
from ftlab.export.formats._transformers import copy_tokenizer_files
from ftlab.export.runtime import TransformersRuntime

CALIBRATION_ROWS = 128
BITS, GROUP_SIZE = 4, 128  # the common 4-bit setting (group size 128: the GPTQ and AWQ papers' default)


def calibration_texts(source: Path) -> list[str]:
    """The training prompts of the run ``source`` was merged from (``RUN/merged`` or ``RUN/final``)."""
    from ftlab.data.rows import examples
    from ftlab.data.sources import load_data
    from ftlab.models.generation import chat_texts
    from ftlab.models.loader import load_tokenizer
    from ftlab.training.rundir import RunDir

    run = Path(source).parent
    if not (run / "config.yaml").exists():
        raise FtlabError(f"{source} is not inside a run directory, so there are no training prompts to calibrate "
                         "the quantisation on; export from a run (ftlab export RUN_DIR).")
    config = RunDir(run).config()
    rows = examples(load_data(config.data)["train"][:CALIBRATION_ROWS], config.data.system_prompt)
    tokenizer = load_tokenizer(str(source))
    return [text + row.reference for text, row in zip(chat_texts(tokenizer, [r.prompt for r in rows]), rows)]


def build(method: str, source: Path, out: Path) -> None:
    from gptqmodel import GPTQModel, QuantizeConfig
    from gptqmodel.quantization.config import METHOD

    settings = QuantizeConfig(bits=BITS, group_size=GROUP_SIZE, quant_method=METHOD(method))
    model = GPTQModel.load(str(source), settings)
    model.quantize(calibration_texts(source))
    model.save(str(out))
    copy_tokenizer_files(source, out)


def open_artifact(folder: Path) -> TransformersRuntime:
    from transformers import AutoModelForCausalLM

    from ftlab.models.loader import load_tokenizer

    model = AutoModelForCausalLM.from_pretrained(str(folder), device_map={"": 0})
    return TransformersRuntime(model, load_tokenizer(str(folder), chat=False), folder.name)


# transformers loads an AWQ folder through gptqmodel alone, a GPTQ one through optimum as well.
PACKAGES = {"gptq": ("gptqmodel", "optimum"), "awq": ("gptqmodel",)}


def unavailable(method: str) -> str | None:
    missing = [name for name in PACKAGES[method] if importlib.util.find_spec(name) is None]
    if missing:
        return (f"needs the {' and '.join(missing)} package{'s' if len(missing) > 1 else ''} "
                f"(pip install {' '.join(missing)}; gptqmodel builds CUDA kernels, so install it on the GPU "
                f"machine), {'which are' if len(missing) > 1 else 'which is'} not installed here.")
    return None
