"""Pairwise judging: which of two systems' answers is better, asked twice with the answers swapped.

An item is ``{"id", "prompt", "a", "b"}`` plus an optional ``"reference"``:
one prompt and the answers of system A and system B.  A judge reads a prompt
and two answers in an order and says ``"first"``, ``"second"`` or ``"tie"``.
Judges, language-model judges above all, tend to prefer whatever they read
first; judged once, that bias would look like a preference for one system.
So every item is judged in both orders, the verdict counts only when both
orders name the same system (otherwise it is a tie), and the share of items
where the two orders agree is the judge's ``consistency``: read it before
reading a judge's win rates.

Two judges ship:

* :func:`chrf_judge`, a rule: the answer with the higher chrF against the
  reference wins.  It needs references, runs offline in milliseconds, and is
  what the tests use.
* :class:`ModelJudge`, a local chat model asked through its chat template
  which answer is better; the verdict compares the next-token
  log-probabilities of "A" and "B" (no sampling), a tie within ``margin``.
  The built-in ``ftlab/tiny-chat`` works as one, but it is a weak judge: a
  0.8M-parameter model pre-trained to copy and reverse words has never learned
  to compare answers.  Shown a right and a wrong answer to 40 prompts of
  its own pre-training tasks, it leans to "B" whichever answer stands there:
  consistency 0.05, 38 of 40 verdicts ties.  Use a real instruct model for
  judging, and report its consistency with its verdicts.

Any ``(prompt, first, second, reference) -> verdict`` function is a judge too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ftlab.errors import FtlabError

VERDICTS = ("first", "second", "tie")
ITEM_FIELDS = ("id", "prompt", "a", "b")
ITEM_SHAPE = '{"id", "prompt", "a", "b"} with an optional "reference"'

Rule = Callable[[str, str, str, "str | None"], str]
Triple = tuple[str, str, str, "str | None"]  # prompt, first answer, second answer, reference


def check_items(items: Sequence[dict]) -> list[dict]:
    """The items as a list, or an error naming the first item and field that does not fit the shape."""
    items = list(items)
    if not items:
        raise FtlabError(f"items: the list is empty; pass at least one item {ITEM_SHAPE}.")
    seen: dict[Any, int] = {}
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise FtlabError(f"items[{n}]: expected a dict {ITEM_SHAPE}, got {type(item).__name__}.")
        for name in ITEM_FIELDS:
            if name not in item:
                raise FtlabError(f"items[{n}]: field {name!r} is missing; an item is {ITEM_SHAPE}.")
        if not isinstance(item["id"], (str, int)) or isinstance(item["id"], bool):
            raise FtlabError(f"items[{n}]: field 'id' must be a string or an integer, got "
                             f"{type(item['id']).__name__}.")
        for name in ("prompt", "a", "b", "reference"):
            if name in item and not isinstance(item[name], str) and not (name == "reference" and item[name] is None):
                raise FtlabError(f"items[{n}]: field {name!r} must be text, got {type(item[name]).__name__}.")
        if item["id"] in seen:
            raise FtlabError(f"items[{n}]: field 'id' repeats {item['id']!r} (items[{seen[item['id']]}]); "
                             "every item needs its own id.")
        seen[item["id"]] = n
    return items


def chrf_judge(prompt: str, first: str, second: str, reference: str | None) -> str:
    """The answer closer to the reference in chrF (sacrebleu's, as the ``chrf`` metric scores) wins; equal ties."""
    from ftlab.eval.metrics import METRICS

    if reference is None:
        raise FtlabError("reference: the chrF judge compares each answer with the item's reference, and this "
                         f"item has none (prompt {prompt[:60]!r}). Give every item a 'reference', or use a "
                         "ModelJudge.")
    chrf = METRICS["chrf"].per_example
    first_score, second_score = chrf(first, reference), chrf(second, reference)
    return "first" if first_score > second_score else "second" if second_score > first_score else "tie"


JUDGE_INSTRUCTION = "Which answer is better, A or B? Reply with one letter."


def judge_dialogue(prompt: str, first: str, second: str, reference: str | None) -> list[dict]:
    """The question a model judge answers: short, because small models have short contexts."""
    lines = [f"Question: {prompt}"]
    if reference is not None:
        lines.append(f"Reference answer: {reference}")
    lines += [f"A: {first}", f"B: {second}", JUDGE_INSTRUCTION]
    return [{"role": "user", "content": "\n".join(lines)}]


class ModelJudge:
    """A local chat model as a judge: the log-probabilities of "A" and "B" as its first answer token.

    Reading two log-probabilities instead of sampling an answer makes the
    verdict deterministic and always one of the three, and the difference
    says how sure the model is.  ``model`` is a name ``ftlab.models.loader``
    loads (``"ftlab/tiny-chat"``, a hub id, a folder) or a loaded model, which
    then needs its ``tokenizer``.  ``margin`` is in nats: log p(A) − log p(B)
    within it is a tie.
    """

    def __init__(self, model: Any, tokenizer: Any = None, margin: float = 0.1, batch_size: int = 16):
        self.name = model if isinstance(model, str) else getattr(model, "name_or_path", "") or type(model).__name__
        if isinstance(model, str):
            from ftlab.models.loader import load_model, load_tokenizer

            model, tokenizer = load_model(model), tokenizer or load_tokenizer(model)
        if tokenizer is None:
            raise FtlabError("tokenizer: a loaded model judges through its chat template, so pass its tokenizer "
                             "too: ModelJudge(model, tokenizer), or pass the model's name instead.")
        self.model, self.tokenizer, self.margin, self.batch_size = model, tokenizer, margin, batch_size
        self.letters = [_first_token(tokenizer, letter) for letter in ("A", "B")]
        if self.letters[0] == self.letters[1]:
            raise FtlabError("tokenizer: 'A' and 'B' start with the same token, so the judge cannot tell the two "
                             "answers apart by their first token; use a model with another tokenizer.")

    def preferences(self, triples: Sequence[Triple]) -> list[float]:
        """log p("A") − log p("B") for the first answer token of each (prompt, first, second, reference)."""
        import torch

        from ftlab.models.generation import chat_texts

        texts = chat_texts(self.tokenizer, [judge_dialogue(*t) for t in triples])
        side, self.tokenizer.padding_side = self.tokenizer.padding_side, "left"
        was_training = self.model.training
        self.model.eval()
        device = next(self.model.parameters()).device
        out: list[float] = []
        try:
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(texts[start:start + self.batch_size], return_tensors="pt", padding=True,
                                       add_special_tokens=False).to(device)
                # Left padding shifts positions; count them from each row's first real token, as generate does.
                positions = (batch["attention_mask"].cumsum(-1) - 1).clamp(min=0)
                with torch.inference_mode():
                    logits = self.model(**batch, position_ids=positions).logits[:, -1, :].float()
                logprobs = torch.log_softmax(logits, dim=-1)
                out.extend((logprobs[:, self.letters[0]] - logprobs[:, self.letters[1]]).tolist())
        finally:
            self.tokenizer.padding_side = side
            self.model.train(was_training)
        return out

    def __call__(self, triples: Sequence[Triple]) -> list[str]:
        return ["first" if p > self.margin else "second" if p < -self.margin else "tie"
                for p in self.preferences(triples)]


def _first_token(tokenizer: Any, letter: str) -> int:
    return tokenizer(letter, add_special_tokens=False)["input_ids"][0]


@dataclass
class JudgeResult:
    """Per-item verdicts in system terms (``"a"``, ``"b"``, ``"tie"``) for both orders, and the combined one."""

    judge: str
    items: list[dict]  # {"id", "a_first", "b_first", "verdict", "consistent"}

    @property
    def verdicts(self) -> dict[Any, str]:
        """Item id -> the verdict that counts: what :func:`ftlab.eval.ratings.agreement` compares with people."""
        return {row["id"]: row["verdict"] for row in self.items}

    @property
    def consistency(self) -> float:
        return sum(row["consistent"] for row in self.items) / len(self.items)

    def rates(self) -> dict[str, float]:
        """Win, tie and loss rates of system A over the items."""
        counts = [sum(row["verdict"] == v for row in self.items) for v in ("a", "tie", "b")]
        return dict(zip(("win", "tie", "loss"), (c / len(self.items) for c in counts)))

    def summary(self) -> dict:
        return {"judge": self.judge, "n": len(self.items), **self.rates(), "consistency": self.consistency}


def _in_system_terms(verdict: str, first: str) -> str:
    """``"first"``/``"second"`` become the system shown there (``first`` is ``"a"`` or ``"b"``)."""
    second = "b" if first == "a" else "a"
    return {"first": first, "second": second, "tie": "tie"}[verdict]


def _batch_judge(judge: Rule | ModelJudge | str) -> tuple[Callable[[list[Triple]], list[str]], str]:
    if isinstance(judge, str):
        judge = ModelJudge(judge)
    if isinstance(judge, ModelJudge):
        return judge, judge.name
    if callable(judge):
        return (lambda triples: [judge(*t) for t in triples]), getattr(judge, "__name__", type(judge).__name__)
    raise FtlabError(f"judge: expected a rule function (prompt, first, second, reference) -> verdict, a model "
                     f"name or a ModelJudge, got {type(judge).__name__}.")


def judge_pairs(items: Sequence[dict], judge: Rule | ModelJudge | str = chrf_judge) -> JudgeResult:
    """Judge every item with A first, then with B first; a verdict stands only when both orders agree."""
    items = check_items(items)
    compare, name = _batch_judge(judge)
    a_first = compare([(i["prompt"], i["a"], i["b"], i.get("reference")) for i in items])
    b_first = compare([(i["prompt"], i["b"], i["a"], i.get("reference")) for i in items])
    rows = []
    for item, one, two in zip(items, a_first, b_first):
        for verdict in (one, two):
            if verdict not in VERDICTS:
                raise FtlabError(f"judge: {name} answered {verdict!r} for item {item['id']!r}; a judge answers "
                                 f"one of {', '.join(VERDICTS)}.")
        one, two = _in_system_terms(one, "a"), _in_system_terms(two, "b")
        rows.append({"id": item["id"], "a_first": one, "b_first": two, "verdict": one if one == two else "tie",
                     "consistent": one == two})
    return JudgeResult(name, rows)
