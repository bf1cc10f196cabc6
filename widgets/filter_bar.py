"""One-line summary of the active filters, reusable by any screen.

`FilterBar` watches `app.filters` (the shared date range / assistant / tags) and, when given one
through `show(query)`, a screen's fuller query. Everything is built as plain `Text` segments.
"""
from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from rich.text import Text
from textual.widgets import Static

from api.text import sanitize
from tui.dates import show_typed

SHARED_FIELDS = ("start_date", "end_date", "playbook_base_id", "tags")
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


def _parts(query: Any, lookups: Any, shared_only: bool) -> list[tuple[str, str]]:
    get = lambda name: getattr(query, name, None)  # noqa: E731
    parts: list[tuple[str, str]] = [
        ("window", window_text(get("start_date"), get("end_date")))
    ]
    if get("playbook_base_id"):
        name = lookups.assistant_name(get("playbook_base_id")) if lookups else get("playbook_base_id")
        parts.append(("assistant", name))
    if get("tags"):
        parts.append(("tags", " + ".join(get("tags"))))
    if shared_only:
        return parts
    if get("playbook_id"):
        label = lookups.version_label(get("playbook_id")) if lookups else get("playbook_id")
        parts.append(("version", label))
    if get("inbox_id"):
        parts.append(("inbox", lookups.inbox_name(get("inbox_id")) if lookups else get("inbox_id")))
    for name, label in (("has_handoff", "handoff"), ("has_winback", "winback")):
        if get(name) is not None:
            parts.append((label, "yes" if get(name) else "no"))
    for name in LIST_FIELDS:
        if get(name):
            parts.append((name.replace("_", " "), " | ".join(get(name))))
    low, high = get("min_messages"), get("max_messages")
    if low is not None or high is not None:
        parts.append(("messages", f"{'' if low is None else low}..{'' if high is None else high}"))
    if get("skill_name"):
        parts.append(("skill", get("skill_name")))
    if get("search"):
        parts.append(("id contains", get("search")))
    # always: the order of the rows is part of what the screen shows (the server default too)
    sort_by = get("sort_by") or "last_message_at"
    arrow = SORT_ARROWS.get(get("sort_order") or "desc", "")
    parts.append(("sort", f"{SORT_NAMES.get(sort_by, sort_by)} {arrow}"))
    return parts


def describe_query(query: Any, lookups: Any = None, *, shared_only: bool = False,
                   wrap: bool = False) -> Text:
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
    """Shows the shared filters of `app.filters`, or the query given to `show()`."""

    DEFAULT_CSS = """
    FilterBar { height: 1; width: 1fr; padding: 0 1; background: $boost; }
    """

    def __init__(self, *, shared_only: bool = True, follow_app: bool = True, wrap: bool = False,
                 **kwargs: Any) -> None:
        super().__init__("", markup=False, **kwargs)
        self.shared_only = shared_only
        self.wrap = wrap  # wrapped (a taller bar, see the screen's CSS), not cut
        self.follow_app = follow_app  # False: the screen says what its figures cover (update)
        self._query: Any = None

    def on_mount(self) -> None:
        if self.follow_app and hasattr(self.app, "filters"):
            self.watch(self.app, "filters", self._app_filters_changed)

    def _app_filters_changed(self, filters: Any) -> None:
        if self._query is None or self.shared_only:
            self._render_query(filters)

    def show(self, query: Any) -> None:
        """Show a screen's own query (explorer: shared + extra filters)."""
        self._query = query
        self._render_query(query)

    def _render_query(self, query: Any) -> None:
        lookups = getattr(self.app, "lookups", None)
        self.update(describe_query(query, lookups, shared_only=self.shared_only,
                                   wrap=self.wrap))
