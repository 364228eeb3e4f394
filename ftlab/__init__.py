"""ftlab: a Jupyter-native lab for fine-tuning language models.

The core is importable without Jupyter; heavy libraries load on first use.
"""

import logging
import os

from ftlab.config import Config
from ftlab.errors import ConfigError, FtlabError

__version__ = "0.1.0"

# On CPUs with AVX512-BF16, bitsandbytes tries to fetch an optional 4-bit kernel
# from the hub at import and warns when it cannot; its built-in kernel is used
# either way, so offline the warning is only noise on every command.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)
# torchao (the torchao_int8 export format), which PEFT imports whenever it is
# installed, ships CUDA-only kernels and warns on every import on a CPU machine
# that they cannot load; its CPU int8 path needs none of them.  It also registers
# enums in a way torch 2.13 calls deprecated, warning once per enum.
logging.getLogger("torchao").setLevel(logging.ERROR)
logging.getLogger("torch.utils._pytree").addFilter(
    lambda record: "register_constant() on Enum subclasses is deprecated" not in record.getMessage())
# DeepSpeed, when installed, is imported by transformers and prints a warning to
# stdout on machines without a GPU while it guesses its accelerator; naming it
# keeps `ftlab ... > out.json` clean.
if not os.path.exists("/dev/nvidia0"):
    os.environ.setdefault("DS_ACCELERATOR", "cpu")
__all__ = ["Config", "ConfigError", "FtlabError", "train", "resume", "load_trained", "evaluate", "__version__"]


def train(config: Config, listeners=()):
    """Fine-tune as ``config`` says; see :func:`ftlab.training.runner.train`."""
    from ftlab.training.runner import train as _train

    return _train(config, listeners)


def resume(run_dir, listeners=()):
    """Continue an interrupted or stopped run; see :func:`ftlab.training.runner.resume`."""
    from ftlab.training.runner import resume as _resume

    return _resume(run_dir, listeners)


def load_trained(run_dir, which="final"):
    """(model, tokenizer) saved by a run; see :func:`ftlab.training.saved.load_trained`."""
    from ftlab.training.saved import load_trained as _load

    return _load(run_dir, which)


def evaluate(target, split=None, metrics=None, n=None, against=(), suites=None, config=None, out=None):
    """Evaluate a run directory or a model, compared with others; see :func:`ftlab.eval.stage.evaluate`."""
    from ftlab.eval.stage import evaluate as _evaluate

    return _evaluate(target, split, metrics, n, against, suites, config, out)
