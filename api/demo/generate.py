"""Build (once) and locate the demo SQLite database.

``ensure_demo_db()`` returns the path of a ready database for (GENERATOR_VERSION, seed, size,
anchor), all four encoded in the file name and verified in ``meta``. Generation streams the
conversations in batches into a temporary file in the same directory, then ``os.replace``s it
into place: a crash never leaves a file under the final name, and concurrent first uses
serialise on a lock file (and re-check after taking it).
"""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from api.demo import world as W
from api.demo.compact import CONV_INSERT, EVENT_INSERT, conversation_row, replace_tables
from api.demo.content import build_messages, encode_extra, kb_citation_id
from api.demo.docs import config_docs, conversion_metric_docs, trending_docs
from api.demo.evals import eval_docs
from api.demo.files import (  # noqa: F401 - callers import them from here too
    DEFAULT_SEED,
    DEFAULT_SIZE,
    MAX_SIZE,
    db_filename,
    demo_dir,
    resolve_params,
)
from api.demo.plan import Plan, plan_conversation
from api.demo.schema import GENERATOR_VERSION, INDEX_SQL, SCHEMA_SQL

BATCH = 5000

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------
# ensure


def ensure_demo_db(size: int | None = None, seed: int | None = None, anchor: str | None = None,
                   cache_dir: str | os.PathLike[str] | None = None, *,
                   progress: Progress | None = None) -> Path:
    """Path of a ready demo database, generating it atomically on first use."""
    size, seed, anchor = resolve_params(size, seed, anchor)
    directory = demo_dir(cache_dir)
    path = directory / db_filename(size, seed, anchor)
    if is_ready(path, size, seed, anchor):
        return path
    with _lock(path):
        if is_ready(path, size, seed, anchor):  # another process built it meanwhile
            return path
        _remove_stale_temps(path)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            build_db(tmp, size, seed, anchor, progress=progress)
            _fsync(tmp)
            os.replace(tmp, path)
            _fsync_dir(directory)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
    remove_old_versions(directory)
    remove_earlier_hours(directory, path)
    return path


def remove_old_versions(directory: Path) -> list[Path]:
    """Delete databases (and their lock files) of older generator versions: never read again,
    and the largest ones take much disk. Returns what was removed."""
    removed = []
    for old in directory.glob("demo-v*-s*"):
        version = old.name[len("demo-v"):].split("-", 1)[0]
        if version.isdigit() and int(version) < GENERATOR_VERSION:
            with contextlib.suppress(OSError):
                old.unlink()
                removed.append(old)
    return removed


def in_use_path(path: Path) -> Path:
    """The file every process reading database ``path`` holds a shared lock on (store.Store);
    apart from the build lock, so that readers never hold up a rebuild."""
    return path.with_name(path.name + ".inuse")


def remove_earlier_hours(directory: Path, current: Path) -> list[Path]:
    """Delete the databases of earlier hours (anchors ``YYYY-MM-DDTHH``, data up to the hour
    they were built at) of the same generator, seed and size as ``current``: a newer hour
    replaces them. One a process still reads (its in-use lock is held) stays. Returns what
    was removed."""
    prefix, sep, _ = current.name.partition("-a")
    removed: list[Path] = []
    if not sep:
        return removed
    for old in directory.glob(f"{prefix}-a*T*.sqlite3"):
        if old == current or not _unused(in_use_path(old)):
            continue
        for path in (old, old.with_name(old.name + ".lock"), in_use_path(old)):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def _unused(marker: Path) -> bool:
    """Whether no process holds the in-use lock ``marker`` (a missing one: nobody)."""
    try:
        fd = os.open(marker, os.O_RDWR)
    except OSError:
        return True
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: never remove what may be in use
        os.close(fd)
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases the lock taken to test it
    return True


def is_ready(path: Path, size: int, seed: int, anchor: str) -> bool:
    """Cheap check: the file exists and its meta names the same generator/seed/size/anchor."""
    try:
        if path.stat().st_size == 0:
            return False
    except OSError:
        return False
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False
    return meta.get("complete") == "1" and meta_matches(meta, size, seed, anchor)


