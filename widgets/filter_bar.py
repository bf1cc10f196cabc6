"""One-line summary of the active filters, reusable by any screen.

The screen hands `FilterBar.show` its query and the names to show ids with (`api.lookups`), or
writes the bar itself (`update`). Everything is built as plain `Text` segments.
"""
from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from rich.text import Text
from textual.widgets import Static

from api.dates import show_typed
from api.lookups import Lookups
from api.query import ConversationQuery
from api.text import sanitize

SORT_NAMES = {"last_message_at": "last msg", "first_message_at": "first msg",
              "message_count": "msgs"}
SORT_ARROWS = {"asc": "▲", "desc": "▼"}  # as in the sorted column's header
LIST_FIELDS = (
    "sentiment", "resources", "sentiment_shift", "deflection_quality", "handoff_reason",
    "recontact_risk",
)


def _zone(value: str) -> tzinfo:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return UTC
    return parsed.tzinfo or UTC


def _zone_name(zone: tzinfo) -> str:
    offset = datetime(2000, 1, 1, tzinfo=zone).utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def window_text(start: str | None, end: str | None) -> str:
    """`2026-05-17 → 2026-06-15 UTC`: days as the user types them, the end day included (the
    API's end is the next midnight, exclusive); a bound with a time of day is shown with it."""
    zone = _zone(end or start or "")
    first = show_typed(start, _zone(start)) if start else "…"
    last = show_typed(end, _zone(end), end=True) if end else "…"
    return f"{first} → {last} {_zone_name(zone)}" if start or end else "… → …"


def span_text(start: str | None, end: str | None) -> str:
    """A result's window as the filter line shows one; an open bound is "first" or "last"
    (every date the API holds)."""
    if start and end:
        return window_text(start, end)
    first = show_typed(start, _zone(start)) if start else "first"
    last = show_typed(end, _zone(end), end=True) if end else "last"
    return f"{first} → {last}"


def _parts(query: ConversationQuery, lookups: Lookups | None,
           shared_only: bool) -> list[tuple[str, str]]:
    names = lookups or Lookups()  # no names known: ids as they are
    parts: list[tuple[str, str]] = [("window", window_text(query.start_date, query.end_date))]
    if query.playbook_base_id:
        parts.append(("assistant", names.assistant_name(query.playbook_base_id)))
    if query.tags:
        parts.append(("tags", " + ".join(query.tags)))
    if shared_only:
        return parts
    if query.playbook_id:
        parts.append(("version", names.version_label(query.playbook_id)))
    if query.inbox_id:
        parts.append(("inbox", names.inbox_name(query.inbox_id)))
    for flag, label in ((query.has_handoff, "handoff"), (query.has_winback, "winback")):
        if flag is not None:
            parts.append((label, "yes" if flag else "no"))
    for name in LIST_FIELDS:
        values: tuple[str, ...] = getattr(query, name)
        if values:
            parts.append((name.replace("_", " "), " | ".join(values)))
    low, high = query.min_messages, query.max_messages
    if low is not None or high is not None:
        parts.append(("messages", f"{'' if low is None else low}..{'' if high is None else high}"))
    if query.skill_name:
        parts.append(("skill", query.skill_name))
    if query.search:
        parts.append(("id contains", query.search))
    # always: the order of the rows is part of what the screen shows (the server default too)
    sort_by = query.sort_by or "last_message_at"
    arrow = SORT_ARROWS.get(query.sort_order or "desc", "")
    parts.append(("sort", f"{SORT_NAMES.get(sort_by, sort_by)} {arrow}"))
    return parts


def describe_query(query: ConversationQuery, lookups: Lookups | None = None, *,
                   shared_only: bool = False, wrap: bool = False) -> Text:
    """Text summary: `window 2026-05-16 → 2026-06-15 · assistant Billing · sentiment negative`
    (`wrap`: on as many lines as it needs, else one line cut with an ellipsis)."""
    text = Text(no_wrap=not wrap, overflow="fold" if wrap else "ellipsis")
    for index, (label, value) in enumerate(_parts(query, lookups, shared_only)):
        if index:
            text.append(" · ", style="dim")
        text.append(f"{label} ", style="bold")
        text.append(sanitize(str(value)))
    return text


class FilterBar(Static):
    """Shows the query given to `show()` (only its shared filters with `shared_only`)."""

    DEFAULT_CSS = """
    FilterBar { height: 1; width: 1fr; padding: 0 1; background: $boost; }
    """

    def __init__(self, *, shared_only: bool = True, wrap: bool = False, **kwargs: Any) -> None:
        super().__init__("", markup=False, **kwargs)
        self.shared_only = shared_only
        self.wrap = wrap  # wrapped (a taller bar, see the screen's CSS), not cut

    def show(self, query: ConversationQuery, lookups: Lookups | None = None) -> None:
        """Show `query`, with the names `lookups` knows for its ids."""
        self.update(describe_query(query, lookups, shared_only=self.shared_only,
                                   wrap=self.wrap))
