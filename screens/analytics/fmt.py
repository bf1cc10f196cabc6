"""Tolerant readers and formatters for API answers shown on the analytics screens.

API answers are untrusted: a field may be missing, null, of the wrong type or an unknown
label. Readers return None for anything unusable, and formatters print None as a dash —
never a fake zero.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from api.client import quote_segment
from api.text import sanitize
from widgets.charts import FLAG, MISSING
from widgets.conversation_table import parse_ts


def obj(data: Any) -> dict:
    """``data`` if it is a JSON object, else an empty one."""
    return data if isinstance(data, dict) else {}


def items(data: Any, key: str | None = None) -> list[dict]:
    """The JSON objects of a list (``data[key]`` when a key is given); non-objects dropped."""
    value = obj(data).get(key) if key is not None else data
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def num(data: Any, key: str) -> float | None:
    """A finite number at ``data[key]``, else None (bools are not numbers here)."""
    value = obj(data).get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def rate(data: Any, key: str, denominator: str) -> float | None:
    """A ratio field, or None when its denominator is 0 or missing: an API sends 0.0 for the
    deflection rate of an empty window, which must read as "no data", not as 0%."""
    return num(data, key) if num(data, denominator) else None


def text(data: Any, key: str) -> str | None:
    """The text at ``data[key]`` with terminal control sequences stripped (API text is shown
    as is everywhere on these screens: labels, titles, captions, notifications), else None."""
    value = obj(data).get(key)
    if value is None or isinstance(value, (dict, list)):
        return None
    return sanitize(value)


def seg(value: Any) -> str:
    """An API id as one quoted URL path segment ('/', '?', '#' cannot change the path); None,
    blank, '.' and '..' raise ``InvalidIdError`` (a StudioError: one line, nothing sent)."""
    return quote_segment(value)


def fmt_int(value: float | None) -> str | None:
    return None if value is None else f"{value:,.0f}"


def fmt_pct(value: float | None, digits: int = 1) -> str | None:
    return None if value is None else f"{value:.{digits}f}%"


def valid_rate(value: float | None) -> bool:
    """A percentage an API can mean: 0 to 100."""
    return value is not None and 0 <= value <= 100


def fmt_rate(value: float | None, digits: int = 1) -> str | None:
    """A percentage as received; outside 0-100 (rated > eligible, an API bug) it is flagged
    with ⚠ rather than hidden or clamped."""
    shown = fmt_pct(value, digits)
    return shown if shown is None or valid_rate(value) else f"{shown} {FLAG}"


def fmt_float(value: float | None, digits: int = 1, unit: str = "") -> str | None:
    if value is None:
        return None
    return f"{value:,.{digits}f}{(' ' + unit) if unit else ''}"


def fmt_ms(value: float | None) -> str | None:
    if value is None:
        return None
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:,.0f} ms"


def share(count: float | None, total: float | None) -> float | None:
    """``count`` as a percentage of ``total``; None when either is missing or total is 0."""
    if count is None or not total:
        return None
    return count / total * 100


def day(value: Any) -> str:
    """A bucket/date label shortened to what matters (YYYY-MM-DD or YYYY-MM-DD HH:MM)."""
    label = sanitize(value or "")
    if "T" in label:
        d, _, t = label.partition("T")
        return f"{d} {t[:5]}" if t[:5] not in ("", "00:00") else d
    return label


def per(data: Any) -> str:
    """The bucket size of an answer's time series, for a chart title ('day', 'hour')."""
    return text(data, "time_granularity") or "bucket"


def buckets(data: Any, key: str = "date") -> list[str]:
    """Labels of an answer's ``time_series`` buckets: 'YYYY-MM-DD', or 'YYYY-MM-DD HH:MM' when
    ``time_granularity`` is "hour" (so midnight keeps its hour and the axis stays regular)."""
    hourly = text(data, "time_granularity") == "hour"
    labels = []
    for bucket in items(data, "time_series"):
        label = sanitize(bucket.get(key) or bucket.get("date") or "")
        labels.append(label[:16].replace("T", " ") if hourly else label[:10])
    return labels


def when(value: Any) -> str:
    """A timestamp for a table cell: 'YYYY-MM-DD HH:MM' (UTC as sent)."""
    label = sanitize(value or "")
    return label[:16].replace("T", " ") if label else MISSING


def window_of(filters: Any) -> tuple[datetime, datetime] | None:
    """The (start, end) a chart's x axis covers: the shared date range, when it has both."""
    start = parse_ts(getattr(filters, "start_date", None))
    end = parse_ts(getattr(filters, "end_date", None))
    return (start, end) if start is not None and end is not None and start < end else None


def latest_playbooks(playbooks: Any) -> list[tuple[str, str]]:
    """(base id, name) of each assistant, from a playbook list (one row per version)."""
    best: dict[str, tuple[float, str]] = {}
    for pb in items(playbooks):
        base = text(pb, "base_id") or text(pb, "id")
        if base is None:
            continue
        version = num(pb, "version_number") or 0
        if base not in best or version >= best[base][0]:
            best[base] = (version, text(pb, "name") or base)
    return [(base, name) for base, (_, name) in best.items()]
