"""``gguf_f16``: llama.cpp's GGUF with 16-bit float weights, written by llama.cpp's converter; see ``_gguf``."""

from __future__ import annotations

from functools import partial

from ftlab.export.formats import ExportFormat
from ftlab.export.formats._gguf import build, open_artifact, unavailable

ENTRY = ExportFormat("gguf_f16", "GGUF for llama.cpp (and the servers built on it), 16-bit float weights: "
                     "llama.cpp's converter writes it with the tokenizer, chat template and end-of-turn token; "
                     "answers come from llama.cpp.", partial(build, "f16"), open_artifact,
                     unavailable=unavailable, order=40)
