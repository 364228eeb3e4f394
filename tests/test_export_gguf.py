"""GGUF formats: built by llama.cpp's converter and quantizer, answered by llama.cpp, checked against transformers.

The packages are dependencies of ftlab, so nothing here skips: a machine without
them fails these tests, as it should.
"""

import json
import shutil
from dataclasses import dataclass

import pytest

from ftlab.data.tasks import distinct_examples
from ftlab.errors import FtlabError
from ftlab.export.formats import FORMATS, _gguf
from ftlab.export.runtime import TransformersRuntime
from ftlab.models.tiny import BUILTIN_PATH

GGUF_FORMATS = ("gguf_f16", "gguf_q8_0", "gguf_q4_0")
# Four prompts of each skill the built-in model was pre-trained on, four of the quickstart's cipher, and one with
# a system turn: answers it is sure of and answers it is not, in the chat form its template makes.
TASKS = ("repeat", "reverse", "uppercase", "spell", "next_letter", "cipher")
EXAMPLES = [(prompt, answer) for task in TASKS for prompt, answer in distinct_examples(task, 7, 4)]
PROMPTS = [[{"role": "user", "content": prompt}] for prompt, _ in EXAMPLES]
PROMPTS.append([{"role": "system", "content": "Answer in one word."}, PROMPTS[0][0]])
MAX_NEW_TOKENS = 24
NEAR_TIE = 0.05  # logits: f16 weights (relative rounding ~5e-4) can swap two choices closer than this


@dataclass
class Reference:
    """A model folder's GGUF exports and what transformers answers from the folder itself."""

    folders: dict
    answers: list
    near_ties: list  # per prompt: did transformers' greedy path pass a choice within NEAR_TIE of the runner-up?


def build_all(source, root):
    folders = {}
    for name in GGUF_FORMATS:
        folders[name] = root / name
        folders[name].mkdir()
        FORMATS[name].build(source, folders[name])
    return folders


def reference(source, root):
    import torch

    from ftlab.models.loader import load_model, load_tokenizer

    model, tokenizer = load_model(str(source)).eval(), load_tokenizer(str(source))
    runtime = TransformersRuntime(model, tokenizer, "transformers")
    answers = [runtime.generate(prompt, MAX_NEW_TOKENS) for prompt in PROMPTS]
    near_ties = []
    for prompt in PROMPTS:
        text = tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
        inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False, output_scores=True,
                                 return_dict_in_generate=True, pad_token_id=tokenizer.pad_token_id,
                                 eos_token_id=tokenizer.eos_token_id)
        gaps = [float(top[0] - top[1]) for top in (step[0].topk(2).values for step in out.scores)]
        near_ties.append(min(gaps) < NEAR_TIE)
    return Reference(build_all(source, root), answers, near_ties)


def answers(folder, name):
    runtime = FORMATS[name].open(folder)
    got = [runtime.generate(prompt, MAX_NEW_TOKENS) for prompt in PROMPTS]
    runtime.close()
    return got


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The built-in model."""
    return reference(BUILTIN_PATH, tmp_path_factory.mktemp("gguf_tiny"))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A LoRA run's merged model: 60 steps on the reverse task (6 s; the cipher needs ~450 steps to be learnt)."""
    import ftlab
    from ftlab.config import Config
    from ftlab.training.merged import merged_model

    root = tmp_path_factory.mktemp("gguf_trained")
    config = Config().override([f"train.output_dir={root / 'runs'}", "data.task=reverse", "data.n_train=256",
                                "data.n_validation=16", "data.n_test=16", "train.max_steps=60",
                                "train.logging_steps=10", "train.eval_steps=0", "train.save_steps=60",
                                "train.learning_rate=3e-3", "train.run_name=lora"])
    return reference(merged_model(ftlab.train(config).run.path), root)


def test_the_converter_and_runtime_are_installed():
    assert _gguf.unavailable() is None
    assert all(FORMATS[name].unavailable() is None for name in GGUF_FORMATS)


def test_a_missing_package_is_named_with_the_command_that_installs_it(monkeypatch):
    real = _gguf.importlib.util.find_spec
    monkeypatch.setattr(_gguf.importlib.util, "find_spec", lambda name: None if name == "llama_cpp" else real(name))
    assert FORMATS["gguf_q4_0"].unavailable() == (
        "needs llama-cpp-python (llama.cpp's converter and runtime), which is not installed here: pip install -e "
        "'.[gguf]' (compiles llama.cpp, about 5 minutes on two cores; make test installs it).")


