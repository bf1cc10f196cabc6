"""Dates: presets on stable boundaries, typed dates, API timestamps as the UI shows them.

A range ending "now" changes every second, so its query — and the response-cache key — never
repeats across restarts. Preset ranges end at a whole hour (24h) or at the end of the UTC day
(longer presets); a moment already on the boundary stays there (the demo's clock is the end of
its anchor day).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from api.text import sanitize

PRESETS: dict[str, timedelta | None] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "custom": None,
    "all": None,
}
ISO = "%Y-%m-%dT%H:%M:%SZ"
_SAFE_FIRST = datetime.min + timedelta(days=2)  # a day's offset either way stays a date
_SAFE_LAST = datetime.max - timedelta(days=2)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# relative windows of saved views: <N>h, <N>d or <N>w, up to ten years
WINDOW_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_WINDOW = timedelta(days=3650)
_WINDOW = re.compile(r"([0-9]{1,6})([hdw])")


def stable_end(now: datetime, step: timedelta = timedelta(hours=1)) -> datetime:
    """`now` rounded UP to a whole `step` (UTC; a moment on the boundary stays): ranges
    ending there, and so their cache keys, stay the same for a whole hour/day."""
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    floor = datetime(now.year, now.month, now.day, tzinfo=UTC)
    return floor + step * -(-(now - floor) // step)


def preset_range(preset: str, now: datetime) -> tuple[str | None, str | None]:
    """The preset's bounds on stable boundaries: the end is `now` rounded up to the whole hour
    (24h) or the end of the UTC day (longer presets), so the query — and its cache key — stays
    the same across restarts for that hour/day (warm first page, cache peek, offline mode)."""
    delta = PRESETS.get(preset)
    if delta is None:
        return None, None
    return _window_bounds(delta, now)


def parse_window(text: str) -> timedelta:
    """A relative window — ``<N>h``, ``<N>d`` or ``<N>w`` (``24h``, ``7d``, ``2w``...) — as
    a duration from 1 hour to ``MAX_WINDOW``. Raises ValueError quoting ``text``."""
    match = _WINDOW.fullmatch(text.strip().lower())
    delta = WINDOW_UNITS[match[2]] * int(match[1]) if match else None
    if delta is None or not timedelta(0) < delta <= MAX_WINDOW:
        raise ValueError(f"window {text!r}: expected <N>h, <N>d or <N>w (24h, 7d, 30d, "
                         f"90d, 2w...), from 1 hour to {MAX_WINDOW.days} days")
    return delta


def window_range(window: str, now: datetime) -> tuple[str, str]:
    """The bounds of a relative window ending `now`, on the same stable boundaries as the
    presets (``window_range("7d", now) == preset_range("7d", now)``)."""
    return _window_bounds(parse_window(window), now)


def _window_bounds(delta: timedelta, now: datetime) -> tuple[str, str]:
    end = stable_end(now, timedelta(hours=1) if delta < timedelta(days=2) else timedelta(days=1))
    return (end - delta).strftime(ISO), end.strftime(ISO)


def parse_typed(text: str, tz: tzinfo, *, end: bool = False) -> str | None:
    """A date the user typed — `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]` or ISO 8601 with an
    offset — as ISO 8601 (in `tz` unless it has an offset). An end typed as a day alone
    includes that day: the bound sent is the next midnight (the API's end is exclusive).
    Raises ValueError quoting `text` as typed."""
    text = text.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValueError(f"“{text}” is not a date: type YYYY-MM-DD or YYYY-MM-DD HH:MM") \
            from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    if end and _DAY.match(text):
        parsed += timedelta(days=1)  # wall-clock day: the next local midnight, DST or not
    return parsed.isoformat()


def show_typed(value: str | None, tz: tzinfo, *, end: bool = False) -> str:
    """`value` (ISO 8601) as the user types it in `tz`: a midnight as the day alone, and an
    end at midnight as the day before (that day included), so `parse_typed` gives it back."""
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    local = parsed.astimezone(tz)
    if (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0):
        return ((local - timedelta(days=1)) if end else local).strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M" if local.second == 0 else "%Y-%m-%d %H:%M:%S")


def parse_ts(value: Any) -> datetime | None:
    """An API timestamp (ISO 8601, ``Z`` or an offset; naive means UTC) as an aware datetime,
    or None when ``value`` is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if not _SAFE_FIRST <= parsed.replace(tzinfo=None) <= _SAFE_LAST:
        return None  # moved into any time zone, it would overflow the calendar
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def short_time(value: Any, tz: tzinfo | None = None) -> str:
    """``06-15 23:59`` in ``tz`` (UTC by default); what is not a timestamp is shown as sent
    (sanitised, cut to the same width), nothing as a dash."""
    parsed = parse_ts(value)
    if parsed is None:
        return sanitize(str(value or "–"))[:11]
    return parsed.astimezone(tz or UTC).strftime("%m-%d %H:%M")
