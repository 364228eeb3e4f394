"""The quality pipeline: ordered, seeded steps, each reporting what it did to which row and why.

A step is a small dataclass whose fields are its parameters (so the manifest
can record them) and whose ``apply`` takes the records and returns the ones it
keeps, noting every drop, change and flag in a ``StepReport``.  A ``Pipeline``
runs steps in order, giving each its own seeded random generator, and stops
with an explanation if a step leaves nothing.

    Pipeline([Normalize(), DropEmpty(), ExactDedup(), MaskPII()], seed=0).run(records)
"""

from __future__ import annotations

import dataclasses
import random
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ftlab.data.formats import FORMATS
from ftlab.data.pair_checks import WORDS as _WORDS
from ftlab.data.pair_checks import bias_finding, length_bias, pair_findings
from ftlab.data.records import Record
from ftlab.errors import FtlabError


@dataclass
class StepReport:
    """What one step did: counts, plus one entry per dropped / changed / flagged row with the reason."""

    step: str
    params: dict
    rows_in: int = 0
    rows_out: int = 0
    dropped: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    flagged: list[dict] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # findings about the dataset as a whole, not one row

    def drop(self, record: Record, reason: str) -> None:
        self.dropped.append({"where": record.where, "reason": reason})

    def change(self, record: Record, what: str) -> None:
        self.changed.append({"where": record.where, "what": what})

    def flag(self, record: Record, reason: str) -> None:
        self.flagged.append({"where": record.where, "reason": reason})

    def summary(self) -> dict:
        return {"step": self.step, "rows_in": self.rows_in, "rows_out": self.rows_out,
                "dropped": len(self.dropped), "changed": len(self.changed), "flagged": len(self.flagged),
                **({"counts": self.counts} if self.counts else {}), **({"notes": self.notes} if self.notes else {})}

    def reasons(self, flagged: bool = False) -> Counter:
        """How many rows were dropped (or flagged) for each reason (the reason's text up to its first detail).

        A flag's reason starts with its kind ("length ratio: chosen is 6.0x as long..."): flags count by kind.
        """
        if flagged:
            return Counter(f["reason"].split(" (")[0].split(": ")[0] for f in self.flagged)
        return Counter(d["reason"].split(" (")[0].split(" of ")[0] for d in self.dropped)


class Step:
    """Base of all steps: ``name`` identifies it in configs and the CLI; fields are its parameters."""

    name: ClassVar[str]

    def params(self) -> dict:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def apply(self, records: list[Record], rng: random.Random, report: StepReport) -> list[Record]:
        raise NotImplementedError


