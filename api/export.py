"""Export conversations to JSON, CSV, JSONL or Markdown — streaming, atomic, owner-only,
resumable.

The same code serves ``studio-tui export`` and the TUI (``run_export`` takes a progress
callback and stops cleanly when its task is cancelled).

Formats (byte-compatible with the brief's ``export_conversations.py``):

- ``json``: exactly what ``json.dump(obj, f, indent=2, ensure_ascii=False)`` writes for
  ``{"exported_at": "...Z", "total_matched": N, "total_exported": M, "conversations": [...]}``
  (key order as shown, no trailing newline). ``total_exported`` is known only at the end, so
  the conversations are streamed to the partial file first (each one dumped with ``indent=2``
  and shifted to its nesting depth, which is byte-identical to the nested dump because JSON
  strings never hold a raw newline) and the final file is assembled at the end: header, the
  partial body copied in blocks, footer. Memory stays flat; the disk sees the body twice.
- ``csv``: the contract's columns in order (``CSV_COLUMNS``) via ``csv.DictWriter``
  (``\\r\\n`` line ends, ``extrasaction="ignore"``); lists joined with ``", "``, booleans
  ``true``/``false``, null empty; no rows gives an empty file (no header). Byte-identical
  with ``csv_raw``; by default hostile cells are made safe (below), plain ones are the same.
  ``playbooks_info`` is a list of objects: the brief's script joins every list with
  ``", ".join(str(x) for x in value)``, so each object appears as its Python ``str()`` —
  ``{'id': 'pb-1', 'name': 'Helper', 'version': 2}`` — which ``ast.literal_eval`` reads back.
  We keep that on purpose, for byte compatibility with files people already have; use the
  JSON or JSONL format when you need the structure.
  ``columns="full"`` (the TUI's default, ``--columns full``) writes every documented field of
  the list endpoint instead (``FULL_CSV_COLUMNS``: the triage signals and their reasons,
  ``winback_sent_at``, ``context``), objects and lists of objects as JSON text
  (``playbooks_info``, ``context``), lists of plain values joined with ``", "`` as above.
  Both column sets go through the same cell safety (below).
- ``jsonl``: one conversation per line, ``json.dumps(conv, ensure_ascii=False)``.
- ``md``: one Markdown document (``api.transcript``), always with the messages: each
  conversation's transcript is streamed to the partial file after a ``---`` rule, and the
  top (``export_preamble``: title, counts, redaction, and for an incomplete export what is
  missing, named first) is written in front at the end, as JSON's header is. Resumable.
- ``parquet``: one typed Parquet file (``api.export_parquet``: the schema, what happens to
  values that do not fit it, and how the partial holds one Arrow segment per chunk until the
  file is assembled in row groups at the end). Needs the ``parquet`` extra (pyarrow).

``redact`` (``--redact``) masks emails, phone numbers and card-like numbers in every string of
every row (``api.redact.redact_value``), in every format; the JSON header then holds
``"redacted": true`` after ``total_exported`` and the Markdown top says so (CSV and JSONL
have no metadata). A resumed export keeps the choice of the run it continues.

JSON and JSONL text is the API's data as-is (the file is data, not a terminal): escape
sequences are not stripped there; every display of it sanitizes.

CSV cells are made safe by default (``csv_safe``), because a CSV file is meant to be opened
in a spreadsheet and customer text is hostile. A text cell (lists joined first) goes through
``api.text.sanitize``: escape sequences (CSI, OSC, DCS, ... in their ESC and C1 forms), C0
and C1 controls, DEL and bidi overrides are removed; ``\\r\\n`` and a lone ``\\r`` become
``\\n``. Line feeds and tabs are kept: a line break inside a quoted cell is legitimate data
(``csv`` quotes it), and a tab inside a cell is harmless. Then, as OWASP recommends against
formula ("CSV") injection, a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a line
break (what a CR became), or whose first non-blank character is ``=``, ``+``, ``-`` or ``@``
(importers may trim), gets a single quote in front — unless the whole cell is a plain number
(``-2``, ``+3.5``, ``-1e3``): ``-2+3`` is quoted, ``-2`` is not. Numeric values (message
counts, latencies, versions) are numbers, never text, and are written unchanged.
``csv_raw=True`` (``--csv-raw``) writes the cells exactly as the brief's script does, for
byte compatibility — unsafe to open in a spreadsheet.

With ``messages=True`` each conversation gets ``messages`` and ``citations`` from the batch
endpoint (50 ids per call, ``concurrency`` calls in flight), merged as the brief does
(``conv["messages"] = detail.get("messages", [])``, same for citations). With ``ids`` the
conversations come from the batch endpoint only (``--ids-from``); without ``messages`` their
``messages``/``citations`` keys are dropped so rows look like list rows. ``exclude_ids``
leaves those conversations out ("all matching except these"): listed rows with those ids are
skipped without fetching their details, and ``total_matched`` counts the listing without them.
With ``reviews`` (``--with-reviews``) each conversation gains a ``review`` object, the local
review of ``api.reviews`` or null (CSV: ``REVIEW_CSV_COLUMNS`` after the column set).

Nothing is written looking complete when it is not:

- A batch that still fails after its retries, details an answer left out (or returned
  without ``messages``) after ``MISSING_TRIES`` asks, and ids the batch endpoint does not
  know stop the export before their chunk is written (``ExportIncomplete`` names them).
  With ``allow_partial`` the export goes on and the report lists them: failed ones are left
  out, ones without details are written without ``messages``/``citations`` keys (never
  empty lists), unknown ids are left out.
- Paging by offset hides rows that move while it runs (a new message moves a conversation to
  the front; one arrives or leaves). What can show it — a duplicate, a short page, a total
  that changed, a resumed listing whose first row is not the last one handled — marks the
  export for verification: the query is listed again (ids only) and what was missed is
  fetched by id and appended, until a listing sees no movement (``VERIFY_PASSES`` at most,
  else ``ExportError``: the data kept changing).
- List rows without a ``conversation_id`` make the page be asked again, then an error.

One export per output: ``<output>.lock`` is held (``flock``) for the whole run; a second
export to the same file fails at once naming the first, and touches none of its files.

Atomicity and permissions: rows go to ``<output>.partial`` (created 0600 next to the output);
the output appears only when complete, by ``fsync`` + ``os.replace``; the directory is fsynced.
CSV and JSONL partials become the output directly; JSON is assembled into a temp file first.

Resume: ``<output>.state.json`` (0600, replaced atomically) records at checkpoints (at most
every ``CHECKPOINT_S`` seconds and at the end) the options, ``exported_at``, how many listed
rows were handled (``consumed``) and the last one's id, rows recovered by verification, rows
written, the sizes of the partial and of ``<output>.ids`` (the ids handled, one per line)
after their last fsync, whether verification is due, and the ids failed so far. ``resume``
checks the options match, cuts both files back to the recorded sizes, and lists again from
offset ``consumed - 1``: that row must be the last one handled, else rows moved and the
export is verified before it is published. Ids already handled are never written twice.
With no state file ``resume`` starts afresh. On failure or cancellation the partial, ids and
state are kept when ``keep_partial`` (the CLI) and something was done, else removed.
"""
from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Mapping
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import fastjson
from .errors import BadResponseError, StudioError
from .paging import (
    BATCH_MAX,
    DetailBatch,
    DetailReport,
    PagingReport,
    batch_details,
    chunked,
    closing_async,
    fetch_batch,
    iter_conversations,
    ordered_map,
)
from .redact import redact_value
from .text import one_line, sanitize

