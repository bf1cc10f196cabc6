"""Mask personal data in text: emails, phone numbers and card-like numbers.

``redact(text)`` replaces each email address with ``[email]``, each card-like number with
``[card]`` and each phone number with ``[phone]``; ``redact_value(obj)`` does it to every string
of a JSON-like structure (dict keys are kept). Everything else is left exactly as it was, so a
redacted transcript or export still reads the same.

Numbers are told apart by their shape, never by a guess at the whole sentence:

- A *digit chain* is a run of digit groups joined by one space, dot or dash each, optionally
  after ``+`` and with ``(area)`` groups: ``+44 (0)20 7946 0958``, ``4111-1111-1111-1111``. A
  chain glued to a word or to another number (``ORD-40142``, ``v1.2.3``, ``2026-06-15T10``,
  ``12:30``, ``1,299.99``) does not start or end there; an amount after or before a currency
  (``$``, ``€``, ``USD`` ...) and a UUID made of digits only are never masked.
- A *card* is whole groups of a chain: 13-19 digits, first digit 2-6 (the card networks), one
  kind of separator, groups of at least three digits (the last may have two), passing the Luhn
  check.
- A *phone* is a chain, or its first or last groups, with 7-15 digits (never inside a
  card-shaped chain, ``4111 1111 1111 1112``): after ``+`` in any grouping; with an
  ``(area code)``; else three or more groups of at most five digits (only the first may have
  one: ``1-800-555-0199``), or two groups after a trunk ``0`` (``020 79460958``). Not a date
  (``2026-06-15``, ``15.06.2026``), a dotted version or address (``10.0.19041.1``,
  ``192.168.10.20``) or a thousands-grouped number (``1 000 000``). A bare digit run is a
  phone only after a trunk ``0`` (``0612345678``, 10-11 digits): an order number or a
  conversation id looks the same; nor is a bare ``555-2671``, which reads as a range too.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["EMAIL", "PHONE", "CARD", "redact", "redact_value", "luhn"]

EMAIL = "[email]"
PHONE = "[phone]"
CARD = "[card]"

# A local part and a domain with a letters-only top-level label. The lookbehind makes every
# attempt start at a token's start, which keeps the scan linear on long texts.
_EMAIL_RE = re.compile(r"(?<![\w.%+-])[\w.%+-]+@(?:[\w-]+\.)+[^\W\d_]{2,}(?![\w-])")

_GROUP = r"(?:\(\d{1,5}\)|\d+)"
# A digit chain (module docstring). It never starts inside a word, number, path, date or time.
_CHAIN_RE = re.compile(
    r"(?<![\w+.,/-])(?<!\d:)(\+ ?)?" + _GROUP + r"(?:(?:[ .-]|(?<=\))|(?=\())" + _GROUP + ")*")
_GROUP_RE = re.compile(_GROUP)
_WORD = re.compile(r"\w")
_DIGIT = re.compile(r"\d")
_CURRENCY_BEFORE = re.compile(
    r"(?:[$€£¥₹₩₽¢]|\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|BRL|MXN|ARS|CNY|SEK|NOK|DKK))\s?$")
_CURRENCY_AFTER = re.compile(
    r"^\s?(?:[$€£¥₹₩₽¢]|(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|INR|BRL|MXN|ARS|CNY|SEK|NOK|DKK)\b)")
_DIGIT_UUID = re.compile(r"\d{8}-\d{4}-\d{4}-\d{4}-\d{12}")
MAX_GROUPS = 8  # groups tried in one match: no phone or card has more
CARD_DIGITS = range(13, 20)
PHONE_DIGITS = range(7, 16)


@dataclass(frozen=True)
class _Group:
    start: int
    end: int
    digits: str
    paren: bool


@dataclass(frozen=True)
class _Chain:
    start: int  # where the match starts: the ``+`` when there is one
    plus: bool
    groups: list[_Group]
    separators: list[str]  # separators[k] joins groups[k] and groups[k + 1]
    dotted: bool  # a dot joins two of its groups
    card_shaped: bool  # 4+ groups of four digits (the last may be shorter): no phone inside


def luhn(digits: str) -> bool:
    """The Luhn checksum of a digit string (any script's decimal digits)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _chains(text: str) -> list[_Chain]:
    chains: list[_Chain] = []
    for match in _CHAIN_RE.finditer(text):
        start, end = match.span()
        if (_CURRENCY_BEFORE.search(text, max(0, start - 4), start)
                or _CURRENCY_AFTER.match(text[end:end + 5])
                or _DIGIT_UUID.fullmatch(match.group())):
            continue
        groups: list[_Group] = []
        separators: list[str] = []
        for found in _GROUP_RE.finditer(text, match.start() + len(match.group(1) or ""), end):
            if groups:
                separators.append(text[groups[-1].end:found.start()])
            token = found.group()
            paren = token.startswith("(")
            groups.append(_Group(found.start(), found.end(), token.strip("()"), paren))
        if _glued_after(text, end):  # the last group belongs to what follows it
            groups.pop()
            separators = separators[:-1]
        if groups:
            card_shaped = (len(groups) >= 4 and len(set(separators)) == 1
                           and all(len(g.digits) == 4 for g in groups[:-1])
                           and 2 <= len(groups[-1].digits) <= 4)
            chains.append(_Chain(start, bool(match.group(1)), groups, separators,
                                 "." in separators, card_shaped))
    return chains


def _glued_after(text: str, end: int) -> bool:
    """What follows ``end`` continues the number: a letter (``15T10``), a decimal or
    thousands part (``.5``, ``,299``), a time, a path or an id (``:30``, ``/06``, ``-ab``)."""
    after = text[end:end + 2]
    if not after:
        return False
    if _WORD.match(after):
        return True
    if len(after) < 2:
        return False
    if after[0] in ".,":
        return after[1].isdigit()
    return after[0] in ":/-" and bool(_WORD.match(after[1]))


def _mask_chains(text: str, accept: Callable[[_Chain, int, int], bool], digits: range,
                 mask: str) -> str:
    """``text`` with each run of whole groups ``accept`` takes (leftmost, then longest)
    replaced by ``mask``; only runs of ``digits`` digits are asked about."""
    out: list[str] = []
    last = 0
    for chain in _chains(text):
        groups = chain.groups
        counts = [0]  # counts[k]: digits in groups[:k]
        for group in groups:
            counts.append(counts[-1] + len(group.digits))
        i = 0
        while i < len(groups):
            for j in range(min(len(groups), i + MAX_GROUPS) - 1, i - 1, -1):
                if counts[j + 1] - counts[i] in digits and accept(chain, i, j):
                    start = chain.start if i == 0 else groups[i].start
                    out += [text[last:start], mask]
                    last = groups[j].end
                    i = j + 1
                    break
            else:
                i += 1
    out.append(text[last:])
    return "".join(out)


def _thousands(groups: list[_Group], seps: list[str]) -> bool:
    """``1 000 000``, ``12.500.000``: a number written with thousands separators."""
    return (len(groups) > 1 and all(s in (" ", ".", ",") for s in seps)
            and 1 <= len(groups[0].digits) <= 3 and groups[0].digits[0] != "0"
            and all(len(g.digits) == 3 for g in groups[1:]))


def _is_card(chain: _Chain, i: int, j: int) -> bool:
    """Groups ``i..j`` of ``chain`` (13-19 digits: ``_mask_chains`` checked) form a card."""
    groups, seps = chain.groups[i:j + 1], chain.separators[i:j]
    digits = "".join(g.digits for g in groups)
    if (i == 0 and chain.plus) or any(g.paren for g in groups) or int(digits[0]) not in range(2, 7):
        return False
    if len(set(seps)) > 1 or (seps and seps[0] not in (" ", "-")):
        return False
    if any(len(g.digits) < 3 for g in groups[:-1]) or len(groups[-1].digits) < 2:
        return False
    return not _thousands(groups, seps) and luhn(digits)


def _is_date(groups: list[_Group], seps: list[str]) -> bool:
    """Three groups in a row that read as a date (``2026-06-15``, ``15.06.2026``)."""
    for k in range(len(groups) - 2):
        a, b, c = (g.digits for g in groups[k:k + 3])
        if seps[k] != seps[k + 1] or seps[k] not in ("-", ".", "/"):
            continue
        if len(a) == 4 and len(b) <= 2 and len(c) <= 2:
            return True
        if len(a) <= 2 and len(b) <= 2 and (len(c) == 4 or (len(c) == 2 and len(groups) == 3)):
            return True  # (a two-digit year only alone: 06.12.34.56.78 is a phone)
    return False


def _is_phone(chain: _Chain, i: int, j: int) -> bool:
    """Groups ``i..j`` of ``chain`` (7-15 digits: ``_mask_chains`` checked) form a phone."""
    groups, seps = chain.groups[i:j + 1], chain.separators[i:j]
    if chain.card_shaped or (i and j < len(chain.groups) - 1):  # cut on one side at most
        return False
    if chain.dotted:  # 06.12.34.56.78 as a whole, never a version or an address
        if (i or j < len(chain.groups) - 1 or set(seps) != {"."} or len(groups) < 3
                or any(len(g.digits) < 2 for g in groups)
                or (len(groups) == 4 and all(len(g.digits) <= 3 for g in groups))):
            return False
    first = groups[0].digits
    if i == 0 and chain.plus:
        shaped = True
    elif groups[0].paren:  # (415) 555-2671
        shaped = len(groups) > 1 and all(len(g.digits) <= 8 for g in groups[1:])
    elif len(groups) == 1:  # unformatted after a trunk prefix: 0612345678, 07700900123
        shaped = 10 <= len(first) <= 11 and int(first[0]) == 0 and int(first[1]) != 0
    elif any(g.paren for g in groups):
        shaped = False
    elif len(groups) == 2:  # a trunk prefix: 020 79460958, 0151-23456789
        shaped = (int(first[0]) == 0 and 2 <= len(first) <= 5
                  and 4 <= len(groups[1].digits) <= 8)
    else:
        shaped = (len(first) <= 5 and all(2 <= len(g.digits) <= 5 for g in groups[1:]))
    return shaped and not _is_date(groups, seps) and not _thousands(groups, seps)


def redact(text: str) -> str:
    """``text`` with emails, card-like numbers and phone numbers masked (module docstring)."""
    if "@" in text:
        text = _EMAIL_RE.sub(EMAIL, text)
    if not _DIGIT.search(text):
        return text
    text = _mask_chains(text, _is_card, CARD_DIGITS, CARD)
    return _mask_chains(text, _is_phone, PHONE_DIGITS, PHONE)


def redact_value(value: Any) -> Any:
    """``value`` (JSON-like) with every string redacted; dict keys kept. An integer that reads
    as a card or phone number becomes the mask (text): a JSON number can hold one too."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_value(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_value(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
        masked = redact(text)
        return value if masked == text else masked
    return value
