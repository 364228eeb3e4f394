"""``gguf_q8_0``: llama.cpp's GGUF quantised to q8_0 (8-bit, one scale per 32 weights); see ``_gguf``."""

from __future__ import annotations

from functools import partial

from ftlab.export.formats import ExportFormat
from ftlab.export.formats._gguf import build, open_artifact, unavailable

ENTRY = ExportFormat("gguf_q8_0", "GGUF for llama.cpp, q8_0: 8-bit weights with one scale per block of 32, made "
                     "by llama.cpp's quantizer; answers come from llama.cpp.", partial(build, "q8_0"),
                     open_artifact, unavailable=unavailable, order=41)
