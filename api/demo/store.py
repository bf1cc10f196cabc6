"""Read-only access to a demo database: one sqlite connection per thread, meta, docs.

The database never changes while an app serves it, so anything derived from it (meta, counts)
can be cached for the app's lifetime.
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypeVar

from api.demo.anchor import anchor_end

V = TypeVar("V")


class LRU(Generic[V]):
    """A small thread-safe LRU cache of computed values."""

    def __init__(self, maxsize: int = 4096) -> None:
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.maxsize = maxsize

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = compute()
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
        return value


class Checkpoints:
    """Sort keys of rows already served, by position, per (filter, sort).

    The data never changes, so a deep page can resume from the nearest earlier position with a
    row-value bound on the sort index instead of stepping over `offset` rows: paging through
    everything (`offset += limit`) costs O(limit) per page instead of O(offset)."""

    def __init__(self, queries: int = 512, per_query: int = 2048) -> None:
        self._marks: LRU[dict[int, tuple[Any, ...]]] = LRU(queries)
        self._per_query = per_query
        self._lock = threading.Lock()

    def _positions(self, key: Hashable) -> dict[int, tuple[Any, ...]]:
        return self._marks.get_or_compute(key, dict)

    def nearest(self, key: Hashable, offset: int) -> tuple[int, tuple[Any, ...]] | None:
        with self._lock:
            marks = self._positions(key)
            best = max((p for p in marks if p <= offset), default=None)
            return None if best is None else (best, marks[best])

    def record(self, key: Hashable, marks: dict[int, tuple[Any, ...]]) -> None:
        with self._lock:
            positions = self._positions(key)
            positions.update(marks)
            while len(positions) > self._per_query:
                positions.pop(next(iter(positions)))


def _hold_in_use(store: Store, path: Path) -> None:
    """A shared lock on the database's in-use file for the store's lifetime: a newer hour's
    database never deletes this one while it is read (generate.remove_earlier_hours)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: nothing is removed there
        return
    try:
        fd = os.open(path.with_name(path.name + ".inuse"), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:  # a read-only directory: nothing can remove the database either
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
    except OSError:
        os.close(fd)
        return
    weakref.finalize(store, os.close, fd)


class Store:
    """The demo database, opened read-only, one connection per thread."""

    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(db_path)
        if not self.path.exists():
            raise FileNotFoundError(f"demo database not found: {self.path}")
        self._local = threading.local()
        _hold_in_use(self, self.path)
        self.counts: LRU[int] = LRU()  # row counts by filter
        self.checkpoints = Checkpoints()
        meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        self.meta = meta
        self.api_keys: dict[str, str] = json.loads(meta.get("api_keys") or "{}")
        anchor = meta.get("anchor") or "2026-06-15"
        self.anchor: date = date.fromisoformat(anchor[:10])
        # The demo's "now": where its data ends (the end of the anchor day, or the hour it was
        # generated at on that day), so that default windows end with the data.
        self.now = anchor_end(anchor)
        self.projects = [json.loads(b) for b in self.col("SELECT body FROM docs WHERE kind='project' ORDER BY sort_key, id")]

    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False
            )
            conn.execute("PRAGMA query_only = 1")
            # No mmap, a 4 MB page cache per thread and sorts in temporary files: the embedded
            # demo shares the app's process, whose memory must not grow with the project;
            # reads come from the OS page cache instead (figures: bench/README.md).
            conn.execute("PRAGMA cache_size = -4096")
            conn.execute("PRAGMA mmap_size = 0")
            conn.execute("PRAGMA temp_store = FILE")
            self._local.conn = conn
        return conn

    def rows(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, args).fetchall()

    def one(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> tuple[Any, ...] | None:
        row: tuple[Any, ...] | None = self.conn.execute(sql, args).fetchone()
        return row

    def aggregate(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> tuple[Any, ...]:
        """The row of an aggregate query without GROUP BY (SQLite always answers one)."""
        row = self.one(sql, args)
        assert row is not None
        return row

    def col(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> list[Any]:
        return [r[0] for r in self.conn.execute(sql, args)]

    # --- docs -----------------------------------------------------------------------------
    def doc(self, kind: str, id_: str | None,
            project_id: str | None = None) -> dict[str, Any] | None:
        row = self.one("SELECT body, project_id FROM docs WHERE kind=? AND id=?", (kind, id_))
        if row is None or (project_id is not None and row[1] not in (None, project_id)):
            return None
        body: dict[str, Any] = json.loads(row[0])
        return body

    def docs(
        self, kind: str, *, project_id: str | None = None, parent_id: str | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT body FROM docs WHERE kind=?"
        args: list[Any] = [kind]
        if project_id is not None:
            sql += " AND project_id=?"
            args.append(project_id)
        if parent_id is not None:
            sql += " AND parent_id=?"
            args.append(parent_id)
        sql += " ORDER BY sort_key, id"
        return [json.loads(b) for b in self.col(sql, args)]

    def doc_rows(
        self, kind: str, **where: Any
    ) -> list[tuple[str, str | None, str | None, str | None, dict[str, Any]]]:
        """(id, project_id, parent_id, sort_key, body) rows of one kind."""
        sql = "SELECT id, project_id, parent_id, sort_key, body FROM docs WHERE kind=?"
        args: list[Any] = [kind]
        for key, value in where.items():
            sql += f" AND {key}=?"
            args.append(value)
        sql += " ORDER BY sort_key, id"
        return [(i, p, pa, s, json.loads(b)) for i, p, pa, s, b in self.rows(sql, args)]

    def project_ids(self) -> list[str]:
        return [p["id"] for p in self.projects]

    def account_project_ids(self, project_id: str) -> list[str]:
        account = next((p.get("account_id") for p in self.projects if p["id"] == project_id), None)
        return [p["id"] for p in self.projects if p.get("account_id") == account]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
