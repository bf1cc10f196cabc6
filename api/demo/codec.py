"""The demo's JSON texts: what the generator stores (messages) and what the app answers.

Below both: ``content`` encodes stored messages with ``dumps`` and the app's handlers answer
with it, so neither imports the other (nor the app's request plumbing).
"""
from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - a dependency; the stdlib alone still works
    orjson = None  # type: ignore[assignment]


class RawJSON(str):
    """A handler result that is already JSON text."""


def loads_stored(text: str | bytes) -> Any:
    """A JSON text the generator stored (a conversation row's body, stored messages): orjson
    when present, the standard library for what orjson refuses (a lone surrogate escape)."""
    if orjson is not None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def dumps(data: Any) -> bytes:
    """Compact JSON: orjson (same values, faster), else the standard library for what
    orjson refuses (lone surrogates, non-str keys, ints beyond 64 bits), with ASCII escapes:
    a lone surrogate cannot be UTF-8, its escape is valid JSON."""
    if isinstance(data, RawJSON):
        return data.encode("utf-8")
    if orjson is not None:
        try:
            return orjson.dumps(data)
        except TypeError:
            pass
    return json.dumps(data, separators=(",", ":")).encode("ascii")
