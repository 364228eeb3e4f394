"""The export sanity gate: does the artifact still talk like the trained model?

Most broken exports are not bad weights but a lost chat template or a wrong
end-of-turn token: the model then answers a prompt it was never trained on,
or never stops.  The gate compares what the artifact's own runtime shows with
what the trained model (the run's ``final/``, loaded as it trained) shows:

chat_template   fixed dialogues (English, Chinese, a system turn, several turns, the run's own
                prompt) rendered by the artifact's template equal the trained tokenizer's renders
eos_token       the same end-of-turn token, id and text, and generation stops on it
tokenizer       fixed texts (Chinese and mixed Chinese/English among them) encode to the trained
                tokenizer's ids and decode back to the trained tokenizer's text
answers         greedy answers on fixed prompts (the first test examples) equal the trained model's:
                all of them for a lossless format, at least ``AGREEMENT_THRESHOLD`` of them otherwise

Each failing check says what differs and how to fix it; ``ftlab export`` exits 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# A quantised artifact must give the trained model's exact greedy answer on at least 6 of the 8 fixed prompts.
# Measured on the built-in model: on the quickstart's cipher run (exact match 1.00) bnb_int8, bnb_nf4 and
# torchao_int8 all agree on 8 of 8; on barely trained runs, whose answers are low-margin guesses, int8 agrees on
# 6-8 of 8 and 4-bit NF4 on 4-5 of 8 (30 cipher steps, 20 uppercase steps); a replaced chat template agrees on
# 0 of 8 (tests/test_export.py).  A well-trained model keeps its answers through 8- and 4-bit storage; losing
# more than a quarter of them means the artifact no longer behaves like the model that was trained, whatever
# the reason, and the quality re-check's regressions show where.
AGREEMENT_THRESHOLD = 0.75

DIALOGUES: tuple[tuple[str, list[dict]], ...] = (
    ("one English user turn", [{"role": "user", "content": "What is the capital of France?"}]),
    ("a system turn and a Chinese user turn", [{"role": "system", "content": "你是一个乐于助人的助手。"},
                                               {"role": "user", "content": "用一句话介绍你自己。"}]),
    ("three turns in mixed Chinese and English", [
        {"role": "user", "content": "Translate 'fine-tuning' into Chinese."},
        {"role": "assistant", "content": "微调 (fine-tuning)"},
        {"role": "user", "content": "再用 English 解释一次 LoRA 是什么。"}]),
)
TEXTS: tuple[str, ...] = (
    "The quick brown fox jumps over the lazy dog.",
    "今天天气很好，我们去公园散步吧。",
    "LoRA 微调只训练低秩 adapters: rank r=8, alpha=16, 学习率 2e-4。",
    "  leading spaces, a tab\tand\na new line  ",
)


@dataclass
class Check:
    name: str
    passed: bool
    detail: str
    fix: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "passed": self.passed, "detail": self.detail, "fix": self.fix}


@dataclass
class Gate:
    checks: list[Check]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)

    def to_json(self) -> dict:
        return {"passed": self.passed, "checks": [check.to_json() for check in self.checks]}


@dataclass
class Expected:
    """What the trained model shows, measured once per export and compared with every artifact."""

    dialogues: list[tuple[str, list[dict]]]
    renders: list[str | None]  # None: the trained template rejects that dialogue (it is not compared)
    eos: tuple[int | None, str | None]
    texts: list[str]
    encodings: list[list[int]]
    decodings: list[str]
    prompts: list[list[dict]]  # the fixed prompts the answers check uses
    answers: list[str]
    template_source: str  # where the run keeps its chat template, for the fix message
    tokenizer_source: str
    quantized_training: bool = False  # trained on a quantised base: a merged model is not bit-identical


def _render(runtime: Any, messages: list[dict]) -> str | None:
    try:
        return runtime.render(messages)
    except Exception:  # noqa: BLE001 - a template that rejects a role (e.g. no system turns) renders nothing to compare
        return None


def expect(trained: Any, run_dir: Path, prompts: list[list[dict]], max_new_tokens: int,
           quantized_training: bool = False) -> Expected:
    """The trained model's renders, end-of-turn token, tokenizations and answers on ``prompts``."""
    dialogues = list(DIALOGUES) + ([("the run's own prompt (system prompt included)", prompts[0])] if prompts else [])
    texts = list(TEXTS) + [turn["content"] for turn in (prompts[0] if prompts else []) if turn["role"] == "user"]
    encodings = [trained.encode(text) for text in texts]
    final = Path(run_dir) / "final"
    template = final / "chat_template.jinja"
    return Expected(
        dialogues, [_render(trained, messages) for _, messages in dialogues], trained.eos, texts, encodings,
        [trained.decode(ids) for ids in encodings], prompts,
        [trained.generate(p, max_new_tokens).text for p in prompts],
        str(template if template.exists() else final / "tokenizer_config.json"),
        f"{final}/tokenizer.json and {final}/tokenizer_config.json", quantized_training)


def _first_difference(a: str, b: str) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _excerpt(text: str, at: int, width: int = 24) -> str:
    return repr(text[max(0, at - 4):at + width])


def _guarded(name: str, fix: str, body: Callable[[], Check]) -> Check:
    """A check whose runtime cannot answer (no template, no tokenizer access) fails with the reason."""
    try:
        return body()
    except Exception as exc:  # noqa: BLE001 - whatever the runtime raises is the finding
        return Check(name, False, f"the artifact's runtime could not be asked: {type(exc).__name__}: {exc}", fix)