def meta_matches(meta: dict[str, Any], size: int, seed: int, anchor: str) -> bool:
    return (meta.get("generator_version") == str(GENERATOR_VERSION)
            and meta.get("seed") == str(seed) and meta.get("size") == str(size)
            and meta.get("anchor") == anchor
            and meta.get("generator_fingerprint") in (None, generator_fingerprint()))


GENERATOR_SOURCES = ("schema.py", "anchor.py", "codec.py", "world.py", "plan.py", "content.py",
                     "compact.py", "docs.py", "evals.py", "generate.py")


@functools.lru_cache(maxsize=1)
def generator_fingerprint() -> str:
    """Hash of the generator's source: an edited generator never reuses an old database even
    when GENERATOR_VERSION was not bumped (the version still names the file)."""
    h = hashlib.sha256()
    for name in GENERATOR_SOURCES:
        try:
            h.update((Path(__file__).with_name(name)).read_bytes())
        except OSError:  # sources not available (zipped install): rely on the version
            h.update(name.encode())
    return h.hexdigest()[:16]


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: rely on atomic rename + re-check
            yield
            return
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _remove_stale_temps(path: Path) -> None:
    """Leftovers of crashed builds (we hold the lock, so nobody is writing them)."""
    for stale in path.parent.glob(path.name + ".tmp-*"):
        with contextlib.suppress(OSError):
            stale.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not supported everywhere (Windows)
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --------------------------------------------------------------------------------------------
# build


CSAT_SQL = "INSERT INTO csat_ratings VALUES (?,?,?,?,?,?,?)"
CONVERSION_SQL = f"INSERT INTO conversion_events VALUES ({','.join('?' * 12)})"
DOC_SQL = "INSERT INTO docs VALUES (?,?,?,?,?,?)"


class _Batch:
    """Rows of one batch of conversations, flushed with executemany."""

    def __init__(self) -> None:
        self.conversations: list[tuple[Any, ...]] = []
        self.tags: list[tuple[Any, ...]] = []
        self.skills: list[tuple[Any, ...]] = []
        self.playbooks: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.csat: list[tuple[Any, ...]] = []
        self.conversions: list[tuple[Any, ...]] = []
        self.messages: list[tuple[Any, ...]] = []  # (seq, encoded messages and citations)
        self.last_event: dict[str, int] = {}

    def add(self, world: W.World, plan: Plan) -> None:
        seq, cid = plan.seq, plan.conversation_id
        self.conversations.append(conversation_row(plan))
        self.messages.append((seq, encode_extra(build_messages(world, plan))))
        self.tags.extend((t, seq) for t in plan.tags)
        self.skills.extend((name, seq) for name in plan.skills)
        self.playbooks.extend((v.id, v.base_id, seq) for v in plan.participants)
        self._events(world, plan)
        if plan.rating:
            rating, remark, ts = plan.rating
            self.csat.append((seq, plan.project_id, cid, rating, remark, W.iso(ts), ts))
        for slug, value, occurred, created, meta in plan.conversions:
            self.conversions.append((
                None, plan.project_id, slug, seq, cid, value, W.iso(occurred), occurred, created,
                W.dumps(meta), cid, f"{slug}-{plan.vars['order']}-{seq}"))
            self.last_event[slug] = max(self.last_event.get(slug, 0), created)

    def _events(self, world: W.World, plan: Plan) -> None:
        pid, seq, cid = plan.project_id, plan.seq, plan.conversation_id
        for c in plan.tool_calls:
            ts = plan.times[c.msg] - 1
            if c.kind == "list_agents":  # built-in tool: not a resource event
                continue
            if c.kind == "kb_search":
                for k, item in enumerate(c.citations):
                    self.events.append((
                        kb_citation_id(c, k), pid, "kb_citation", item.kb_id, item.title,
                        item.id or None, world.kb_by_id[item.kb_id].source, seq, cid, ts,
                        1, None, c.duration_ms, None, None, None))
                continue
            name = c.action or c.name
            meta = None
            if c.kind == "api_tool":
                status = 200 if c.success else int((c.error or "HTTP 500").split()[1].rstrip(":"))
                meta = W.dumps({"status": status, "headers": {"content-type": "application/json"}})
            self.events.append((
                c.event_id, pid, c.kind, c.ref, name, None, None, seq, cid, ts,
                int(c.success), c.error, c.duration_ms,
                None if c.kind == "skill" else W.dumps(c.arguments),
                None if c.kind == "skill" or c.result is None else W.dumps(c.result), meta))

    def flush(self, conn: sqlite3.Connection) -> None:
        conn.executemany(CONV_INSERT, self.conversations)
        conn.executemany("INSERT INTO conv_tags VALUES (?,?)", self.tags)
        conn.executemany("INSERT INTO conv_skills VALUES (?,?)", self.skills)
        conn.executemany("INSERT INTO conv_playbooks VALUES (?,?,?)", self.playbooks)
        conn.executemany(EVENT_INSERT, self.events)
        conn.executemany(CSAT_SQL, self.csat)
        conn.executemany(CONVERSION_SQL, self.conversions)
        conn.executemany("INSERT INTO conv_messages VALUES (?,?)", self.messages)


