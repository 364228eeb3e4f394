"""``bnb_nf4``: bitsandbytes 4-bit NormalFloat weights (QLoRA's storage type), stored quantised; see ``_bnb``."""

from __future__ import annotations

from functools import partial

from ftlab.export.formats import ExportFormat
from ftlab.export.formats._bnb import build, open_artifact, unavailable

ENTRY = ExportFormat("bnb_nf4", "bitsandbytes 4-bit NF4 Linear weights, saved quantised; runs on CPU and GPU.",
                     partial(build, 4), open_artifact, unavailable=unavailable, order=11)
