"""`export --format parquet`: a typed file that holds, row by row, what the JSONL export of the
same query holds (read back with pyarrow and with DuckDB), hostile text unchanged, values
that do not fit their column kept in `extra_json`; atomic, owner-only, resumable."""
from __future__ import annotations

import asyncio
import json
import math
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from fake_api import FakeApi, ReplayApi, clock, conversation, export, interrupted, mode

from api.export import ExportError, ExportIncomplete, run_export
from api.export_parquet import INSTALL_HINT, METADATA_KEY
from api.query import ConversationQuery
from tui.cli import main

# the columns holding JSON text (the file's own type for them depends on pyarrow's version)
JSON_FIELDS = {"context", "enhanced_params", "attachments"}
README = Path(__file__).resolve().parent.parent / "README.md"


# ---------------------------------------------------------------- reading back
def jsonl_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def arrow_rows(path: Path) -> tuple[pa.Schema, list[dict]]:
    table = pq.read_table(path)
    return table.schema, table.to_pylist()


def duckdb_rows(path: Path) -> list[dict]:
    with duckdb.connect() as con:
        cursor = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def unicode(value):
    """What the file holds of a JSON value: lone surrogates as U+FFFD (keys too)."""
    if isinstance(value, str):
        return re.sub("[\ud800-\udfff]", "\ufffd", value)
    if isinstance(value, dict):
        return {unicode(k): unicode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unicode(v) for v in value]
    return value


def strict(value):
    """A JSON value as strict JSON text holds it: NaN and infinities as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: strict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [strict(v) for v in value]
    return value


def comparable(value):
    """``value`` with NaN as a string: equal to itself."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def holds(value, sent, typ: pa.DataType, name: str, where: str) -> None:
    """Assert that ``value`` (read from the Parquet file, Arrow type ``typ``) holds ``sent``
    (the same value in the JSONL export), by the rules of api/export_parquet.py."""
    if sent is None:
        assert value is None, f"{where}: {value!r} for null"
    elif pa.types.is_struct(typ):
        assert isinstance(value, dict) and isinstance(sent, dict), where
        extra = json.loads(value["extra_json"]) if value["extra_json"] is not None else {}
        assert extra or value["extra_json"] is None, where
        fields = {f.name: f.type for f in typ if f.name != "extra_json"}
        for key, kept in extra.items():  # unknown keys and misfits, as sent
            assert key in sent and kept == strict(unicode(sent[key])), f"{where}.{key}"
            if key in fields:
                assert value[key] is None, f"{where}.{key}: both typed and in extra_json"
        assert set(sent) <= set(fields) | set(extra), f"{where}: keys lost"
        for key, sub in fields.items():
            if key not in extra:
                holds(value[key], sent.get(key), sub, key, f"{where}.{key}")
    elif pa.types.is_list(typ):
        assert isinstance(value, list) and len(value) == len(sent), where
        for i, (item, sent_item) in enumerate(zip(value, sent, strict=True)):
            holds(item, sent_item, typ.value_type, name, f"{where}[{i}]")
    elif name in JSON_FIELDS:
        assert json.loads(value) == strict(unicode(sent)), where
    elif pa.types.is_timestamp(typ):
        assert value == instant(sent), f"{where}: {value!r} for {sent!r}"
    elif pa.types.is_floating(typ):
        assert not isinstance(sent, bool), where
        assert value == sent or (math.isnan(value) and math.isnan(sent)), where
    elif isinstance(sent, str):
        assert value == unicode(sent), f"{where}: {value!r} != {sent!r}"
    else:
        assert value == sent and type(value) is type(sent), f"{where}: {value!r} != {sent!r}"


def assert_same_rows(parquet: Path, jsonl: Path) -> list[dict]:
    """The Parquet file holds the JSONL file's rows, in order, read by pyarrow and DuckDB."""
    sent = jsonl_rows(jsonl)
    schema, rows = arrow_rows(parquet)
    row_type = pa.struct(list(schema))
    assert len(rows) == len(sent)
    for i, (row, conv) in enumerate(zip(rows, sent, strict=True)):
        holds(row, conv, row_type, "", f"row {i} ({conv.get('conversation_id')!r})")
    assert comparable(duckdb_rows(parquet)) == comparable(rows)  # DuckDB reads the same
    return rows


def file_metadata(path: Path) -> dict:
    return json.loads(pq.read_schema(path).metadata[METADATA_KEY])


