"""``studio-tui export --format parquet``: one typed Parquet file for DuckDB, pandas, polars,
Spark or BigQuery, written through ``api.export`` (streaming, atomic, owner-only, resumable).

pyarrow is an optional extra (``pip install 'studio-tui[parquet]'``), imported by this module
only, and only when a Parquet export runs (``require``: one line saying how to install it).

Schema (``SCHEMA_VERSION``; every column nullable). The columns are the documented list
fields in ``FULL_CSV_COLUMNS`` order, typed:

- ``first_message_at``, ``last_message_at``, ``winback_sent_at``: ``timestamp[us, UTC]``
  (an ISO 8601 text read with ``datetime.fromisoformat``; the instant is kept, not the
  offset it was written with; no offset means UTC; digits finer than microseconds are cut);
- ``playbook_version``, ``message_count``: ``int64``; ``avg_response_latency_ms``:
  ``double`` (documented as int, an average: a fraction is kept);
- ``has_handoff``, ``has_error``: ``bool``; ``tags``, ``skills``: ``list<string>``
  (``skills`` null when the API sends null, as it does for "none");
- ``playbooks_info``: ``list<struct<id, name, version: int64>>``;
- ``context`` (an open object): JSON text. JSON text columns (this one, ``extra_json`` and
  two in the messages) carry Parquet's JSON logical type with pyarrow >= 19 (DuckDB reads
  them as ``JSON``: ``context->>'email'``), plain text before;
- the other fields (labels, reasons, texts): ``string``.

With messages (``--messages``): ``messages``: ``list<struct<role, content, created_at:
timestamp, metadata: struct<playbook_id, playbook_name, playbook_version: int64,
response_latency_ms: double, labels: list<string>, priority, notes: list<string>, handoff:
bool, explanation, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens: int64,
cost_usd: double>, tool_calls: list<struct<id, name, arguments, result, tool_type,
enhanced_params: JSON>>, is_winback: bool, attachments: JSON>>`` and ``citations``:
``list<struct<citation_id, kb_id, item_id, content, file_name>>``. A conversation written
without its details (``--allow-partial``) has null ``messages``/``citations``, never empty
lists. With ``--with-reviews``: ``review``: ``struct<conversation_id, status, verdict, note,
who, updated_at: timestamp>`` (null when there is none). The columns of an option not taken
are absent, so a file never suggests data it was not asked for.

Nothing is dropped and nothing crashes the export: every struct (the row included) has an
``extra_json`` column, a JSON object of its keys the schema does not name and of the values
that do not fit their column's type (a string where an int is expected, an int beyond 64
bits, a timestamp that does not parse, a list holding another type), kept as sent; their
column is null then. ``extra_json`` is null when there is nothing extra. A missing key and a
null are both null. So a row holds what the JSONL export's line for it holds, timestamps as
instants, but for the two exceptions below (tests/test_export_parquet.py compares them row by
row).

Text is the API's data as-is, as in JSON and JSONL (a Parquet file is data, not a terminal):
control characters, escape sequences, markup and bidi characters are kept; whoever displays
it sanitizes. Two exceptions keep the file readable by every reader, since one bad value
would make DuckDB refuse the whole file: a lone surrogate (a JSON escape the API may send,
not a character: Parquet strings are UTF-8, and DuckDB rejects its escape in JSON text)
becomes U+FFFD, as in a safe CSV cell; and in JSON text NaN and infinities (not JSON) become
null. JSON text columns are compact JSON (orjson's, else the standard library's).
Typed ``double`` columns keep NaN and infinities.

The file's key-value metadata ``studio_tui.export`` holds a JSON object: ``schema_version``,
``exported_at``, ``total_matched``, ``total_exported``, ``redacted``, ``messages``,
``reviews``, and for an export published with ``--allow-partial`` the ids left out
(``failed_ids``, ``missing_ids``) or written without their messages (``lacking_ids``).

Writing, atomicity and resume. A Parquet file cannot be appended to once its footer is
written, and an open writer's file is not a readable Parquet file until it is closed. So each
chunk the export writes (a list page, or a batch of 50 with messages) is converted to Arrow as
it arrives and appended to ``<output>.partial`` as one *segment*: an Arrow IPC stream,
compressed with zstd as a whole, behind its compressed and its raw size (two little-endian
unsigned 64-bit integers). The partial then grows like the other formats' partials: a chunk is
written whole between checkpoints, so the state file's recorded size always falls on a segment
boundary, and ``--resume`` cuts the partial back to it as for JSONL, with no directory of parts
or list of completed parts to keep in step with the state file. Publishing (``assemble``)
reads the segments one at a time and streams their rows into the output file (temp file,
fsync, rename, in ``api.export``) in row groups of about ``ROW_GROUP_BYTES`` of Arrow data.
Segments are IPC rather than small Parquet files because writing and reading a Parquet
footer of this nested schema for every chunk is slow, IPC's schema is not (bench/README.md);
and the rows are regrouped because one row group per chunk (50-100 rows) would be too small for readers to
skip or parallelize over. Memory stays bounded by one row group and one chunk, whatever the
export's size (bench/README.md); the disk sees the rows twice, as for JSON. An export that
stops (``ExportIncomplete``, cancelled, killed) never publishes: only the partial, its ids and
state files exist, under names that do not look like the output.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import re
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .export import FULL_CSV_COLUMNS, ExportError, _Writer

try:
    import orjson
except ImportError:  # pragma: no cover - a dependency; the stdlib alone still works
    orjson = None  # type: ignore[assignment]

__all__ = [
    "INSTALL_HINT",
    "METADATA_KEY",
    "ParquetSegments",
    "SCHEMA_VERSION",
    "assemble",
    "missing_pyarrow",
    "require",
]

INSTALL_HINT = "pip install 'studio-tui[parquet]'"
SCHEMA_VERSION = 1
METADATA_KEY = b"studio_tui.export"
# the output's codec: small files of repetitive text, read by DuckDB, Spark, BigQuery, pandas
FILE_COMPRESSION = "zstd"
# segments are read back once, by us; compressed whole: IPC's own compression works buffer
# by buffer, and this schema's hundreds of small buffers make that slow (bench/README.md)
SEGMENT_COMPRESSION = "zstd"
ROW_GROUP_BYTES = 16 << 20  # of Arrow data held before a row group is written (memory bound)
_SIZES = struct.Struct("<QQ")  # a segment's compressed and raw size, in front of it


# ------------------------------------------------------------------------ pyarrow
def _modules() -> tuple[Any, Any]:
    """``(pyarrow, pyarrow.parquet)``; ImportError when pyarrow (or its Parquet part) is not
    installed. Imported by name: pyarrow has no type hints, and only this format needs it."""
    return importlib.import_module("pyarrow"), importlib.import_module("pyarrow.parquet")


def _arrow() -> tuple[Any, Any]:
    """``_modules()``, with pyarrow allocating through the C library's malloc unless
    ``ARROW_DEFAULT_MEMORY_POOL`` chooses: its default pool (mimalloc) holds more at an
    export's peak (bench/README.md). This process uses pyarrow for the export only; buffers
    already allocated keep their pool."""
    pa, pq = _modules()
    if not os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        pa.set_memory_pool(pa.system_memory_pool())
    return pa, pq


def missing_pyarrow() -> str | None:
    """None when Parquet files can be written, else one line saying how to install it."""
    try:
        _modules()
    except ImportError:
        return f"needs pyarrow, which is not installed: {INSTALL_HINT}"
    return None


def require() -> None:
    """Raise ``ExportError`` (one line, with the install command) without pyarrow."""
    problem = missing_pyarrow()
    if problem is not None:
        raise ExportError(f"a Parquet export {problem}")


def _json_type(pa: Any) -> Any:
    """The type of JSON text columns: Parquet's JSON logical type where pyarrow has it."""
    maker = getattr(pa, "json_", None)
    return maker(pa.string()) if maker is not None else pa.string()


