"""sanitize(): untrusted API text can never drive the terminal."""
from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.text import fold, one_line, sanitize

FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")

# text rich in the dangerous bytes: escape introducers, terminators, C1, bidi controls
dangerous = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("\x1b[]P^_X\\\x07\x9b\x9c\x9d\x90\x9f;0123m\r\n\t\u202e\u2066 a")),
        st.characters(),
    ),
    max_size=200,
)


@given(dangerous)
def test_output_has_no_controls_and_is_idempotent(s):
    out = sanitize(s)
    assert not FORBIDDEN.search(out)
    assert sanitize(out) == out


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"]), max_size=100))
def test_printable_text_is_unchanged(s):
    assert sanitize(s) == s


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("\x1b[1;31mred\x1b[0m", "red"),                          # SGR colour
        ("a\x1b[2J\x1b[Hb", "ab"),                                 # clear screen, cursor home
        ("\x1b]0;evil title\x07text", "text"),                     # OSC, BEL-terminated
        ("\x1b]8;;https://x.test\x1b\\link\x1b]8;;\x1b\\", "link"),  # OSC 8 hyperlink, ST
        ("\x9d0;t\x9ctext", "text"),                               # 8-bit OSC + 8-bit ST
        ("\x9b31mx", "x"),                                         # 8-bit CSI
        ("\x1bP1$qm\x1b\\after", "after"),                         # DCS
        ("\x1b_apc payload\x1b\\ok", "ok"),                        # APC
        ("\x1b^pm\x1b\\ok", "ok"),                                 # PM
        ("\x1bcreset", "reset"),                                   # RIS
        ("\x1b(Bx", "x"),                                          # charset designation
        ("bell\x07 nul\x00 bs\x08 del\x7f", "bell nul bs del"),
        ("line1\r\nline2\rline3", "line1\nline2\nline3"),
        ("tab\tnew\nline", "tab\tnew\nline"),
        ("\u202eevil\u202c \u2066iso\u2069", "evil iso"),
        ("\x1b]0;unterminated title", "0;unterminated title"),     # introducer removed only
        ("日本語 🎉👩‍👩‍👧 مرحبا שלום \u200f", "日本語 🎉👩‍👩‍👧 مرحبا שלום \u200f"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        (None, ""),
        (42, "42"),
    ],
)
def test_known_sequences(raw, expected):
    assert sanitize(raw) == expected


def test_one_line():
    assert one_line("a\n\n b\t c\x1b[0m", 100) == "a b c"
    assert one_line("x" * 50, 10) == "x" * 9 + "…"


def test_fold_wraps_and_caps():
    text = "word " * 30 + "\n" + "z" * 45
    out = fold(text, width=20, max_chars=10_000)
    assert all(len(line) <= 20 for line in out.split("\n"))
    assert out.replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    capped = fold("a" * 1000, width=0, max_chars=100)
    assert capped.startswith("a" * 100) and "900 more characters" in capped


def test_fold_counts_wide_characters_as_two_cells():
    out = fold("日" * 10, width=6, max_chars=100)
    assert out.split("\n") == ["日日日", "日日日", "日日日", "日"]


@given(st.text(max_size=300), st.integers(1, 40))
def test_fold_never_exceeds_width_for_narrow_text(s, width):
    s = re.sub(r"[^a-z \n]", "", s)
    for line in fold(s, width=width, max_chars=10_000).split("\n"):
        assert len(line) <= width
