"""Formatters of the figures the analytics screens read from the API's models.

The models (api.models) have already turned what is unusable into None; these print None as a
dash (never a fake zero), keep non-finite numbers out, and sanitise API text.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from api.dates import parse_ts
from api.text import sanitize
from widgets.charts import FLAG, MISSING


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


def when(value: Any) -> str:
    """A timestamp for a table cell: 'YYYY-MM-DD HH:MM' (UTC as sent)."""
    label = sanitize(value or "")
    return label[:16].replace("T", " ") if label else MISSING


def window_of(filters: Any) -> tuple[datetime, datetime] | None:
    """The (start, end) a chart's x axis covers: the shared date range, when it has both."""
    start = parse_ts(getattr(filters, "start_date", None))
    end = parse_ts(getattr(filters, "end_date", None))
    return (start, end) if start is not None and end is not None and start < end else None


# -------------------------------------------------------------------- readers of models


def finite(value: float | None) -> float | None:
    """A model's number, or None when it is missing or not finite."""
    return value if value is not None and math.isfinite(value) else None


def ratio(value: float | None, denominator: float | None) -> float | None:
    """A ratio field of a model, or None when its denominator is 0 or missing (an empty
    window's 0.0 deflection rate means "no data")."""
    return finite(value) if finite(denominator) else None


def clean(value: str | None) -> str | None:
    """A model's text with terminal control sequences stripped."""
    return None if value is None else sanitize(value)


def bucket_labels(stamps: Iterable[str | None], granularity: str | None) -> list[str]:
    """Labels of a model's time series (its buckets' timestamps or dates): 'YYYY-MM-DD',
    or 'YYYY-MM-DD HH:MM' when the granularity is "hour"."""
    hourly = clean(granularity) == "hour"
    labels = []
    for stamp in stamps:
        label = sanitize(stamp or "")
        labels.append(label[:16].replace("T", " ") if hourly else label[:10])
    return labels


def per_bucket(granularity: str | None) -> str:
    """A model's ``time_granularity`` as the bucket size for a chart title."""
    return clean(granularity) or "bucket"