__all__ = [
    "FORMATS",
    "CSV_COLUMNS",
    "FULL_CSV_COLUMNS",
    "REVIEW_CSV_COLUMNS",
    "ExportError",
    "ExportIncomplete",
    "ExportProgress",
    "ExportReport",
    "run_export",
    "read_ids",
    "csv_row",
    "csv_safe",
    "json_item",
    "write_text_atomic",
]

FORMATS = ("json", "csv", "jsonl", "md", "parquet")
CSV_COLUMNS = [
    "conversation_id", "inbox_name", "playbook_name", "playbook_version", "playbooks_info",
    "message_count", "first_message_at", "last_message_at", "first_user_message",
    "last_assistant_message", "has_handoff", "has_error", "tags", "skills",
    "avg_response_latency_ms", "sentiment_label", "sentiment_reason", "resources_label",
    "resources_reason", "summary", "model",
]
# every documented field of a list row (api-reference: List Conversations), in its order
FULL_CSV_COLUMNS = [
    *CSV_COLUMNS[:-1], "user_intent", "sentiment_shift", "sentiment_shift_reason",
    "deflection_quality", "deflection_quality_reason", "handoff_reason",
    "handoff_reason_detail", "recontact_risk", "recontact_risk_reason", "model",
    "winback_sent_at", "context",
]
CSV_COLUMN_SETS = {"brief": CSV_COLUMNS, "full": FULL_CSV_COLUMNS}
# ``reviews``: the local review of each conversation (api.reviews), after the column set
REVIEW_CSV_COLUMNS = ["review_status", "review_verdict", "review_note", "review_who",
                      "review_updated_at"]
STATE_VERSION = 2
MISSING_TRIES = 4  # asks for details a batch answer left out (the first ask included)
VERIFY_PASSES = 3  # re-listings after the data moved while paging, before giving up
CHECKPOINT_S = 1.0
FILE_MODE = 0o600
ITEM_ERRORS = "backslashreplace"  # lone surrogates written as their JSON escape
WORKER_NICENESS = 10  # the encoding worker process runs below the requests (_worker_init)
WATCHDOG_S = 1.0  # how often the worker checks its parent is alive (_die_with_parent)
PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ExportError(Exception):
    """An export that could not be done; ``str()`` is one line for the user."""

    def __init__(self, message: str, report: ExportReport | None = None) -> None:
        super().__init__(message)
        self.report = report


class ExportIncomplete(ExportError):
    """Some conversations' details could not be fetched (``failed_ids``)."""

    def __init__(self, message: str, failed_ids: list[str], report: ExportReport | None = None):
        super().__init__(message, report)
        self.failed_ids = failed_ids


@dataclass(frozen=True)
class ExportProgress:
    total: int | None  # conversations to consume (None until the first page arrived)
    done: int  # conversations consumed so far (written, failed or missing)
    written: int
    failed: int


@dataclass
class ExportReport:
    path: Path
    fmt: str
    total_matched: int | None = None
    total_exported: int = 0
    failed_ids: list[str] = field(default_factory=list)
    missing_ids: list[str] = field(default_factory=list)
    lacking_ids: list[str] = field(default_factory=list)  # written without their messages
    recovered: int = 0  # added by id after the data moved while paging
    excluded: int = 0  # listed but left out as asked (``exclude_ids``)
    verify_passes: int = 0
    resumed_from: int = 0
    bytes: int = 0
    seconds: float = 0.0
    complete: bool = False
    paging: PagingReport | None = None
    details: DetailReport | None = None

    @property
    def drift(self) -> bool:
        return bool(self.paging and self.paging.drift)

    def summary(self) -> str:
        matched = "?" if self.total_matched is None else self.total_matched
        text = (f"exported {self.total_exported} of {matched} conversations "
                f"to {self.path} ({self.bytes:,} bytes, {self.seconds:.1f}s)")
        if self.total_matched is not None and self.total_exported > self.total_matched:
            text += (f", {self.total_exported - self.total_matched} more than match now "
                     "(conversations left the query while it was exported)")
        if self.resumed_from:
            text += f", resumed after {self.resumed_from}"
        if self.excluded:
            text += f", {self.excluded} excluded as asked"
        if self.failed_ids:
            text += f", {len(self.failed_ids)} left out (details failed)"
        if self.lacking_ids:
            text += f", {len(self.lacking_ids)} without their messages"
        if self.missing_ids:
            text += f", {len(self.missing_ids)} ids not found"
        if self.verify_passes:
            text += (f"; the data moved while paging: checked by {self.verify_passes} "
                     f"listing{'s' if self.verify_passes > 1 else ''}, "
                     f"{self.recovered} added by id")
        return text

    @property
    def partial(self) -> bool:
        """Published, but rows are missing or lack their messages (``allow_partial``)."""
        return bool(self.failed_ids or self.lacking_ids or self.missing_ids)


# ------------------------------------------------------------------------ formatting
def json_item(conv: Any) -> str:
    """A conversation as ``json.dump(..., indent=2)`` writes it inside the export object."""
    parts = ["    "]
    _encode(conv, "    ", parts)
    return "".join(parts)


# ``json.dumps(indent=...)`` runs the pure-Python encoder (CPython 3.11-3.13 use the C one only
# without indent): a generator chain that dominated the CPU time of large exports. ``_encode``
# writes the same bytes (``indent=2, ensure_ascii=False``; a test compares them on random data)
# faster: one recursive function, scalars inline, strings through the C escaper.
# Rows decoded by the client (``api.fastjson.loads``) go through orjson instead, faster
# still, whenever ``fastjson.dumps_indent2`` can vouch for identical bytes (``_fast_item``).
_encode_str = json.encoder.encode_basestring  # the C implementation when available
_float_repr = float.__repr__
_int_repr = int.__repr__


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return _int_repr(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return _float_repr(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    if isinstance(key, str):
        return _encode_str(key)
    if isinstance(key, (int, float)) or key is None:
        return '"' + _scalar(key) + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _encode(value: Any, indent: str, parts: list[str]) -> None:
    if isinstance(value, str):
        parts.append(_encode_str(value))
    elif isinstance(value, dict):
        _encode_dict(value, indent, parts)
    elif isinstance(value, (list, tuple)):
        _encode_list(value, indent, parts)
    else:
        parts.append(_scalar(value))


def _encode_dict(value: dict[str, Any], indent: str, parts: list[str]) -> None:
    if not value:
        parts.append("{}")
        return
    inner = indent + "  "
    separator = ",\n" + inner
    parts.append("{\n" + inner)
    first = True
    for key, item in value.items():
        if first:
            first = False
        else:
            parts.append(separator)
        parts.append(_key(key) + ": ")
        if isinstance(item, str):
            parts.append(_encode_str(item))
        else:
            _encode(item, inner, parts)
    parts.append("\n" + indent + "}")


def _encode_list(value: list[Any] | tuple[Any, ...], indent: str, parts: list[str]) -> None:
    if not value:
        parts.append("[]")
        return
    inner = indent + "  "
    separator = ",\n" + inner
    parts.append("[\n" + inner)
    first = True
    for item in value:
        if first:
            first = False
        else:
            parts.append(separator)
        if isinstance(item, str):
            parts.append(_encode_str(item))
        else:
            _encode(item, inner, parts)
    parts.append("\n" + indent + "]")


def json_header(exported_at: str, total_matched: int | None, total_exported: int,
                redacted: bool = False) -> str:
    dump = json.dumps
    return (
        "{\n"
        f'  "exported_at": {dump(exported_at, ensure_ascii=False)},\n'
        f'  "total_matched": {dump(total_matched)},\n'
        f'  "total_exported": {dump(total_exported)},\n'
        + ('  "redacted": true,\n' if redacted else "")
        + '  "conversations": ['
    )


# What a spreadsheet takes for a formula at the start of a cell (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def csv_safe(text: str) -> str:
    """``text`` as a CSV cell safe to open in a spreadsheet or show in a terminal: escape
    sequences and control characters removed, a formula start quoted (module docstring)."""
    text = sanitize(text)
    stripped = text.strip()
    if ((text[:1] in ("\t", "\n") or stripped.startswith(_FORMULA_START))
            and not _NUMBER.fullmatch(stripped)):
        return "'" + text
    return text


def _csv_value(value: Any, raw: bool = False) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value)
    if raw or not isinstance(value, str):
        return value  # numbers stay numbers, whatever their sign
    return csv_safe(value)


def _json_cell(value: Any) -> Any:
    """Objects, and lists holding objects or lists, as JSON text (the full column set)."""
    if isinstance(value, dict) or (
            isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value)):
        return json.dumps(value, ensure_ascii=False)
    return value


