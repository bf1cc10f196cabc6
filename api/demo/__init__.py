"""The embedded demo backend (see docs/ARCHITECTURE.md).

Only `demo_transport`, `DemoInfo` and the demo's clock (`api.demo.anchor`, re-exported) are
here; heavy imports (starlette, the generator) happen inside the function so that importing
`api.demo` stays cheap on the app's start-up path. The package's own modules take the clock
from `api.demo.anchor`, not from here: this file imports `app` and `generate`, and an import
back would close a cycle (tests/test_demo_imports.py).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from api.demo.anchor import ANCHOR_FORMAT, anchor_end, demo_now, resolve_anchor

if TYPE_CHECKING:
    import httpx

    from api.demo.faults import Faults

DEMO_BASE_URL = "http://demo.studio.local"

__all__ = ["ANCHOR_FORMAT", "DEMO_BASE_URL", "DemoInfo", "anchor_end", "demo_info", "demo_keys",
           "demo_now", "demo_transport", "resolve_anchor"]


class DemoInfo(NamedTuple):
    base_url: str
    project_id: str
    api_key: str
    other_project_id: str
    other_api_key: str
    # names the database's build: a database rebuilt by an edited generator has another
    fingerprint: str = ""

    def __repr__(self) -> str:  # the keys left out
        return (f"DemoInfo(base_url={self.base_url!r}, project_id={self.project_id!r}, "
                f"other_project_id={self.other_project_id!r}, "
                f"fingerprint={self.fingerprint!r})")

    def cache_scope(self, db_name: str) -> str:
        """The response cache's scope: one demo URL serves many databases; keep them apart."""
        return f"{self.base_url}/{db_name}/{self.fingerprint}".rstrip("/")


def _meta(db_path: str | Path) -> dict[str, str]:
    import sqlite3  # not on the path to the first frame (app.now() imports this package)

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT key, value FROM meta WHERE key IN "
                                 "('api_keys', 'generator_fingerprint')").fetchall())
    finally:
        conn.close()


def demo_keys(db_path: str | Path) -> list[tuple[str, str]]:
    """[(api_key, project_id), ...] of a demo database, the primary project first."""
    keys = _meta(db_path).get("api_keys")
    return list(json.loads(keys).items()) if keys else []


def demo_info(db_path: str | Path, base_url: str = DEMO_BASE_URL) -> DemoInfo:
    meta = _meta(db_path)
    keys = list(json.loads(meta["api_keys"]).items()) if "api_keys" in meta else []
    (key, project), (other_key, other_project) = keys[0], keys[1 % len(keys)]
    return DemoInfo(base_url=base_url, project_id=project, api_key=key,
                    other_project_id=other_project, other_api_key=other_key,
                    fingerprint=meta.get("generator_fingerprint", ""))


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
