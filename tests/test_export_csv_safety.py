"""CSV export of hostile text: formula injection neutralised, control characters removed.

Customer text lands in CSV cells; a spreadsheet runs a cell starting with ``=``, ``+``, ``-``,
``@`` (OWASP "CSV injection") and a terminal showing the file obeys escape sequences. The
default export makes every text cell safe; ``csv_raw`` / ``--csv-raw`` keeps the brief's bytes.
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import sqlite3

import pytest
from click.testing import CliRunner
from fake_api import FakeApi
from hypothesis import given
from hypothesis import strategies as st
from test_export import brief_csv, clock

from api import export as E
from api.demo.generate import hostile_conversation_ids
from api.export import CSV_COLUMNS, ExportError, run_export
from api.query import ConversationQuery
from tui.cli import main

# the formula-injection samples the demo carries (api/demo/world.py)
FORMULAS = (
    '=HYPERLINK("http://evil.example","click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
)
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n")
NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# what a safe cell never holds: C0 controls but LF and tab, DEL, C1 (ESC, CSI, OSC, BEL, ...)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def assert_safe_cell(cell: str) -> None:
    assert not CONTROL.search(cell), repr(cell)
    if cell.startswith(DANGEROUS_START) or cell.lstrip().startswith(DANGEROUS_START[:4]):
        assert NUMBER.fullmatch(cell.strip()), repr(cell)


def read_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# ---------------------------------------------------------------- the cell function
@pytest.mark.parametrize("text", FORMULAS + ("=1+1", "@x", "+x", "-x", "--", "-",
                                              "=", "\tfoo", "\t=1"))
def test_formula_cells_get_a_quote(text):
    assert E.csv_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["-2", "-3.5", "+4", "-1e3", "-.5", "12", "3.25E-2", "-2 "])
def test_numbers_as_text_are_kept(text):
    assert E.csv_safe(text) == text


@pytest.mark.parametrize(("text", "expected"), [
    ("\r=1+1", "'\n=1+1"),  # CR becomes LF (a line break), and the cell still starts badly
    ("  =1+1", "'  =1+1"),  # importers that trim spaces would see a formula
    ("\u00a0@SUM(A1)", "'\u00a0@SUM(A1)"),
    ("\n-x", "'\n-x"),
    ("\x1b[31m=1+1", "'=1+1"),  # what is left after the escape sequence decides
    ("\x00@x", "'@x"),
    ("\x07\x9b31m+x", "'+x"),
    ("'=already", "'=already"),
    ("a-b=c", "a-b=c"),
    ("", ""),
])
def test_cell_start_is_judged_after_cleaning(text, expected):
    assert E.csv_safe(text) == expected


def test_control_characters_and_escape_sequences_are_removed():
    text = ("why \x1b[31mRED\x1b[0m \x1b]8;;http://x.example\x07link\x1b]8;;\x07 "
            "\x1b]52;c;ZXZpbA==\x07done \x9b2J\x9d0;title\x07 bell\x07 nul\x00 bs\x08 "
            "ff\x0c del\x7f c1\x85 bidi\u202eevil\u202c")
    assert E.csv_safe(text) == "why RED link done  bell nul bs ff del c1 bidievil"


def test_line_breaks_and_tabs_inside_a_cell_are_kept():
    assert E.csv_safe("one\ntwo\r\nthree\rfour\tfive") == "one\ntwo\nthree\nfour\tfive"


@given(st.text())
def test_any_text_becomes_a_safe_cell(text):
    cell = E.csv_safe(text)
    assert_safe_cell(cell)
    assert E.csv_safe(cell) == cell


def test_csv_value_keeps_numbers_and_the_brief_s_scalars():
    value = E._csv_value
    assert value(-2) == -2 and value(-3.5) == -3.5 and value(0) == 0
    assert value(True) == "true" and value(False) == "false" and value(None) == ""
    assert value(["=a", "b"]) == "'=a, b"
    assert value("-2+3") == "'-2+3"
    assert value("-2+3", raw=True) == "-2+3"
    assert value(["=a", "\x1b[1mb"], raw=True) == "=a, \x1b[1mb"
    # a lone surrogate: replaced in a safe cell, kept raw (the writer escapes it)
    assert value("a\ud800b") == "a\ufffdb" and value("a\ud800b", raw=True) == "a\ud800b"


# ---------------------------------------------------------------- end to end (fake API)
def hostile_api(n: int = 12) -> FakeApi:
    api = FakeApi(n)
    texts = FORMULAS + ("\x1b[31mred\x1b[0m \x1b]0;title\x07 \x9b1m\x9d8;;x\x07 bell\x07",
                        "\tindent", "\r=cr", "multi\nline, \"quoted\"", "nul\x00 del\x7f")
    for i, row in enumerate(api.rows):
        row["first_user_message"] = texts[i % len(texts)]
        row["last_assistant_message"] = texts[(i + 3) % len(texts)]
        row["summary"] = texts[(i + 5) % len(texts)]
        row["sentiment_reason"] = "=cmd|' /C calc'!A0" if i % 2 else None
        row["inbox_name"] = "@inbox" if i % 3 else "Website Chat"
        row["tags"] = ["=bad", "ok\x1b[2J"] if i % 2 else ["ok"]
        row["playbook_version"] = -2  # numbers stay numbers
        row["avg_response_latency_ms"] = -3.5
    return api


async def export(api, tmp_path, out, **kw):
    async with api.client(tmp_path) as client:
        return await run_export(client, ConversationQuery(), out, clock=clock, retry_delay=0,
                                **kw)


async def test_hostile_rows_export_as_safe_cells(tmp_path):
    api = hostile_api()
    out = tmp_path / "out.csv"
    report = await export(api, tmp_path, out, fmt="csv", messages=True)
    assert report.complete and report.total_exported == 12
    rows = read_rows(out.read_text(encoding="utf-8"))
    assert rows[0] == CSV_COLUMNS and len(rows) == 13
    for row in rows[1:]:
        for cell in row:
            assert_safe_cell(cell)
    by_id = {r[0]: dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]}
    first = by_id["c00000"]
    assert first["first_user_message"] == "'" + FORMULAS[0]
    assert first["playbook_version"] == "-2" and first["avg_response_latency_ms"] == "-3.5"
    assert by_id["c00003"]["first_user_message"] == "'-2+3"
    assert by_id["c00004"]["first_user_message"] == "red   bell"
    assert by_id["c00001"]["tags"] == "'=bad, ok"
    assert by_id["c00001"]["sentiment_reason"] == "'=cmd|' /C calc'!A0"
    assert by_id["c00001"]["inbox_name"] == "'@inbox"
    assert by_id["c00007"]["first_user_message"] == "multi\nline, \"quoted\""  # kept, quoted
    assert by_id["c00006"]["first_user_message"] == "'\n=cr"


async def test_csv_raw_is_byte_identical_to_the_brief(tmp_path):
    api = hostile_api()
    out = tmp_path / "raw.csv"
    await export(api, tmp_path, out, fmt="csv", messages=True, csv_raw=True)
    expected = tmp_path / "expected.csv"
    brief_csv(expected, api.rows)
    assert out.read_bytes() == expected.read_bytes()
    assert b"\x1b[31m" in out.read_bytes() and b',"=HYPERLINK(' in out.read_bytes()


async def test_plain_text_exports_as_the_brief_s_file_by_default(tmp_path):
    api = FakeApi(30)
    out = tmp_path / "out.csv"
    await export(api, tmp_path, out, fmt="csv")
    expected = tmp_path / "expected.csv"
    brief_csv(expected, api.rows)
    assert out.read_bytes() == expected.read_bytes()


def test_run_export_defaults_to_safe_cells():
    import inspect

    param = inspect.signature(run_export).parameters["csv_raw"]
    assert param.default is False and param.kind is inspect.Parameter.KEYWORD_ONLY


async def test_resume_refuses_the_other_cell_mode(tmp_path):
    api = hostile_api(500)
    out = tmp_path / "out.csv"
    async with api.client(tmp_path) as client:  # cancelled once 200 rows are consumed
        task = asyncio.create_task(run_export(
            client, ConversationQuery(), out, "csv", keep_partial=True, clock=clock,
            retry_delay=0, progress=lambda p: task.cancel() if p.done >= 200 else None))
        with pytest.raises(asyncio.CancelledError):
            await task
    assert (tmp_path / "out.csv.partial").exists()
    with pytest.raises(ExportError, match="other options"):
        await export(api, tmp_path, out, fmt="csv", csv_raw=True, resume=True,
                     keep_partial=True)
    report = await export(api, tmp_path, out, fmt="csv", resume=True, keep_partial=True)
    assert report.complete and report.resumed_from >= 200
    reference = tmp_path / "ref.csv"
    await export(hostile_api(500), tmp_path, reference, fmt="csv")
    assert out.read_bytes() == reference.read_bytes()


# ---------------------------------------------------------------- the demo carries formulas
@pytest.fixture(scope="module")
def formula_ids(demo_db) -> dict[str, str]:
    """Sample -> one demo conversation id whose first user message is that sample."""
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        ids = hostile_conversation_ids(conn)
        marks = ",".join("?" * len(ids))
        rows = conn.execute(f"SELECT conversation_id, body FROM conversations "
                            f"WHERE conversation_id IN ({marks})", ids).fetchall()
    finally:
        conn.close()
    found: dict[str, str] = {}
    for cid, body in rows:
        found.setdefault(json.loads(body).get("first_user_message", ""), cid)
    return {sample: found[sample] for sample in FORMULAS if sample in found}


def test_demo_carries_the_formula_samples(formula_ids):
    assert sorted(formula_ids) == sorted(FORMULAS)


@pytest.fixture
async def demo_client(demo_db):
    from api.client import StudioClient
    from api.config import load_settings

    async with StudioClient.from_settings(load_settings(), cache=False) as client:
        yield client


async def test_demo_formulas_export_safe_and_raw(demo_client, formula_ids, tmp_path):
    ids = sorted(formula_ids.values())
    safe, raw = tmp_path / "safe.csv", tmp_path / "raw.csv"
    await run_export(demo_client, ConversationQuery(), safe, "csv", ids=ids, clock=clock)
    await run_export(demo_client, ConversationQuery(), raw, "csv", ids=ids, clock=clock,
                     csv_raw=True)
    safe_rows = read_rows(safe.read_text(encoding="utf-8"))[1:]
    raw_rows = read_rows(raw.read_text(encoding="utf-8"))[1:]
    column = CSV_COLUMNS.index("first_user_message")
    assert sorted(r[column] for r in raw_rows) == sorted(FORMULAS)
    assert sorted(r[column] for r in safe_rows) == sorted("'" + f for f in FORMULAS)
    for row in safe_rows:
        for cell in row:
            assert_safe_cell(cell)


# ---------------------------------------------------------------- the command line
def test_cli_csv_raw_flag(demo_db, formula_ids, tmp_path):
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(formula_ids.values()) + "\n", encoding="utf-8")
    runner = CliRunner()
    outputs = {}
    for name, extra in (("safe", []), ("raw", ["--csv-raw"])):
        out = tmp_path / f"{name}.csv"
        result = runner.invoke(main, ["export", "--ids-from", str(ids_file), "--format", "csv",
                                      *extra, "-o", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        outputs[name] = out.read_text(encoding="utf-8")
    column = CSV_COLUMNS.index("first_user_message")
    raw = sorted(r[column] for r in read_rows(outputs["raw"])[1:])
    safe = sorted(r[column] for r in read_rows(outputs["safe"])[1:])
    assert raw == sorted(FORMULAS) and safe == sorted("'" + f for f in FORMULAS)
    help_text = runner.invoke(main, ["export", "--help"]).output
    assert "--csv-raw" in help_text and "spreadsheet" in help_text
