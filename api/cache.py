"""ResponseCache: GET answers on disk (diskcache), so the UI paints at once and works offline.

- Key: sha256 of (base URL, project id, method, path, sorted normalised params). Never the
  token: two keys for the same project share entries, which is what a cache of *data* wants.
- Time to live per endpoint family (``ttl_for``): configuration for hours, analytics for
  minutes, the conversation list for a minute, a conversation's detail for ten minutes;
  trending-topic jobs are never cached (they are polled).
- Entries outlive their TTL (up to ``max_stale_s``, a week) so a stale answer can be shown
  while revalidating, or in offline mode with its age.
- Bounded (``size_limit``, 256 MB by default, least-recently-stored evicted first).
- Owner-only: the directory is 0700 and files are created under umask 077 (0600).

The directory name carries a format version (``responses-v1``): a future format gets a new
directory instead of misreading this one.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache

__all__ = ["ResponseCache", "CacheEntry", "ttl_for", "normalise_params", "DEFAULT_SIZE_LIMIT"]

DEFAULT_SIZE_LIMIT = 256 * 1024 * 1024
MAX_STALE_S = 7 * 24 * 3600
_UMASK_LOCK = threading.Lock()

MINUTE = 60
HOUR = 3600

# (pattern on the path, TTL seconds); first match wins. 0 = never cached.
TTL_RULES: list[tuple[re.Pattern[str], float]] = [
    (re.compile(p), ttl)
    for p, ttl in [
        (r"/trending-topics/job/", 0),
        (r"/trending-topics/status$", 1 * MINUTE),
        (r"/trending-topics/analysis/", 12 * HOUR),
        (r"/conversations(/summaries)?$", 1 * MINUTE),
        (r"/conversations/analytics$", 5 * MINUTE),
        (r"/conversations/metrics/aggregate$", 5 * MINUTE),
        (r"/conversations/[^/]+(/messages|/metrics)?$", 10 * MINUTE),
        (r"/sparklines$", 5 * MINUTE),
        (r"/analytics(/|$)", 5 * MINUTE),
        (r"/eval-runs|/eval-results", 2 * MINUTE),
    ]
]
DEFAULT_TTL = 4 * HOUR  # configuration: projects, playbooks, KBs, settings, schedule, tools


def ttl_for(path: str) -> float:
    """Seconds an answer of ``path`` stays fresh."""
    for pattern, ttl in TTL_RULES:
        if pattern.search(path):
            return ttl
    return DEFAULT_TTL


def normalise_params(params: Any) -> list[tuple[str, str]]:
    """Sorted ``(name, value)`` strings; None dropped, bools lowercase, lists comma-joined."""
    if params is None:
        return []
    if hasattr(params, "to_params"):
        params = params.to_params()
    items = params.items() if isinstance(params, dict) else params
    out = []
    for key, value in items:
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple, set, frozenset)):
            value = ",".join(str(v) for v in value)
        out.append((str(key), str(value)))
    return sorted(out)


@dataclass(frozen=True)
class CacheEntry:
    data: Any
    stored_at: float
    age_s: float
    stale: bool


@contextmanager
def _owner_only():
    """Create files 0600 / dirs 0700 inside the block (umask is process-wide: keep it short)."""
    with _UMASK_LOCK:
        old = os.umask(0o077)
        try:
            yield
        finally:
            os.umask(old)


class ResponseCache:
    def __init__(
        self,
        directory: str | os.PathLike,
        *,
        size_limit: int = DEFAULT_SIZE_LIMIT,
        clock: Callable[[], float] = time.time,
        ttl: Callable[[str], float] = ttl_for,
        max_stale_s: float = MAX_STALE_S,
    ) -> None:
        self.directory = Path(directory)
        self.clock = clock
        self.ttl = ttl
        self.max_stale_s = max_stale_s
        self.hits = 0
        self.misses = 0
        self.stale_hits = 0
        with _owner_only():
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.directory, 0o700)
            # values stay inside the SQLite file (no loose value files) up to 4 MB each
            self._cache = diskcache.Cache(
                str(self.directory),
                size_limit=size_limit,
                disk_min_file_size=4 * 1024 * 1024,
                eviction_policy="least-recently-stored",
            )

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.directory)!r})"

    @staticmethod
    def key(base_url: str, project_id: str | None, method: str, path: str,
            params: Any = None) -> str:
        """The cache key: a sha256 hex digest; no credential goes into it."""
        material = json.dumps(
            [base_url.rstrip("/"), project_id or "", method.upper(), path,
             normalise_params(params)],
            separators=(",", ":"),
            ensure_ascii=False,
        )
        return hashlib.sha256(material.encode()).hexdigest()

    def set(self, key: str, path: str, data: Any) -> None:
        """Store ``data`` for ``key`` (no-op for paths whose TTL is 0)."""
        if self.ttl(path) <= 0:
            return
        with _owner_only():
            self._cache.set(key, (self.clock(), data), expire=self.max_stale_s)

    def lookup(self, key: str, path: str) -> CacheEntry | None:
        """The entry for ``key`` with its age and staleness, or None (counted as a miss)."""
        ttl = self.ttl(path)
        raw = self._cache.get(key) if ttl > 0 else None
        if not (isinstance(raw, tuple) and len(raw) == 2):
            self.misses += 1
            return None
        stored_at, data = raw
        age = max(0.0, self.clock() - stored_at)
        if age > self.max_stale_s:
            self.misses += 1
            return None
        stale = age >= ttl
        if stale:
            self.stale_hits += 1
        else:
            self.hits += 1
        return CacheEntry(data, stored_at, age, stale)

    def get(self, key: str, path: str) -> Any:
        """Fresh data for ``key`` or None."""
        entry = self.lookup(key, path)
        return entry.data if entry is not None and not entry.stale else None

    def delete(self, key: str) -> bool:
        return bool(self._cache.delete(key))

    def clear(self) -> int:
        """Remove every entry; returns how many there were."""
        with _owner_only():
            return self._cache.clear()

    def stats(self) -> dict[str, Any]:
        """For ``studio-tui cache stats``: entries, bytes on disk, path, this session's hits."""
        return {
            "path": str(self.directory),
            "entries": len(self._cache),
            "bytes": self._disk_bytes(),
            "size_limit": self._cache.size_limit,
            "hits": self.hits,
            "stale_hits": self.stale_hits,
            "misses": self.misses,
        }

    def _disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self._files())

    def _files(self) -> Iterable[Path]:
        return (p for p in self.directory.rglob("*") if p.is_file())

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
