"""What can be wrong with preference pairs, row by row and across a dataset.

A pair teaches "this answer, not that one, to this prompt".  It teaches
nothing, or the wrong thing, when:

- one side is empty, or both sides say the same (spaces aside);
- the two sides continue *different* dialogues (their turns before the final
  answer differ), so the pair compares two conversations, not two answers;
- the sides start by repeating the prompt turns, so the prompt is seen twice;
- an answer only repeats the question instead of answering it;
- one answer is many times as long as the other: the pair rewards length as
  much as quality (flagged per row), and across the dataset, when the longer
  answer is the chosen one in most pairs, a model can learn "longer is better"
  (a finding about the whole dataset).

Lengths are counted in words as :class:`ftlab.data.quality.LengthFilter`'s
``unit="words"`` counts them: each Chinese or Japanese character is one word,
and so is each run of other letters or digits.  Split at spaces, a Chinese
answer would be one "word" whatever its length; counted in characters, an
English answer would be 3-4 times as long as its Chinese translation.  Counted
this way a Chinese sentence and its English translation are within about 1.5x
of each other, so mixed Chinese/English pairs are not all flagged as length
outliers.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from ftlab.data.records import Record

# A word, for lengths: one Chinese or Japanese character, or a run of other letters and digits
# (the same unit as LengthFilter's unit="words").
_CJK_CHARACTERS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
WORDS = re.compile(f"[{_CJK_CHARACTERS}]|[^\\W{_CJK_CHARACTERS}]+")
# Punctuation (ASCII and CJK), dropped when asking whether an answer only repeats the prompt.
_PUNCTUATION = re.compile(r"[\W_]+")


def words(text: str) -> int:
    """Length in words: a CJK character is one, a run of other letters or digits is one."""
    return len(WORDS.findall(text))


def squeeze(text: str) -> str:
    """The text with all whitespace removed (NFC): two sides that differ only in spaces are the same answer.

    Removing spaces rather than collapsing them also treats "你好 世界" and
    "你好世界" as one text, as a Chinese reader does.
    """
    return "".join(unicodedata.normalize("NFC", text).split())


def _bare(text: str) -> str:
    """Letters and digits only, case-folded: for 'does this answer only repeat the question'."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text)).casefold()