def csv_row(conv: dict[str, Any], raw: bool = False, columns: str = "brief",
            reviews: bool = False) -> dict[str, Any]:
    """One CSV row of ``conv``; ``raw``: cells exactly as the brief's script writes them;
    ``columns``: ``"brief"`` (the brief's columns and bytes) or ``"full"``; ``reviews``: add
    ``REVIEW_CSV_COLUMNS`` from ``conv["review"]`` (empty when it is null)."""
    if columns == "brief":
        row = {column: _csv_value(conv.get(column), raw) for column in CSV_COLUMNS}
    else:
        row = {column: _csv_value(_json_cell(conv.get(column)), raw)
               for column in CSV_COLUMN_SETS[columns]}
    if reviews:
        review = conv.get("review") or {}
        row.update((column, _csv_value(review.get(column.removeprefix("review_")), raw))
                   for column in REVIEW_CSV_COLUMNS)
    return row


class _Writer:
    """Appends rows to the partial file (text, UTF-8); ``rows`` = rows already in it."""

    fast = False  # rows were decoded by ``fastjson.loads``: orjson may encode them (JSON)

    def __init__(self, fh: io.TextIOWrapper, rows: int) -> None:
        self.fh = fh
        self.rows = rows

    def write(self, conv: dict[str, Any]) -> None:
        raise NotImplementedError

    def write_many(self, convs: list[Any]) -> None:
        for conv in convs:
            self.write(conv)


class _JsonWriter(_Writer):
    def write(self, conv: dict[str, Any] | str | bytes) -> None:
        if isinstance(conv, bytes):
            self.write_many([conv])
            return
        self.fh.write((",\n" if self.rows else "") + self._item(conv))
        self.rows += 1

    def write_many(self, convs: list[Any]) -> None:
        """With items already encoded (``encode_batch``: UTF-8 bytes) among them, the batch
        goes out as bytes in one write (the others, e.g. a row whose details the answer
        lacked, encoded here); else item by item through the text layer."""
        if not any(isinstance(c, bytes) for c in convs):
            super().write_many(convs)
            return
        items = [c if isinstance(c, bytes) else self._item(c).encode("utf-8", ITEM_ERRORS)
                 for c in convs]
        self.fh.flush()  # what the text layer holds goes first
        self.fh.buffer.write((b",\n" if self.rows else b"") + b",\n".join(items))
        self.rows += len(items)

    def _item(self, conv: Any) -> str:
        if isinstance(conv, str):
            return conv
        return (_fast_item(conv) if self.fast else None) or json_item(conv)


def _fast_item(conv: Any) -> str | None:
    """``json_item(conv)`` through orjson when that is byte-identical (``api.fastjson``)."""
    text = fastjson.dumps_indent2(conv)
    return None if text is None else "    " + text.replace("\n", "\n    ")


class _JsonlWriter(_Writer):
    def write(self, conv: dict[str, Any]) -> None:
        self.fh.write(json.dumps(conv, ensure_ascii=False) + "\n")
        self.rows += 1


class _CsvWriter(_Writer):
    raw = False  # ``csv_raw``: cells as the brief writes them, not made safe
    columns = "brief"  # or "full" (``CSV_COLUMN_SETS``)
    reviews = False  # add ``REVIEW_CSV_COLUMNS``

    def __init__(self, fh: io.TextIOWrapper, rows: int) -> None:
        super().__init__(fh, rows)
        self.dict_writer: csv.DictWriter[str] | None = None

    def write(self, conv: dict[str, Any]) -> None:
        if self.dict_writer is None:
            fieldnames = CSV_COLUMN_SETS[self.columns] + (
                REVIEW_CSV_COLUMNS if self.reviews else [])
            self.dict_writer = csv.DictWriter(self.fh, fieldnames=fieldnames,
                                              extrasaction="ignore")
        if not self.rows:
            self.dict_writer.writeheader()
        self.dict_writer.writerow(csv_row(conv, self.raw, self.columns, self.reviews))
        self.rows += 1


class _MdWriter(_Writer):
    """Transcripts (``api.transcript``), each after a ``---`` rule; the top comes at the end
    (``_Export._assemble``). Footnote labels carry the row's number: unique in the file."""

    redact = False

    def write(self, conv: dict[str, Any]) -> None:
        from .models import ConversationDetail
        from .transcript import MD_SEPARATOR, transcript_markdown

        detail = ConversationDetail.model_validate(conv)
        self.fh.write(MD_SEPARATOR + transcript_markdown(
            detail, redact=self.redact, heading_level=2, footnote_prefix=f"{self.rows + 1}-"))
        self.rows += 1


_WRITERS = {"json": _JsonWriter, "csv": _CsvWriter, "jsonl": _JsonlWriter, "md": _MdWriter}


def iso_z(moment: datetime) -> str:
    """``2026-06-15T12:00:00.123456Z`` (naive means UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


# ------------------------------------------------------------------------ files
def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``: temp file alongside, fsync, rename, 0600. A lone
    surrogate (JSON text from the API may hold one) is written as its escape."""
    path = Path(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding="utf-8", errors=ITEM_ERRORS) as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _unlink(*paths: Path) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _clean_stale_temps(out: Path) -> None:
    """Remove the temp files a killed export of ``out`` left behind: the JSON being
    assembled (``.<name>.XXXXXXXX.tmp``) and the state (``.<name>.state.json.XXXXXXXX.tmp``),
    as ``tempfile.mkstemp`` names them, nothing else. Call it holding the output's lock: a
    live export of ``out`` may be writing them."""
    pattern = re.compile(re.escape(f".{out.name}.") + r"(?:state\.json\.)?[a-z0-9_]{8}\.tmp")
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return
    for entry in entries:
        with contextlib.suppress(OSError):
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)


