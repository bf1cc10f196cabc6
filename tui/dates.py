"""Date presets on stable boundaries (no Textual import: the app needs them before any UI).

A range ending "now" changes every second, so its query — and the response-cache key — never
repeats across restarts. Preset ranges end at a whole hour (24h) or at the end of the UTC day
(longer presets), like `api.query.last_days`, but a moment already on the boundary stays there
(the demo's clock is the end of its anchor day).
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

PRESETS: dict[str, timedelta | None] = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "custom": None,
    "all": None,
}
ISO = "%Y-%m-%dT%H:%M:%SZ"


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
    end = stable_end(now, timedelta(hours=1) if delta < timedelta(days=2) else timedelta(days=1))
    return (end - delta).strftime(ISO), end.strftime(ISO)
