"""Make untrusted API text safe to show in a terminal.

Every string that comes from the API (conversation text, tool output, KB excerpts, error bodies)
may carry terminal control sequences: colour codes, cursor moves, window-title or hyperlink OSC
sequences, device control strings, or bidi overrides that make text read differently from what
it is. ``sanitize`` removes all of them and keeps every printable character (emoji, CJK, Arabic
and Hebrew letters), so the result can be shown or written anywhere.

The result never contains ESC, a C1 control, a C0 control other than ``\\n`` and ``\\t``, DEL,
a spoofing bidi control (U+202A-U+202E, U+2066-U+2069) or a lone surrogate, and
``sanitize(sanitize(s)) == sanitize(s)``.
"""
from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

__all__ = ["sanitize", "fold", "one_line", "cell_width"]

# String sequences (OSC, DCS, SOS, PM, APC) in their 7-bit (ESC x) and 8-bit (C1) forms, ended by
# ST (ESC \ or U+009C) or, as terminals accept for OSC, by BEL. An unterminated one is left to the
# control-character pass below, which removes its introducer and keeps the payload as plain text.
_STRING_SEQ = r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
# CSI sequences: ESC [ or U+009B, parameter bytes, intermediate bytes, one final byte.
_CSI_SEQ = r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
# Other escape sequences: ESC, intermediate bytes, one final byte (ESC c, ESC 7, ESC ( B, ...).
_ESC_SEQ = r"\x1b[ -/]*[0-~]"
# (the lookahead lets the regex engine skip plain text, most of any long text, quickly)
_SEQUENCES = re.compile(f"(?=[\x1b\x90\x98\x9b\x9d-\x9f])(?:{_STRING_SEQ}|{_CSI_SEQ}|{_ESC_SEQ})")

# C0 controls except \t and \n, DEL, C1 controls, bidi embedding/override/isolate controls.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n?")
_WHITESPACE_RUN = re.compile(r"\s+")


def sanitize(s: object) -> str:
    """Return ``s`` as a string with every terminal control sequence and control char removed.

    ``\\r\\n`` and a lone ``\\r`` become ``\\n`` (a bare carriage return would let text overwrite
    the start of its own line). ``None`` becomes ``""``; other non-strings go through ``str``.
    """
    if s is None:
        return ""
    if not isinstance(s, str):
        s = str(s)
    if s.isprintable():  # the common case: nothing to do
        return s
    s = _SEQUENCES.sub("", s)
    s = _NEWLINES.sub("\n", s)
    s = _CONTROLS.sub("", s)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (from JSON "\\ud800"): unprintable anywhere
        s = _SURROGATES.sub("\ufffd", s)
    return s


def one_line(s: Any, max_chars: int = 300) -> str:
    """Sanitize and collapse all whitespace to single spaces; shorten to ``max_chars``."""
    text = _WHITESPACE_RUN.sub(" ", sanitize(s)).strip()
    if len(text) > max_chars:
        text = text[: max(0, max_chars - 1)].rstrip() + "…"
    return text


def cell_width(ch: str) -> int:
    """Terminal cells taken by one character (0 for combining marks, 2 for wide/fullwidth)."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _fold_line(line: str, width: int) -> list[str]:
    """Split one line into pieces of at most ``width`` cells, preferring to break at spaces."""
    pieces: list[str] = []
    start = 0
    cells = 0
    last_space = -1
    i = 0
    while i < len(line):
        w = cell_width(line[i])
        if cells + w > width and i > start:
            cut = last_space + 1 if last_space >= start else i
            pieces.append(line[start:cut].rstrip(" "))
            start = cut
            i = cut
            cells = 0
            last_space = -1
            continue
        if line[i] == " ":
            last_space = i
        cells += w
        i += 1
    pieces.append(line[start:])
    return pieces


def fold(s: Any, width: int = 100, max_chars: int = 20_000) -> str:
    """Sanitize a possibly huge text, cap it at ``max_chars`` and wrap lines at ``width`` cells.

    A cut text ends with a note saying how many characters were left out, so a reader knows the
    full text is longer (the export keeps it whole).
    """
    text = sanitize(s)
    note = ""
    if max_chars > 0 and len(text) > max_chars:
        note = f"\n… [{len(text) - max_chars:,} more characters not shown]"
        text = text[:max_chars]
    if width > 0:
        text = "\n".join(
            piece for line in text.split("\n") for piece in _fold_line(line, width)
        )
    return text + note


def as_text(value: Any) -> str | None:
    """An API value read where text is expected: numbers and booleans as text, objects and
    lists as compact JSON (e.g. tool arguments); anything else is None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return None
