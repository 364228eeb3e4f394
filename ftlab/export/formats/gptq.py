"""``gptq``: 4-bit GPTQ (Frantar et al. 2022, arXiv:2210.17323), calibrated on the run's prompts; GPU only.

See ``_gptqmodel`` for how it is built and why it needs a GPU.
"""

from __future__ import annotations

from functools import partial

from ftlab.export.formats import ExportFormat
from ftlab.export.formats._gptqmodel import build, open_artifact, unavailable

ENTRY = ExportFormat("gptq", "4-bit GPTQ (group size 128) calibrated on the run's training prompts, with gptqmodel; "
                     "needs a CUDA GPU.", partial(build, "gptq"), open_artifact, needs_gpu=True,
                     unavailable=partial(unavailable, "gptq"), order=50)
