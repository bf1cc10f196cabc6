"""Read the response cache before the StudioClient exists (first paint at start-up).

Creating the client imports httpx, the pydantic models and, on the demo, the Starlette app: it
takes longer than the first frame (bench/README.md). The first page of conversations is usually
in the response cache already, so the app reads it through this small reader (api.cache only)
and paints it while the client is built. The key is derived the way the client derives it
(tests/test_app_modes.py checks that they agree); a mismatch or an error only means a miss, and
the client's own answer follows either way. No Textual import.
"""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class CachePeek:
    def __init__(self, cache: Any, scope: str, project_id: str) -> None:
        self.cache = cache
        self.scope = scope
        self.project_id = project_id

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """The cache entry (data, age_s, stale) for a GET, or None."""
        try:
            key = self.cache.key(self.scope, self.project_id, "GET", path,
                                 list((params or {}).items()))
            return self.cache.lookup(key, path)
        except Exception as exc:  # noqa: BLE001 - a peek never fails the app
            log.info("cache peek failed: %s", type(exc).__name__)
            return None

    def close(self) -> None:
        try:
            self.cache.close()
        except Exception:  # noqa: BLE001
            pass


def _scope(settings: Any) -> tuple[str, str] | None:
    if not getattr(settings, "demo", False):
        if not settings.project_id:
            return None
        from api.config import public_url  # the client's scope: no credentials in keys

        return public_url(settings.base_url.rstrip("/")).rstrip("/"), settings.project_id
    from api.demo import demo_info
    from api.demo.files import db_filename, demo_dir, resolve_params

    size, seed, anchor = resolve_params(settings.demo_size, settings.demo_seed,
                                        settings.demo_anchor)
    db = demo_dir(settings.cache_dir) / db_filename(size, seed, anchor)
    if not db.exists():
        return None
    info = demo_info(db)
    return info.cache_scope(db.name), info.project_id


def open_peek(settings: Any) -> CachePeek | None:
    """A reader of the response cache for `settings`, or None when there is nothing to read."""
    try:
        scope = _scope(settings)
        if scope is None or not settings.response_cache_dir.exists():
            return None
        from api.cache import ResponseCache

        # a damaged cache is left to the client, which moves it aside and says so
        return CachePeek(ResponseCache(settings.response_cache_dir, recover=False), *scope)
    except Exception as exc:  # noqa: BLE001 - a peek never fails the app
        log.info("cache peek unavailable: %s", type(exc).__name__)
        return None