# ---------------------------------------------------------------- formats
@pytest.mark.parametrize("messages", [False, True])
async def test_parquet_holds_the_jsonl_rows(tmp_path, messages):
    api = FakeApi(237)
    out, ref = tmp_path / "out.parquet", tmp_path / "ref.jsonl"
    report = await export(api, tmp_path, out, fmt="parquet", messages=messages, concurrency=3)
    await export(api, tmp_path, ref, fmt="jsonl", messages=messages)
    assert report.complete and report.total_exported == 237
    rows = assert_same_rows(out, ref)
    assert ("messages" in rows[0]) is messages  # no column for what was not asked
    assert mode(out) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == [
        "out.parquet"]  # no partial, ids, state, lock or temp file left
    assert not list(tmp_path.glob(".out*"))
    meta = file_metadata(out)
    assert meta["total_matched"] == meta["total_exported"] == 237
    assert meta["exported_at"] == "2026-06-15T12:00:00Z" and meta["messages"] is messages


async def test_columns_are_typed(tmp_path):
    out = tmp_path / "out.parquet"
    await export(FakeApi(3), tmp_path, out, fmt="parquet", messages=True)
    schema = pq.read_schema(out)
    timestamp = pa.timestamp("us", tz="UTC")
    assert schema.field("first_message_at").type == timestamp
    assert schema.field("winback_sent_at").type == timestamp
    assert schema.field("has_handoff").type == pa.bool_()
    assert schema.field("message_count").type == pa.int64()
    assert schema.field("avg_response_latency_ms").type == pa.float64()
    assert schema.field("tags").type == pa.list_(pa.string())
    message = schema.field("messages").type.value_type
    assert message.field("created_at").type == timestamp
    assert message.field("metadata").type.field("cost_usd").type == pa.float64()
    assert pa.types.is_list(message.field("tool_calls").type)
    assert pa.types.is_struct(schema.field("citations").type.value_type)
    with duckdb.connect() as con:
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE "
                                 "SELECT * FROM read_parquet(?))", [str(out)]).fetchall())
    assert types["first_message_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["has_error"] == "BOOLEAN" and types["playbook_version"] == "BIGINT"
    assert types["skills"] == "VARCHAR[]" and types["messages"].startswith("STRUCT(")


async def test_no_rows_give_a_file_with_the_schema(tmp_path):
    out = tmp_path / "out.parquet"
    report = await export(FakeApi(0), tmp_path, out, fmt="parquet", messages=True)
    assert report.complete and pq.read_table(out).num_rows == 0
    assert "messages" in pq.read_schema(out).names
    assert duckdb_rows(out) == []


# ---------------------------------------------------------------- hostile and odd data
HOSTILE = (
    "[bold]URGENT[/bold] [link=http://evil.example]click[/link] [/]",
    "why is this \x1b[31mRED\x1b[0m and \x1b[2J\x1b[H cleared? \x9b1m",
    "see \x1b]8;;http://x.example\x07link\x1b]8;;\x07 \x1b]52;c;ZXZpbA==\x07",
    "null\x00byte bell\x07 backspace\x08 tab\tform\x0cfeed\rreturn del\x7f",
    "refund please 😡 📦💸 👨‍👩‍👧‍👦 🏳️‍🌈 ✔︎",
    "أريد استرداد المبلغ — אני רוצה החזר \u202eevil\u202c \u2067iso\u2069",
    ("very long complaint. " * 3000)[:60_000],
    '=HYPERLINK("http://evil.example","click")',
    "",
)


def hostile_recorded(n: int = 24) -> list[dict]:
    """Conversations with hostile text everywhere, and values that do not fit the schema."""
    recorded = []
    for i in range(n):
        conv = conversation(i)
        text = HOSTILE[i % len(HOSTILE)]
        conv.update(first_user_message=text, last_assistant_message=HOSTILE[(i + 1) % 9],
                    summary=HOSTILE[(i + 2) % 9], tags=[HOSTILE[i % 9], "ok"],
                    first_message_at="2026-06-14T20:55:02Z",
                    last_message_at="2026-06-14T22:55:02.123456+02:00",
                    context={"email": "ana@example.com", "note": text,
                             "nested": {"list": [1, 2.5, None, True]}})
        conv["messages"] = [
            {"role": "user", "content": text, "created_at": "2026-06-14T20:55:02Z",
             "metadata": {}, "tool_calls": [], "is_winback": False,
             "attachments": [{"type": "image", "file_name": text[:40]}]},
            {"role": "assistant", "content": HOSTILE[(i + 3) % 9],
             "created_at": "2026-06-14T20:55:03Z",
             "metadata": {"playbook_id": "pb-1", "playbook_version": 2, "labels": ["x"],
                          "response_latency_ms": 907, "cost_usd": 0.0017,
                          "input_tokens": 1457, "brand_new_key": {"a": [text]}},
             "tool_calls": [{"id": "call-1", "name": "lookup", "arguments": "{}",
                             "result": None, "tool_type": "custom", "error": text,
                             "enhanced_params": {"q": text}}],
             "is_winback": False, "attachments": []},
        ]
        conv["citations"] = [{"citation_id": "c1", "kb_id": "kb", "item_id": None,
                              "content": text, "file_name": "a.pdf", "score": 0.5}]
        recorded.append(conv)
    odd = recorded[0]  # values that do not fit their column: kept in extra_json
    odd.update(message_count="12", has_handoff="yes", playbook_version=2 ** 70,
               avg_response_latency_ms=2 ** 60, first_message_at="not a date",
               skills=["a", 5], winback_sent_at=1718000000, brand_new={"kept": [1, "two"]},
               extra_json="a key named like the column")
    odd["playbooks_info"] = [{"id": "pb-1", "name": "x", "version": "2", "colour": "red"}]
    odd["messages"][0]["created_at"] = "yesterday"
    recorded[1].update(first_user_message="lone \ud800 surrogate", has_error=True,
                       context={"k": "lone \udfff", "\ud800": [math.nan, math.inf]},
                       avg_response_latency_ms=math.nan,
                       first_message_at="2026-06-14T20:55:02")  # no offset: UTC
    recorded[1]["messages"][1]["content"] = "\ud83d alone"
    recorded[2]["messages"] = ["not an object", {"role": "user"}]  # the list misfits whole
    recorded[2]["citations"] = None
    for key in ("summary", "tags", "sentiment_label", "context"):  # missing keys: null
        del recorded[3][key]
    recorded[3].update(message_count=True, has_error=1)  # a bool is no int, nor 1 a bool
    recorded[4]["messages"][1]["metadata"] = "not an object"
    return recorded


class AsciiReplayApi(ReplayApi):
    """Answers in ASCII JSON, as a server sends a lone surrogate: as its escape."""

    def _page(self, request: httpx.Request) -> httpx.Response:
        limit = min(int(request.url.params.get("limit", 20)), self.max_limit)
        offset = int(request.url.params.get("offset", 0))
        return self._answer({"conversations": self.rows[offset:offset + limit],
                             "total": len(self.rows), "limit": limit, "offset": offset})

    def _batch(self, body: dict) -> httpx.Response:
        return self._answer({"conversations": [self.details[i] for i in body["conversation_ids"]
                                               if i in self.details]})

    @staticmethod
    def _answer(body: dict) -> httpx.Response:
        return httpx.Response(200, content=json.dumps(body).encode("ascii"),
                              headers={"content-type": "application/json"})


async def test_hostile_text_and_odd_values_round_trip(tmp_path):
    recorded = hostile_recorded()
    api = AsciiReplayApi(recorded)
    out, ref = tmp_path / "out.parquet", tmp_path / "ref.jsonl"
    await export(api, tmp_path, out, fmt="parquet", messages=True, page_size=7)
    await export(api, tmp_path, ref, fmt="jsonl", messages=True, page_size=7)
    rows = assert_same_rows(out, ref)
    by_id = {row["conversation_id"]: row for row in rows}
    # text is kept as sent: escape sequences, controls, markup, bidi, emoji, 60 KB
    for conv in recorded[5:]:
        row = by_id[conv["conversation_id"]]
        assert row["first_user_message"] == conv["first_user_message"]
        assert row["messages"][0]["content"] == conv["messages"][0]["content"]
    assert any("\x1b[31m" in row["first_user_message"] for row in rows)
    assert max(len(row["first_user_message"]) for row in rows) == 60_000
    # what did not fit is in extra_json, as sent; its column is null
    odd = by_id[recorded[0]["conversation_id"]]
    extra = json.loads(odd["extra_json"])
    assert extra == {key: recorded[0][key] for key in (
        "message_count", "has_handoff", "playbook_version", "avg_response_latency_ms",
        "first_message_at", "skills", "winback_sent_at", "brand_new", "extra_json")}
    assert odd["message_count"] is None and odd["first_message_at"] is None
    assert json.loads(odd["playbooks_info"][0]["extra_json"]) == {"version": "2",
                                                                  "colour": "red"}
    # a lone surrogate is no character (not UTF-8): U+FFFD, as in a safe CSV cell; NaN is
    # no JSON: null in JSON text, kept in a double column
    lone = by_id[recorded[1]["conversation_id"]]
    assert lone["first_user_message"] == "lone \ufffd surrogate"
    assert lone["messages"][1]["content"] == "\ufffd alone"
    assert json.loads(lone["context"]) == {"k": "lone \ufffd", "\ufffd": [None, None]}
    assert math.isnan(lone["avg_response_latency_ms"]) and lone["extra_json"] is None
    assert lone["first_message_at"] == datetime(2026, 6, 14, 20, 55, 2, tzinfo=UTC)
    assert by_id[recorded[2]["conversation_id"]]["messages"] is None


async def test_pinned_demo_export_holds_the_jsonl_rows(demo_client, tmp_path):
    from api.demo.generate import hostile_conversation_ids

    query = ConversationQuery.build(start_date="2026-06-14", end_date="2026-06-15",
                                    max_messages=4)
    out, ref = tmp_path / "out.parquet", tmp_path / "ref.jsonl"
    report = await run_export(demo_client, query, out, "parquet", messages=True,
                              page_size=5, clock=clock)
    await run_export(demo_client, query, ref, "jsonl", messages=True, clock=clock)
    assert report.complete and report.total_exported > 10
    assert_same_rows(out, ref)
    import sqlite3

    from api.config import load_settings
    from api.demo.generate import ensure_demo_db

    settings = load_settings()
    assert settings.demo
    conn = sqlite3.connect(f"file:{ensure_demo_db(size=5000, seed=7, anchor='2026-06-15')}"
                           "?mode=ro", uri=True)
    try:
        ids = hostile_conversation_ids(conn)[:40]
    finally:
        conn.close()
    out, ref = tmp_path / "hostile.parquet", tmp_path / "hostile.jsonl"
    await run_export(demo_client, query, out, "parquet", messages=True, ids=ids, clock=clock)
    await run_export(demo_client, query, ref, "jsonl", messages=True, ids=ids, clock=clock)
    rows = assert_same_rows(out, ref)
    assert any("\x1b" in (row["first_user_message"] or "") for row in rows)


@pytest.fixture
async def demo_client(demo_db):
    from api.client import StudioClient
    from api.config import load_settings

    async with StudioClient.from_settings(load_settings(), cache=False) as client:
        yield client


# ---------------------------------------------------------------- options
async def test_reviews_and_redaction(tmp_path):
    api = FakeApi(30)
    for row in api.rows:
        row["first_user_message"] = "write to ana@example.com"

    def reviews(ids):
        return {cid: {"conversation_id": cid, "status": "done", "verdict": "bad",
                      "note": "call +1 415 555 0100", "who": "ana",
                      "updated_at": "2026-06-15T10:00:00.123Z"}
                for cid in ids if cid.endswith("3")}

    out, ref = tmp_path / "out.parquet", tmp_path / "ref.jsonl"
    await export(api, tmp_path, out, fmt="parquet", reviews=reviews, redact=True)
    await export(api, tmp_path, ref, fmt="jsonl", reviews=reviews, redact=True)
    rows = assert_same_rows(out, ref)
    assert all("ana@example.com" not in row["first_user_message"] for row in rows)
    reviewed = [row for row in rows if row["review"] is not None]
    assert [row["conversation_id"] for row in reviewed] == ["c00003", "c00013", "c00023"]
    assert reviewed[0]["review"]["updated_at"] == datetime(2026, 6, 15, 10, 0, 0, 123000,
                                                           tzinfo=UTC)
    assert "555 0100" not in reviewed[0]["review"]["note"]
    meta = file_metadata(out)
    assert meta["redacted"] is True and meta["reviews"] is True


# ---------------------------------------------------------------- trust
async def test_resume_after_interruption_gives_the_same_rows(tmp_path):
    api = FakeApi(730)
    out = tmp_path / "out.parquet"
    await interrupted(api, tmp_path, out, 300, fmt="parquet", messages=True)
    assert not out.exists()
    partial = tmp_path / "out.parquet.partial"
    state_file = tmp_path / "out.parquet.state.json"
    assert mode(partial) == 0o600 and mode(state_file) == 0o600
    state = json.loads(state_file.read_text())
    assert 300 <= state["consumed"] < 730
    with open(partial, "ab") as f:  # a segment half written when the process died
        f.write(b"\x40\x00\x00\x00\x00\x00\x00\x00half a segment")
    api.requests.clear()
    report = await export(api, tmp_path, out, fmt="parquet", messages=True, resume=True,
                          keep_partial=True)
    assert report.complete and report.resumed_from == state["consumed"]
    batches = [r for r in api.requests if r.method == "POST"]
    assert len(batches) == -(-(730 - state["consumed"]) // 50)  # only the rest was fetched
    reference = tmp_path / "ref.parquet"
    await export(FakeApi(730), tmp_path, reference, fmt="parquet", messages=True)
    assert pq.read_table(out).to_pylist() == pq.read_table(reference).to_pylist()
    assert file_metadata(out) == file_metadata(reference)
    assert not partial.exists() and not state_file.exists() and mode(out) == 0o600


async def test_an_incomplete_export_publishes_nothing(tmp_path):
    api = FakeApi(300)
    api.batch_failures["c00150"] = 99
    out = tmp_path / "out.parquet"
    with pytest.raises(ExportIncomplete):
        await export(api, tmp_path, out, fmt="parquet", messages=True, keep_partial=True,
                     concurrency=1)
    assert not out.exists()  # only the partial, under a name that is not the output's
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == [
        "out.parquet.ids", "out.parquet.partial", "out.parquet.state.json"]
    report = await export(api, tmp_path, out, fmt="parquet", messages=True, resume=True,
                          allow_partial=True, keep_partial=True)
    rows = pq.read_table(out).to_pylist()
    assert report.partial and len(rows) == 250
    assert all(row["messages"] for row in rows)
    assert file_metadata(out)["failed_ids"] == [f"c{i:05d}" for i in range(150, 200)]


async def test_cancellation_leaves_nothing(tmp_path):
    api = FakeApi(1000)
    out = tmp_path / "out.parquet"
    async with api.client(tmp_path) as client:
        task = asyncio.create_task(run_export(
            client, ConversationQuery(), out, fmt="parquet",
            progress=lambda p: task.cancel() if p.done >= 300 else None))
        with pytest.raises(asyncio.CancelledError):
            await task
    assert list(tmp_path.glob("out*")) == [] and list(tmp_path.glob(".out*")) == []


# ---------------------------------------------------------------- without pyarrow
@pytest.fixture
def no_pyarrow(monkeypatch):
    for name in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)


async def test_run_export_without_pyarrow_says_how_to_install(tmp_path, no_pyarrow):
    api = FakeApi(5)
    out = tmp_path / "out.parquet"
    with pytest.raises(ExportError, match=re.escape(INSTALL_HINT)):
        await export(api, tmp_path, out, fmt="parquet")
    assert api.requests == [] and list(tmp_path.glob("out*")) == []


def test_cli_without_pyarrow_prints_one_line_and_exits_2(demo_db, tmp_path, no_pyarrow):
    out = tmp_path / "out.parquet"
    result = CliRunner().invoke(main, ["export", "--start", "2026-06-01", "--end",
                                       "2026-06-15", "--format", "parquet", "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and INSTALL_HINT in result.stderr
    assert "--format parquet" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- the command line
def readme_query() -> str:
    """The DuckDB query of README.md's Parquet section."""
    section = README.read_text(encoding="utf-8").split("## Parquet", 1)[1].split("\n## ")[0]
    match = re.search(r"```sql\n(.*?)```", section, re.S)
    assert match, "README.md's Parquet section shows a DuckDB query"
    return match.group(1)


def test_cli_parquet_export_answers_the_readme_query(demo_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["export", "--start", "2026-06-01", "--end",
                                       "2026-06-15", "--messages", "--format", "parquet",
                                       "-o", "conversations.parquet"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "conversations.parquet"
    assert mode(out) == 0o600
    total = pq.read_metadata(out).num_rows
    with duckdb.connect() as con:
        answer = con.execute(readme_query()).fetchall()
    assert answer and sum(row[2] for row in answer) == total  # conversations per group
    assert all(row[4] is None or (row[4] >= 0 and math.isfinite(row[4])) for row in answer)
    assert "parquet" in CliRunner().invoke(main, ["export", "--help"]).output


def test_a_damaged_partial_is_not_published(tmp_path):
    from api.export_parquet import ParquetSegments, assemble

    partial = tmp_path / "out.parquet.partial"
    with open(partial, "w", encoding="utf-8") as fh:
        ParquetSegments(fh, 0, {"messages": False}).write_many(
            [conversation(i) for i in range(60)])
    with open(tmp_path / "whole.parquet", "wb") as dst:  # as written: readable
        assemble(partial, dst, {"messages": False}, {})
    assert pq.read_table(tmp_path / "whole.parquet").num_rows == 60
    data = partial.read_bytes()
    for damaged in (data[:-1], data[:16] + b"\x00" * (len(data) - 16), data + b"\x01"):
        partial.write_bytes(damaged)
        with open(tmp_path / "out.tmp", "wb") as dst, \
                pytest.raises(ExportError, match=r"cannot publish: out\.parquet\.partial is "
                                                 r"damaged \([^\n]*\)$"):
            assemble(partial, dst, {"messages": False}, {})