def test_the_gguf_carries_the_chat_template_and_the_end_of_turn_token(tiny):
    folders = tiny.folders
    template = (BUILTIN_PATH / "chat_template.jinja").read_text()
    for name, folder in folders.items():
        meta = _gguf.metadata(folder / _gguf.MODEL_FILE)
        assert meta["tokenizer.chat_template"] == template, name
        assert meta["tokenizer.ggml.eos_token_id"] == 256 and meta["tokenizer.ggml.model"] == "gpt2"
        runtime = FORMATS[name].open(folder)
        assert runtime.eos == (256, "<|im_end|>")
        assert 256 in runtime.stop_token_ids
        runtime.close()


def test_llama_cpp_tokenizes_and_renders_exactly_as_transformers(tiny):
    from ftlab.models.loader import load_tokenizer

    folders = tiny.folders
    tokenizer = load_tokenizer(str(BUILTIN_PATH))
    runtime = FORMATS["gguf_f16"].open(folders["gguf_f16"])
    texts = ["".join(chr(i) for i in range(1, 128)), "Encrypt with the shift-3 cipher: zebra\n\t  done",
             "中文和 English 混合，标点：“引号”！", "émoji 🦙 and ünïcödé"]
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert runtime.encode(text) == ids
        assert runtime.decode(ids) == text
    for prompt in PROMPTS[:3] + PROMPTS[-1:]:
        assert runtime.render(prompt) == tokenizer.apply_chat_template(prompt, tokenize=False,
                                                                        add_generation_prompt=True)
    runtime.close()


def test_f16_answers_are_transformers_answers(tiny, trained):
    """Identical text and token counts wherever transformers' own greedy path had no near-tie.  Measured: all 25
    identical for both models (4 and 3 of them pass a near-tie); over 40 cipher prompts of the built-in model
    one answer differed, at a gap of 0.015 between the two best next tokens."""
    for model in (tiny, trained):
        got = answers(model.folders["gguf_f16"], "gguf_f16")
        sure = [i for i, tie in enumerate(model.near_ties) if not tie]
        assert len(sure) >= 0.7 * len(PROMPTS)
        assert [got[i].text for i in sure] == [model.answers[i].text for i in sure]
        assert [got[i].new_tokens for i in sure] == [model.answers[i].new_tokens for i in sure]


@pytest.mark.parametrize("name, least", [("gguf_q8_0", 0.75), ("gguf_q4_0", 0.5)])
def test_quantised_answers_agree_with_transformers_and_score_the_same(tiny, trained, name, least):
    """The agreement figure: the share of answers identical to transformers'.  Measured on these 25 prompts:
    q8_0 0.92 (built-in model) and 0.88 (trained), q4_0 0.64 and 0.72; and 1.00 for both on 100 cipher prompts
    of the quickstart's fully trained model, which is sure of its answers.  These two small models answer many
    prompts at near-ties, which rounding flips; a broken export (weights, template, tokenizer) agrees on next to
    nothing.  The flips are between wrong answers: exact-match accuracy was within one answer of transformers'
    (10 vs 11 right for q4_0 on the built-in model, equal elsewhere)."""
    for model in (tiny, trained):
        got = answers(model.folders[name], name)
        agreement = sum(g.text == e.text for g, e in zip(got, model.answers)) / len(PROMPTS)
        assert agreement >= least, (name, agreement)
        right = [sum(a.text == answer for a, (_, answer) in zip(run, EXAMPLES)) for run in (got, model.answers)]
        assert abs(right[0] - right[1]) <= 2, (name, right)


