"""Built-in synthetic tasks: seeded, offline, and hard for the base model.

Each task is a generator of (prompt, completion) pairs, drawn into Q/A
records like any data file's rows.  The tiny built-in
model was pre-trained on the tasks marked ``in_base`` (copying, reversing,
upper-casing words...), so it already follows the chat format and can move
characters around; the other tasks are new to it, which is what makes the
effect of fine-tuning on them measurable in a few minutes on a CPU.

A new task is one ``register_task(Task(...))`` call.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from ftlab.data import domain
from ftlab.data.records import Record
from ftlab.data.words import pseudo_word
from ftlab.errors import FtlabError

_MONTHS = ["January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December"]


def shift_letters(word: str, shift: int) -> str:
    return "".join(chr((ord(c) - 97 + shift) % 26 + 97) if c.islower() else c for c in word)


@dataclass(frozen=True)
class Task:
    """A family of examples with one skill in common.

    ``make`` draws one (prompt, completion) pair from a seeded generator;
    ``max_new_tokens`` bounds generation when the task is evaluated.  A
    classification task names its ``labels``: evaluation then scores each label
    as the answer (probabilities, ROC-AUC, calibration) besides generating one.
    ``near_miss`` turns a right answer into a plausible wrong one: the rejected
    side of the task's preference pairs (stages dpo, kto, orpo, rm), so the
    preferred answer is measurably better on the task's own metric.
    ``documents`` gives plain-text documents (the ``text`` rows of continued
    pretraining); ``qa_splits`` replaces the drawing of distinct prompts when
    the held-out questions must differ from the training ones in a chosen way
    (:mod:`ftlab.data.domain` splits them by person).
    """

    name: str
    description: str
    make: Callable[[random.Random], tuple[str, str]]
    max_new_tokens: int = 24
    in_base: bool = False
    labels: tuple[str, ...] | None = None
    near_miss: Callable[[random.Random, str], str] | None = None
    # Optional hooks, each (seed, n_train, n_validation, n_test) -> split -> items:
    documents: Callable[[int, int, int, int], dict[str, list[str]]] | None = None  # plain text (stage cpt)
    qa_splits: Callable[[int, int, int, int], dict[str, list[tuple[str, str]]]] | None = None  # own Q/A splits


TASKS: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise FtlabError(
            f"Unknown built-in task {name!r}. Built-in tasks: {', '.join(sorted(TASKS))}. "
            "To train on your own data, set data.train_file instead."
        ) from None


def _cipher(rng: random.Random) -> tuple[str, str]:
    word = pseudo_word(rng, 3, 8)
    return f"Encrypt with the shift-3 cipher: {word}", shift_letters(word, 3)


def _date_format(rng: random.Random) -> tuple[str, str]:
    year, month, day = rng.randint(1950, 2049), rng.randint(1, 12), rng.randint(1, 28)
    return (f"Write this date out in words: {year:04d}-{month:02d}-{day:02d}",
            f"{day} {_MONTHS[month - 1]} {year}")


# How many letters a half-trained model gets wrong in a cipher answer of the right length: measured on the
# built-in model after 160 steps of cipher SFT (exact match 0.10), 267 such wrong answers to validation prompts,
# by count of wrong letters 1, 2, ..., 8.  The wrong letters were any other letter (off by one in only 16% of them).
_CIPHER_WRONG_LETTERS = (68, 73, 33, 36, 25, 23, 7, 2)


def _cipher_near_miss(rng: random.Random, answer: str) -> str:
    """The answer with some letters wrong, as a half-trained model gets them wrong (one to eight letters, as often
    as measured; each replaced by another letter)."""
    letters = list(answer)
    wrong = rng.choices(range(1, len(_CIPHER_WRONG_LETTERS) + 1), weights=_CIPHER_WRONG_LETTERS)[0]
    for i in rng.sample(range(len(letters)), k=min(len(letters), wrong)):
        letters[i] = rng.choice([c for c in "abcdefghijklmnopqrstuvwxyz" if c != letters[i]])
    return "".join(letters)


def _date_near_miss(rng: random.Random, answer: str) -> str:
    day, month, year = answer.split(" ")
    choice = rng.randrange(3)
    if choice == 0:
        return f"{int(day) % 28 + 1} {month} {year}"
    if choice == 1:
        return f"{day} {_MONTHS[(_MONTHS.index(month) + rng.choice((-1, 1))) % 12]} {year}"
    return f"{day} {month} {int(year) + rng.choice((-1, 1))}"


register_task(Task("cipher", "Shift every letter of a made-up word three places along the alphabet "
                   "(a→d, x→a). Exact match needs every letter right.", _cipher, max_new_tokens=12,
                   near_miss=_cipher_near_miss))
register_task(Task("date_format", "Rewrite an ISO date (2031-07-04) as words (4 July 2031).",
                   _date_format, max_new_tokens=20, near_miss=_date_near_miss))

_GROUPS = {"early": "abcdefgh", "middle": "ijklmnop", "late": "qrstuvwxyz"}


def _letter_group(rng: random.Random) -> tuple[str, str]:
    word = pseudo_word(rng, 3, 8)
    group = next(name for name, letters in _GROUPS.items() if word[0] in letters)
    return f"Classify the first letter of {word}: early (a-h), middle (i-p) or late (q-z)?", group


def _word_facts(rng: random.Random) -> tuple[str, str]:
    word = pseudo_word(rng, 3, 8)
    return (f"Describe the made-up word {word}",
            f"{word} has {len(word)} letters, starts with {word[0]} and ends with {word[-1]}.")


register_task(Task("letter_group", "Put a made-up word in one of three classes by its first letter (a-h, i-p, "
                   "q-z): classification, for accuracy, F1, the confusion matrix, ROC-AUC and calibration.",
                   _letter_group, max_new_tokens=8, labels=tuple(_GROUPS),
                   near_miss=lambda rng, answer: rng.choice([g for g in _GROUPS if g != answer])))
register_task(Task("word_facts", "Describe a made-up word in one templated sentence: a free-text answer that earns "
                   "partial credit (F1, BLEU, ROUGE) before it is exactly right.", _word_facts, max_new_tokens=64))

# Pre-training skills of the built-in model: generic character handling in the
# chat format.  They are tasks too, so the model's corpus is reproducible here.
def _word_skill(instruction: str, transform: Callable[[str], str]) -> Callable[[random.Random], tuple[str, str]]:
    def make(rng: random.Random) -> tuple[str, str]:
        word = pseudo_word(rng, 3, 9)
        return f"{instruction}: {word}", transform(word)
    return make


def _next_letter(rng: random.Random) -> tuple[str, str]:
    letter = rng.choice("abcdefghijklmnopqrstuvwxy")
    return f"Next letter after {letter}", shift_letters(letter, 1)


for _name, _instruction, _transform in [
    ("repeat", "Repeat", lambda w: w),
    ("reverse", "Reverse", lambda w: w[::-1]),
    ("uppercase", "Uppercase", str.upper),
    ("spell", "Spell", "-".join),
]:
    register_task(Task(_name, f"{_instruction} a made-up word.", _word_skill(_instruction, _transform), in_base=True))
register_task(Task("next_letter", "Name the letter after a letter: the alphabet order the cipher relies on.",
                   _next_letter, max_new_tokens=4, in_base=True))


def distinct_examples(task: str | Task, seed: int, n: int) -> list[tuple[str, str]]:
    """Up to ``n`` distinct (prompt, completion) pairs: fewer when the task has fewer (next_letter has 25)."""
    task = get_task(task) if isinstance(task, str) else task
    rng = random.Random(f"{task.name}:probe:{seed}")
    seen: dict[str, str] = {}
    for _ in range(50 * n):
        if len(seen) == n:
            break
        prompt, completion = task.make(rng)
        seen.setdefault(prompt, completion)
    return list(seen.items())


def build_splits(task: str | Task, seed: int = 0, n_train: int = 2000, n_validation: int = 200,
                 n_test: int = 200, rows: str = "sft") -> dict[str, list[Record]]:
    """Train/validation/test splits of Q/A records with no prompt shared between them.

    Drawing stops when enough distinct prompts exist; a task whose space is
    too small for the sizes asked raises instead of looping forever.  For a
    stage that reads preference or KTO rows, each record is a preference pair
    instead: the right answer chosen, the task's near miss rejected.  For a
    stage that reads plain text (``rows="text"``), the records are the task's
    documents.
    """
    task = get_task(task) if isinstance(task, str) else task
    if rows == "text":
        return _text_splits(task, seed, n_train, n_validation, n_test)
    if task.qa_splits is not None:
        splits = {split: _qa_records(task, split, pairs)
                  for split, pairs in task.qa_splits(seed, n_train, n_validation, n_test).items()}
    else:
        splits = _qa_splits(task, seed, n_train, n_validation, n_test)
    if rows in ("preference", "kto"):
        if task.near_miss is None:
            with_pairs = ", ".join(name for name, t in TASKS.items() if t.near_miss)
            raise FtlabError(f"Built-in task {task.name!r} has no preference pairs (no near-miss answers); "
                             f"tasks with pairs: {with_pairs}. Or set data.train_file to your own pairs.")
        rng = random.Random(f"{task.name}:pairs:{seed}")
        return {split: [_pair(record, task.near_miss(rng, record.messages[1]["content"])) for record in records]
                for split, records in splits.items()}
    return splits


def _pair(record: Record, rejected: str) -> Record:
    return Record("preference", record.messages[:1], chosen=record.messages[1:],
                  rejected=[{"role": "assistant", "content": rejected}], meta=record.meta)


def _text_splits(task: Task, seed: int, n_train: int, n_validation: int, n_test: int) -> dict[str, list[Record]]:
    if task.documents is None:
        with_text = ", ".join(name for name, t in TASKS.items() if t.documents)
        raise FtlabError(f"Built-in task {task.name!r} has no documents, so it gives no plain text to pretrain on "
                         f"(stage cpt); tasks with documents: {with_text}. Or set data.train_file to your own "
                         "text (one document per row, format text).")
    return {split: [Record("text", text=text, meta={"where": f"{task.name} {split} document {i + 1}"})
                    for i, text in enumerate(texts)]
            for split, texts in task.documents(seed, n_train, n_validation, n_test).items()}


def _qa_records(task: Task, split: str, pairs: list[tuple[str, str]]) -> list[Record]:
    return [Record("qa", [{"role": "user", "content": p}, {"role": "assistant", "content": c}],
                   meta={"where": f"{task.name} {split} row {i + 1}"})
            for i, (p, c) in enumerate(pairs)]


def _qa_splits(task: Task, seed: int, n_train: int, n_validation: int, n_test: int) -> dict[str, list[Record]]:
    rng = random.Random(f"{task.name}:{seed}")
    wanted = n_train + n_validation + n_test
    seen: dict[str, str] = {}
    attempts = 0
    while len(seen) < wanted:
        attempts += 1
        if attempts > 50 * wanted:
            raise FtlabError(f"Task {task.name!r} has fewer than {wanted} distinct examples; "
                             "ask for smaller splits.")
        prompt, completion = task.make(rng)
        seen.setdefault(prompt, completion)
    rows = list(seen.items())
    cuts = {"train": (0, n_train), "validation": (n_train, n_train + n_validation),
            "test": (n_train + n_validation, wanted)}
    return {split: _qa_records(task, split, rows[a:b]) for split, (a, b) in cuts.items()}


register_task(Task("domain_facts", "Facts of an invented world (people, home towns, guilds, colours): a text corpus "
                   "for continued pretraining and questions split by person, so the test asks facts found only "
                   "in the corpus (ftlab.data.domain).", domain.random_question, max_new_tokens=20,
                   documents=domain.documents, qa_splits=domain.qa_splits))
