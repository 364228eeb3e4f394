"""Find and mask personal data in text, with a checksum wherever the number format has one.

A 16-digit number is masked as a card only when its Luhn digit is right, an
IBAN only when mod-97 gives 1: order numbers and timestamps stay readable.
Kinds are tried in a fixed order (URLs with credentials before e-mails, cards
before phone numbers) so each piece of text is counted once.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Callable

MASKS = {"url_credentials": "[CREDENTIALS]", "email": "[EMAIL]", "credit_card": "[CARD]", "iban": "[IBAN]",
         "ssn": "[ID]", "ipv4": "[IP]", "ipv6": "[IP]", "phone": "[PHONE]"}
KINDS = tuple(MASKS)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(iban: str) -> bool:
    iban = iban.replace(" ", "").upper()
    moved = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


def _ipv4_ok(text: str) -> bool:
    return all(int(part) <= 255 for part in text.split("."))


def _ipv6_ok(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return text.count(":") >= 2


# kind -> (pattern, extra check on the match, which group to replace)
_RULES: dict[str, tuple[re.Pattern, Callable[[str], bool] | None, int]] = {
    "url_credentials": (re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://([^\s/:@]+:[^\s/@]+)@"), None, 1),
    "email": (re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b"), None, 0),
    "credit_card": (re.compile(r"\b\d(?:[ -]?\d){12,18}\b"),
                    lambda s: luhn_ok(re.sub(r"\D", "", s)), 0),
    "iban": (re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b"), iban_ok, 0),
    "ssn": (re.compile(r"\b\d{3}-\d{2}-\d{4}\b"), None, 0),
    "ipv4": (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"), _ipv4_ok, 0),
    "ipv6": (re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])"), _ipv6_ok, 0),
    "phone": (re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,4}(?!\w)"),
              lambda s: 9 <= len(re.sub(r"\D", "", s)) <= 15, 0),
}
# A rule is only tried on text that contains what every match of it must contain
# (cheap substring tests); the rules left are joined into one pattern, so the
# text is scanned once.
_NEEDS: dict[str, Callable[[str], bool]] = {
    "url_credentials": lambda t: "://" in t and "@" in t,
    "email": lambda t: "@" in t,
    "ssn": lambda t: "-" in t,
    "ipv4": lambda t: "." in t,
    "ipv6": lambda t: t.count(":") >= 2,
}
_DIGITS = re.compile(r"\d")
_JOINED: dict[tuple[str, ...], re.Pattern] = {}


def _joined(kinds: tuple[str, ...]) -> re.Pattern:
    if kinds not in _JOINED:
        _JOINED[kinds] = re.compile("|".join(f"(?P<{k}>{_RULES[k][0].pattern})" for k in kinds))
    return _JOINED[kinds]


def mask_pii(text: str, kinds: tuple[str, ...] = KINDS) -> tuple[str, dict[str, int]]:
    """The text with each kind of personal data replaced by its mask, and how many of each were found.

    Where two kinds could match at one place the earlier in ``KINDS`` wins; a
    match whose checksum fails is offered to the kinds after it (a number
    failing Luhn may still be a phone number).
    """
    counts: dict[str, int] = {}
    if not _DIGITS.search(text) and "@" not in text and "::" not in text:  # nothing any rule can match
        return text, counts
    kinds = tuple(k for k in kinds if _NEEDS.get(k, bool)(text))
    if not kinds:
        return text, counts

    def replace(match: re.Match) -> str:
        kind = next(k for k in kinds if match.group(k) is not None)
        whole = match.group(kind)
        pattern, check, group = _RULES[kind]
        if check is not None and not check(whole):
            rest = kinds[kinds.index(kind) + 1:]
            if not rest:
                return whole
            masked, found = mask_pii(whole, rest)
            for k, n in found.items():
                counts[k] = counts.get(k, 0) + n
            return masked
        counts[kind] = counts.get(kind, 0) + 1
        if group == 0:
            return MASKS[kind]
        inner = pattern.match(whole)
        start, end = inner.span(group)
        return whole[:start] + MASKS[kind] + whole[end:]

    return _joined(kinds).sub(replace, text), counts
