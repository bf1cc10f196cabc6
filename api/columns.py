"""The explorer table's columns, by key: what a saved view may list, in the default order.

The widget draws them (widgets/conversation_table.py); views store and validate the keys here,
so that a view written by hand or by the CLI is checked without importing Textual.
"""
from __future__ import annotations

TABLE_COLUMNS: dict[str, str] = {
    "sel": "selection mark",
    "last": "time of the last message",
    "id": "conversation id",
    "assistant": "assistant name and version",
    "inbox": "inbox",
    "msgs": "message count",
    "sentiment": "sentiment label",
    "outcome": "handoff or deflection quality",
    "risk": "recontact risk",
    "intent": "user intent (or summary)",
    "tags": "conversation tags",
    "reason": "handoff reason",
    "csat": "CSAT rating (1-5) when rated",
    "review": "local review status and verdict",
    "new": "new since the view was last opened",
}
DEFAULT_COLUMNS: tuple[str, ...] = (
    "sel", "new", "review", "last", "id", "assistant", "inbox", "msgs", "sentiment", "outcome",
    "risk", "intent",
)


def check_columns(keys: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """`keys` as a tuple, each known and given once; ValueError naming the first bad one."""
    seen: list[str] = []
    for key in keys:
        if key not in TABLE_COLUMNS:
            raise ValueError(f"unknown column {key!r} (known: {', '.join(TABLE_COLUMNS)})")
        if key in seen:
            raise ValueError(f"column {key!r} given twice")
        seen.append(key)
    return tuple(seen)
