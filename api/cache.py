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

A damaged cache (not an SQLite file, a truncated one, a file where the directory should be) never
stops the caller: when opened, or when a read or write first meets the damage, it is moved aside
to ``responses-v1.broken-<time>`` (owner-only) and an empty one takes its place. When that cannot
be done, or the cache cannot be used at all (read-only, disk full), the session runs without
one (``disabled``). Either way ``warn`` gets one line saying what happened.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import diskcache

__all__ = ["ResponseCache", "CacheEntry", "ttl_for", "normalise_params", "DEFAULT_SIZE_LIMIT"]

log = logging.getLogger("studio_tui.api.cache")

DEFAULT_SIZE_LIMIT = 256 * 1024 * 1024
BROKEN_SUFFIX = ".broken-"
# what opening or using the cache can raise when its files are damaged or unusable
_FAILURES = (sqlite3.DatabaseError, OSError)
# SQLite's primary result codes (low byte of the extended ones) for a damaged file
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26
MAX_STALE_S = 7 * 24 * 3600
_UMASK_LOCK = threading.Lock()
T = TypeVar("T")

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


def _is_damage(exc: BaseException) -> bool:
    """A cache that is not (or no longer) a database, or not a directory: worth moving aside.
    Other failures (read-only, locked, disk full) say nothing against the files themselves."""
    if isinstance(exc, FileExistsError):  # ``mkdir`` met a regular file
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)


def _reason(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return " ".join((text or type(exc).__name__).split())[:200]


@contextmanager
def _owner_only() -> Iterator[None]:
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
        directory: str | os.PathLike[str],
        *,
        size_limit: int = DEFAULT_SIZE_LIMIT,
        clock: Callable[[], float] = time.time,
        ttl: Callable[[str], float] = ttl_for,
        max_stale_s: float = MAX_STALE_S,
        warn: Callable[[str], None] | None = None,
        recover: bool = True,
    ) -> None:
        """``warn``: called with one line when the cache was damaged or cannot be used (default:
        a logged warning). ``recover=False``: raise instead (a reader that must not move it)."""
        self.directory = Path(directory)
        self.clock = clock
        self.ttl = ttl
        self.max_stale_s = max_stale_s
        self.size_limit = size_limit
        self.hits = 0
        self.misses = 0
        self.stale_hits = 0
        self.problem: str | None = None  # what went wrong, when a warning was given
        self._warn = warn or log.warning
        self._recover_damage = recover
        self._lock = threading.Lock()
        self._cache: diskcache.Cache | None = None
        try:
            self._cache = self._open()
        except _FAILURES as exc:
            if not recover:
                raise
            self._recover(exc)

    def _open(self) -> diskcache.Cache:
        with _owner_only():
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.directory, 0o700)
            # values stay inside the SQLite file (no loose value files) up to 4 MB each
            return diskcache.Cache(
                str(self.directory),
                size_limit=self.size_limit,
                disk_min_file_size=4 * 1024 * 1024,
                eviction_policy="least-recently-stored",
            )

    @property
    def disabled(self) -> bool:
        """True when this session runs without a cache (see ``problem``)."""
        return self._cache is None

    def _recover(self, exc: BaseException) -> None:
        """After ``exc``: move a damaged cache aside and start an empty one, or go on without
        a cache; say which in one warning."""
        old, self._cache = self._cache, None
        if old is not None:
            try:
                old.close()
            except Exception:  # noqa: BLE001 - it is being dropped either way
                pass
        what = f"response cache {self.directory}"
        if not _is_damage(exc):
            self._say(f"{what} cannot be used ({_reason(exc)})", "running without a cache")
            return
        moved = None
        try:
            moved = self._move_aside()
            self._cache = self._open()
        except _FAILURES as again:
            self._cache = None
            step = (f"moved to {moved.name}, but a new one cannot be made" if moved
                    else "cannot be moved aside")
            self._say(f"{what} is damaged ({_reason(exc)}) and {step} ({_reason(again)})",
                      "running without a cache")
            return
        self._say(f"{what} was damaged ({_reason(exc)}): moved to {moved.name}",
                  "starting an empty one")

    def _move_aside(self) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.directory.with_name(f"{self.directory.name}{BROKEN_SUFFIX}{stamp}")
        n = 1
        while os.path.lexists(target):
            n += 1
            target = target.with_name(f"{self.directory.name}{BROKEN_SUFFIX}{stamp}-{n}")
        os.rename(self.directory, target)
        try:  # it holds cached answers: keep it as private as the cache was
            os.chmod(target, 0o700 if target.is_dir() else 0o600)
        except OSError:
            pass
        return target

    def _say(self, problem: str, outcome: str) -> None:
        self.problem = problem
        self._warn(f"{problem}; {outcome}")

    def _use(self, default: T, op: Callable[[diskcache.Cache], T]) -> T:
        """``op(store)``, or ``default`` when there is no usable cache. Damage found here is
        dealt with once (``_recover``), whichever cache thread meets it first."""
        store = self._cache
        if store is None:
            return default
        try:
            return op(store)
        except diskcache.Timeout:  # another process holds the lock: a miss / a skipped write
            return default
        except _FAILURES as exc:
            if not self._recover_damage:
                raise
            with self._lock:
                if self._cache is store:
                    self._recover(exc)
            return default

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
        entry = (self.clock(), data)

        def store(cache: diskcache.Cache) -> None:
            with _owner_only():
                cache.set(key, entry, expire=self.max_stale_s)

        self._use(None, store)

    def lookup(self, key: str, path: str) -> CacheEntry | None:
        """The entry for ``key`` with its age and staleness, or None (counted as a miss)."""
        ttl = self.ttl(path)
        raw = self._use(None, lambda cache: cache.get(key)) if ttl > 0 else None
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
        return bool(self._use(False, lambda cache: cache.delete(key)))

    def clear(self) -> int:
        """Remove every entry; returns how many there were."""
        def clear(cache: diskcache.Cache) -> int:
            with _owner_only():
                removed: int = cache.clear()  # diskcache has no type hints
                return removed

        return self._use(0, clear)

    def broken_copies(self) -> list[Path]:
        """Damaged caches moved aside earlier (``responses-v1.broken-*``)."""
        try:
            return sorted(self.directory.parent.glob(f"{self.directory.name}{BROKEN_SUFFIX}*"))
        except OSError:
            return []

    def stats(self) -> dict[str, Any]:
        """For ``studio-tui cache stats``: entries, bytes on disk, path, this session's hits."""
        return {
            "path": str(self.directory),
            "entries": self._use(0, len),
            "bytes": self._disk_bytes(),
            "size_limit": self.size_limit,
            "hits": self.hits,
            "stale_hits": self.stale_hits,
            "misses": self.misses,
        }

    def _disk_bytes(self) -> int:
        if self._cache is None:
            return 0
        try:
            return sum(p.stat().st_size for p in self._files())
        except OSError:  # a file evicted meanwhile
            return 0

    def _files(self) -> Iterable[Path]:
        return (p for p in self.directory.rglob("*") if p.is_file())

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