def _open_partial(path: Path, size: int | None) -> io.TextIOWrapper:
    """The partial file for appending: new (0600, exclusive) or cut back to ``size``."""
    if size is None:
        _unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    else:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.ftruncate(fd, size)
    os.fchmod(fd, FILE_MODE)
    # A lone surrogate (a valid JSON escape the stdlib decodes) cannot be UTF-8: written as
    # its escape, which in JSON text is the same string again (the brief's script crashes).
    return os.fdopen(fd, "a", encoding="utf-8", errors=ITEM_ERRORS, newline="")


def _check_target(out: Path) -> None:
    parent = out.parent
    if not parent.is_dir():
        raise ExportError(f"cannot write {out}: directory {parent} does not exist")
    if out.is_dir():
        raise ExportError(f"cannot write {out}: it is a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {out}: no permission to write in {parent}")


def read_ids(path: str | os.PathLike[str]) -> list[str]:
    """Conversation ids from a file: one per line (blank lines and ``#`` comments skipped),
    or JSON — a list of ids, or an export (``{"conversations": [{"conversation_id": ...}]}``).
    Duplicates are dropped, order kept. Raises ExportError (one line) when unreadable."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"cannot read ids from {path}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    stripped = text.lstrip()
    if stripped[:1] in ("[", "{"):
        ids = _ids_from_json(stripped, path)
    else:
        ids = [line.strip() for line in text.splitlines()]
        ids = [i for i in ids if i and not i.startswith("#")]
    return list(dict.fromkeys(ids))


def _ids_from_json(text: str, path: Any) -> list[str]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ExportError(f"cannot read ids from {path}: malformed JSON ({exc})") from None
    if isinstance(data, dict):
        data = data.get("conversations")
    if not isinstance(data, list):
        raise ExportError(f"cannot read ids from {path}: expected a list of ids")
    ids = [item.get("conversation_id") if isinstance(item, dict) else item for item in data]
    return [str(i) for i in ids if isinstance(i, (str, int)) and str(i).strip()]


# ------------------------------------------------------------------------ state
@dataclass
class _State:
    """What ``resume`` needs. ``consumed``: rows of the listing (or ids of ``--ids-from``)
    handled, in order, so a resumed export lists again from there; ``recovered``: rows added
    by a verification pass after the data moved; ``verify``: the data was seen to move, the
    listing must be checked against what was exported before publishing. The ids handled so
    far are in the ``<output>.ids`` file (``ids_bytes`` of it are valid)."""

    options: dict[str, Any]
    exported_at: str
    total_matched: int | None = None
    consumed: int = 0
    recovered: int = 0
    excluded: int = 0  # rows handled (in consumed or recovered) but left out as asked
    written: int = 0
    bytes: int = 0
    ids_bytes: int = 0
    last_id: str | None = None
    verify: bool = False
    failed_ids: list[str] = field(default_factory=list)
    missing_ids: list[str] = field(default_factory=list)
    lacking_ids: list[str] = field(default_factory=list)

    def consume(self, cid: str, status: str, listed: bool) -> None:
        if listed:
            self.consumed += 1
            self.last_id = cid
        else:
            self.recovered += 1
        if status == "excluded":
            self.excluded += 1
        elif status != "ok":
            {"failed": self.failed_ids, "missing": self.missing_ids,
             "lacking": self.lacking_ids}[status].append(cid)

    @property
    def done(self) -> int:
        return self.consumed + self.recovered

    def to_json(self) -> str:
        return json.dumps({"version": STATE_VERSION, **self.__dict__}, ensure_ascii=False)

    @classmethod
    def load(cls, path: Path) -> _State | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ExportError(f"cannot resume: unreadable state file {path} ({exc})") from None
        if not isinstance(data, dict) or data.pop("version", None) != STATE_VERSION:
            raise ExportError(f"cannot resume: {path} is not a state file of this version; "
                              "run the export again without --resume")
        try:
            return cls(**data)
        except TypeError:
            raise ExportError(f"cannot resume: {path} is damaged") from None


# ------------------------------------------------------------------------ sources
# A unit is (conversation_id, row or None, status). Status: "ok" (complete), "failed" (its
# batch failed: not written), "lacking" (the details never came back: written without
# them, only with allow_partial), "missing" (an id the batch endpoint does not know: not
# written), "excluded" (in ``exclude_ids``: not written, details not fetched). Sources yield
# lists of units in the final order.
Unit = tuple[str, Any, str]
# conversation ids -> their stored reviews (``api.reviews.ReviewStore.json_for``)
ReviewLookup = Callable[[list[str]], Mapping[str, dict[str, Any]]]


def _with_reviews(units: list[Unit], lookup: ReviewLookup) -> list[Unit]:
    """The rows of ``units`` with their ``review`` (null when none), looked up in one call."""
    found = lookup([cid for cid, row, _ in units if isinstance(row, dict)])
    return [(cid, {**row, "review": found.get(cid)} if isinstance(row, dict) else row, status)
            for cid, row, status in units]


def _row_id(row: dict[str, Any]) -> str:
    cid = row.get("conversation_id")
    return cid if isinstance(cid, str) else json.dumps(cid)


async def _after_overlap(rows: AsyncIterator[dict[str, Any]], state: _State,
                         seen: set[str]) -> AsyncGenerator[dict[str, Any], None]:
    """A resumed listing starts one row early: that row must be the last one handled; if
    it is not, rows moved meanwhile and the result is verified before it is published (and
    the last one handled, met later, is not written again)."""
    first = True
    async with closing_async(rows) as source:
        async for row in source:
            if first:
                first = False
                if _row_id(row) == state.last_id:
                    continue
                state.verify = True
                seen.add(state.last_id or "")
            yield row


@dataclass
class _Plan:
    client: Any
    query: Any
    ids: list[str] | None
    messages: bool
    page_size: int
    concurrency: int
    retries: int
    retry_delay: float
    paging: PagingReport
    details: DetailReport
    worker: Any = None  # a process pool for encode_batch (JSON with messages), or None
    verify_passes: int = 0
    exclude: frozenset[str] = frozenset()  # listed ids left out (``exclude_ids``)
    excluded: int | None = None  # exclusions taken off the total, once known

    async def units(self, state: _State, had: set[str]) -> AsyncGenerator[list[Unit], None]:
        """The export's rows in order, after the ``state.consumed`` already handled (whose
        ids are ``had``)."""
        if self.ids is not None:
            state.total_matched = len(self.ids)
            source = chunked(self.ids[state.consumed:], BATCH_MAX)
            async with contextlib.aclosing(ordered_map(source, self._by_ids,
                                                       self.concurrency)) as results:
                async for units in results:
                    yield units
            return
        start, seen = 0, None
        if state.consumed:  # resumed: listed again from the last row handled, no earlier
            start = state.consumed - 1
            seen = set(had)
            seen.discard(state.last_id or "")
        # a bulk read: the first round trip asks for as many pages as requests may be in flight
        rows = iter_conversations(self.client, self.query, self.page_size, self.concurrency,
                                  report=self.paging, speculate=self.concurrency - 1,
                                  start=start, seen=seen)
        if seen is not None:  # resumed
            rows = _after_overlap(rows, state, seen)
        if not self.messages:
            async with contextlib.aclosing(chunked(rows, self.page_size)) as chunks:
                async for chunk in chunks:
                    yield await self.complete(chunk)
            return
        async with contextlib.aclosing(ordered_map(chunked(rows, BATCH_MAX), self._with_details,
                                                   self.concurrency)) as results:
            async for units in results:
                yield units

    async def _batch(self, ids: list[str], decode: Any = None) -> DetailBatch:
        batch = await fetch_batch(self.client, ids, retries=self.retries,
                                  retry_delay=self.retry_delay, report=self.details,
                                  decode=decode)
        self.details.add(batch)
        return batch

    async def _details(self, ids: list[str], rows: list[dict[str, Any]] | None = None,
                       ) -> tuple[dict[str, Any], bool]:
        """The details of ``ids`` by id, and whether a batch failed after its retries. Ids an
        answer left out are asked for again (``MISSING_TRIES`` asks in all, the later ones
        for those ids alone): a server may drop entries of a busy answer, and one left out
        twice is most likely unknown. ``rows``: the list rows, to merge in the worker."""
        got: dict[str, Any] = {}
        pending = list(dict.fromkeys(ids))
        for attempt in range(MISSING_TRIES):
            if attempt:
                self.details.reasked += len(pending)
                await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
            decode = None
            if rows is not None and self.worker is not None:
                wanted = set(pending)
                decode = self._in_worker([r for r in rows if _row_id(r) in wanted])
            batch = await self._batch(pending, decode)
            if batch.failed:
                return got, True
            got.update((cid, detail) for cid in pending
                       if _whole(detail := batch.details.get(cid), self.messages))
            pending = [cid for cid in pending if cid not in got]
            if not pending:
                break
        return got, False

    async def complete(self, rows: list[dict[str, Any]]) -> list[Unit]:
        """List rows as units of the export (with their details when messages are wanted)."""
        if self.messages:
            return await self._with_details(rows)
        return [(cid, None, "excluded") if (cid := _row_id(r)) in self.exclude
                else (cid, r, "ok") for r in rows]

    async def _with_details(self, rows: list[dict[str, Any]]) -> list[Unit]:
        wanted = [r for r in rows if _row_id(r) not in self.exclude]
        got, failed = await self._details([_row_id(r) for r in wanted], wanted) if wanted \
            else ({}, False)
        units: list[Unit] = []
        for row in rows:
            cid = _row_id(row)
            detail = got.get(cid)
            if cid in self.exclude:
                units.append((cid, None, "excluded"))
            elif detail is None:
                units.append((cid, None, "failed") if failed else (cid, row, "lacking"))
            elif isinstance(detail, bytes):  # merged and encoded by the worker
                units.append((cid, detail, "ok"))
            else:
                units.append((cid, _merged(row, detail), "ok"))
        return units

    def _in_worker(self, rows: list[dict[str, Any]]) -> Callable[[bytes], Any]:
        """A ``fetch_batch`` decoder: the answer is decoded, merged into ``rows`` and encoded
        (JSON items) in the worker process; details come back as text by id."""
        async def decode(raw: bytes) -> dict[str, bytes]:
            loop = asyncio.get_running_loop()
            try:
                ok, value = await loop.run_in_executor(self.worker, encode_batch, raw, rows)
            except BrokenExecutor:  # the worker died (killed, out of memory): do it here
                ok, value = encode_batch(raw, rows)
            if not ok:
                raise BadResponseError(f"unusable answer to a batch request: {value}")
            texts: dict[str, bytes] = value
            return texts
        return decode

    async def _by_ids(self, ids: list[str]) -> list[Unit]:
        got, failed = await self._details(ids)
        units: list[Unit] = []
        for cid in ids:
            detail = got.get(cid)
            if detail is None:
                units.append((cid, None, "failed" if failed else "missing"))
                continue
            if not self.messages:
                detail = {k: v for k, v in detail.items() if k not in ("messages", "citations")}
            units.append((cid, detail, "ok"))
        return units


def _whole(detail: object, messages: bool) -> bool:
    """A detail the export can use: encoded by the worker, or an object that carries its
    messages when they are wanted (an entry without them is a damaged answer)."""
    if isinstance(detail, bytes):
        return True
    return isinstance(detail, dict) and (not messages or isinstance(detail.get("messages"), list))


def _merged(row: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    """The brief's merge: the list row plus the detail's messages and citations."""
    merged = dict(row)
    merged["messages"] = detail.get("messages", [])
    merged["citations"] = detail.get("citations", [])
    return merged


def encode_batch(raw: bytes, rows: list[dict[str, Any]]) -> tuple[bool, Any]:
    """Run in a worker process: ``(True, {conversation_id: JSON item, UTF-8})`` for the rows
    whose details the batch answer ``raw`` holds (merged as the brief does, encoded as the
    export writes them), or ``(False, reason)`` when the answer is unusable. Decoding and
    encoding are most of an export's CPU time: a second process keeps the event loop, and
    its HTTP work, on its own core."""
    try:
        details = batch_details(fastjson.loads(raw) if raw else None, "batch")
    except (ValueError, UnicodeDecodeError) as exc:
        return False, f"malformed JSON ({one_line(str(exc), 100)})"
    except StudioError as exc:
        return False, str(exc)
    texts = {}
    for row in rows:
        cid = _row_id(row)
        detail = details.get(cid)
        if detail is not None and _whole(detail, True):
            merged = _merged(row, detail)
            texts[cid] = (_fast_item(merged) or json_item(merged)).encode("utf-8", ITEM_ERRORS)
    return True, texts


def _worker_init(parent: int) -> None:
    """The worker dies with the export (``parent``), however that ends, and encodes at a
    lower CPU priority: the requests (and anything else running, such as a local server) go
    first, the encoding fills the gaps (bench/README.md)."""
    _die_with_parent(parent)
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(WORKER_NICENESS)


def _die_with_parent(parent: int) -> None:
    """Killed or not, an export leaves no worker behind: on Linux the kernel kills this
    process when its parent ends (``PR_SET_PDEATHSIG``); elsewhere, and should that fail, a
    watchdog thread notices the parent is gone. (The pool's pipes give no end-of-file: this
    process holds their write ends too. The resource tracker exits once both are gone.)"""
    import sys

    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes
            import signal

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0),
                       ctypes.c_ulong(0), ctypes.c_ulong(0))
    if os.getppid() != parent:  # it ended before the death signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="watch-parent",
                     daemon=True).start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:  # an orphan is adopted by another process
        time.sleep(WATCHDOG_S)
    os._exit(1)


def _start_worker(wanted: bool) -> Any:
    """A one-process pool, started now (its imports overlap the first requests), or None
    when not wanted or it cannot start (the export then runs in this process)."""
    if not wanted:
        return None
    import signal

    try:  # children inherit an ignored SIGINT: Ctrl-C is this process's to handle
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: no worker
        return None
    try:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_worker_init, initargs=(os.getpid(),))
        # spawn the process now rather than at the first batch, and from this (the main)
        # thread: Linux sends the death signal when the thread that started it ends
        pool.submit(int)
        return pool
    except (OSError, ImportError, ValueError):  # no processes here (sandbox, no sem_open)
        return None
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_worker(plan: _Plan) -> None:
    if plan.worker is not None:
        plan.worker.shutdown(wait=False, cancel_futures=True)
        plan.worker = None


def _read_ids_file(path: Path, size: int) -> set[str]:
    """The ids handled by an interrupted export: the first ``size`` bytes of its ids file."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(size)
        if len(data) < size:
            raise ExportError(f"cannot resume: {path} is shorter than recorded (damaged)")
        return {json.loads(line) for line in data.splitlines()}
    except FileNotFoundError:
        raise ExportError(f"cannot resume: {path} is missing") from None
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot resume: {path} is unreadable ({exc})") from None