# ------------------------------------------------------------------------ fitting values
# A fitter returns the value as its column holds it, or _MISFIT: the value goes to the
# struct's extra_json as sent (module docstring).
_MISFIT: Any = object()
_SURROGATE = re.compile("[\ud800-\udfff]")
_INT64 = 1 << 63
_EXACT_FLOAT = 1 << 53  # the integers a double holds exactly


def _unicode(text: str) -> str:
    """``text`` with each lone surrogate (not UTF-8) as U+FFFD."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def json_text(value: Any) -> str:
    """``value`` as strict JSON text in valid UTF-8 (module docstring)."""
    if orjson is not None:  # compact, NaN as null; it refuses lone surrogates, big ints
        try:
            return orjson.dumps(value).decode("utf-8")
        except TypeError:
            pass
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:  # NaN or an infinity somewhere
        text = json.dumps(_finite(value), ensure_ascii=False)
    return _unicode(text)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def _fit_str(value: Any) -> Any:
    return _unicode(value) if isinstance(value, str) else _MISFIT


def _fit_int(value: Any) -> Any:
    return value if type(value) is int and -_INT64 <= value < _INT64 else _MISFIT


def _fit_float(value: Any) -> Any:
    if isinstance(value, float):  # NaN and infinities come as api.fastjson.NonFinite
        return float(value)
    if type(value) is int and -_EXACT_FLOAT <= value <= _EXACT_FLOAT:
        return float(value)
    return _MISFIT


def _fit_bool(value: Any) -> Any:
    return value if type(value) is bool else _MISFIT


def _fit_time(value: Any) -> Any:
    if not isinstance(value, str):
        return _MISFIT
    try:
        moment = datetime.fromisoformat(value)
        return (moment.replace(tzinfo=UTC) if moment.tzinfo is None
                else moment.astimezone(UTC))
    except (ValueError, OverflowError):
        return _MISFIT


@dataclass(frozen=True)
class _Kind:
    """A column type: its Arrow type (given pyarrow and the type of JSON text) and fitter."""

    arrow: Callable[[Any, Any], Any]
    fit: Callable[[Any], Any]


STRING = _Kind(lambda pa, js: pa.string(), _fit_str)
INT = _Kind(lambda pa, js: pa.int64(), _fit_int)
FLOAT = _Kind(lambda pa, js: pa.float64(), _fit_float)
BOOL = _Kind(lambda pa, js: pa.bool_(), _fit_bool)
TIME = _Kind(lambda pa, js: pa.timestamp("us", tz="UTC"), _fit_time)
JSON = _Kind(lambda pa, js: js, json_text)  # an open shape: any JSON value fits


def _list(item: _Kind) -> _Kind:
    fit_item = item.fit

    def fit(value: Any) -> Any:
        if type(value) is not list:
            return _MISFIT
        out = [None if x is None else fit_item(x) for x in value]
        return _MISFIT if any(x is _MISFIT for x in out) else out

    return _Kind(lambda pa, js: pa.list_(item.arrow(pa, js)), fit)


def _struct(fields: list[tuple[str, _Kind]]) -> _Kind:
    """A struct of ``fields`` plus ``extra_json`` (unknown keys and values that misfit)."""
    names = frozenset(name for name, _ in fields)
    fitters = [(name, kind.fit) for name, kind in fields]

    def fit(value: Any) -> Any:
        if type(value) is not dict:
            return _MISFIT
        out: dict[str, Any] = {}
        misfits: set[str] = set()
        for name, fit_field in fitters:
            item = value.get(name)
            if item is not None:
                fitted = fit_field(item)
                if fitted is _MISFIT:
                    misfits.add(name)
                else:
                    out[name] = fitted
        if misfits or not names.issuperset(value):
            out["extra_json"] = json_text({key: item for key, item in value.items()
                                           if key in misfits or key not in names})
        return out

    def arrow(pa: Any, js: Any) -> Any:
        return pa.struct([pa.field(name, kind.arrow(pa, js)) for name, kind in fields]
                         + [pa.field("extra_json", js)])

    return _Kind(arrow, fit)


PLAYBOOK_REF = _struct([("id", STRING), ("name", STRING), ("version", INT)])
# the documented metadata keys, then the optional cost keys of CONTRACT.md
METADATA = _struct([
    ("playbook_id", STRING), ("playbook_name", STRING), ("playbook_version", INT),
    ("response_latency_ms", FLOAT), ("labels", _list(STRING)), ("priority", STRING),
    ("notes", _list(STRING)), ("handoff", BOOL), ("explanation", STRING),
    ("input_tokens", INT), ("output_tokens", INT), ("cache_read_tokens", INT),
    ("cache_write_tokens", INT), ("cost_usd", FLOAT),
])
TOOL_CALL = _struct([("id", STRING), ("name", STRING), ("arguments", STRING),
                     ("result", STRING), ("tool_type", STRING), ("enhanced_params", JSON)])
MESSAGE = _struct([("role", STRING), ("content", STRING), ("created_at", TIME),
                   ("metadata", METADATA), ("tool_calls", _list(TOOL_CALL)),
                   ("is_winback", BOOL), ("attachments", JSON)])
CITATION = _struct([("citation_id", STRING), ("kb_id", STRING), ("item_id", STRING),
                    ("content", STRING), ("file_name", STRING)])
REVIEW = _struct([("conversation_id", STRING), ("status", STRING), ("verdict", STRING),
                  ("note", STRING), ("who", STRING), ("updated_at", TIME)])
# the list fields that are not text (FULL_CSV_COLUMNS gives the columns and their order)
_TYPED = {
    "playbook_version": INT, "playbooks_info": _list(PLAYBOOK_REF), "message_count": INT,
    "first_message_at": TIME, "last_message_at": TIME, "has_handoff": BOOL,
    "has_error": BOOL, "tags": _list(STRING), "skills": _list(STRING),
    "avg_response_latency_ms": FLOAT, "winback_sent_at": TIME, "context": JSON,
}


def row_fields(messages: bool, reviews: bool) -> list[tuple[str, _Kind]]:
    """The columns of an export's rows (``extra_json`` comes after them)."""
    fields = [(name, _TYPED.get(name, STRING)) for name in FULL_CSV_COLUMNS]
    if messages:
        fields += [("messages", _list(MESSAGE)), ("citations", _list(CITATION))]
    if reviews:
        fields.append(("review", REVIEW))
    return fields