def _plain(value: Any) -> Any:
    """A JSON-able stand-in for a parameter (a tokenizer or model is recorded by its name)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return getattr(value, "name_or_path", None) or getattr(getattr(value, "config", None), "_name_or_path", None) \
        or type(value).__name__


@dataclass
class PipelineResult:
    records: list[Record]
    reports: list[StepReport]

    def summary(self) -> list[dict]:
        return [r.summary() for r in self.reports]


@dataclass
class Pipeline:
    steps: list[Step]
    seed: int = 0

    def run(self, records: list[Record]) -> PipelineResult:
        reports = []
        for index, step in enumerate(self.steps):
            report = StepReport(step.name, step.params(), rows_in=len(records))
            records = step.apply(records, random.Random(f"{self.seed}:{index}:{step.name}"), report)
            report.rows_out = len(records)
            reports.append(report)
            if not records:
                raise FtlabError(_emptied(reports))
        return PipelineResult(records, reports)

    def describe(self) -> list[dict]:
        return [{"step": s.name, "params": s.params()} for s in self.steps]


def _emptied(reports: list[StepReport]) -> str:
    last = reports[-1]
    reasons = ", ".join(f"{n} {reason}" for reason, n in last.reasons().most_common(3))
    before = "; ".join(f"{r.step} {r.rows_in}→{r.rows_out}" for r in reports)
    first = last.dropped[0] if last.dropped else None
    example = f" First dropped: {first['where']} ({first['reason']})." if first else ""
    return (f"no rows left: step {last.step!r} removed all {last.rows_in} remaining rows ({reasons}).{example} "
            f"Counts per step: {before}. Loosen that step's parameters or leave it out.")


# --- the steps ------------------------------------------------------------------

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_BLANK_LINES = re.compile(r"\n{3,}")
_UNTIDY = re.compile(r"[\r\t\u00a0\u2000-\u200d\u202f\u205f\u2060\u3000\ufeff]|  |\n\n\n| \n|\n |^\s|\s$")
# Full-width forms of ASCII (！ to ～) and the ideographic space: the width mappings of NFKC.
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_LETTERS_DIGITS = {c: a for c, a in _FULL_WIDTH.items() if chr(a).isalnum()} | {0x3000: 0x20}
# CJK radicals, punctuation (not the ideographic space), kana, ideographs, Hangul, compatibility and rare ideographs
_CJK = "\u2e80-\u2fff\u3001-\u303f\u3040-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"
_WIDE_PUNCTUATION = "\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff5e"
# a run of full-width punctuation with no CJK character (or more such punctuation) on either side
_WIDE_RUN = re.compile(f"(?<![{_CJK}{_WIDE_PUNCTUATION}])[{_WIDE_PUNCTUATION}]+(?![{_CJK}{_WIDE_PUNCTUATION}])")
_WIDE = re.compile(f"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u3000]|{_WIDE_RUN.pattern}")


@dataclass
class Normalize(Step):
    """Unicode NFC, ASCII for full-width letters and digits, one kind of space and newline, trimmed ends.

    NFC joins what was typed apart (e + a combining accent becomes é) and
    changes nothing else.  Of NFKC's compatibility mappings only the width
    ones are applied: full-width letters and digits (Ａ, ａ, ０) and the
    ideographic space U+3000 become ASCII.  Chinese input methods type them
    easily by mistake; they mean what ASCII means, yet split tokens and hide
    duplicates and personal data from the later steps.  The rest of NFKC
    changes meaning (① becomes 1, ㎏ kg, x² x2, ½ 1/2) and is left out;
    ``form="NFKC"`` asks for all of it.

    Full-width punctuation (，！？：；（）) is correct typography in Chinese and
    stays wherever it touches a CJK character; a run of it with ASCII (or
    nothing) on both sides becomes ASCII: "Ｈｅｌｌｏ，ｗｏｒｌｄ" becomes
    "Hello,world", and 会议10：30开始 becomes 会议10:30开始.  No space is added
    after the comma: this step changes how characters are written, not the
    text, and a space would be a guess that breaks numbers ("3，000" is 3,000).
    CJK punctuation without an ASCII twin (。、《》「」) is never changed.
    """

    name: ClassVar[str] = "normalize"
    form: str = "NFC"
    collapse_spaces: bool = True

    def clean(self, text: str) -> str:
        if not _UNTIDY.search(text) and (text.isascii() or unicodedata.is_normalized(self.form, text)
                                         and not _WIDE.search(text)):
            return text  # the common case, decided without building a new string
        out = unicodedata.normalize(self.form, text)
        out = _WIDE_RUN.sub(lambda m: m.group().translate(_FULL_WIDTH), out.translate(_LETTERS_DIGITS))
        out = _INVISIBLE.sub("", out.replace("\r\n", "\n").replace("\r", "\n"))
        if self.collapse_spaces:
            out = "\n".join(_SPACES.sub(" ", line).strip() for line in out.split("\n"))
            out = _BLANK_LINES.sub("\n\n", out)
        return out.strip()

    def _kind_of_change(self, before: list[str]) -> str:
        """What the report calls a change: the Unicode form, else width, else whitespace."""
        if any(unicodedata.normalize(self.form, b) != b for b in before):
            return "unicode " + self.form
        if any(_WIDE.search(b) for b in before):
            return "width"
        return "whitespace"

    def apply(self, records, rng, report):
        out = []
        for record in records:
            cleaned = record.map_strings(self.clean, labels=True)
            if cleaned != record:
                before, after = record.strings(), cleaned.strings()
                report.change(cleaned, f"{self._kind_of_change(before)}: "
                                       f"{sum(a != b for a, b in zip(after, before))} field(s)")
            out.append(cleaned)
        return out


def _empty_part(record: Record) -> str | None:
    """The name of the first part of a record with no text, or None."""
    for m in record.messages:
        if not m["content"].strip() and m["role"] != "system":
            return f"{m['role']} turn"
    for name in ("chosen", "rejected"):
        turns = getattr(record, name)
        if turns is not None and not any(t["content"].strip() for t in turns):
            return name
    for name in ("completion", "text", "rationale"):
        value = getattr(record, name)
        if value is not None and not value.strip():
            return name
    return None


@dataclass
class DropEmpty(Step):
    """Rows with an empty question, answer, text or side of a pair teach nothing."""

    name: ClassVar[str] = "drop_empty"

    def apply(self, records, rng, report):
        out = []
        for record in records:
            part = _empty_part(record)
            if part:
                report.drop(record, f"empty {part}")
            else:
                out.append(record)
        return out




@dataclass
class LengthFilter(Step):
    """Too short to teach or too long to fit: the length of all text in a row, in characters, words or tokens.

    ``unit``: "chars" counts characters (code points), so a 20-character
    Chinese answer is 20 long, spaces or none.  "words" counts each Chinese or
    Japanese character as a word, as Chinese word counts (字数) do, and each run
    of other letters or digits as one, so that one limit means about the same
    for Chinese, English and mixed rows; split at spaces, a Chinese paragraph
    would be one word.  "tokens" counts the tokenizer's tokens, what a context
    window holds.  Without a unit: tokens when a tokenizer is given, else
    chars.  The tokenizer may be given by name ("ftlab/tiny-chat", a hub id), as
    configs and ``--param length.tokenizer=...`` give it.
    """

    name: ClassVar[str] = "length"
    min_length: int = 2
    max_length: int | None = None
    tokenizer: Any = None
    unit: str | None = None

    units: ClassVar[tuple[str, ...]] = ("chars", "words", "tokens")

    @property
    def _counted_in(self) -> str:
        return self.unit or ("chars" if self.tokenizer is None else "tokens")

    def measure(self, record: Record, tokenizer: Any = None) -> int:
        """The length of the row's text; ``tokenizer`` is the loaded one where ``self.tokenizer`` is a name."""
        text = record.joined()
        if self._counted_in == "chars":
            return len(text)
        if self._counted_in == "words":
            return len(_WORDS.findall(text))
        tokenizer = self.tokenizer if tokenizer is None else tokenizer
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def apply(self, records, rng, report):
        unit = self._counted_in
        if unit not in self.units:
            raise FtlabError(f"length: unit={unit!r}; use 'chars', 'words' (a CJK character or a run of other "
                             "letters and digits is one) or 'tokens' (with a tokenizer).")
        if unit == "tokens" and self.tokenizer is None:
            raise FtlabError("length: unit='tokens' needs a tokenizer, e.g. tokenizer='ftlab/tiny-chat'.")
        tokenizer = self.tokenizer
        if isinstance(tokenizer, str):
            from ftlab.models.loader import load_tokenizer

            tokenizer = load_tokenizer(tokenizer)
        out = []
        for record in records:
            n = self.measure(record, tokenizer)
            if n < self.min_length:
                report.drop(record, f"too short ({n} {unit} < {self.min_length})")
            elif self.max_length is not None and n > self.max_length:
                report.drop(record, f"too long ({n} {unit} > {self.max_length})")
            else:
                record.meta["length"] = n
                out.append(record)
        return out