class _OutputLock:
    """An exclusive lock on an output for the whole export (``<output>.lock``, ``flock``):
    a second export to the same file, in this process or another, fails at once instead of
    sharing its partial and state files. The lock file names its holder."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.path = out.with_name(out.name + ".lock")
        self.fd: int | None = None

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # no flock on this platform: exports are not guarded
            return
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, FILE_MODE)
            except OSError as exc:
                raise ExportError(f"cannot write {self.out}: cannot create {self.path.name}: "
                                  f"{exc.strerror or exc}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = one_line(os.read(fd, 200).decode("utf-8", "replace"), 120)
                os.close(fd)
                raise ExportError(
                    f"another export is writing {self.out} ({holder or 'holder unknown'}); "
                    "wait for it to end or choose another output file") from None
            except OSError as exc:  # no locks on this file system (some network mounts)
                os.close(fd)
                raise ExportError(f"cannot write {self.out}: cannot lock {self.path.name}: "
                                  f"{exc.strerror or exc}") from None
            try:  # the previous holder may have removed the file between our open and lock
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        started = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S")
        os.write(fd, f"pid {os.getpid()}, started {started}".encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            _unlink(self.path)  # before unlocking: a waiting export then locks a new file
            os.close(self.fd)
            self.fd = None


# ------------------------------------------------------------------------ the export
class _Export:
    def __init__(self, out: Path, fmt: str, state: _State, resumed: bool,
                 keep_partial: bool, fast_json: bool = False,
                 reviews: ReviewLookup | None = None) -> None:
        self.out = out
        self.reviews = reviews
        self.fmt = fmt
        self.state = state
        self.redact = bool(state.options.get("redact"))  # (a resumed run keeps its choice)
        self.partial = out.with_name(out.name + ".partial")
        self.state_path = out.with_name(out.name + ".state.json")
        self.ids_path = out.with_name(out.name + ".ids")
        self.keep_partial = keep_partial
        self.ids = _read_ids_file(self.ids_path, state.ids_bytes) if resumed else set()
        if not resumed:  # a state left by an earlier run must never describe these files
            _unlink(self.state_path)
            _fsync_dir(out.parent)
        self.fh = _open_partial(self.partial, state.bytes if resumed else None)
        try:
            self.ids_fh = _open_partial(self.ids_path, state.ids_bytes if resumed else None)
        except BaseException:
            self.fh.close()
            raise
        if fmt == "parquet":  # pyarrow is imported there, by this format only
            from .export_parquet import ParquetSegments

            self.writer: _Writer = ParquetSegments(self.fh, state.written, state.options)
        else:
            self.writer = _WRITERS[fmt](self.fh, state.written)
        self.writer.fast = fast_json
        self.last_checkpoint = time.monotonic()
        self.at_boundary = True  # False while a chunk is half written
        self._saver: threading.Thread | None = None
        self._save_error: OSError | None = None

    def write_units(self, units: list[Unit], listed: bool = True) -> None:
        """Write a chunk; ``listed``: its rows come from the listing (else from a
        verification pass)."""
        units = [unit for unit in units if unit[0] not in self.ids]  # never a row twice
        if self.reviews is not None:
            units = _with_reviews(units, self.reviews)
        if self.redact:  # after the reviews: their notes are text of the row too
            units = [(cid, redact_value(row) if isinstance(row, dict) else row, status)
                     for cid, row, status in units]
        self.at_boundary = False
        self.writer.write_many([row for _, row, status in units
                                if row is not None and status in ("ok", "lacking")])
        self.ids_fh.write("".join(json.dumps(cid) + "\n" for cid, _, _ in units))
        for cid, _, status in units:
            self.state.consume(cid, status, listed)
            self.ids.add(cid)
        self.state.written = self.writer.rows
        self.at_boundary = True

    def checkpoint(self, force: bool = False) -> None:
        """Record progress for ``resume``: flush, then fsync + write the state in a thread
        (so the event loop, and a UI on it, never waits for the disk); one at a time."""
        busy = self._saver is not None and self._saver.is_alive()
        if not force and (busy or time.monotonic() - self.last_checkpoint < CHECKPOINT_S):
            return
        self._join_saver()
        self.fh.flush()
        self.ids_fh.flush()
        self.state.bytes = os.fstat(self.fh.fileno()).st_size
        self.state.ids_bytes = os.fstat(self.ids_fh.fileno()).st_size
        args = (self.fh.fileno(), self.ids_fh.fileno(), self.state.to_json())
        self.last_checkpoint = time.monotonic()
        self._saver = threading.Thread(target=self._save, args=args, daemon=True)
        self._saver.start()
        if force:
            self._join_saver()

    def _save(self, fd: int, ids_fd: int, state_text: str) -> None:
        try:
            # the files hold at least the recorded bytes before the state says so
            os.fsync(fd)
            os.fsync(ids_fd)
            write_text_atomic(self.state_path, state_text)
        except OSError as exc:  # reported by the next checkpoint or the end
            self._save_error = exc

    def _join_saver(self) -> None:
        if self._saver is not None:
            self._saver.join()
            self._saver = None
        if self._save_error is not None:
            error, self._save_error = self._save_error, None
            raise error

    def abandon(self) -> None:
        """After a failure or cancellation: keep a consistent partial + state, or nothing."""
        try:
            if self.keep_partial and self.at_boundary and not self.fh.closed:
                self.checkpoint(force=True)
            else:
                self._join_saver()
        except (OSError, ValueError):
            pass
        finally:
            self.fh.close()
            self.ids_fh.close()
        if not self.keep_partial or not self.state.done:  # nothing there to resume
            _unlink(self.partial, self.state_path, self.ids_path)

    def finish(self) -> int:
        """Publish the output atomically; return its size. Blocking: run it in a thread."""
        self._join_saver()
        self.fh.flush()
        if self.fmt not in ("json", "md", "parquet"):  # the partial becomes the output
            os.fsync(self.fh.fileno())
        self.fh.close()
        self.ids_fh.close()
        if self.fmt == "json":
            self._assemble_json()
        elif self.fmt == "md":
            self._assemble_md()
        elif self.fmt == "parquet":
            self._assemble_parquet()
        else:
            os.replace(self.partial, self.out)
        _unlink(self.partial, self.state_path, self.ids_path)
        _fsync_dir(self.out.parent)
        return self.out.stat().st_size

    def _assemble_json(self) -> None:
        state = self.state
        header = json_header(state.exported_at, state.total_matched, state.written,
                             self.redact)
        footer = "\n  ]\n}" if state.written else "]\n}"
        self._assemble(header + ("\n" if state.written else ""), footer)

    def _assemble_md(self) -> None:
        from .transcript import export_preamble

        state = self.state
        self._assemble(export_preamble(
            exported_at=state.exported_at, total_matched=state.total_matched,
            total_exported=state.written, redacted=self.redact, failed_ids=state.failed_ids,
            lacking_ids=state.lacking_ids, missing_ids=state.missing_ids), "")

    def _assemble_parquet(self) -> None:
        from .export_parquet import assemble

        state = self.state
        metadata = {"exported_at": state.exported_at, "total_matched": state.total_matched,
                    "total_exported": state.written, "redacted": self.redact,
                    "messages": bool(state.options.get("messages")),
                    "reviews": bool(state.options.get("reviews")),
                    **{name: ids for name, ids in (("failed_ids", state.failed_ids),
                                                   ("missing_ids", state.missing_ids),
                                                   ("lacking_ids", state.lacking_ids)) if ids}}
        self._publish(lambda dst: assemble(self.partial, dst, state.options, metadata))

    def _assemble(self, header: str, footer: str) -> None:
        """The output: ``header``, the partial file's bytes, ``footer``; atomically."""
        def write(dst: io.BufferedWriter) -> None:
            with open(self.partial, "rb") as body:
                dst.write(header.encode("utf-8", ITEM_ERRORS))
                shutil.copyfileobj(body, dst, 1 << 20)
                dst.write(footer.encode("utf-8"))

        self._publish(write)

    def _publish(self, write: Callable[[io.BufferedWriter], None]) -> None:
        """The output as ``write`` makes it, in a temp file published atomically."""
        # the name _clean_stale_temps looks for: a killed assembly leaves this file behind
        fd, tmp = tempfile.mkstemp(dir=self.out.parent, prefix=f".{self.out.name}.",
                                   suffix=".tmp")
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as dst:
                write(dst)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(tmp, self.out)
        except BaseException:
            _unlink(Path(tmp))
            raise


