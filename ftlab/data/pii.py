"""Find and mask personal data in English, Chinese and mixed text, with a checksum wherever the format has one.

What makes a match count, kind by kind:

- ``cn_id`` (mainland resident ID): 17 digits and a check character (ISO 7064
  MOD 11-2, ``X`` for ten) with a real, past birth date at digits 7-14.  One
  random 18-digit number in eleven passes the check, fewer still with a date
  in the right place.
- ``credit_card``: 13-19 digits passing Luhn, whose length and first digits
  are ones issuers use (UnionPay 62 and 81, Visa 4, Mastercard 22-27 and 5...).
  Luhn alone lets one number in ten through; the issuer prefix keeps 14-digit
  order numbers and timestamps (2023..., 2024...) out.
- ``iban``: mod-97 gives 1.  ``ssn``: the US 3-2-4 shape.
- ``passport_no``: a passport number has no check digit of its own, so either
  the word before it says so (护照, 护照号, passport no.) or it has the shape of
  a Chinese one (E or G and 8 digits, E and a letter and 7 digits: EA1234567).
- ``ipv4`` (each part at most 255), ``ipv6`` (parses), ``email``,
  ``url_credentials``: the shapes themselves.
- ``phone``: no checksum, so only unambiguous shapes count: a Chinese mobile
  (1[3-9] and 9 more digits, with or without +86 / 0086 / (+86)), a Chinese landline
  (0 and an area code, 7-8 digits, maybe an extension after 转 / 分机 / ext), or
  9-15 digits written the way phone numbers are written (a + country code, an
  area code in brackets, or groups of 2-4 digits ending in a group of four).
  A bare run of digits in any other shape is more often an order number, a
  timestamp or an account number than a phone number, and stays.

Dates and times (2024-03-15 09:30), prices, timestamps (20240315093000) and
model names (Qwen2.5-7B-Instruct, gpt-4o-2024-08-06) fit none of these
shapes.  Two kinds of number that could are kept on purpose: one right after
订单号 / 单号 / 运单 / order / tracking / invoice... (a Luhn-valid 16-digit order
number is still an order number), and a version after v / version / 版本
(``version 1.2.3.4`` is not an IP address).  These are matched like the
kinds, before them, and put back unchanged.

Kinds are tried in a fixed order (URLs with credentials before e-mails, ID
numbers before cards before phone numbers) so each piece of text is counted
once.  Word boundaries are ASCII ones: Python's default ``\\b`` takes a Chinese
character for a letter, so in 请联系张三zhangsan@example.com或13800138000咨询
neither the e-mail nor the phone number would have a boundary around it.
Digits are ASCII digits too: ``Normalize`` turns full-width ones (１３８) into
ASCII first.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from typing import Callable

MASKS = {"url_credentials": "[CREDENTIALS]", "email": "[EMAIL]", "cn_id": "[ID]", "credit_card": "[CARD]",
         "iban": "[IBAN]", "ssn": "[ID]", "passport_no": "[PASSPORT]", "ipv4": "[IP]", "ipv6": "[IP]",
         "phone": "[PHONE]"}
KINDS = tuple(MASKS)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# The first digits issuers use, by card length: Visa 4 (13, 16, 19 digits), Diners 30/36/38/39 (14),
# Amex 34/37 (15), Mastercard 22-27 and 5 (16), JCB 35, Discover and UnionPay 6, UnionPay 81 (16-19).
_CARD_STARTS = {13: ("4",), 14: ("30", "36", "38", "39"), 15: ("34", "37"),
                16: ("22", "23", "24", "25", "26", "27", "3", "4", "5", "6", "81"),
                17: ("35", "6", "81"), 18: ("35", "6", "81"), 19: ("35", "4", "5", "6", "81")}


def card_ok(digits: str) -> bool:
    return digits.startswith(_CARD_STARTS.get(len(digits), ())) and luhn_ok(digits)


# Countries that issue IBANs: JD0012345678901 (a JD.com waybill) passes mod-97 one time in 97 but is no IBAN.
_IBAN_COUNTRIES = set("AD AE AL AT AZ BA BE BG BH BI BR BY CH CR CY CZ DE DJ DK DO EE EG ES FI FK FO FR GB GE GI GL "
                      "GR GT HR HU IE IL IQ IS IT JO KW KZ LB LC LI LT LU LV LY MC MD ME MK MN MR MT MU NI NL NO OM "
                      "PK PL PS PT QA RO RS RU SA SC SD SE SI SK SM SO ST SV TL TN TR UA VA VG XK YE".split())


def iban_ok(iban: str) -> bool:
    iban = iban.replace(" ", "").upper()
    if iban[:2] not in _IBAN_COUNTRIES:
        return False
    moved = iban[4:] + iban[:4]
    number = "".join(str(int(c, 36)) for c in moved)
    return int(number) % 97 == 1


_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2


def resident_id_ok(number: str) -> bool:
    """A mainland resident ID: MOD 11-2 check character right and the birth date a real day in the past."""
    number = number.replace(" ", "").upper()
    check = (12 - sum(int(d) * w for d, w in zip(number, _ID_WEIGHTS)) % 11) % 11
    if number[17] != "0123456789X"[check]:
        return False
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14])) <= date.today()
    except ValueError:
        return False


def _ipv4_ok(text: str) -> bool:
    return all(int(part) <= 255 for part in text.split("."))


def _ipv6_ok(text: str) -> bool:
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return text.count(":") >= 2


_CN_MOBILE = r"(?:(?:\+|00)86[ -]?|86[ -]|[(（]\+?86[)）] ?)?1[3-9]\d(?:[ -]?\d{4}){2}"
_CN_LANDLINE = (r"(?:0(?:10|2\d|[3-9]\d\d)|[(（]0(?:10|2\d|[3-9]\d\d)[)）])[ -]?\d{3,4}[ -]?\d{4}"
                r"(?: ?(?:转|分机|ext\.?|x) ?\d{1,6})?")
_INTERNATIONAL = r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}(?:[\s.-]?\d{2,4}){1,4}"
_CN_PHONE = re.compile(f"{_CN_MOBILE}|{_CN_LANDLINE}", re.ASCII)
_NON_DIGITS = re.compile(r"\D+")


def _phone_ok(text: str) -> bool:
    """A Chinese mobile or landline, or 9-15 digits with a + country code, an area code in brackets, or in groups.

    The groups must be of 2-4 digits and end with four (415-555-0132, 020 7946 0958): a list of prices
    (199 299 399) or a date and hour (2024-03-15 09) does not.
    """
    if _CN_PHONE.fullmatch(text):
        return True
    groups = _NON_DIGITS.split(text)
    if not 9 <= sum(map(len, groups)) <= 15:
        return False
    return text[0] in "+(" or (len(groups) > 1 and all(2 <= len(g) <= 4 for g in groups) and len(groups[-1]) == 4)


# kind -> (pattern, extra check on the match, which group to replace; 0 or an unmatched group: all of it).
# A lookahead on the first character opens the patterns that would otherwise be tried at every word: the scan
# moves on after one test (without them, masking the English rows of benchmarks/data_pipeline.py takes a third longer).
_RULES: dict[str, tuple[str, Callable[[str], bool] | None, int]] = {
    "url_credentials": (r"\b[A-Za-z][A-Za-z0-9+.-]*://([^\s/:@]+:[^\s/@]+)@", None, 1),
    "email": (r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b", None, 0),
    "cn_id": (r"(?=[1-9])\b[1-9]\d{5} ?(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]) ?\d{3}[\dXx]\b",
              resident_id_ok, 0),
    "credit_card": (r"\b\d(?:[ -]?\d){12,18}\b", lambda s: card_ok(_NON_DIGITS.sub("", s)), 0),
    "iban": (r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", iban_ok, 0),
    "ssn": (r"\b\d{3}-\d{2}-\d{4}\b", None, 0),
    "passport_no": (r"(?=[护PpEG])(?:(?:护照(?:号码|号)?|\b(?i:passport(?:\s*(?:no\.?|number|#))?))"
                    r"\s*(?:[:：#]|为|是)?\s*((?=[A-Z]{0,2}\d)[A-Z0-9]{6,9})\b"
                    r"|\b(?:[EG]\d{8}|E[A-HJ-NP-Z]\d{7})\b)", None, 1),
    "ipv4": (r"\b(?:\d{1,3}\.){3}\d{1,3}\b", _ipv4_ok, 0),
    "ipv6": (r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])", _ipv6_ok, 0),
    "phone": (rf"(?=[\d+(（])(?<![\w+])(?<![A-Za-z0-9]-)"
              rf"(?:{_CN_MOBILE}|{_CN_LANDLINE}|{_INTERNATIONAL})(?!\w)", _phone_ok, 0),
}
# Numbers that look like personal data but are not, put back as they were: a reference number after the word
# that names it, a version after v / version / 版本.
_KEEP = {
    "keep_reference": r"(?=[订运单发流交工合编序OoTtIiRrSsWw])"
                      r"(?:(?:订单|运单|单号|发票|流水号|交易号|工单|合同号|编号|序列号)(?:号码|号|代码)?"
                      r"|\b(?i:(?:order|tracking|invoice|ticket|ref(?:erence)?|transaction|txn|serial|sku|waybill"
                      r"|receipt)\b(?:\s*(?:no\.?|number|id|code))?))"
                      r"\s*(?:[:：#]|为|是)?\s*[A-Za-z]{0,4}\d[A-Za-z\d-]*(?: \d{4})*(?![\w@-])",
    "keep_version": r"(?=[VvBbRr版固])(?:\b(?i:v(?:ersion)?|ver\.?|build|release)|版本号?|固件)"
                    r"\s*[:：]?\s*v?\d+(?:\.\d+)+",
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
    "keep_version": lambda t: "." in t,
}
_DIGITS = re.compile(r"[0-9]")
_JOINED: dict[tuple[str, ...], re.Pattern] = {}


def _joined(names: tuple[str, ...]) -> re.Pattern:
    if names not in _JOINED:
        patterns = {**_KEEP, **{k: rule[0] for k, rule in _RULES.items()}}
        _JOINED[names] = re.compile("|".join(f"(?P<{n}>{patterns[n]})" for n in names), re.ASCII)
    return _JOINED[names]


def mask_pii(text: str, kinds: tuple[str, ...] = KINDS) -> tuple[str, dict[str, int]]:
    """The text with each kind of personal data replaced by its mask, and how many of each were found.

    Where two kinds could match at one place the earlier in ``KINDS`` wins; a
    match whose checksum fails is offered to the kinds after it (a number
    failing Luhn may still be a phone number).
    """
    counts: dict[str, int] = {}
    if not _DIGITS.search(text) and "@" not in text and "::" not in text:  # nothing any rule can match
        return text, counts
    kinds = tuple(k for k in kinds if k not in _NEEDS or _NEEDS[k](text))
    if not kinds:
        return text, counts
    keep = tuple(k for k in _KEEP if k not in _NEEDS or _NEEDS[k](text))

    def replace(match: re.Match) -> str:
        kind = match.lastgroup
        whole = match.group(kind)
        if kind in _KEEP:
            return whole
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
        inner = re.match(pattern, whole, re.ASCII) if group else None
        if inner is None or inner.group(group) is None:
            return MASKS[kind]
        start, end = inner.span(group)
        return whole[:start] + MASKS[kind] + whole[end:]

    return _joined(keep + kinds).sub(replace, text), counts
