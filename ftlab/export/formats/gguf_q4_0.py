"""``gguf_q4_0``: llama.cpp's GGUF quantised to q4_0 (4-bit, one scale per 32 weights); see ``_gguf``.

The 4-bit type is q4_0 rather than a k-quant (q4_k_m): k-quants pack weights in
blocks of 256 along a row, and llama.cpp's quantizer falls back to another type
(q5_0, q8_0...) for every tensor whose rows are not a multiple of 256.  Small
models such as the built-in one (rows of 128 and 384) would then get no 4-bit
tensor at all; q4_0's blocks of 32 fit every row of any model in ftlab's range.
"""

from __future__ import annotations

from functools import partial

from ftlab.export.formats import ExportFormat
from ftlab.export.formats._gguf import build, open_artifact, unavailable

ENTRY = ExportFormat("gguf_q4_0", "GGUF for llama.cpp, q4_0: 4-bit weights with one scale per block of 32 (fits "
                     "small models, unlike the 256-wide k-quants), made by llama.cpp's quantizer; answers come "
                     "from llama.cpp.", partial(build, "q4_0"), open_artifact, unavailable=unavailable, order=42)