def _options(fmt: str, messages: bool, query: Any, ids: list[str] | None) -> dict[str, Any]:
    ids_digest = None
    if ids is not None:
        ids_digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
    text = query.to_text() if hasattr(query, "to_text") else repr(query)
    return {"format": fmt, "messages": bool(messages), "query": text, "ids": ids_digest}


def _initial_state(out: Path, options: dict[str, Any], resume: bool,
                   now: datetime) -> tuple[Any, ...]:
    state_path = out.with_name(out.name + ".state.json")
    if resume:
        state = _State.load(state_path)
        if state is not None:
            _check_resumable(out, state, options)
            return state, True
    else:
        _refuse_to_discard(out, state_path)
    return _State(options=options, exported_at=iso_z(now)), False


def _refuse_to_discard(out: Path, state_path: Path) -> None:
    """An interrupted export of ``out`` is not thrown away by a run without ``resume``
    (hours of fetching lost to a forgotten flag); one that cannot be resumed may go."""
    try:
        state = _State.load(state_path)
    except ExportError:
        return
    if state is not None and state.done:
        partial = out.with_name(out.name + ".partial")
        raise ExportError(
            f"an interrupted export of {out} is kept ({state.done} conversations done): "
            f"continue it with --resume, or delete {partial} and {state_path} to start over")


