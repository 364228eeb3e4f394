import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

from ftlab.data.tasks import build_splits
from ftlab.eval.evaluation import evaluate
from ftlab.models.loader import linear_module_names, load_model, load_tokenizer
from ftlab.models.tiny import BUILTIN_PATH, pretrain


def test_builtin_model_loads_through_the_auto_classes():
    model = AutoModelForCausalLM.from_pretrained(BUILTIN_PATH)
    tokenizer = AutoTokenizer.from_pretrained(BUILTIN_PATH)
    assert isinstance(model, LlamaForCausalLM)
    assert sum(p.numel() for p in model.parameters()) < 2_000_000
    assert linear_module_names(model) == ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"]
    assert tokenizer.decode(tokenizer("héllo, wörld")["input_ids"]) == "héllo, wörld"


def test_chat_template_renders_the_prompt_as_a_prefix_of_the_full_turn():
    """TRL finds the completion where prompt and prompt+completion diverge; they must not differ before."""
    tokenizer = load_tokenizer("ftlab/tiny-chat")
    user = [{"role": "user", "content": "Repeat: abc"}]
    prompt = tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
    full = tokenizer.apply_chat_template(user + [{"role": "assistant", "content": "abc"}], tokenize=False)
    assert full.startswith(prompt) and prompt.endswith("<|im_start|>assistant\n")


def test_base_model_has_its_pretraining_skills_but_not_the_cipher():
    model, tokenizer = load_model("ftlab/tiny-chat"), load_tokenizer("ftlab/tiny-chat")
    repeat = evaluate(model, tokenizer, build_splits("repeat", 5, 1, 1, 40)["test"], max_new_tokens=12)
    cipher = evaluate(model, tokenizer, build_splits("cipher", 5, 1, 1, 40)["test"], max_new_tokens=12)
    assert repeat.metrics["exact_match"] >= 0.9
    assert cipher.metrics["exact_match"] <= 0.1


def test_pretraining_script_is_reproducible_and_learns(tmp_path):
    first = pretrain(tmp_path / "a", steps=30, batch_size=16, log_every=0)
    pretrain(tmp_path / "b", steps=30, batch_size=16, log_every=0)
    assert first["final_loss"] < first["first_loss"] * 0.6
    a = AutoModelForCausalLM.from_pretrained(tmp_path / "a").state_dict()
    b = AutoModelForCausalLM.from_pretrained(tmp_path / "b").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
