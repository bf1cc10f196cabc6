"""api.fastjson: orjson only where the result is the standard library's, byte for byte."""
from __future__ import annotations

import json
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from api import fastjson
from api.export import _fast_item, json_item

# awkward on purpose: floats of every magnitude (the range where orjson writes 0.00001 or 1e-7
# included), non-finite ones, integers past 64 bits, control characters, quotes, backslashes,
# U+2028, astral characters and lone surrogates, deep nesting
_floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [1e-05, -4.2e-06, 1e-07, 1.5e-09, 9.99e-05, 1e-04, 1e16, 1.5e16, -1e22, 5e-324, 0.0, -0.0])
_ints = st.integers() | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -2**63, -2**63 - 1])
_text = st.text(st.characters(codec=None, exclude_categories=())) | st.sampled_from(
    ["", "\x00\x1f\x7f", "\u2028\u2029", "\ud800", "a\udfffb", "😀", '"\\', "x 1e-5", "0.00001",
     "981e-9b23", "e-", "3e+7 and 0.0000"])
_json = st.recursive(
    st.none() | st.booleans() | _ints | _floats | _text,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(_text, children, max_size=5),
    max_leaves=40,
)


def _server_bytes(value, ascii_only: bool) -> bytes:
    text = json.dumps(value, ensure_ascii=ascii_only)
    return text.encode("utf-8", "surrogatepass")


def _same(a, b) -> bool:
    """Equal, NaN included, types included (an int must not come back as a float)."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and repr(a) == repr(b))
    if type(a) is not type(b) and not (isinstance(a, float) and isinstance(b, float)):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@settings(max_examples=400)
@given(_json, st.booleans())
@example({"cost": 1e-05, "ids": [18446744073709551616, -2**63 - 1]}, False)
@example([float("nan"), float("inf"), float("-inf")], True)
def test_loads_reads_what_the_stdlib_reads(value, ascii_only):
    raw = _server_bytes(value, ascii_only)
    try:
        expected = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:  # lone surrogates as raw UTF-8 bytes
        with pytest.raises(type(exc)):
            fastjson.loads(raw)
        return
    assert _same(fastjson.loads(raw), expected)


@settings(max_examples=400)
@given(_json, st.booleans())
@example({"a": [1e-05, 4.8e-07, -9.99e-05, 1e16, 2**64]}, False)
@example({"nan": float("nan"), "s": "\ud800", "n": -2**63 - 1}, True)
def test_export_item_is_the_stdlib_indent2_dump(value, ascii_only):
    """What the export writes for an answer = what the brief's json.dump writes for it."""
    raw = _server_bytes(value, ascii_only)
    try:
        reference = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return
    nested = json.dumps({"conversations": [reference]}, indent=2, ensure_ascii=False)
    expected = nested.split("\n", 2)[2].rsplit("\n", 2)[0]
    decoded = fastjson.loads(raw)
    assert (_fast_item(decoded) or json_item(decoded)) == expected
    text = fastjson.dumps_indent2(decoded)
    if text is not None:
        assert text == json.dumps(reference, indent=2, ensure_ascii=False)


def test_fallbacks_are_taken_where_orjson_differs():
    assert fastjson.dumps_indent2({"cost": 1e-05}) is None  # orjson: 0.00001
    assert fastjson.dumps_indent2([-1e-07]) is None  # orjson: -1e-7
    assert fastjson.dumps_indent2({1: "non-str key"}) is None
    assert fastjson.dumps_indent2([2**64]) is None
    assert fastjson.dumps_indent2(["\ud800"]) is None
    assert fastjson.dumps_indent2(fastjson.loads(b"[NaN]")) is None
    # lookalikes inside strings and ids do not force the slow path
    assert fastjson.dumps_indent2({"id": "033e082c-981e-9b23", "t": "we-ll", "n": 10.5}) \
        == json.dumps({"id": "033e082c-981e-9b23", "t": "we-ll", "n": 10.5}, indent=2)


def test_loads_errors_are_the_stdlib_errors():
    for raw in (b"{", b"[1,]", b"\xff", b"", b"nul"):
        with pytest.raises(ValueError) as ours:
            fastjson.loads(raw)
        with pytest.raises(ValueError) as stdlib:
            json.loads(raw)
        assert str(ours.value) == str(stdlib.value)


def test_non_finite_values_stay_floats_and_encode_as_the_stdlib_does():
    value = fastjson.loads(b'{"a": NaN, "b": Infinity, "c": -Infinity}')
    assert all(isinstance(v, float) for v in value.values())
    assert math.isnan(value["a"]) and value["b"] == math.inf and value["c"] == -math.inf
    assert json.dumps(value) == '{"a": NaN, "b": Infinity, "c": -Infinity}'