@dataclass
class ExactDedup(Step):
    """Keep the first of rows with the same content ('row') or the same prompt ('prompt')."""

    name: ClassVar[str] = "dedup"
    by: str = "row"

    def key(self, record: Record) -> str:
        if self.by == "prompt":
            prompt = record.messages[:-1] if FORMATS[record.format].chat else record.messages
            return repr([m["content"] for m in prompt] + [record.text or ""])
        return record.key()

    def apply(self, records, rng, report):
        if self.by not in ("row", "prompt"):
            raise FtlabError(f"dedup: by={self.by!r}; use 'row' (whole content) or 'prompt'.")
        seen: dict[str, str] = {}
        out = []
        for record in records:
            key = self.key(record)
            if key in seen:
                report.drop(record, f"exact duplicate of {seen[key]}")
            else:
                seen[key] = record.where
                out.append(record)
        return out


@dataclass
class NearDedup(Step):
    """Rows whose character-shingle Jaccard similarity to an earlier row is at least ``threshold``."""

    name: ClassVar[str] = "near_dedup"
    threshold: float = 0.8
    num_perm: int = 128

    def apply(self, records, rng, report):
        from ftlab.data.dedup import NearDuplicateIndex

        index = NearDuplicateIndex(self.threshold, self.num_perm)
        out = []
        for i, record in enumerate(records):
            hit = index.match_or_add(i, record.joined())
            if hit is not None:
                report.drop(record, f"near duplicate of {records[hit[0]].where} (similarity {hit[1]:.2f})")
            else:
                out.append(record)
        return out


