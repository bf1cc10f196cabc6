"""Redaction (api.redact): what is masked, and what only looks like it should be."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.redact import luhn, redact, redact_value


@pytest.mark.parametrize(("text", "expected"), [
    # emails
    ("mail me at john.doe+tag@example.co.uk.", "mail me at [email]."),
    ("<ana_b91@mail.example.com>", "<[email]>"),
    ("mailto:x@y.io,z@w.io", "mailto:[email],[email]"),
    ("correo: josé.pérez@correo.es", "correo: [email]"),
    # card-like numbers (Luhn)
    ("card 4111 1111 1111 1111 ok", "card [card] ok"),
    ("4111-1111-1111-1111.", "[card]."),
    ("pay with 5555555555554444 now", "pay with [card] now"),
    ("amex 3782 822463 10005", "amex [card]"),
    ("visa-13: 4222222222222", "visa-13: [card]"),
    ("order 12 4111 1111 1111 1111", "order 12 [card]"),
    # phones: international
    ("call +1 (415) 555-2671 now", "call [phone] now"),
    ("+44 20 7946 0958", "[phone]"),
    ("+44 (0)20 7946 0958", "[phone]"),
    ("+33 6 12 34 56 78", "[phone]"),
    ("tel:+14155552671", "tel:[phone]"),
    ("رقمي +966 50 123 4567 شكرا", "رقمي [phone] شكرا"),
    # phones: national forms
    ("(415) 555-2671", "[phone]"),
    ("415-555-2671 or 415.555.2671", "[phone] or [phone]"),
    ("1-800-555-0199", "[phone]"),
    ("020 7946 0958", "[phone]"),
    ("06 12 34 56 78", "[phone]"),
    ("06.12.34.56.78", "[phone]"),
    ("0151 23456789", "[phone]"),
    ("ring 0612345678!", "ring [phone]!"),
    ("call 555 123 4567.", "call [phone]."),
])
def test_masks(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    # dates and times
    "on 2026-06-15 at 12:30", "2026-06-15T12:00:00Z", "2026-06-15 12:00:00", "15.06.2026",
    "06/15/2026 10:45", "15-06-2026", "20260615", "12:30:45", "2026-06-15T23:59:59.123+02:00",
    # ids
    "id 550e8400-e29b-41d4-a716-446655440000", "12345678-1234-5678-1234-567812345678",
    "conversation 21014874", "order ORD-40142", "ticket 2024-001234", "call_4c5bf08746324f1d",
    "1718452800000", "ts 17937711940.5650", "user 0000123456",
    # money, counts and versions
    "$1,299.99", "refund of $176.99", "USD 12 500 000", "12 500 000 EUR", "€ 1.299,00",
    "1 000 000 users", "100-2000 users", "v1.2.3", "10.0.19041.1", "Python 3.11.7",
    "192.168.10.20", "between 10 and 12", "555-2671",
    # Luhn fails, not a card network, not a card's grouping
    "4111 1111 1111 1112", "1234 5678 9012 3456", "1234-5678-9012-3456-789",
    # not an email
    "a@b", "user@localhost", "x@y.c1", "@handle", "me @ home",
    # no digits to speak of: RTL, emoji, markup kept byte for byte
    "أريد استرداد المبلغ — אני רוצה החזר 😡📦 👨‍👩‍👧‍👦", "[b]x[/b]",
])
def test_leaves_alone(text):
    assert redact(text) == text


def test_luhn():
    assert luhn("4111111111111111") and luhn("378282246310005") and luhn("0")
    assert not luhn("4111111111111112") and not luhn("1234567812345678")


def test_a_phone_at_the_end_of_50_kb_of_text():
    text = "This is a very long complaint. " * 1700 + "Call me: +1 415 555 2671"
    assert redact(text) == text[:-15] + "[phone]"


def test_redact_value_masks_every_string_and_keeps_keys():
    value = {
        "jane@example.com": "jane@example.com",
        "nested": [{"phone": "+44 20 7946 0958"}, ("4111 1111 1111 1111", 3)],
        "card_number": 4111111111111111,
        "count": 4111111111111112,
        "flag": True,
        "none": None,
        "price": 176.99,
    }
    assert redact_value(value) == {
        "jane@example.com": "[email]",
        "nested": [{"phone": "[phone]"}, ("[card]", 3)],
        "card_number": "[card]",  # a number can hold a card too
        "count": 4111111111111112,
        "flag": True,
        "none": None,
        "price": 176.99,
    }


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M",
                        "%m/%d/%Y %H:%M", "%d-%m-%Y", "%Y%m%d", "%Y-%m-%dT%H:%M:%S.%f+00:00"]))
def test_dates_are_never_masked(moment, fmt):
    text = f"at {moment.replace(tzinfo=UTC).strftime(fmt)}."
    assert redact(text) == text


@given(st.uuids())
def test_uuids_are_never_masked(value: uuid.UUID):
    text = f"conversation {value} and {str(value).replace('-', '')}"
    assert redact(text) == text


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0, max_value=99))
def test_prices_are_never_masked(units, cents):
    text = f"paid ${units:,}.{cents:02d} or {units:,}.{cents:02d} € or USD {units}"
    assert redact(text) == text


def _with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn(body + d))


@given(st.sampled_from("23456"), st.text("0123456789", min_size=14, max_size=14),
       st.sampled_from([" ", "-", ""]))
def test_sixteen_digit_cards_are_masked_however_grouped(first, rest, sep):
    digits = _with_check_digit(first + rest)
    grouped = sep.join(digits[i:i + 4] for i in range(0, 16, 4))
    assert redact(f"my card is {grouped}, thanks") == "my card is [card], thanks"


@given(st.text(max_size=200))
def test_idempotent(text):
    once = redact(text)
    assert redact(once) == once
