"""Local reviews of conversations: a status, a verdict, a note, who and when.

One SQLite file in the data dir (``review_store_path``), owner-only (directory 0700, the
database and its ``-wal``/``-shm`` files 0600), in WAL mode with a busy timeout. Rows are
keyed by the API base URL (without credentials), the project id and the conversation id; a
``ReviewStore`` works in one (base URL, project) scope, so reviews of the demo never show
against production.

Writes never lose each other: every write is one ``BEGIN IMMEDIATE`` transaction, and
``mark`` is one UPSERT per conversation that sets only the fields it was given, so two
processes marking different fields or conversations at the same time both land.

A conversation without a row is ``todo`` (``Review.todo``). Text is sanitised on the way in
(``api.text``), a note is at most ``MAX_NOTE_CHARS`` characters, a verdict is one of the
configured list (``[reviews] verdicts`` in ``config.toml``, else ``DEFAULT_VERDICTS``).

Sharing: ``export_records`` / ``import_records`` carry the rows of the scope. An import merges
per conversation: the newer ``updated_at`` wins (a tie keeps the local row). A conflict is a
conversation the importing side had marked itself (not just imported earlier) to other values
than the incoming ones: each is reported with both versions and the winner.

Errors: bad input raises ``ReviewError`` (a ``ValueError``), a store that cannot be used
(damaged, unreadable, busy too long) ``ReviewStoreError``; both have one-line messages.
"""
from __future__ import annotations

import builtins
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import REVIEW_STORE_FILE, Settings, public_url, read_config
from .errors import ConfigError
from .text import one_line, sanitize

__all__ = [
    "STATUSES",
    "DEFAULT_VERDICTS",
    "MAX_NOTE_CHARS",
    "Review",
    "Conflict",
    "ImportReport",
    "ReviewError",
    "ReviewStoreError",
    "ReviewStore",
    "review_store_path",
    "review_settings",
    "parse_export",
    "iso_ms",
]

STATUSES = ("todo", "reviewed", "flagged")
DEFAULT_VERDICTS = ("bot_correct", "bot_wrong", "kb_gap", "tool_failure", "should_handoff",
                    "needs_followup")
MAX_NOTE_CHARS = 10_000
MAX_ID_CHARS = 500
MAX_WHO_CHARS = 100
MAX_VERDICT_CHARS = 64
BUSY_TIMEOUT_MS = 15_000
SCHEMA_VERSION = 1
EXPORT_FORMAT = "studio-tui-reviews"  # the "format" of an exported file
EXPORT_VERSION = 1
_CHUNK = 500  # ids per SQL statement, well under SQLite's variable limit
_FIELDS = ("status", "verdict", "note")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    base_url TEXT NOT NULL,
    project_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    status TEXT NOT NULL,
    verdict TEXT,
    note TEXT NOT NULL DEFAULT '',
    who TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT 'local',
    PRIMARY KEY (base_url, project_id, conversation_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reviews_by_time ON reviews (base_url, project_id, updated_at);
CREATE TABLE IF NOT EXISTS last_looks (
    base_url TEXT NOT NULL,
    project_id TEXT NOT NULL,
    view_name TEXT NOT NULL,
    looked_at TEXT NOT NULL,
    PRIMARY KEY (base_url, project_id, view_name)
) WITHOUT ROWID;
"""


class ReviewError(ValueError):
    """Input a review cannot take (status, verdict, note, id, an import record)."""


class ReviewStoreError(Exception):
    """The review store cannot be used; the message names the file."""


def iso_ms(moment: datetime) -> str:
    """``2026-06-15T12:00:00.123Z``: fixed width, so the text sorts as the time does."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def _parse_time(text: object, what: str) -> str:
    """An ISO 8601 time as ``iso_ms`` writes it (naive means UTC)."""
    if isinstance(text, datetime):
        return iso_ms(text)
    if not isinstance(text, str):
        raise ReviewError(f"{what}: a time (ISO 8601) expected, not {type(text).__name__}")
    try:
        return iso_ms(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError):  # (a year-1 or -9999 time moved to UTC overflows)
        raise ReviewError(f"{what}: not an ISO 8601 time: {_shown(text)}") from None


def _shown(value: object, limit: int = 60) -> str:
    """A value the user gave, quoted and on one line, for an error message."""
    return repr(one_line(str(value), limit))


@dataclass(frozen=True)
class Review:
    conversation_id: str
    status: str = "todo"
    verdict: str | None = None
    note: str = ""
    who: str = ""
    updated_at: str | None = None  # iso_ms; None for a conversation never marked

    @classmethod
    def todo(cls, conversation_id: str) -> Review:
        """The review of a conversation without a row: nothing marked yet."""
        return cls(conversation_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "status": self.status,
            "verdict": self.verdict,
            "note": self.note,
            "who": self.who,
            "updated_at": self.updated_at,
        }

    def same_values(self, other: Review) -> bool:
        return all(getattr(self, name) == getattr(other, name) for name in _FIELDS)


@dataclass(frozen=True)
class Conflict:
    """A conversation both sides marked, to different values; ``winner``: "local" or
    "incoming" (the newer ``updated_at``)."""

    conversation_id: str
    local: Review
    incoming: Review
    winner: str

    def to_json(self) -> dict[str, Any]:
        return {"conversation_id": self.conversation_id, "winner": self.winner,
                "local": self.local.to_json(), "incoming": self.incoming.to_json()}


@dataclass
class ImportReport:
    added: int = 0  # conversations without a local row
    updated: int = 0  # the incoming row was newer and differed
    unchanged: int = 0  # same status, verdict and note on both sides
    kept_local: int = 0  # the local row was newer (or as new) and differed
    conflicts: list[Conflict] = field(default_factory=list)

    def summary(self) -> str:
        conflicts = len(self.conflicts)
        return (f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.kept_local} kept local; {conflicts} conflict"
                f"{'' if conflicts == 1 else 's'}")

    def to_json(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged,
                "kept_local": self.kept_local,
                "conflicts": [c.to_json() for c in self.conflicts]}