@dataclass
class MaskPII(Step):
    """Replace e-mails, phone, card, IBAN, ID and passport numbers, IPs and URL credentials by placeholders.

    English, Chinese and mixed text alike (mainland IDs and phone numbers, UnionPay cards); ``ftlab.data.pii``
    says what each kind must look like and which numbers (orders, versions, dates) are left alone.
    """

    name: ClassVar[str] = "pii"
    kinds: tuple[str, ...] | list[str] = ()

    def apply(self, records, rng, report):
        from ftlab.data.pii import KINDS, mask_pii

        kinds = tuple(self.kinds) or KINDS
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise FtlabError(f"pii: unknown kind(s) {', '.join(sorted(unknown))}; the kinds are {', '.join(KINDS)}.")
        totals: Counter = Counter()
        out = []
        for record in records:
            found: Counter = Counter()

            def mask(text: str) -> str:
                masked, counts = mask_pii(text, kinds)
                found.update(counts)
                return masked

            masked = record.map_strings(mask)
            if found:
                report.change(masked, "masked " + ", ".join(f"{n} {k}" for k, n in sorted(found.items())))
                totals.update(found)
            out.append(masked)
        report.counts = dict(sorted(totals.items()))
        return out


@dataclass
class ContentScreen(Step):
    """Drop or flag rows containing listed words (whole words, any case) or matching regexes."""

    name: ClassVar[str] = "screen"
    words: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    action: str = "drop"

    def apply(self, records, rng, report):
        if self.action not in ("drop", "flag"):
            raise FtlabError(f"screen: action={self.action!r}; use 'drop' or 'flag'.")
        rules = []
        if self.words:
            rules.append(re.compile(r"\b(?:" + "|".join(re.escape(w) for w in self.words) + r")\b", re.I))
        for pattern in self.patterns:
            try:
                rules.append(re.compile(pattern, re.I))
            except re.error as exc:
                raise FtlabError(f"screen: pattern {pattern!r} is not a valid regex ({exc}).") from None
        out = []
        hits: Counter = Counter()
        for record in records:
            text = record.joined()
            match = next((m for rule in rules for m in [rule.search(text)] if m), None)
            if match is None:
                out.append(record)
                continue
            hits[match.group(0).lower()] += 1
            reason = f"banned content {match.group(0)!r}"
            if self.action == "drop":
                report.drop(record, reason)
            else:
                report.flag(record, reason)
                record.meta["flag"] = reason
                out.append(record)
        report.counts = dict(hits.most_common())
        return out


@dataclass
class Balance(Step):
    """Even out classes: 'under' samples every class down to the smallest, 'over' repeats rows up to the largest."""

    name: ClassVar[str] = "balance"
    strategy: str = "under"

    def apply(self, records, rng, report):
        if self.strategy not in ("under", "over"):
            raise FtlabError(f"balance: strategy={self.strategy!r}; use 'under' or 'over'.")
        labelled = [r for r in records if r.label is not None]
        if len(labelled) != len(records):
            raise FtlabError("balance: needs a label on every row (classification or kto data); "
                             f"{len(records) - len(labelled)} rows have none.")
        groups: dict[Any, list[Record]] = {}
        for record in records:
            groups.setdefault(record.label, []).append(record)
        target = (min if self.strategy == "under" else max)(len(g) for g in groups.values())
        keep: set[int] = set()
        extra: list[Record] = []
        for label, group in groups.items():
            if len(group) > target:
                chosen = rng.sample(range(len(group)), target)
                keep.update(id(group[i]) for i in chosen)
                for i in sorted(set(range(len(group))) - set(chosen)):
                    report.drop(group[i], f"undersampled class {label!r} ({len(group)} → {target})")
            else:
                keep.update(id(r) for r in group)
                for n in range(target - len(group)):
                    copy = dataclasses.replace(group[rng.randrange(len(group))])
                    copy.meta = {**copy.meta, "where": f"{copy.where} (copy {n + 1})"}
                    extra.append(copy)
            report.counts[str(label)] = target
        if extra:
            report.counts["added"] = len(extra)
        return [r for r in records if id(r) in keep] + extra