def _row_kind(options: Mapping[str, Any]) -> _Kind:
    """The row struct of an export, from its resume options (``api.export._options``)."""
    return _struct(row_fields(bool(options.get("messages")), bool(options.get("reviews"))))


def schema(pa: Any, options: Mapping[str, Any], storage: bool = False) -> Any:
    """The Arrow schema of an export; ``storage``: JSON columns as plain strings (what
    ``from_pylist`` can build; cast to the other at the end)."""
    row = _row_kind(options).arrow(pa, pa.string() if storage else _json_type(pa))
    return pa.schema(list(row))


# ------------------------------------------------------------------------ segments
class ParquetSegments(_Writer):
    """Each chunk of rows as one Parquet segment appended to the partial file (module
    docstring); ``rows``: rows already in it."""

    def __init__(self, fh: Any, rows: int, options: Mapping[str, Any]) -> None:
        super().__init__(fh, rows)
        self.pa, _ = _arrow()
        self.fit_row = _row_kind(options).fit
        self.storage = schema(self.pa, options, storage=True)

    def write(self, conv: dict[str, Any]) -> None:
        self.write_many([conv])

    def write_many(self, convs: list[Any]) -> None:
        if not convs:
            return
        rows = [self.fit_row(conv) for conv in convs]
        if any(row is _MISFIT for row in rows):  # the export hands over objects only
            raise ExportError("cannot write Parquet: a conversation that is not an object")
        table = self.pa.Table.from_pylist(rows, schema=self.storage)
        sink = self.pa.BufferOutputStream()
        with self.pa.ipc.new_stream(sink, self.storage) as stream:
            stream.write_table(table)
        raw = sink.getvalue()
        data = self.pa.compress(raw, codec=SEGMENT_COMPRESSION)
        self.fh.flush()  # nothing is pending in the text layer; keep the order anyway
        out = self.fh.buffer
        out.write(_SIZES.pack(data.size, raw.size))
        out.write(data)  # a pyarrow Buffer: written through the buffer protocol, no copy
        self.rows += len(convs)


