"""Text helpers shared by the generation metrics: whitespace and Chinese/Japanese characters."""

import re

# Han ideographs (Chinese, Japanese kanji; the basic block, extensions A-H and compatibility forms) and
# Japanese kana: scripts written without spaces between words, so a whitespace split would make a whole
# sentence one token.  Hangul is left out: Korean puts spaces between words.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_CJK_CHAR = re.compile(f"[{CJK}]")


def normalise(text: str) -> str:
    """Collapse runs of whitespace and trim: formatting is not content."""
    return " ".join(text.strip().split())


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds a CJK character: then it needs tokenizing by character, not by space."""
    return _CJK_CHAR.search(text) is not None
