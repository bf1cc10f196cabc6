"""The embedded demo backend (see docs/ARCHITECTURE.md).

Only `demo_transport`, `DemoInfo` and the anchor helpers (the demo's clock) live here; heavy
imports (starlette, the generator) happen inside the function so that importing `api.demo`
stays cheap on the app's start-up path.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from api.demo.faults import Faults

DEMO_BASE_URL = "http://demo.studio.local"
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


@dataclass(frozen=True)
class DemoInfo:
    base_url: str
    project_id: str
    api_key: str = field(repr=False)
    other_project_id: str
    other_api_key: str = field(repr=False)


def demo_keys(db_path: str | Path) -> list[tuple[str, str]]:
    """[(api_key, project_id), ...] of a demo database, the primary project first."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key='api_keys'").fetchone()
    finally:
        conn.close()
    return list(json.loads(row[0]).items()) if row else []


def demo_info(db_path: str | Path, base_url: str = DEMO_BASE_URL) -> DemoInfo:
    keys = demo_keys(db_path)
    (key, project), (other_key, other_project) = keys[0], keys[1 % len(keys)]
    return DemoInfo(base_url=base_url, project_id=project, api_key=key,
                    other_project_id=other_project, other_api_key=other_key)


def demo_transport(
    size: int | None = None,
    seed: int | None = None,
    anchor: Any = None,
    faults: Faults | None = None,
) -> tuple[httpx.ASGITransport, DemoInfo]:
    """An in-process transport to the demo app (no socket) and how to address it.

    The app is reachable as `transport.app` (e.g. to set `transport.app.state.faults`)."""
    import httpx

    from api.demo.app import create_app
    from api.demo.generate import ensure_demo_db

    db_path = ensure_demo_db(size=size, seed=seed, anchor=anchor)
    app = create_app(db_path, faults)
    return httpx.ASGITransport(app=app), demo_info(db_path)