def _segments(pa: Any, src: IO[bytes], storage: Any, name: str) -> Iterator[Any]:
    """The tables of the partial file's segments, one at a time."""
    while True:
        head = src.read(_SIZES.size)
        if not head:
            return
        size, raw = _SIZES.unpack(head) if len(head) == _SIZES.size else (-1, 0)
        data = src.read(size) if size >= 0 else b""
        try:
            if len(data) != size:
                raise ValueError("a segment is cut short")
            ipc = pa.decompress(data, decompressed_size=raw, codec=SEGMENT_COMPRESSION)
            table = pa.ipc.open_stream(ipc).read_all()
            if not table.schema.equals(storage):
                raise ValueError("a segment of another schema")
        except (ValueError, OSError, pa.ArrowException) as exc:  # OSError: a codec failed
            raise ExportError(f"cannot publish: {name} is damaged ({exc})") from None
        yield table


def assemble(partial: Path, dst: IO[bytes], options: Mapping[str, Any],
             metadata: Mapping[str, Any]) -> None:
    """Write the Parquet output to ``dst`` from the segments of ``partial``: their rows in
    row groups of about ``ROW_GROUP_BYTES``, ``metadata`` under ``METADATA_KEY``. The caller
    fsyncs and publishes ``dst``."""
    pa, pq = _arrow()
    final, storage = schema(pa, options), schema(pa, options, storage=True)
    meta = json_text({"schema_version": SCHEMA_VERSION, **metadata})
    writer = pq.ParquetWriter(dst, final.with_metadata({METADATA_KEY: meta.encode("utf-8")}),
                              compression=FILE_COMPRESSION)
    try:
        pending: list[Any] = []
        size = 0
        with open(partial, "rb") as src:
            for table in _segments(pa, src, storage, partial.name):
                pending.append(table.cast(final))
                size += table.nbytes
                if size >= ROW_GROUP_BYTES:
                    _write_group(pa, writer, pending)
                    pending, size = [], 0
        if pending:
            _write_group(pa, writer, pending)
    finally:
        writer.close()


def _write_group(pa: Any, writer: Any, tables: list[Any]) -> None:
    group = pa.concat_tables(tables)
    writer.write_table(group, row_group_size=max(1, group.num_rows))
