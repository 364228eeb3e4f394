"""Q/A pairs from documents: chunk the text, then ask template questions, or a model, about each chunk.

Templates need no model and give grounded pairs (the answer is a sentence of
the chunk); a model writes freer questions and answers but can invent facts,
so its rows go through the same quality pipeline as any other.
"""

from __future__ import annotations

import random
import re
from typing import Any

from ftlab.data.records import Record

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]{3,}")
_STOP = set("""about after again also because been before being below between both could does doing down during
each from further have having here into itself just more most other over same should some such than that their
them then there these they this those through under until very were what when where which while whom will with
would your usually""".split())


def chunk_text(text: str, max_chars: int = 600) -> list[str]:
    """Paragraph-aligned chunks of at most ``max_chars`` (a longer paragraph is cut between sentences)."""
    pieces = []
    for para in re.split(r"\n\s*\n", text.strip()):
        para = " ".join(para.split())
        if len(para) <= max_chars:
            pieces.append(para)
        else:
            pieces += _SENTENCE.split(para)
    chunks, current = [], ""
    for piece in pieces:
        if current and len(current) + 1 + len(piece) > max_chars:
            chunks.append(current)
            current = piece
        else:
            current = f"{current} {piece}".strip() if current else piece
    if current:
        chunks.append(current)
    return chunks


def _topic(sentence: str) -> str | None:
    words = [w for w in _WORD.findall(sentence) if w.lower() not in _STOP]
    return max(words, key=len).lower() if words else None


def template_pairs(chunk: str, source: str, n: int, rng: random.Random) -> list[tuple[str, str]]:
    """Up to ``n`` (question, answer) pairs whose answers are sentences of the chunk."""
    sentences = [s.strip() for s in _SENTENCE.split(chunk) if len(s.split()) >= 5]
    pairs = []
    for sentence in rng.sample(sentences, min(n, len(sentences))):
        topic = _topic(sentence)
        if topic and rng.random() < 0.5:
            pairs.append((f"What does the text on {source} say about {topic}?", sentence))
        else:
            words = sentence.split()
            cut = max(2, len(words) // 2)
            pairs.append((f"Complete this sentence from the text on {source}: \"{' '.join(words[:cut])} ...\"",
                          " ".join(words[cut:])))
    return pairs


def model_pairs(chunks: list[str], model: Any, tokenizer: Any = None, max_new_tokens: int = 96
                ) -> list[tuple[str, str]]:
    """One (question, answer) per chunk, both written by ``model`` (a name or a loaded model)."""
    from ftlab.models.generation import generate
    from ftlab.models.loader import load_model, load_tokenizer

    if isinstance(model, str):
        tokenizer, model = load_tokenizer(model), load_model(model)
    questions = generate(model, tokenizer, [f"Write one question that this passage answers.\n\n{c}" for c in chunks],
                         max_new_tokens=max(4, max_new_tokens // 2))
    answers = generate(model, tokenizer, [f"Answer from the passage.\n\nPassage: {c}\n\nQuestion: {q}"
                                          for c, q in zip(chunks, questions)], max_new_tokens=max_new_tokens)
    return list(zip(questions, answers))


def qa_from_document(text: str, source: str, chunk_chars: int = 600, per_chunk: int = 2,
                     rng: random.Random | None = None, model: Any = None, max_new_tokens: int = 96
                     ) -> list[Record]:
    rng = rng or random.Random(0)
    chunks = chunk_text(text, chunk_chars)
    topic = re.sub(r"\.\w+$", "", str(source).rsplit("/", 1)[-1]).replace("_", " ")
    if model is None:
        made = [(i, q, a) for i, c in enumerate(chunks) for q, a in template_pairs(c, topic, per_chunk, rng)]
    else:
        made = [(i, q, a) for i, (q, a) in enumerate(model_pairs(chunks, model, max_new_tokens=max_new_tokens))]
    return [Record("qa", [{"role": "user", "content": q}, {"role": "assistant", "content": a}],
                   meta={"where": f"{source}, chunk {i + 1}, pair {n + 1}", "generated_from": str(source)})
            for n, (i, q, a) in enumerate(made)]
