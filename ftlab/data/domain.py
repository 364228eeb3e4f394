"""A fictional domain for continued pretraining: the facts of an invented world.

The world (``World``) is drawn from a seed: people with made-up names, each
with a home town, a guild and a colour they wear (towns and guilds are
made-up words too, so no fact can come from memorised English).  It gives
two kinds of data:

- a **corpus**: short plain-text biographies stating one person's facts in
  varied sentence forms and orders (row kind ``text``, stage ``cpt``);
  the held-out splits are fresh biographies of the same people, so the facts
  are known and only the wording is new;
- a **Q/A set**: "Which guild does Vorrak belong to?" -> "the Tessel guild"
  (row kind ``sft``), split *by person*: the training questions ask about one
  group of people, the validation and test questions about the others.  Every
  fact is in the corpus, but no test fact is in the training Q/A, so only a
  model that read the corpus can answer the test questions; SFT alone teaches
  the question format, not the facts.

Built-in task ``domain_facts`` (registered in :mod:`ftlab.data.tasks`): ``data.task=domain_facts``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import lru_cache

from ftlab.data.words import pseudo_word

# Few people, so that a 1M-parameter model reads their facts into its weights in a few minutes of CPT: 12 people's
# facts are learnt after 300-450 steps at lr 3e-3 (full fine-tuning); neither 12 nor 40 in 300 steps at lr 2e-3.
N_PEOPLE = 12
QA_SHARES = (0.5, 0.1, 0.4)  # people whose questions go to train / validation / test
COLOURS = ("red", "blue", "green", "gold", "grey", "white")
ATTRIBUTES = ("town", "guild", "colour")

SENTENCES = {
    "town": ("{name} comes from {town}.", "{name} was born in {town}.", "{name} lives in the town of {town}.",
             "The town of {town} is home to {name}.", "{name} grew up in {town}."),
    "guild": ("{name} belongs to the {guild} guild.", "{name} is a member of the {guild} guild.",
              "The {guild} guild counts {name} among its members.", "{name} joined the {guild} guild.",
              "{name} works for the {guild} guild."),
    "colour": ("{name} always wears {colour}.", "{name} dresses in {colour}.",
               "The favourite colour of {name} is {colour}.", "{name} is known for a {colour} cloak.",
               "{name} likes to wear {colour}."),
}
# Each answer starts with words the corpus puts before that value ("the town of", "always wears"), so the model answers
# by going on as it read.  Bare values ("Vagi", "grey") asked a 1M-parameter model to recall the fact from a new context:
# test exact match at chance after CPT, though the facts were known (fact_ppl 1.04); only the guild answers were right.
QUESTIONS = {
    "town": ("Which town is {name} from?", "the town of {town}"),
    "guild": ("Which guild does {name} belong to?", "the {guild} guild"),
    "colour": ("What colour does {name} wear?", "always wears {colour}"),
}


@dataclass(frozen=True)
class Person:
    name: str
    town: str
    guild: str
    colour: str

    def facts(self) -> dict[str, str]:
        return {"name": self.name, "town": self.town, "guild": self.guild, "colour": self.colour}


@dataclass(frozen=True)
class World:
    people: tuple[Person, ...]
    towns: tuple[str, ...]
    guilds: tuple[str, ...]

    def values(self) -> set[str]:
        """Every attribute value: the words of a text that only knowing the facts predicts."""
        return set(self.towns) | set(self.guilds) | set(COLOURS)

    def qa_people(self) -> dict[str, list[Person]]:
        """People whose questions form each Q/A split (disjoint groups)."""
        n_train = round(QA_SHARES[0] * len(self.people))
        n_validation = round(QA_SHARES[1] * len(self.people))
        return {"train": list(self.people[:n_train]),
                "validation": list(self.people[n_train:n_train + n_validation]),
                "test": list(self.people[n_train + n_validation:])}


@lru_cache(maxsize=16)
def world(seed: int = 0, n_people: int = N_PEOPLE) -> World:
    """The world of a seed: distinct names; each value held by about as many people as any other."""
    rng = random.Random(f"domain_facts:world:{seed}")
    used: set[str] = set()

    def fresh(min_len: int, max_len: int, initials: set[str] | None = None) -> str:
        while True:
            word = pseudo_word(rng, min_len, max_len).capitalize()
            if word not in used and (initials is None or word[0] not in initials):
                used.add(word)
                if initials is not None:
                    initials.add(word[0])
                return word

    town_initials: set[str] = set()
    guild_initials: set[str] = set()
    # Values of one attribute start with different letters: the first letter of an answer carries the fact.
    towns = tuple(fresh(4, 6, town_initials) for _ in range(6))
    guilds = tuple(fresh(4, 6, guild_initials) for _ in range(6))

    def balanced(values) -> list[str]:
        out = [values[i % len(values)] for i in range(n_people)]
        rng.shuffle(out)
        return out

    columns = [balanced(towns), balanced(guilds), balanced(COLOURS)]
    people = tuple(Person(fresh(4, 7), *row) for row in zip(*columns))
    return World(people, towns, guilds)


def biography(rng: random.Random, person: Person) -> str:
    """One short document: the person's three facts, each in a random sentence form, in a random order."""
    attributes = list(ATTRIBUTES)
    rng.shuffle(attributes)
    return " ".join(rng.choice(SENTENCES[a]).format(**person.facts()) for a in attributes)


def documents(seed: int, n_train: int, n_validation: int, n_test: int) -> dict[str, list[str]]:
    """Distinct biographies of every person per split, no text shared between splits.

    Each split cycles through the people, so each person has about as many
    documents as any other.
    """
    people = world(seed).people
    rng = random.Random(f"domain_facts:documents:{seed}")
    seen: set[str] = set()
    out = {}
    for split, n in (("train", n_train), ("validation", n_validation), ("test", n_test)):
        texts = []
        for i in range(n):
            for _ in range(200):
                text = biography(rng, people[i % len(people)])
                if text not in seen:
                    break
            seen.add(text)
            texts.append(text)
        out[split] = texts
    return out


def question(person: Person, attribute: str) -> tuple[str, str]:
    prompt, answer = QUESTIONS[attribute]
    return prompt.format(**person.facts()), answer.format(**person.facts())


def qa_splits(seed: int, n_train: int, n_validation: int, n_test: int) -> dict[str, list[tuple[str, str]]]:
    """Questions about every fact of each split's people, at most ``n_*`` per split (a split has as many as its
    people have facts: with 12 people, 18 / 3 / 15)."""
    groups = world(seed).qa_people()
    sizes = {"train": n_train, "validation": n_validation, "test": n_test}
    return {split: [question(p, a) for p in people for a in ATTRIBUTES][:sizes[split]]
            for split, people in groups.items()}


def value_spans(text: str, values: set[str]) -> list[tuple[int, int]]:
    """Character spans of the attribute values in ``text`` (whole words)."""
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, values), key=len, reverse=True)) + r")\b")
    return [m.span() for m in pattern.finditer(text)]


def random_question(rng: random.Random) -> tuple[str, str]:
    """Any question about the world of seed 0 (the task's ``make``; its splits come from ``qa_splits``)."""
    return question(rng.choice(world(0).people), rng.choice(ATTRIBUTES))