@dataclass
class PreferenceCheck(Step):
    """Preference pairs that teach nothing or the wrong thing (``ftlab.data.pair_checks`` says what each check is).

    Dropped: an empty side, sides equal but for spaces, sides that continue
    different dialogues.  Flagged: sides that repeat the prompt turns, an answer
    that only repeats the question, a side ``max_ratio`` times as long as the
    other and at least ``min_gap`` words longer.  Across the dataset the report
    counts which side is longer (``counts``) and notes a length bias when the
    chosen answer is the longer (or shorter) one in ``bias_share`` of at least
    ``bias_min_pairs`` pairs; lengths are in words, a CJK character being one.
    """

    name: ClassVar[str] = "pairs"
    max_ratio: float = 4.0
    min_gap: int = 16
    bias_share: float = 0.7
    bias_min_pairs: int = 10

    def apply(self, records, rng, report):
        out = []
        for record in records:
            findings = pair_findings(record, self.max_ratio, self.min_gap) if record.format == "preference" else []
            if any(f.action == "drop" for f in findings):
                report.drop(record, findings[0].reason)
                continue
            for finding in findings:
                report.flag(record, finding.reason)
            if findings:
                record.meta["flag"] = "; ".join(f.reason for f in findings)
            out.append(record)
        if any(r.format == "preference" for r in out):
            bias = length_bias(out)
            report.counts = bias.to_counts()
            note = bias_finding(bias, self.bias_share, self.bias_min_pairs)
            if note:
                report.notes.append(note)
        return out


@dataclass
class Perplexity(Step):
    """Score each row with a reference model; drop the noisiest share or rows above a limit.

    Every kept row gets ``meta['perplexity']``, so rows can also be ranked
    without dropping any (``drop_fraction=0``).
    """

    name: ClassVar[str] = "perplexity"
    model: Any = "ftlab/tiny-chat"
    drop_fraction: float = 0.0
    max_perplexity: float | None = None
    batch_size: int = 16

    def apply(self, records, rng, report):
        from ftlab.data.scoring import perplexities

        scores = perplexities([r.joined() for r in records], self.model, self.batch_size)
        limit = self.max_perplexity
        n_drop = int(len(records) * self.drop_fraction)
        worst = set(sorted(range(len(records)), key=lambda i: -scores[i])[:n_drop])
        out = []
        for i, (record, score) in enumerate(zip(records, scores)):
            record.meta["perplexity"] = round(score, 3)
            if i in worst:
                report.drop(record, f"high perplexity ({score:.1f}, worst {self.drop_fraction:.0%})")
            elif limit is not None and score > limit:
                report.drop(record, f"high perplexity ({score:.1f} > {limit})")
            else:
                out.append(record)
        return out


@dataclass
class GenerateQA(Step):
    """Turn raw-text rows into Q/A rows: chunk each document and ask questions about the chunks."""

    name: ClassVar[str] = "generate_qa"
    chunk_chars: int = 600
    per_chunk: int = 2
    model: Any = None
    max_new_tokens: int = 96

    def apply(self, records, rng, report):
        from ftlab.data.synthesize import qa_from_document

        out = []
        for record in records:
            if record.format != "text":
                out.append(record)
                continue
            made = qa_from_document(record.text, record.meta.get("id", record.where), self.chunk_chars,
                                    self.per_chunk, rng, self.model, self.max_new_tokens)
            report.drop(record, f"replaced by {len(made)} generated Q/A rows")
            out.extend(made)
        report.counts["generated"] = sum(r.format == "qa" and "generated_from" in r.meta for r in out)
        return out


STEPS: dict[str, type[Step]] = {cls.name: cls for cls in (
    Normalize, DropEmpty, LengthFilter, ExactDedup, NearDedup, MaskPII, ContentScreen, Balance,
    PreferenceCheck, Perplexity, GenerateQA)}
DEFAULT_STEPS = ("normalize", "drop_empty", "length", "pairs", "dedup", "near_dedup", "pii")


def build_steps(names: list[str] | tuple[str, ...], params: dict[str, dict] | None = None) -> list[Step]:
    """Steps by name, each with its parameters from ``params[name]``."""
    params = params or {}
    steps = []
    for name in names:
        if name not in STEPS:
            raise FtlabError(f"unknown step {name!r}; the steps are {', '.join(STEPS)}.")
        try:
            steps.append(STEPS[name](**params.get(name, {})))
        except TypeError as exc:
            allowed = ", ".join(f.name for f in dataclasses.fields(STEPS[name]))
            raise FtlabError(f"step {name!r}: {exc}; its parameters are {allowed}.") from None
    return steps
