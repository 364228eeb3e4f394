"""``bnb_int8``: bitsandbytes LLM.int8() weights (8-bit rows with their scales), stored quantised; see ``_bnb``."""

from __future__ import annotations

from functools import partial

from ftlab.export.formats import ExportFormat
from ftlab.export.formats._bnb import build, open_artifact, unavailable

ENTRY = ExportFormat("bnb_int8", "bitsandbytes 8-bit (LLM.int8()) Linear weights, saved quantised; runs on CPU "
                     "and GPU.", partial(build, 8), open_artifact, unavailable=unavailable, order=10)