# ------------------------------------------------------------------------ settings
def review_store_path(settings: Settings) -> Path:
    return settings.data_dir / REVIEW_STORE_FILE


def review_settings(config_file: Path,
                    env: Mapping[str, str] = os.environ) -> tuple[tuple[str, ...], str]:
    """``(verdicts, who)`` from the ``[reviews]`` table of ``config_file``: ``verdicts``
    (default ``DEFAULT_VERDICTS``) and ``who`` (default ``$USER``, else "unknown"). A bad
    table raises ``ConfigError`` naming the file and the key."""
    table = read_config(config_file).get("reviews", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{config_file}: [reviews] must be a table")
    verdicts: tuple[str, ...] = DEFAULT_VERDICTS
    raw = table.get("verdicts")
    if raw is not None:
        if (not isinstance(raw, list) or not raw
                or not all(isinstance(v, str) and _good_verdict(v) for v in raw)):
            raise ConfigError(
                f"{config_file}: reviews.verdicts must be a non-empty list of names (letters, "
                f"digits, _ . -; at most {MAX_VERDICT_CHARS} characters)")
        verdicts = tuple(dict.fromkeys(raw))
    who = table.get("who")
    if who is not None and not isinstance(who, str):
        raise ConfigError(f"{config_file}: reviews.who must be a string")
    return verdicts, _who(who or env.get("USER", ""))


def _good_verdict(name: str) -> bool:
    return 0 < len(name) <= MAX_VERDICT_CHARS and all(
        ch.isascii() and (ch.isalnum() or ch in "_.-") for ch in name)


def _who(who: object) -> str:
    return one_line(who or "", MAX_WHO_CHARS) or "unknown"


# ------------------------------------------------------------------------ checks
def _check_id(cid: object) -> str:
    if not isinstance(cid, str):
        raise ReviewError(f"conversation id: text expected, not {type(cid).__name__}")
    if not cid.strip():
        raise ReviewError("conversation id: empty")
    if len(cid) > MAX_ID_CHARS:
        raise ReviewError(f"conversation id {_shown(cid)}: too long ({len(cid):,} characters, "
                          f"at most {MAX_ID_CHARS})")
    if sanitize(cid) != cid or "\n" in cid or "\t" in cid:
        raise ReviewError(f"conversation id {_shown(cid)}: contains control characters")
    return cid


def _unique_ids(ids: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(_check_id(cid) for cid in ids))


def _check_status(status: object) -> str:
    if status not in STATUSES:
        raise ReviewError(f"unknown status {_shown(status)} (one of: {', '.join(STATUSES)})")
    return str(status)


def _check_note(note: object) -> str:
    if not isinstance(note, str):
        raise ReviewError(f"note: text expected, not {type(note).__name__}")
    clean = sanitize(note)
    if len(clean) > MAX_NOTE_CHARS:
        raise ReviewError(f"note: too long ({len(clean):,} characters, at most "
                          f"{MAX_NOTE_CHARS:,})")
    return clean


# ------------------------------------------------------------------------ the store
class ReviewStore:
    """Reviews of one (base URL, project) scope. Open with ``open`` or ``for_settings``;
    close with ``close()`` or use it as a context manager. Usable from any thread (calls
    are serialised)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, base_url: str, project_id: str,
                 verdicts: Sequence[str]) -> None:
        self._conn = conn
        self.path = path
        self.base_url = base_url
        self.project_id = project_id
        self.verdicts = tuple(verdicts)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, base_url: str, project_id: str,
             verdicts: Sequence[str] = DEFAULT_VERDICTS) -> ReviewStore:
        """The store at ``path`` (created owner-only if absent), scoped to ``base_url``
        (its credentials are left out of the key) and ``project_id``."""
        if not project_id:
            raise ReviewError("a project id is needed to keep reviews")
        path = Path(path)
        conn = _connect(path)
        return cls(conn, path, public_url(base_url).rstrip("/"), project_id, verdicts)

    @classmethod
    def for_settings(cls, settings: Settings, project_id: str) -> ReviewStore:
        """The user's store for ``settings``; ``project_id``: the client's (the demo's comes
        from its database). Verdicts come from ``config.toml``."""
        verdicts, _ = review_settings(settings.config_file)
        return cls.open(review_store_path(settings), base_url=settings.base_url,
                        project_id=project_id, verdicts=verdicts)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"ReviewStore({str(self.path)!r}, base_url={self.base_url!r}, "
                f"project_id={self.project_id!r})")

    @contextmanager
    def _guard(self) -> Iterator[sqlite3.Connection]:
        """One call at a time; SQLite and OS failures as one line naming the file."""
        with self._lock:
            try:
                yield self._conn
            except (sqlite3.Error, OSError) as exc:
                raise _store_error(self.path, exc) from None

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction, taken at once (``BEGIN IMMEDIATE``): committed whole or not
        at all."""
        with self._guard() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- reading ------------------------------------------------------------------------
    def get(self, ids: Iterable[str]) -> dict[str, Review]:
        """The stored reviews of ``ids`` (conversations without a row are left out)."""
        wanted = list(dict.fromkeys(ids))
        with self._guard() as conn:
            found = self._rows_with_source(conn, wanted)
        return {cid: found[cid][0] for cid in wanted if cid in found}

    def json_for(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """``Review.to_json()`` of the stored reviews of ``ids`` (for an export)."""
        return {cid: review.to_json() for cid, review in self.get(ids).items()}

    def list(self, status: str | None = None) -> builtins.list[Review]:
        """Every stored review of the scope (of one ``status``), newest first."""
        sql = ("SELECT conversation_id, status, verdict, note, who, updated_at FROM reviews "
               "WHERE base_url = ? AND project_id = ?")
        params: tuple[str, ...] = (self.base_url, self.project_id)
        if status is not None:
            sql += " AND status = ?"
            params += (_check_status(status),)
        with self._guard() as conn:
            rows = conn.execute(sql + " ORDER BY updated_at DESC, conversation_id",
                                params).fetchall()
        return [Review(*row) for row in rows]

    def counts(self, ids: Iterable[str]) -> dict[str, int]:
        """How many of ``ids`` have each status (``todo`` includes those without a row)."""
        wanted = list(dict.fromkeys(ids))
        stored = self.get(wanted)
        counts = dict.fromkeys(STATUSES, 0)
        for cid in wanted:
            review = stored.get(cid)
            counts[review.status if review else "todo"] += 1
        return counts

    # -- writing ------------------------------------------------------------------------
    def mark(self, ids: Iterable[str], *, status: str | None = None,
             verdict: str | None = None, note: str | None = None, who: str,
             now: datetime | None = None) -> builtins.list[Review]:
        """Set the given fields of the reviews of ``ids``; the others keep their stored
        value (a new row: ``todo``, no verdict, no note). ``verdict=""`` or ``note=""``
        clears it. Returns the reviews as stored, in the order of ``ids``."""
        cids = _unique_ids(ids)
        given: dict[str, str | None] = {}
        if status is not None:
            given["status"] = _check_status(status)
        if verdict is not None:
            given["verdict"] = self._check_verdict(verdict) if verdict != "" else None
        if note is not None:
            given["note"] = _check_note(note)
        if not given:
            raise ReviewError("nothing to mark: give a status, a verdict or a note")
        if not cids:
            return []
        stamp = iso_ms(now or datetime.now(UTC))
        values = {"status": "todo", "verdict": None, "note": "", **given}
        sets = ", ".join(f"{name} = excluded.{name}"
                         for name in (*given, "who", "updated_at", "source"))
        sql = ("INSERT INTO reviews (base_url, project_id, conversation_id, status, verdict, "
               "note, who, updated_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'local') "
               f"ON CONFLICT (base_url, project_id, conversation_id) DO UPDATE SET {sets}")
        who_text = _who(who)
        with self._write() as conn:
            conn.executemany(sql, [(self.base_url, self.project_id, cid, values["status"],
                                    values["verdict"], values["note"], who_text, stamp)
                                   for cid in cids])
        stored = self.get(cids)
        return [stored[cid] for cid in cids if cid in stored]

    def _check_verdict(self, verdict: object) -> str:
        if verdict not in self.verdicts:
            raise ReviewError(f"unknown verdict {_shown(verdict)} (one of: "
                              f"{', '.join(self.verdicts)})")
        return str(verdict)

    # -- "new since last look" ----------------------------------------------------------
    def last_look(self, view_name: str) -> str | None:
        """When the user last opened ``view_name`` (``iso_ms``), or None."""
        with self._guard() as conn:
            row = conn.execute(
                "SELECT looked_at FROM last_looks WHERE base_url = ? AND project_id = ? "
                "AND view_name = ?", (self.base_url, self.project_id, view_name)).fetchone()
        return None if row is None else str(row[0])

    def set_last_look(self, view_name: str, when: datetime | str) -> None:
        stamp = _parse_time(when, "last look")
        with self._write() as conn:
            conn.execute(
                "INSERT INTO last_looks (base_url, project_id, view_name, looked_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (base_url, project_id, view_name) "
                "DO UPDATE SET looked_at = excluded.looked_at",
                (self.base_url, self.project_id, view_name, stamp))

    # -- sharing ------------------------------------------------------------------------
    def export_records(self) -> builtins.list[dict[str, Any]]:
        """Every review of the scope as ``Review.to_json()``, newest first."""
        return [review.to_json() for review in self.list()]

    def export_document(self, now: datetime | None = None) -> dict[str, Any]:
        """The file ``studio-tui reviews export`` writes: the scope and its records."""
        return {"format": EXPORT_FORMAT, "version": EXPORT_VERSION,
                "exported_at": iso_ms(now or datetime.now(UTC)), "base_url": self.base_url,
                "project_id": self.project_id, "reviews": self.export_records()}

    def import_records(self, records: Iterable[Any]) -> ImportReport:
        """Merge ``records`` (``Review.to_json()`` dicts): per conversation the newer
        ``updated_at`` wins. Every record is checked first: one bad record raises
        ``ReviewError`` naming it, and nothing is written."""
        incoming: dict[str, Review] = {}
        for number, record in enumerate(records, 1):
            review = self._record(record, number)
            known = incoming.get(review.conversation_id)
            if known is None or (review.updated_at or "") > (known.updated_at or ""):
                incoming[review.conversation_id] = review
        report = ImportReport()
        with self._write() as conn:
            local = self._rows_with_source(conn, builtins.list(incoming))
            writes = []
            for cid, theirs in incoming.items():
                ours, source = local.get(cid, (None, ""))
                if ours is None:
                    report.added += 1
                    writes.append(theirs)
                    continue
                if ours.same_values(theirs):
                    report.unchanged += 1
                    continue
                newer = (theirs.updated_at or "") > (ours.updated_at or "")
                if newer:
                    report.updated += 1
                    writes.append(theirs)
                else:
                    report.kept_local += 1
                if source == "local":
                    report.conflicts.append(
                        Conflict(cid, ours, theirs, "incoming" if newer else "local"))
            conn.executemany(
                "INSERT OR REPLACE INTO reviews (base_url, project_id, conversation_id, "
                "status, verdict, note, who, updated_at, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'import')",
                [(self.base_url, self.project_id, r.conversation_id, r.status, r.verdict,
                  r.note, r.who, r.updated_at) for r in writes])
        return report

    def _rows_with_source(self, conn: sqlite3.Connection, ids: builtins.list[str],
                          ) -> dict[str, tuple[Review, str]]:
        found: dict[str, tuple[Review, str]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            rows = conn.execute(
                "SELECT conversation_id, status, verdict, note, who, updated_at, source "
                "FROM reviews WHERE base_url = ? AND project_id = ? AND conversation_id IN "
                f"({', '.join('?' * len(chunk))})",
                (self.base_url, self.project_id, *chunk)).fetchall()
            found.update((row[0], (Review(*row[:6]), row[6])) for row in rows)
        return found

    def _record(self, record: Any, number: int) -> Review:
        """An import record checked and cleaned as ``mark`` would take it."""
        try:
            if not isinstance(record, dict):
                raise ReviewError(f"an object expected, not {type(record).__name__}")
            verdict = record.get("verdict")
            if verdict is not None and verdict != "":
                verdict = self._check_verdict(verdict)
            updated_at = record.get("updated_at")
            if updated_at is None:
                raise ReviewError("updated_at: missing")
            return Review(
                conversation_id=_check_id(record.get("conversation_id")),
                status=_check_status(record.get("status", "todo")),
                verdict=verdict or None,
                note=_check_note(record.get("note") or ""),
                who=_who(record.get("who")),
                updated_at=_parse_time(updated_at, "updated_at"),
            )
        except ReviewError as exc:
            raise ReviewError(f"record {number}: {exc}") from None


def parse_export(data: Any) -> tuple[str | None, builtins.list[Any]]:
    """``(project id, records)`` of an exported file's JSON (``export_document``), or of a
    bare list of records (project unknown). Anything else raises ``ReviewError``."""
    if isinstance(data, list):
        return None, data
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise ReviewError(f"not a studio-tui reviews export (no \"format\": "
                          f"\"{EXPORT_FORMAT}\")")
    version = data.get("version")
    if not isinstance(version, int) or version > EXPORT_VERSION:
        raise ReviewError(f"reviews export version {_shown(version)}: this studio-tui reads "
                          f"version {EXPORT_VERSION}")
    records, project = data.get("reviews"), data.get("project_id")
    if not isinstance(records, list):
        raise ReviewError("\"reviews\": a list expected")
    return (project if isinstance(project, str) else None), records


# ------------------------------------------------------------------------ files
def _connect(path: Path) -> sqlite3.Connection:
    """Open (creating owner-only) and set up the database at ``path``."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)
        # created 0600 before SQLite sees it: SQLite gives its -wal and -shm files the
        # database file's permissions
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        os.chmod(path, 0o600)
    except OSError as exc:
        raise _store_error(path, exc) from None
    conn: sqlite3.Connection | None = None
    try:
        # autocommit mode: transactions are the explicit BEGIN IMMEDIATE of ``_write``
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ReviewStoreError(f"review store {path}: made by a newer studio-tui "
                                   f"(format {version}); upgrade to use it")
        conn.execute("PRAGMA journal_mode = WAL")
        if version < SCHEMA_VERSION:  # idempotent: two processes may both get here
            conn.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} "
                               f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;")
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.chmod(side, 0o600)
        return conn
    except (sqlite3.Error, OSError, ReviewStoreError) as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, ReviewStoreError):
            raise
        raise _store_error(path, exc) from None


def _store_error(path: Path, exc: BaseException) -> ReviewStoreError:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return ReviewStoreError(f"review store {path} is damaged ({_reason(exc)}): move it "
                                "aside to start a new one")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return ReviewStoreError(f"review store {path} is busy: another studio-tui kept it "
                                f"locked for {BUSY_TIMEOUT_MS // 1000} s")
    return ReviewStoreError(f"review store {path}: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return one_line(text or type(exc).__name__, 200)
