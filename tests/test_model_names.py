"""Model ids from the hub, parsed into their parts; unknown parts stay None."""

import pytest

from ftlab.models.names import parse_model_name

CASES = {
    # id: (org, family, version, params_b, active_params_b, variant, quantization, context_length)
    "Qwen/Qwen1.5-14B-Chat-GPTQ-Int4": ("Qwen", "Qwen", "1.5", 14, None, "chat", "GPTQ-Int4", None),
    "meta-llama/Meta-Llama-3.1-8B-Instruct": ("meta-llama", "Llama", "3.1", 8, None, "instruct", None, None),
    "mistralai/Mixtral-8x7B-Instruct-v0.1": ("mistralai", "Mixtral", "0.1", 46.7, 12.9, "instruct", None, None),
    "microsoft/Phi-3-mini-4k-instruct": ("microsoft", "Phi", "3", 3.82, None, "instruct", None, 4096),
    "google/gemma-2-9b-it": ("google", "Gemma", "2", 9, None, "instruct", None, None),
    "THUDM/chatglm3-6b": ("THUDM", "ChatGLM", "3", 6, None, "chat", None, None),
    "TinyLlama/TinyLlama-1.1B-Chat-v1.0": ("TinyLlama", "TinyLlama", "1.0", 1.1, None, "chat", None, None),
    "HuggingFaceTB/SmolLM2-135M-Instruct": ("HuggingFaceTB", "SmolLM", "2", 0.135, None, "instruct", None, None),
    "meta-llama/Llama-2-7b-hf": ("meta-llama", "Llama", "2", 7, None, "base", None, None),
    "microsoft/Phi-3-medium-128k-instruct": ("microsoft", "Phi", "3", 14, None, "instruct", None, 131072),
    "Qwen/Qwen3-30B-A3B": ("Qwen", "Qwen", "3", 30, 3, "base", None, None),
    "Qwen/Qwen2.5-Coder-7B-Instruct-AWQ": ("Qwen", "Qwen", "2.5", 7, None, "code+instruct", "AWQ", None),
    "Qwen/Qwen2-VL-2B-Instruct": ("Qwen", "Qwen", "2", 2, None, "vision+instruct", None, None),
    "deepseek-ai/deepseek-math-7b-rl": ("deepseek-ai", "DeepSeek", None, 7, None, "math+instruct", None, None),
    "unsloth/llama-3-8b-bnb-4bit": ("unsloth", "Llama", "3", 8, None, "base", "bnb-4bit", None),
    "neuralmagic/Meta-Llama-3.1-70B-Instruct-FP8": ("neuralmagic", "Llama", "3.1", 70, None, "instruct", "FP8", None),
    "TheBloke/Llama-2-7B-Chat-GGUF/llama-2-7b-chat.Q4_K_M.gguf":
        ("TheBloke", "Llama", "2", 7, None, "chat", "GGUF-Q4_K_M", None),
    "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF:Q8_0": ("bartowski", "Llama", "3.1", 8, None, "instruct", "GGUF-Q8_0", None),
    "TheBloke/Mistral-7B-Instruct-v0.2-GGUF": ("TheBloke", "Mistral", "0.2", 7, None, "instruct", "GGUF", None),
    "EleutherAI/pythia-160m": ("EleutherAI", "Pythia", None, 0.16, None, "base", None, None),
    "gpt2": (None, "GPT", "2", 0.124, None, "base", None, None),
}


@pytest.mark.parametrize("model_id", CASES)
def test_real_ids_are_parsed(model_id):
    parsed = parse_model_name(model_id)
    got = (parsed.org, parsed.family, parsed.version, parsed.params_b, parsed.active_params_b, parsed.variant,
           parsed.quantization, parsed.context_length)
    assert got == CASES[model_id]


def test_quantization_width_is_read_with_the_format():
    assert parse_model_name("Qwen/Qwen1.5-14B-Chat-GPTQ-Int4").quant_bits == 4
    assert parse_model_name("unsloth/llama-3-8b-bnb-4bit").quant_bits == 4
    assert parse_model_name("x/Llama-3-8B-Instruct-FP8").quant_bits == 8
    assert parse_model_name("x/Llama-2-7B-GGUF/llama-2-7b.Q4_K_M.gguf").quant_bits == 4.85
    assert parse_model_name("x/Llama-2-7B-GGUF").quant_bits is None  # level not in the id


def test_unknown_parts_stay_none_instead_of_guessed():
    parsed = parse_model_name("acme/widget")
    assert (parsed.family, parsed.version, parsed.params_b, parsed.variant, parsed.quantization) == (
        "widget", None, None, None, None)
    assert "unknown size" in parsed.describe() and "variant unknown" in parsed.describe()
    # An expert count that is not in the published table is not turned into a size.
    moe = parse_model_name("acme/Foo-4x3B")
    assert moe.params_b is None and "mixture of experts" in moe.notes[0]
    # Sizes spelled as words come from the published line-up, and the notes say so.
    assert "line-up" in parse_model_name("microsoft/Phi-3-mini-4k-instruct").notes[0]


def test_chat_and_base_models_are_told_apart():
    assert parse_model_name("google/gemma-2-9b-it").is_chat
    assert parse_model_name("Qwen/Qwen2.5-Coder-7B-Instruct").is_chat
    assert not parse_model_name("google/gemma-2-9b").is_chat
    assert not parse_model_name("deepseek-ai/deepseek-coder-6.7b-base").is_chat
