"""``awq``: 4-bit AWQ (Lin et al. 2023, arXiv:2306.00978), calibrated on the run's prompts; GPU only.

See ``_gptqmodel`` for how it is built and why it needs a GPU.
"""

from __future__ import annotations

from functools import partial

from ftlab.export.formats import ExportFormat
from ftlab.export.formats._gptqmodel import build, open_artifact, unavailable

ENTRY = ExportFormat("awq", "4-bit AWQ (group size 128) calibrated on the run's training prompts, with gptqmodel; "
                     "needs a CUDA GPU.", partial(build, "awq"), open_artifact, needs_gpu=True,
                     unavailable=partial(unavailable, "awq"), order=51)
