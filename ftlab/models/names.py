"""Read what a model id says about the model: family, version, size, variant, quantization.

Hub ids follow habits, not a grammar (``Qwen/Qwen1.5-14B-Chat-GPTQ-Int4``,
``google/gemma-2-9b-it``), so the parser splits the id into tokens and sorts
each token into the part it can only belong to.  A part the id does not state
stays ``None``: a wrong parameter count would silently mislead the memory
estimator, a missing one makes it ask for a config.  The few sizes that hub ids
spell as words (``Phi-3-mini``, plain ``gpt2``) or as expert counts
(``Mixtral-8x7B``) come from a small table of published line-ups, and ``notes``
says so.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

# Canonical spelling of families whose ids are often lower-cased or glued to a version.
FAMILIES = {
    "llama": "Llama", "codellama": "CodeLlama", "tinyllama": "TinyLlama", "qwen": "Qwen", "mistral": "Mistral",
    "mixtral": "Mixtral", "phi": "Phi", "gemma": "Gemma", "codegemma": "CodeGemma", "chatglm": "ChatGLM",
    "glm": "GLM", "smollm": "SmolLM", "gpt": "GPT", "opt": "OPT", "pythia": "Pythia", "falcon": "Falcon",
    "bloom": "BLOOM", "bloomz": "BLOOMZ", "yi": "Yi", "deepseek": "DeepSeek", "olmo": "OLMo",
    "stablelm": "StableLM", "starcoder": "StarCoder", "internlm": "InternLM", "baichuan": "Baichuan",
    "vicuna": "Vicuna", "zephyr": "Zephyr", "granite": "Granite", "mpt": "MPT", "t5": "T5", "flan": "FLAN",
    "bert": "BERT", "roberta": "RoBERTa", "nemotron": "Nemotron", "command": "Command", "dbrx": "DBRX",
}

# Families whose models are chat models whatever the suffix says.
CHAT_FAMILIES = {"ChatGLM", "Vicuna", "Zephyr"}

# Tokens that carry no information about the model (publisher prefixes, format markers).
NOISE = {"meta", "hf", "base", "model", "pt", "safetensors", "moe"}

VARIANT_WORDS = {
    "chat": "chat", "instruct": "instruct", "it": "instruct", "sft": "instruct", "dpo": "instruct",
    "rlhf": "chat", "rl": "instruct", "code": "code", "coder": "code", "math": "math", "vl": "vision",
    "vision": "vision", "llava": "vision", "embed": "embedding", "embedding": "embedding", "reward": "reward",
    "rm": "reward",
}
# The order in which variant words are joined: specialisation first, then tuning (e.g. "code+instruct").
VARIANT_ORDER = ["code", "math", "vision", "embedding", "reward", "chat", "instruct"]

# Published sizes for ids that do not spell them in digits: (family, version, word) -> billions.
NAMED_SIZES = {
    ("Phi", "3", "mini"): 3.82, ("Phi", "3", "small"): 7.39, ("Phi", "3", "medium"): 14.0,
    ("Phi", "3.5", "mini"): 3.82, ("Phi", "2", None): 2.78, ("Phi", "1.5", None): 1.42,
    ("GPT", "2", None): 0.124, ("GPT", "2", "medium"): 0.355, ("GPT", "2", "large"): 0.774,
    ("GPT", "2", "xl"): 1.558,
}
# Mixture-of-experts line-ups: (family, "NxM") -> (total, active) billions.  N x M over-counts
# because attention and embeddings are shared between experts, so it is never used as a guess.
MOE_SIZES = {
    ("Mixtral", "8x7b"): (46.7, 12.9), ("Mixtral", "8x22b"): (141.0, 39.0),
}

_SIZE = re.compile(r"^(\d+(?:\.\d+)?)([bm])$")
_MOE = re.compile(r"^(\d+)x(\d+(?:\.\d+)?)([bm])$")
_ACTIVE = re.compile(r"^a(\d+(?:\.\d+)?)b$")
_CONTEXT = re.compile(r"^(\d+)k$")
_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)$")
_FAMILY_VERSION = re.compile(r"^([a-z]+?)(\d+(?:\.\d+)*)$")
_GGUF_IN_NAME = re.compile(r"(?:^|[-_.])(i?q\d(?:_k)?(?:_[sml01])?)(?=$|[-_.])", re.I)
_GGUF_LEVEL = re.compile(r"(i?q\d(?:_[a-z0-9]+)*|f16|bf16|f32)", re.I)

# Bits per weight of common GGUF levels (the k-quants mix block types, hence fractions).
GGUF_BITS = {"q2_k": 2.6, "q3_k_s": 3.5, "q3_k_m": 3.9, "q3_k_l": 4.3, "q4_0": 4.5, "q4_1": 5.0, "q4_k_s": 4.6,
             "q4_k_m": 4.85, "q5_0": 5.5, "q5_1": 6.0, "q5_k_s": 5.5, "q5_k_m": 5.7, "q6_k": 6.6, "q8_0": 8.5,
             "f16": 16.0, "bf16": 16.0, "f32": 32.0}


@dataclass
class ModelName:
    """The parts of a model id; ``None`` means the id does not say."""

    id: str
    org: str | None = None
    family: str | None = None
    version: str | None = None
    params_b: float | None = None
    active_params_b: float | None = None
    variant: str | None = None
    quantization: str | None = None
    quant_bits: float | None = None
    context_length: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def is_chat(self) -> bool:
        """Tuned to follow instructions in a chat format (as opposed to a base model)."""
        return bool(self.variant) and any(v in self.variant.split("+") for v in ("chat", "instruct"))

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        """One line for people, with "unknown" where the id says nothing."""
        size = f"{self.params_b:g}B" if self.params_b is not None else "unknown size"
        if self.active_params_b is not None:
            size += f" ({self.active_params_b:g}B active)"
        parts = [f"family {self.family or 'unknown'}", f"version {self.version or 'unknown'}", size,
                 f"variant {self.variant or 'unknown'}", f"quantization {self.quantization or 'none'}"]
        if self.context_length:
            parts.append(f"context {self.context_length}")
        return f"{self.id}: " + ", ".join(parts)


def parse_model_name(model_id: str) -> ModelName:
    """Split a hub id (``org/name``, optionally ``org/name/file.gguf`` or ``org/name:Q4_K_M``)."""
    text = model_id.strip().rstrip("/")
    result = ModelName(id=model_id)
    tag = None
    if ":" in text:
        text, _, tag = text.partition(":")
    parts = text.split("/")
    if len(parts) >= 2:
        result.org = parts[0] or None
        name, file_part = parts[1], "/".join(parts[2:])
    else:
        name, file_part = parts[0], ""
    _read_quant_file(result, file_part or tag or "")
    if "gguf" in name.lower() and (level := _GGUF_IN_NAME.search(name)):
        _read_quant_file(result, level.group(1))
        name = name.replace(level.group(0), "")

    tokens = [t for t in re.split(r"[-_\s]+", name) if t]
    words: list[str] = []  # tokens not claimed by any part: family and size words
    moe_key = None
    variants: set[str] = set()
    for raw in tokens:
        token = raw.lower()
        if _read_quant_token(result, token):
            continue
        if m := _MOE.match(token):
            moe_key = token
            continue
        if m := _SIZE.match(token):
            result.params_b = float(m.group(1)) / (1000 if m.group(2) == "m" else 1)
            continue
        if m := _ACTIVE.match(token):
            result.active_params_b = float(m.group(1))
            continue
        if (m := _CONTEXT.match(token)) and int(m.group(1)) >= 2:
            result.context_length = int(m.group(1)) * 1024
            continue
        if token in VARIANT_WORDS:
            variants.add(VARIANT_WORDS[token])
            continue
        if _VERSION.match(token):  # read after the family is known (see _version_after)
            continue
        if token in NOISE:
            continue
        words.append(token)

    _read_family(result, words)
    if moe_key:
        _read_moe(result, moe_key)
    _read_named_size(result, words)
    if result.family in CHAT_FAMILIES:
        variants.add("chat")
    if variants:
        result.variant = "+".join(v for v in VARIANT_ORDER if v in variants)
    elif result.family in FAMILIES.values():
        result.variant = "base"
        result.notes.append("no chat/instruct marker in the id: read as a base model")
    return result


def _read_family(result: ModelName, words: list[str]) -> None:
    """The first word naming a known family wins; else the first unclaimed word, kept as written."""
    def split(word: str) -> tuple[str, str | None]:
        m = _FAMILY_VERSION.match(word)
        return (m.group(1), m.group(2)) if m else (word, None)

    known = [w for w in words if split(w)[0] in FAMILIES]
    chosen = known[0] if known else (words[0] if words else None)
    if chosen is None:
        return
    base, version = (chosen, None) if chosen in FAMILIES else split(chosen)
    result.family = FAMILIES.get(base, base)
    result.version = version
    # A version written as its own token right after the family ("Llama-3.1", "gemma-2").
    if result.version is None:
        result.version = _version_after(result.id, chosen)


def _version_after(model_id: str, family_word: str) -> str | None:
    tokens = [t.lower() for t in re.split(r"[-_/\s:]+", model_id) if t]
    for i, token in enumerate(tokens[:-1]):
        if token == family_word and _VERSION.match(tokens[i + 1]) and not tokens[i + 1].startswith("v"):
            return tokens[i + 1]
    for token in tokens:
        if token.startswith("v") and _VERSION.match(token):
            return token[1:]
    return None


def _read_moe(result: ModelName, key: str) -> None:
    if (result.family, key) in MOE_SIZES:
        result.params_b, result.active_params_b = MOE_SIZES[(result.family, key)]
        result.notes.append(f"{key} is a mixture of experts: total and active sizes from the published "
                            f"{result.family} line-up")
    else:
        result.notes.append(f"{key} is a mixture of experts; its total size is less than "
                            f"{key.replace('x', ' x ')} (shared layers) and not known to ftlab")


def _read_named_size(result: ModelName, words: list[str]) -> None:
    if result.params_b is not None:
        return
    for word in [*words, None]:
        size = NAMED_SIZES.get((result.family, result.version, word))
        if size is not None:
            result.params_b = size
            result.notes.append(f"size {size:g}B from the published {result.family}-{result.version} line-up")
            return


def _read_quant_token(result: ModelName, token: str) -> bool:
    """Claim a token that names a quantization format or width; combine with what is known."""
    fmt, bits = None, None
    if token in ("gptq", "awq", "exl2", "hqq", "aqlm", "eetq"):
        fmt = token.upper()
    elif token in ("gguf", "ggml"):
        fmt = token.upper()
    elif token == "bnb":
        fmt = "bnb"
    elif token in ("fp8", "fp4", "nf4", "mxfp4"):
        fmt, bits = token.upper(), int(re.sub(r"\D", "", token))
    elif m := re.fullmatch(r"int(\d+)|w(\d+)a\d+", token):
        bits = int(m.group(1) or m.group(2))
    elif m := re.fullmatch(r"(\d+)bit", token):
        bits = int(m.group(1))
    elif m := re.fullmatch(r"(\d+(?:\.\d+)?)bpw", token):
        bits = float(m.group(1))
    else:
        return False
    current = result.quantization
    if fmt and current is None:
        result.quantization = fmt
    elif fmt and not current.startswith(fmt):
        result.quantization = f"{fmt}-{current}"
    if bits is not None:
        result.quant_bits = bits
        if fmt is None:
            result.quantization = f"{current}-Int{bits}" if current and current != "bnb" else (
                f"bnb-{bits}bit" if current == "bnb" else f"Int{bits}")
    return True


def _read_quant_file(result: ModelName, file_part: str) -> None:
    """A GGUF file name or ``:TAG`` carries the quant level, e.g. ``llama-2-7b.Q4_K_M.gguf``."""
    if not file_part:
        return
    stem = file_part.rsplit("/", 1)[-1]
    for piece in reversed(re.split(r"[.\-]", stem)):
        if piece.lower() == "gguf":
            continue
        if _GGUF_LEVEL.fullmatch(piece):
            level = piece.upper()
            result.quantization = f"GGUF-{level}"
            result.quant_bits = GGUF_BITS.get(level.lower().lstrip("i"))
            return