def batch_rows(world: W.World, start: int, stop: int) -> _Batch:
    """The rows of conversations ``start..stop-1``."""
    rows = _Batch()
    for seq in range(start, stop):
        rows.add(world, plan_conversation(world, seq))
    return rows


def build_db(path: Path, size: int, seed: int, anchor: str, *,
             progress: Progress | None = None, batch: int = BATCH) -> None:
    """Write a complete demo database to ``path`` (a new, owner-only file): conversations in
    seq order, ``batch`` at a time (memory stays bounded), with their messages and citations
    (``conv_messages``)."""
    world = W.build_world(seed, anchor, size)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "locking_mode=EXCLUSIVE",
                       "temp_store=MEMORY", "cache_size=-65536"):
            conn.execute(f"PRAGMA {pragma}")
        conn.executescript(SCHEMA_SQL)
        replace_tables(conn, world)  # same columns for readers, compact storage
        conn.execute("BEGIN")
        last_event: dict[str, int] = {}
        for start in range(0, size, batch):
            stop = min(size, start + batch)
            rows = batch_rows(world, start, stop)
            rows.flush(conn)
            for slug, ts in rows.last_event.items():
                last_event[slug] = max(last_event.get(slug, 0), ts)
            if progress:
                progress(stop, size)
        docs = config_docs(world) + conversion_metric_docs(world, last_event) + eval_docs(world)
        docs += trending_docs(world, conn)
        conn.executemany(DOC_SQL, [(k, i, p, par, sk, W.dumps(b)) for k, i, p, par, sk, b in docs])
        conn.execute("COMMIT")
        conn.executescript(INDEX_SQL)
        conn.execute("ANALYZE")
        _write_meta(conn, world)
    finally:
        conn.close()


def _write_meta(conn: sqlite3.Connection, world: W.World) -> None:
    meta = {
        "generator_version": str(GENERATOR_VERSION),
        "generator_fingerprint": generator_fingerprint(),
        "seed": str(world.seed),
        "size": str(world.size),
        "anchor": world.anchor,
        "created_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "api_keys": W.dumps({world.main.api_key: world.main.id,
                           world.other.api_key: world.other.id}),
        "main_project_id": world.main.id,
        "other_project_id": world.other.id,
        "account_id": world.account_id,
        "complete": "1",  # written last: a file without it is never used
    }
    conn.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))


# --------------------------------------------------------------------------------------------
# test helpers


HOSTILE_SQL = "((seq * 2654435761 + ? * 40503) % 1000) < 20"


def hostile_conversation_ids(conn: sqlite3.Connection) -> list[str]:
    """Conversation ids carrying hostile/awkward text (markup, escapes, RTL, 50 KB, empty, ...).

    Newest first. Includes one of each kind among the newest conversations (the last week).
    """
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    seed, size = int(meta["seed"]), int(meta["size"])
    forced = [seq for seq in range(max(0, size - 3 * len(W.HOSTILE_KINDS)), size)
              if W.forced_hostile_kind(seq, size)]
    rows = conn.execute(
        f"SELECT seq, conversation_id FROM conversations WHERE {HOSTILE_SQL} "
        f"OR seq IN ({','.join('?' * len(forced))}) ORDER BY last_ts DESC, seq DESC",
        (seed, *forced)).fetchall()
    return [cid for seq, cid in rows if W.is_hostile(seed, seq, size)]