def _quote(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


@dataclass(frozen=True)
class Finding:
    """One problem with one pair: ``drop`` (the pair is unusable) or ``flag`` (usable, but look at it)."""

    action: str  # drop | flag
    check: str  # identical | empty | different_dialogues | repeated_prompt | echo | length_ratio
    reason: str  # what is wrong and what to do about it


def pair_findings(record: Record, max_ratio: float = 4.0, min_gap: int = 16) -> list[Finding]:
    """What is wrong with one preference record; an empty list if nothing is.

    An unusable pair (empty side, identical sides, different dialogues) gets one
    ``drop`` finding and no more; otherwise each ``flag`` that applies.
    """
    chosen, rejected = record.chosen or [], record.rejected or []
    for name, side in (("chosen", chosen), ("rejected", rejected)):
        if not any(t["content"].strip() for t in side):
            return [Finding("drop", "empty", f"invalid pair: empty {name} (every pair needs two answers; "
                                             f"write the {name} answer or drop the row)")]
    if [squeeze(t["content"]) for t in chosen] == [squeeze(t["content"]) for t in rejected]:
        return [Finding("drop", "identical", "invalid pair: chosen equals rejected (spaces aside; a pair "
                                             "needs two different answers: write a worse rejected answer or "
                                             "drop the row)")]
    context_c, context_r = chosen[:-1], rejected[:-1]
    if [(t["role"], squeeze(t["content"])) for t in context_c] != \
            [(t["role"], squeeze(t["content"])) for t in context_r]:
        return [Finding("drop", "different_dialogues", "invalid pair: chosen and rejected continue different "
                        f"dialogues ({_first_difference(context_c, context_r)}); the sides may differ only in "
                        "their final answer: move shared turns into the prompt, or split the row")]
    findings = []
    prompt_users = [m["content"] for m in record.messages if m["role"] == "user" and m["content"].strip()]
    if context_c and prompt_users and context_c[0]["role"] == "user" \
            and squeeze(context_c[0]["content"]) == squeeze(prompt_users[0]):
        findings.append(Finding("flag", "repeated_prompt", "prompt repeated: chosen and rejected start with the "
                                "prompt's first user turn again, so the model sees it twice; give either a "
                                "prompt column or full dialogues in chosen/rejected, not both"))
    for name, side in (("chosen", chosen), ("rejected", rejected)):
        answer = _bare(side[-1]["content"])
        echoed = next((u for u in prompt_users if answer and answer == _bare(u)), None)
        if echoed is not None:
            advice = ("write an answer or drop the row" if name == "chosen"
                      else "an easy pair that teaches little; a plausible but wrong answer teaches more")
            findings.append(Finding("flag", "echo", f"echo: {name} only repeats the prompt {_quote(echoed)} instead of "
                                    f"answering it ({advice})"))
    n_c, n_r = words(" ".join(t["content"] for t in chosen)), words(" ".join(t["content"] for t in rejected))
    long, short = max(n_c, n_r), min(n_c, n_r)
    if long - short >= min_gap and long >= max_ratio * max(short, 1):
        longer, shorter = ("chosen", "rejected") if n_c > n_r else ("rejected", "chosen")
        ratio = f"{long / short:.1f}x" if short else "infinitely"
        findings.append(Finding("flag", "length_ratio", f"length ratio: {longer} is {ratio} as long as {shorter} "
                                f"({long} vs {short} words); the pair rewards length as much as quality: "
                                f"make the {shorter} answer complete, or the {longer} one shorter"))
    return findings


def _first_difference(a: list[dict], b: list[dict]) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x["role"] != y["role"] or squeeze(x["content"]) != squeeze(y["content"]):
            return (f"turn {i + 1} of each side: {x['role']} {_quote(x['content'])} vs "
                    f"{y['role']} {_quote(y['content'])}")
    more, name = (a, "chosen") if len(a) > len(b) else (b, "rejected")
    return f"{name} has {len(more) - min(len(a), len(b))} more turn(s) before its answer"


@dataclass
class LengthBias:
    """How chosen and rejected lengths compare across a dataset (pairs with two non-empty answers)."""

    pairs: int
    chosen_longer: int
    chosen_shorter: int
    same_length: int
    mean_ratio: float  # geometric mean of chosen/rejected length in words

    @property
    def longer_share(self) -> float:
        """Share of pairs where the chosen answer is longer, among pairs whose lengths differ."""
        decided = self.chosen_longer + self.chosen_shorter
        return self.chosen_longer / decided if decided else 0.5

    def to_counts(self) -> dict[str, int]:
        return {"chosen_longer": self.chosen_longer, "chosen_shorter": self.chosen_shorter,
                "same_length": self.same_length}


# A length rule alone that picks the chosen answer in 70% of pairs is as good as a weak reward model:
# reward models and DPO trained on such data do learn to prefer length (Singhal et al. 2023, "A Long Way
# to Go: Investigating Length Correlations in RLHF"; Park et al. 2024, "Disentangling Length from Quality
# in Direct Preference Optimization"), and the policy then grows verbose without getting better.
# Below 10 pairs with different lengths the share says little (7 of 10 happens by chance 17% of the time).
BIAS_SHARE = 0.7
BIAS_MIN_PAIRS = 10


def length_bias(records: list[Record]) -> LengthBias:
    """Count, over the preference records with two non-empty answers, which side is longer."""
    longer = shorter = same = 0
    logs = []
    for record in records:
        if record.format != "preference" or not record.chosen or not record.rejected:
            continue
        n_c = words(" ".join(t["content"] for t in record.chosen))
        n_r = words(" ".join(t["content"] for t in record.rejected))
        if not n_c or not n_r:
            continue
        longer += n_c > n_r
        shorter += n_c < n_r
        same += n_c == n_r
        logs.append(math.log(n_c / n_r))
    mean = math.exp(sum(logs) / len(logs)) if logs else 1.0
    return LengthBias(len(logs), longer, shorter, same, mean)


def bias_finding(bias: LengthBias, share: float = BIAS_SHARE, min_pairs: int = BIAS_MIN_PAIRS) -> str | None:
    """The dataset-wide finding on length bias, or None when a length rule does not predict the preference.

    Flags when the chosen answer is the longer one in at least ``share`` of the
    pairs whose lengths differ (or the shorter one: "shorter is better" is as
    learnable), over at least ``min_pairs`` such pairs.
    """
    decided = bias.chosen_longer + bias.chosen_shorter
    if decided < min_pairs:
        return None
    s = bias.longer_share
    if s >= share:
        rule, fix = "longer", "add pairs where the chosen answer is the shorter one, or trim chosen answers"
    elif s <= 1 - share:
        rule, fix = "shorter", "add pairs where the chosen answer is the longer one"
    else:
        return None
    picked = bias.chosen_longer if rule == "longer" else bias.chosen_shorter
    return (f"length bias: the chosen answer is the {rule} one in {picked} of {decided} pairs ({max(s, 1 - s):.0%}; "
            f"mean length ratio chosen/rejected {bias.mean_ratio:.2f}), so a model can learn '{rule} is better' "
            f"instead of what makes an answer good; {fix}")
