"""The demo's clock: where a data set ends (its anchor) and hence what "now" is.

Imported by the generator, the store and the app's start-up path alike: standard library only.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

ANCHOR_FORMAT = "YYYY-MM-DD (or YYYY-MM-DDTHH: the data ends at that hour)"


def resolve_anchor(anchor: Any, now: datetime) -> str:
    """The canonical anchor of a demo data set: ``YYYY-MM-DD`` (its data covers that whole
    day) or ``YYYY-MM-DDTHH`` (its data ends at HH:00 that day, UTC).

    A date that is today or later (UTC, by ``now``) gets the current hour: the demo's data
    ends at the current time on the anchor day, never later than the wall clock. ``None``
    means today. Raises ValueError for anything else."""
    now = now.astimezone(UTC)
    text = now.date().isoformat() if anchor is None else str(anchor).strip()
    try:
        if len(text) == 10:  # a date
            day = date.fromisoformat(text)
            return day.isoformat() if day < now.date() else f"{day}T{now.hour:02d}"
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"demo anchor must be {ANCHOR_FORMAT}, got {anchor!r}") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment.date()}T{moment.hour:02d}"


def anchor_end(anchor: str) -> datetime:
    """Where the data of a canonical anchor (``resolve_anchor``) ends: the demo's "now"."""
    day, _, hour = anchor.partition("T")
    start = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
    return start + timedelta(hours=int(hour) if hour else 24)


def demo_now(anchor: Any, now: datetime | None = None) -> datetime:
    """The demo's "now" for an anchor setting (None: today): the end of its data."""
    return anchor_end(resolve_anchor(anchor, now or datetime.now(UTC)))
