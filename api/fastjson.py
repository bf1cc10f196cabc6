"""JSON through orjson where its result is exactly the standard library's, else the stdlib.

Exports decode and re-encode every answer, messages included: with ``json`` that is most of
the client's CPU time, and orjson does it much faster (figures: bench/README.md). It is used
only where it provably gives the standard library's result, with the stdlib as the fallback:

``loads(data)`` = ``json.loads(data)``, except that NaN/Infinity/-Infinity come back as
``NonFinite`` (a ``float`` subclass: compares, prints and encodes like the float). orjson is
tried first; it refuses (and we fall back on) non-finite literals, lone surrogate escapes and
invalid UTF-8. The one thing it reads differently without refusing, integers outside
[-2**63, 2**64) (it makes them floats), is avoided by sending any text with a run of 19 or
more digits to the stdlib (rare: long digit runs inside ids just take the slow path).

``dumps_indent2(obj)`` = ``json.dumps(obj, indent=2, ensure_ascii=False)`` for objects that
``loads`` returned (or built from them), or ``None`` when it cannot promise that: then use the
stdlib-compatible encoder. orjson's indent-2 layout, separators and string escapes
(``ensure_ascii=False``: only ``"``, ``\\`` and control characters, short forms ``\\n`` etc.)
are the stdlib's; it differs on floats below 1e-4 (``0.00001`` / ``1e-7`` for ``1e-05`` /
``1e-07``) and writes NaN/Infinity as null. So ``None`` is returned when orjson refuses the
object (non-str keys, ints beyond 64 bits, lone surrogates, subclasses of str/int/dict/list
and ``NonFinite``) or when the output holds a number token with a negative exponent or
starting with ``0.0000``. Plain non-finite ``float`` objects, which ``loads`` never returns, would be
written as null: do not pass objects from elsewhere (``api.export.json_item`` takes anything).
tests/test_fastjson.py checks both functions against the stdlib on generated data.
"""
from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - a dependency; the stdlib alone still works
    orjson = None  # type: ignore[assignment]

__all__ = ["NonFinite", "loads", "dumps_indent2"]


class NonFinite(float):
    """NaN or ±Infinity read from JSON (orjson refuses to encode it: the stdlib path runs)."""

    __slots__ = ()


_CONSTANTS = {name: NonFinite(name) for name in ("NaN", "Infinity", "-Infinity")}
# every byte to b"." except digits to b"0": a run of 19 digits becomes b"0" * 19
_DIGITS = bytes(48 if 48 <= i <= 57 else 46 for i in range(256))
_LONG_RUN = b"0" * 19


def _constant(name: str) -> float:
    return _CONSTANTS[name]


def loads(data: bytes | str) -> Any:
    """``json.loads(data)`` (see the module docstring); raises ``ValueError`` like it."""
    if orjson is not None:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        if raw.translate(_DIGITS).find(_LONG_RUN) < 0:
            try:
                return orjson.loads(raw)
            except orjson.JSONDecodeError:
                pass
    return json.loads(data, parse_constant=_constant)


_INDENT2 = (orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_SUBCLASS
            | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS) \
    if orjson is not None else 0
# where orjson's number formatting may differ from float.__repr__: negative exponents
# (``1e-7`` for ``1e-07``) and ``0.0000x`` (for ``1e-05``); positive exponents are written
# alike (``1e+16``). bytes.find per pattern: a regex alternation over a whole export is much slower.
_ODD_NUMBER = (b"e-", b"0.0000")
_NUMBER_CHARS = frozenset(b"0123456789.")


def dumps_indent2(obj: Any) -> str | None:
    """``json.dumps(obj, indent=2, ensure_ascii=False)`` or ``None`` (see the module doc)."""
    if orjson is None:
        return None
    try:
        out = orjson.dumps(obj, option=_INDENT2)
    except orjson.JSONEncodeError:
        return None
    for pattern in _ODD_NUMBER:
        at = out.find(pattern)
        while at >= 0:
            if _is_number_token(out, at):
                return None
            at = out.find(pattern, at + 1)
    return out.decode("utf-8")


def _is_number_token(out: bytes, at: int) -> bool:
    """Whether ``out[at]`` lies in a number token: digits/point back to an optional minus
    and the space that precedes every value in indent-2 output (``": "`` or indentation).
    Text inside strings that looks so (``"x 1e-5"``) only costs a fallback."""
    i = at - 1
    while i >= 0 and out[i] in _NUMBER_CHARS:
        i -= 1
    if i == at - 1 and out[at] != 0x30:  # "e" with no digit before it: a word
        return False
    if i >= 0 and out[i] == 0x2D:  # "-"
        i -= 1
    return i < 0 or out[i] in (0x20, 0x0A)