def test_each_quantisation_is_smaller_and_its_tensor_types_are_recorded(tiny):
    folders = tiny.folders
    sizes = {name: (folder / _gguf.MODEL_FILE).stat().st_size for name, folder in folders.items()}
    assert sizes["gguf_q8_0"] < sizes["gguf_f16"] and sizes["gguf_q4_0"] < sizes["gguf_q8_0"]
    for name, folder in folders.items():
        record = json.loads((folder / "artifact.json").read_text())
        assert record["format"] == name and record["tensor_types"] == _gguf.tensor_types(folder / _gguf.MODEL_FILE)
    q4 = json.loads((folders["gguf_q4_0"] / "artifact.json").read_text())
    # every matrix of the blocks is 4-bit and the norms stay f32; llama.cpp wants q6_K for the output matrix (tied
    # to the embedding here), whose rows of 128 do not fill q6_K's blocks of 256, so it falls back to q8_0
    assert q4["tensor_types"] == {"F32": 9, "Q4_0": 28, "Q8_0": 1}
    assert q4["quantizer_warnings"] == [
        "warning: token_embd.weight - ncols 128 not divisible by 256 (required for type q6_K) -> falling back to q8_0",
        "llama_model_quantize_impl: WARNING: 1 of 38 tensor(s) required fallback quantization"]
    assert not (folders["gguf_q4_0"] / "model.f32.gguf.partial").exists()


def test_streaming_yields_the_answer_piece_by_piece_and_returns_its_generation(tiny):
    from ftlab.widgets.playground import drain

    folders = tiny.folders
    runtime = FORMATS["gguf_q8_0"].open(folders["gguf_q8_0"])
    for prompt in PROMPTS[:4]:
        pieces = []
        streamed = drain(runtime.stream(prompt, MAX_NEW_TOKENS), pieces.append)
        whole = runtime.generate(prompt, MAX_NEW_TOKENS)
        assert len(pieces) > 1 and "".join(pieces).strip() == whole.text == streamed.text
        assert streamed.new_tokens == whole.new_tokens and streamed.seconds > 0
    runtime.close()


def test_the_runtime_answers_through_the_template_the_gguf_carries(tmp_path):
    """A changed template changes what llama.cpp renders; a model without one is refused with the reason."""
    source = tmp_path / "model"
    shutil.copytree(BUILTIN_PATH, source)
    template = source / "chat_template.jinja"
    template.write_text(template.read_text().replace("'<|im_start|>' + message['role']", "'<|im_start|>' + 'user'"))
    (tmp_path / "changed").mkdir()
    FORMATS["gguf_f16"].build(source, tmp_path / "changed")
    runtime = FORMATS["gguf_f16"].open(tmp_path / "changed")
    dialogue = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Repeat: abc"}]
    assert runtime.render(dialogue) == ("<|im_start|>user\nBe brief.<|im_end|>\n<|im_start|>user\nRepeat: abc"
                                        "<|im_end|>\n<|im_start|>assistant\n")
    runtime.close()

    template.unlink()
    (tmp_path / "none").mkdir()
    FORMATS["gguf_f16"].build(source, tmp_path / "none")
    assert "tokenizer.chat_template" not in _gguf.metadata(tmp_path / "none" / _gguf.MODEL_FILE)
    runtime = FORMATS["gguf_f16"].open(tmp_path / "none")
    with pytest.raises(FtlabError, match="has no chat template in its metadata"):
        runtime.generate(dialogue)
    runtime.close()


def test_a_quantizer_failure_carries_llama_cpps_reason(tmp_path):
    with pytest.raises(FtlabError, match="quantizer could not make q4_0 from .*missing.gguf: .*failed to open GGUF"):
        _gguf.quantize(tmp_path / "missing.gguf", tmp_path / "out.gguf", "q4_0")


def test_a_folder_without_its_gguf_file_says_the_export_did_not_finish(tmp_path):
    with pytest.raises(FtlabError, match="has no model.gguf: the GGUF export did not finish"):
        FORMATS["gguf_f16"].open(tmp_path)


def test_a_tokenizer_ftlab_does_not_vouch_for_goes_through_the_converters_own_check(tmp_path):
    """Only a plain byte-level BPE without merges is declared; anything else meets the converter's refusal."""
    source = tmp_path / "model"
    shutil.copytree(BUILTIN_PATH, source)
    tokenizer = json.loads((source / "tokenizer.json").read_text())
    tokenizer["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [tokenizer["pre_tokenizer"]]}
    (source / "tokenizer.json").write_text(json.dumps(tokenizer))
    (tmp_path / "out").mkdir()
    with pytest.raises(FtlabError, match="converter refused .*BPE pre-tokenizer was not recognized"):
        FORMATS["gguf_f16"].build(source, tmp_path / "out")
    assert not (tmp_path / "out" / _gguf.MODEL_FILE).exists()