def check_chat_template(runtime: Any, expected: Expected, artifact: Path) -> Check:
    fix = (f"Give the artifact the run's chat template: copy {expected.template_source} into {artifact} (a GGUF "
           "file keeps it as tokenizer.chat_template metadata), or export again with ftlab export.")

    def body() -> Check:
        compared = 0
        for (label, messages), want in zip(expected.dialogues, expected.renders):
            if want is None:
                continue
            compared += 1
            got = runtime.render(messages)
            if got != want:
                at = _first_difference(want, got)
                return Check("chat_template", False, f"{label} renders differently: from character {at} the run's "
                             f"template gives {_excerpt(want, at)} and the artifact's gives {_excerpt(got, at)}.",
                             fix)
        return Check("chat_template", True, f"{compared} fixed dialogues render exactly as the run's template does.")

    return _guarded("chat_template", fix, body)


def check_eos(runtime: Any, expected: Expected, artifact: Path) -> Check:
    want_id, want_text = expected.eos
    fix = (f"Set eos_token to {want_text!r} in {artifact}/tokenizer_config.json and eos_token_id to {want_id} in "
           f"{artifact}/generation_config.json (a GGUF file: tokenizer.ggml.eos_token_id), or export again.")

    def body() -> Check:
        got_id, got_text = runtime.eos
        if (got_id, got_text) != (want_id, want_text):
            return Check("eos_token", False, f"the artifact ends a turn with {got_text!r} (id {got_id}); the trained "
                         f"model with {want_text!r} (id {want_id}).", fix)
        stops = runtime.stop_token_ids
        if want_id not in stops:
            return Check("eos_token", False, f"the artifact declares {want_text!r} (id {want_id}) but its generation "
                         f"stops on {stops or 'no token'}: a server would not stop at the end of a turn.", fix)
        return Check("eos_token", True, f"{want_text!r} (id {want_id}), and generation stops on it.")

    return _guarded("eos_token", fix, body)


def check_tokenizer(runtime: Any, expected: Expected, artifact: Path) -> Check:
    fix = (f"Copy the run's tokenizer files ({expected.tokenizer_source}) into {artifact}, or export again; a "
           "tokenizer from another version or converter can split text differently.")

    def body() -> Check:
        for text, want_ids, want_text in zip(expected.texts, expected.encodings, expected.decodings):
            ids = runtime.encode(text)
            if ids != want_ids:
                at = next((i for i, (x, y) in enumerate(zip(ids, want_ids)) if x != y), min(len(ids), len(want_ids)))
                got = ids[at] if at < len(ids) else "nothing"
                want = want_ids[at] if at < len(want_ids) else "nothing"
                return Check("tokenizer", False, f"{text!r} encodes to {len(ids)} ids instead of the trained "
                             f"tokenizer's {len(want_ids)}; they differ from position {at} (artifact {got}, "
                             f"trained {want}).", fix)
            back = runtime.decode(ids)
            if back != want_text:
                return Check("tokenizer", False, f"{text!r} decodes back as {back!r}, the trained tokenizer gives "
                             f"{want_text!r}.", fix)
        return Check("tokenizer", True, f"{len(expected.texts)} fixed texts (English, Chinese, mixed) give the "
                     "trained tokenizer's ids and decode back the same.")

    return _guarded("tokenizer", fix, body)


def check_answers(answers: list[str], expected: Expected, lossless: bool, artifact: Path, name: str) -> Check:
    n = len(expected.answers)
    same = sum(a == b for a, b in zip(answers, expected.answers))
    agreement = same / n if n else 1.0
    exact = lossless and not expected.quantized_training
    differing = next((i for i, (a, b) in enumerate(zip(answers, expected.answers)) if a != b), None)
    example = "" if differing is None else (
        f" First difference: to {expected.prompts[differing][-1]['content']!r} the trained model answers "
        f"{expected.answers[differing]!r} and the artifact {answers[differing]!r}.")
    if exact:
        passed = same == n
        rule = "a lossless format must give all of them"
        fix = (f"The artifact's weights are not the trained model's: export again from the run (ftlab export RUN_DIR "
               f"--format {name}) and check that nothing changed {artifact} since.")
    else:
        passed = agreement >= AGREEMENT_THRESHOLD
        rule = (f"required: {AGREEMENT_THRESHOLD:.2f} (the merged model of a quantised-base run is not bit-identical "
                "to it)" if lossless else f"required for a quantised format: {AGREEMENT_THRESHOLD:.2f}")
        fix = ("The quantisation changes the answers too much: use a higher-precision format (an 8-bit one instead of "
               "a 4-bit one), and read the quality re-check's regressions before serving this artifact.")
    detail = f"{same} of {n} fixed prompts answered exactly as the trained model does ({agreement:.2f}; {rule})."
    return Check("answers", passed, detail + ("" if passed else example), None if passed else fix)


def run_gate(runtime: Any, answers: list[str], expected: Expected, lossless: bool, artifact: Path,
             name: str) -> Gate:
    """Every check on an opened artifact; ``answers`` are its answers to ``expected.prompts``."""
    checks = [check(runtime, expected, artifact) for check in (check_chat_template, check_eos, check_tokenizer)]
    answered = check_answers(answers, expected, lossless, artifact, name)
    causes = [check.name for check in checks if not check.passed]
    if causes and not answered.passed:  # a wrong template or tokenizer changes answers of intact weights
        which = f"{' and '.join(causes)} check" + ("s" if len(causes) > 1 else "")
        answered.fix = (f"Fix the failing {which} first: the answers are generated through what "
                        f"{'they test' if len(causes) > 1 else 'it tests'}; then check again "
                        "(ftlab.export.exporter.recheck).")
    checks.append(answered)
    for check in checks:
        if check.passed:
            check.fix = None
    return Gate(checks)
