"""Load a base model and its tokenizer, the same way for the built-in model and a hub id."""

from __future__ import annotations

from ftlab.errors import ConfigError, FtlabError
from ftlab.models.tiny import BUILTIN_MODEL, resolve_model_path


def load_tokenizer(name: str, trust_remote_code: bool = False, chat: bool = True):
    """The model's tokenizer with a pad token; ``chat`` (prompts are dialogues) requires a chat template."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(name), trust_remote_code=trust_remote_code)
    except (OSError, ValueError) as exc:
        raise _load_error(name, exc) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if chat and tokenizer.chat_template is None:
        raise FtlabError(f"The tokenizer of {name!r} has no chat template, so prompts cannot be put in chat "
                         "form. Use an instruct/chat model or one whose tokenizer defines chat_template.")
    return tokenizer


def load_model(name: str, dtype: str = "auto", quantization=None, trust_remote_code: bool = False,
               head: str = "causal_lm"):
    """A model from the hub, a local folder or the built-in one; ``head="sequence_classification"``
    puts a one-score head on the same body (a reward model)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    kwargs = {"trust_remote_code": trust_remote_code}
    if head == "sequence_classification":
        kwargs["num_labels"] = 1
    if dtype != "auto":
        kwargs["dtype"] = getattr(torch, dtype)
    if quantization is not None:
        kwargs["quantization_config"] = quantization
        if torch.cuda.is_available():
            kwargs["device_map"] = {"": 0}
    try:
        auto = AutoModelForSequenceClassification if head == "sequence_classification" else AutoModelForCausalLM
        model = auto.from_pretrained(resolve_model_path(name), **kwargs)
    except (OSError, ValueError) as exc:
        raise _load_error(name, exc) from None
    if quantization is not None:
        _keep_plain_cpu_kernel_where_unpackable(model)
    if head == "sequence_classification" and model.config.get_text_config().pad_token_id is None:
        # the score is read at the last token that is not padding, so the model must know the padding id
        model.config.get_text_config().pad_token_id = load_tokenizer(name, trust_remote_code, chat=False).pad_token_id
    return model


def _keep_plain_cpu_kernel_where_unpackable(model, block: int = 32) -> None:
    """Turn off bitsandbytes' AVX512-BF16 repacking for 4-bit layers whose shape it cannot pack.

    On a CPU with AVX512-BF16, bitsandbytes (0.50) repacks a 4-bit weight the first
    time the layer runs without gradients (evaluation, generation).  The repacking
    needs the output width to be a multiple of 32 and the input width a multiple
    of the quantisation block (64); otherwise it stops with "N must be divisible
    by block_n" or a reshape error.  The built-in model's smoke sizes and some
    real layers (e.g. an MLP width of 682, a vocabulary of 50257) are such
    shapes.  Those layers keep the plain 4-bit kernel; the others keep the fast one.
    """
    for module in model.modules():
        if type(module).__name__ != "Linear4bit":
            continue
        blocksize = getattr(getattr(module.weight, "quant_state", None), "blocksize", 64)
        if module.out_features % block or module.in_features % blocksize:
            module.support_avx512bf16_for_cpu = False


def linear_module_names(model) -> list[str]:
    """Short names of the Linear-like layers LoRA can target (q_proj, down_proj...), lm_head excluded."""
    import torch

    names = set()
    for full_name, module in model.named_modules():
        short = full_name.rsplit(".", 1)[-1]
        kind = type(module).__name__
        linear = isinstance(module, torch.nn.Linear) or kind in ("Linear4bit", "Linear8bitLt", "Conv1D")
        if short != "lm_head" and linear:
            names.add(short)
    return sorted(names)


def check_target_modules(model, target_modules: list[str]) -> None:
    if target_modules == ["all-linear"]:
        return
    available = linear_module_names(model)
    paths = [name for name, _ in model.named_modules()]
    # A name qualified by its parent ("attn.c_proj") matches as a path suffix, as in PEFT.
    missing = [m for m in target_modules if m not in available
               and not ("." in m and any(p.endswith("." + m) for p in paths))]
    if missing:
        raise ConfigError("method.target_modules", f"{', '.join(missing)} not found in the model. "
                          f"Its linear layers are: {', '.join(available)} (or use 'all-linear').")


def _load_error(name: str, exc: Exception) -> FtlabError:
    hint = ("It is neither a local folder nor a model that could be fetched from the hub "
            "(no network, a typo, or a gated model?).")
    if name == BUILTIN_MODEL:
        hint = "The built-in model's files are missing from the installed package; reinstall ftlab."
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return FtlabError(f"Could not load model {name!r}. {hint} The loader said: {first_line} "
                      f"To work offline, use model.name={BUILTIN_MODEL}.")