def _check_resumable(out: Path, state: _State, options: dict[str, Any]) -> None:
    if state.options.get("format") == "csv":  # written before there were two column sets
        state.options.setdefault("columns", "brief")
    if state.options != options:
        raise ExportError(
            "cannot resume: the interrupted export used other options "
            f"({_diff(state.options, options)}); run it again without --resume"
        )
    partial = out.with_name(out.name + ".partial")
    try:
        size = partial.stat().st_size
    except FileNotFoundError:
        raise ExportError(f"cannot resume: {partial} is missing") from None
    if size < state.bytes:
        raise ExportError(f"cannot resume: {partial} is shorter than recorded (damaged)")


def _diff(old: dict[str, Any], new: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {old.get(k)!r} then, {new.get(k)!r} now"
                     for k in {**old, **new} if old.get(k) != new.get(k))


async def run_export(
    client: Any,
    query: Any,
    out_path: str | os.PathLike[str],
    fmt: str = "json",
    messages: bool = False,
    concurrency: int = 4,
    progress: Callable[[ExportProgress], Any] | None = None,
    ids: list[str] | None = None,
    allow_partial: bool = False,
    resume: bool = False,
    *,
    page_size: int = 100,
    keep_partial: bool = False,
    retries: int = 2,
    retry_delay: float = 0.5,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    worker: bool = False,
    csv_raw: bool = False,
    columns: str = "brief",
    exclude_ids: Iterable[str] | None = None,
    reviews: ReviewLookup | None = None,
    redact: bool = False,
) -> ExportReport:
    """Export every conversation of ``query`` (or exactly ``ids``) to ``out_path``.

    ``progress(ExportProgress)`` is called after every chunk. Cancel the task to stop: the
    partial output is removed (or kept for ``resume`` when ``keep_partial``) and the output
    never appears. Raises ``ExportError`` / ``ExportIncomplete`` (one-line messages) and the
    API layer's ``StudioError`` for failures of the listing itself.

    ``worker``: decode, merge and encode the batch answers of a JSON export with messages in
    a second process (``encode_batch``; same bytes) when the client can hand over raw
    answers (``StudioClient``); for the command line, where start-up is paid once.

    ``csv_raw``: CSV cells exactly as the brief's script writes them (no formula quoting, no
    control characters removed): unsafe to open in a spreadsheet. The default makes them safe.
    ``columns``: the CSV column set, ``"brief"`` (the brief's) or ``"full"`` (every documented
    list field). ``exclude_ids``: conversations left out of the query's (or the ids') export.
    ``reviews``: the stored reviews of a list of ids (``ReviewStore.json_for``); each
    conversation gets a ``review`` object (null when it has none; CSV: review columns).
    ``redact``: emails, phone numbers and card-like numbers masked in every text (module
    docstring). ``fmt="md"`` always exports the messages (a transcript is made of them).
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if fmt == "parquet":  # before any file is touched: without pyarrow, how to install it
        from .export_parquet import require

        require()
    if columns not in CSV_COLUMN_SETS:
        raise ExportError(f"unknown column set {columns!r} (one of {', '.join(CSV_COLUMN_SETS)})")
    started = time.monotonic()
    out = Path(out_path)
    _check_target(out)
    lock = _OutputLock(out)
    lock.acquire()
    try:
        _clean_stale_temps(out)  # after the lock: no live export of out is writing them
        messages = messages or fmt == "md"
        return await _run_locked(client, query, out, fmt, messages, concurrency, progress, ids,
                                 allow_partial, resume, page_size, keep_partial, retries,
                                 retry_delay, clock(), worker, started, csv_raw=csv_raw,
                                 columns=columns, exclude=frozenset(exclude_ids or ()),
                                 reviews=reviews, redact=redact)
    finally:
        lock.release()


async def _run_locked(client: Any, query: Any, out: Path, fmt: str, messages: bool,
                      concurrency: int, progress: Any, ids: list[str] | None,
                      allow_partial: bool, resume: bool, page_size: int, keep_partial: bool,
                      retries: int, retry_delay: float, now: datetime, worker: bool,
                      started: float, *, csv_raw: bool = False, columns: str = "brief",
                      exclude: frozenset[str] = frozenset(),
                      reviews: ReviewLookup | None = None,
                      redact: bool = False) -> ExportReport:
    id_excluded = None
    if ids is not None and exclude:  # an id list: simply without them
        kept = [cid for cid in ids if cid not in exclude]
        ids, id_excluded, exclude = kept, len(ids) - len(kept), frozenset()
    options = _options(fmt, messages, query, ids)
    if exclude:
        options["exclude"] = hashlib.sha256("\n".join(sorted(exclude)).encode()).hexdigest()
    if fmt == "csv":  # a resumed partial never mixes safe and raw cells, nor column sets
        options["csv_raw"] = bool(csv_raw)
        options["columns"] = columns
    if reviews is not None:  # a resumed file never mixes rows with and without reviews
        options["reviews"] = True
    if redact:  # nor masked and plain rows (_Export reads it from there)
        options["redact"] = True
    state, resumed = _initial_state(out, options, resume, now)
    paging, details = PagingReport(), DetailReport()
    report = ExportReport(path=out, fmt=fmt, resumed_from=state.consumed if resumed else 0,
                          paging=paging, details=details)
    plan = _Plan(client, query, ids, messages, max(1, min(page_size, 100)),
                 max(1, concurrency), retries, retry_delay, paging, details,
                 exclude=exclude, excluded=id_excluded)
    fast = bool(getattr(client, "decodes_with_fastjson", False))
    try:
        export = _Export(out, fmt, state, resumed, keep_partial, fast_json=fast,
                         reviews=reviews)
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
    if isinstance(export.writer, _CsvWriter):  # fmt == "csv"
        export.writer.raw = bool(csv_raw)
        export.writer.columns = columns
        export.writer.reviews = reviews is not None
    if isinstance(export.writer, _MdWriter):  # fmt == "md"
        export.writer.redact = redact
    # the worker's rows arrive encoded: a review could not be added to them, nor masks
    plan.worker = _start_worker(worker and fast and fmt == "json" and messages and ids is None
                                and reviews is None and not redact)
    try:
        await _pump(plan, export, allow_partial, progress)
        _stop_worker(plan)  # it exits while the file is assembled, not at interpreter exit
        report.bytes = await _finish(export)
    except BaseException as exc:
        export.abandon()
        _fill(report, state, started, plan)
        if isinstance(exc, OSError):
            raise ExportError(f"cannot write {out}: {exc.strerror or exc}", report) from None
        if isinstance(exc, ExportError):
            exc.report = report
        raise
    finally:
        _stop_worker(plan)
    report.complete = True
    return _fill(report, state, started, plan)


async def _finish(export: _Export) -> int:
    """``export.finish()`` in a thread, so a UI on this loop stays responsive. A cancellation
    meanwhile waits for it: once the complete file is published the export has succeeded,
    and says so (the cancellation is withdrawn); if publishing failed, that error stands."""
    task = asyncio.ensure_future(asyncio.to_thread(export.finish))
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        current = asyncio.current_task()
        if task.cancelled() or task.exception() is not None or current is None:
            raise
        current.uncancel()
        return task.result()


def _fill(report: ExportReport, state: _State, started: float, plan: _Plan) -> ExportReport:
    report.total_matched = state.total_matched
    report.total_exported = state.written
    report.failed_ids = list(state.failed_ids)
    report.missing_ids = list(state.missing_ids)
    report.lacking_ids = list(state.lacking_ids)
    report.recovered = state.recovered
    report.excluded = state.excluded if plan.excluded is None else plan.excluded
    report.verify_passes = plan.verify_passes
    report.seconds = time.monotonic() - started
    return report


def _moved(paging: PagingReport) -> bool:
    """Signs, while paging, that rows moved between pages (one may have been skipped)."""
    return bool(paging.duplicates or paging.short_pages or len(paging.totals_seen) > 1)


async def _pump(plan: _Plan, export: _Export, allow_partial: bool,
                progress: Callable[[ExportProgress], Any] | None) -> None:
    state = export.state
    earlier = state.failed_ids + state.lacking_ids + state.missing_ids
    if earlier and not allow_partial:  # what the interrupted run let through stays visible
        raise ExportIncomplete(
            f"the interrupted export left {len(earlier)} conversations incomplete "
            "(--allow-partial); resume it with --allow-partial", earlier)
    resumed_total = state.total_matched if state.consumed else None
    units_iter = plan.units(state, export.ids)
    async with contextlib.aclosing(units_iter):
        async for units in units_iter:
            if plan.ids is None:
                if plan.paging.expected_total is not None:
                    state.total_matched = plan.paging.expected_total
                state.verify = state.verify or _moved(plan.paging)
            _write(plan, export, units, allow_partial, progress, listed=True)
            # answers already at hand never suspend: yield so cancellation and the UI get in
            await asyncio.sleep(0)
    if plan.ids is not None:
        return
    state.total_matched = plan.paging.expected_total
    if plan.paging.drift or (resumed_total is not None and resumed_total != state.total_matched):
        state.verify = True
    excluded = state.excluded
    if state.verify:
        excluded = await _verify(plan, export, allow_partial, progress)
    if plan.exclude:  # what the export meant to include: the listing without the exclusions
        plan.excluded = excluded
        if state.total_matched is not None:
            state.total_matched = max(0, state.total_matched - excluded)


def _write(plan: _Plan, export: _Export, units: list[Unit], allow_partial: bool,
           progress: Callable[[ExportProgress], Any] | None, listed: bool) -> None:
    """Write a chunk, or stop before it when some of it is incomplete (unless
    ``allow_partial``): nothing is written looking complete when it is not."""
    if not allow_partial:
        _check_complete(plan, units)
    export.write_units(units, listed)
    export.checkpoint()
    if progress is not None:
        state = export.state
        total, done = state.total_matched, state.done - state.excluded
        if total is not None and plan.exclude:  # until the listing ends: all of them expected
            total -= len(plan.exclude)
        if total is not None:  # rows that left the query meanwhile were still exported
            total = max(total, done)
        progress(ExportProgress(total, done, state.written, len(state.failed_ids)))


def _check_complete(plan: _Plan, units: list[Unit]) -> None:
    failed = [cid for cid, _, status in units if status == "failed"]
    if failed:
        reason = plan.details.errors[-1] if plan.details.errors else "batch failed"
        raise ExportIncomplete(
            f"the details of {len(failed)} conversations failed after retries ({reason})",
            failed)
    lacking = [cid for cid, _, status in units if status == "lacking"]
    if lacking:
        raise ExportIncomplete(
            f"the API did not return the messages of {len(lacking)} conversations after "
            f"{MISSING_TRIES} asks", lacking)
    missing = [cid for cid, _, status in units if status == "missing"]
    if missing:
        raise ExportIncomplete(
            f"the API did not return {len(missing)} conversations after {MISSING_TRIES} asks "
            "(unknown ids, or removed meanwhile)", missing)


async def _verify(plan: _Plan, export: _Export, allow_partial: bool,
                  progress: Callable[[ExportProgress], Any] | None) -> int:
    """The data moved while it was paged: list the query again and add the conversations
    that were missed (their list rows, with their details as the main pass merges them),
    until a listing sees no movement. Returns how many excluded ids the last listing held."""
    state = export.state
    for _ in range(VERIFY_PASSES):
        listing = PagingReport()
        listed: list[str] = []
        missed: list[dict[str, Any]] = []
        rows = iter_conversations(plan.client, plan.query, plan.page_size, plan.concurrency,
                                  report=listing)
        async with contextlib.aclosing(rows):
            async for row in rows:
                cid = _row_id(row)
                listed.append(cid)
                if cid not in export.ids and cid not in plan.exclude:
                    missed.append(row)
        plan.verify_passes += 1
        state.total_matched = listing.expected_total
        async with contextlib.aclosing(ordered_map(chunked(missed, BATCH_MAX), plan.complete,
                                                   plan.concurrency)) as chunks:
            async for units in chunks:
                _write(plan, export, units, allow_partial, progress, listed=False)
        if not listing.drift:
            state.verify = False
            return sum(cid in plan.exclude for cid in listed)
    raise ExportError(
        f"the conversations kept changing while they were exported ({VERIFY_PASSES} "
        f"listings: {listing.describe()}); the file was not published")
