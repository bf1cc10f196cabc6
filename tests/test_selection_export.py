"""Selection and export never lose rows (issue 11): "all matching except these" is a
selection of its own, a filter change says what it drops, the export dialog's file name
follows the format and the dialog fits 80x24, and CSV has a full column set."""
from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime

import pytest
from app_support import explorer, settle
from click.testing import CliRunner
from fake_api import FakeApi
from textual.widgets import Input, RadioButton, Static

from api import export as api_export
from api.export import CSV_COLUMNS, ExportError, run_export
from api.query import ConversationQuery
from screens.export_dialog import ExportDialog
from tui.cli import main

FROZEN = datetime(2026, 6, 15, 12, 0, 0, tzinfo=UTC)
NO_SIDEBAR = (100, 40)  # below the explorer's sidebar (110 columns): not what is tested here

# the list endpoint's documented response fields, in the reference's order
DOCUMENTED_LIST_FIELDS = [
    "conversation_id", "inbox_name", "playbook_name", "playbook_version", "playbooks_info",
    "message_count", "first_message_at", "last_message_at", "first_user_message",
    "last_assistant_message", "has_handoff", "has_error", "tags", "skills",
    "avg_response_latency_ms", "sentiment_label", "sentiment_reason", "resources_label",
    "resources_reason", "summary", "user_intent", "sentiment_shift", "sentiment_shift_reason",
    "deflection_quality", "deflection_quality_reason", "handoff_reason",
    "handoff_reason_detail", "recontact_risk", "recontact_risk_reason", "model",
    "winback_sent_at", "context",
]


def clock():
    return FROZEN


def page_status(app) -> str:
    return str(explorer(app).table.query_one("#page-status", Static).render())


async def open_dialog(pilot) -> ExportDialog:
    await pilot.press("x")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, ExportDialog)
    return dialog


def radio_label(dialog: ExportDialog, wid: str) -> str:
    return str(dialog.query_one(f"#{wid}", RadioButton).label)


# ---------------------------------------------------------------- all matching except these
async def test_unpicking_one_row_of_all_matching_keeps_all_the_others(studio_app, tmp_path):
    app = studio_app()
    out = tmp_path / "all-but-one.json"
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("H")  # handoffs: more than one page
        await settle(pilot)
        table = explorer(app).table
        total = table.total
        assert total is not None and total > len(table.rows)
        await pilot.press("asterisk")
        left_out = table.rows[0].conversation_id
        await pilot.press("space")  # unpick the first row
        await pilot.pause()
        assert f"{total - 1:,} selected" in page_status(app)
        assert table.selection() == ("except", (table.query_obj, [left_out]))
        dialog = await open_dialog(pilot)
        assert f"({total - 1:,})" in radio_label(dialog, "scope-ids")
        assert dialog.query_one("#scope-ids", RadioButton).value  # the default choice
        dialog.query_one("#path", Input).value = str(out)
        await pilot.click("#start")
        await settle(pilot)
        data = json.loads(out.read_text(encoding="utf-8"))
        ids = [c["conversation_id"] for c in data["conversations"]]
        assert left_out not in ids and len(set(ids)) == total - 1
        assert data["total_matched"] == data["total_exported"] == total - 1


async def test_picking_the_row_back_and_star_again(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("H")
        await settle(pilot)
        table = explorer(app).table
        await pilot.press("asterisk", "space", "k")
        await pilot.pause()
        assert table.selection()[0] == "except"
        await pilot.press("space")  # picked back: all matching again
        await pilot.pause()
        assert table.selection() == ("query", table.query_obj)
        assert "all matching selected" in page_status(app)
        await pilot.press("space", "asterisk")  # an exception, then * clears the selection
        await pilot.pause()
        assert table.selection() is None


async def test_run_export_leaves_out_the_excluded_ids(tmp_path):
    api = FakeApi(237)
    excluded = ["c00000", "c00120", "c00236", "not-listed"]
    for messages in (False, True):
        out = tmp_path / f"out-{messages}.json"
        seen = []
        async with api.client(tmp_path) as client:
            report = await run_export(client, ConversationQuery(), out, "json", messages,
                                      progress=seen.append, exclude_ids=excluded,
                                      clock=clock, retry_delay=0, page_size=50)
        data = json.loads(out.read_text(encoding="utf-8"))
        ids = [c["conversation_id"] for c in data["conversations"]]
        assert len(ids) == 234 and not set(excluded) & set(ids)
        assert data["total_matched"] == data["total_exported"] == 234
        assert report.total_matched == report.total_exported == 234
        assert report.excluded == 3 and "3 excluded" in report.summary()
        assert seen[-1].done == seen[-1].total == seen[-1].written == 234
        assert all(p.done <= p.total for p in seen)
        if messages:  # the excluded ones' details are not fetched
            asked = [i for r in api.requests if r.method == "POST"
                     for i in json.loads(r.content)["conversation_ids"]]
            assert not set(excluded) & set(asked)


async def test_excluded_ids_and_an_id_list(tmp_path):
    api = FakeApi(20)
    out = tmp_path / "ids.jsonl"
    async with api.client(tmp_path) as client:
        report = await run_export(client, ConversationQuery(), out, "jsonl",
                                  ids=["c00001", "c00002", "c00003"], exclude_ids={"c00002"},
                                  clock=clock, retry_delay=0)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["conversation_id"] for r in rows] == ["c00001", "c00003"]
    assert report.total_matched == report.total_exported == 2


async def test_resume_with_other_exclusions_is_refused(tmp_path):
    api = FakeApi(500)
    out = tmp_path / "out.jsonl"
    async with api.client(tmp_path) as client:
        task = asyncio.create_task(run_export(
            client, ConversationQuery(), out, "jsonl", keep_partial=True, clock=clock,
            retry_delay=0, exclude_ids=["c00003"], page_size=50,
            progress=lambda p: task.cancel() if p.done >= 200 else None))
        with pytest.raises(asyncio.CancelledError):
            await task
    async with api.client(tmp_path) as client:
        with pytest.raises(ExportError, match="other options"):
            await run_export(client, ConversationQuery(), out, "jsonl", resume=True,
                             keep_partial=True, clock=clock, exclude_ids=["c00004"])
        report = await run_export(client, ConversationQuery(), out, "jsonl", resume=True,
                                  keep_partial=True, clock=clock, exclude_ids=["c00003"],
                                  page_size=50)
    ids = [json.loads(line)["conversation_id"]
           for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == 499 and "c00003" not in ids
    assert report.total_matched == report.total_exported == 499


# ---------------------------------------------------------------- filters change
async def test_a_filter_change_says_which_selection_it_dropped(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        table = explorer(app).table
        await pilot.press("space", "space")
        await pilot.press("comma")  # another sort: the same conversations, kept
        await settle(pilot)
        assert table.selection()[0] == "ids" and len(table.selection()[1]) == 2
        app.clear_notifications()
        await pilot.press("S")
        await settle(pilot)
        assert table.selection() is None
        messages = [n.message for n in app.test_notifications]
        assert any("2 selected conversations" in m and "filters changed" in m
                   for m in messages), messages
        total = table.total
        await pilot.press("asterisk", "space")
        app.clear_notifications()
        await pilot.press("H")
        await settle(pilot)
        messages = [n.message for n in app.test_notifications]
        assert any(f"{total - 1:,} selected conversations" in m for m in messages), messages


# ---------------------------------------------------------------- the dialog
async def test_the_file_name_follows_the_format_until_edited(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        path = dialog.query_one("#path", Input)
        assert path.value.endswith(".json")
        await pilot.click("#fmt-csv")
        await pilot.pause()
        assert path.value.endswith(".csv")
        await pilot.click("#fmt-jsonl")
        await pilot.pause()
        assert path.value.endswith(".jsonl")
        path.focus()
        await pilot.press("end", "backspace", "backspace", "backspace", "backspace",
                          "backspace", "t", "x", "t")
        await pilot.pause()
        assert path.value.endswith(".txt")
        await pilot.click("#fmt-csv")
        await pilot.pause()
        assert path.value.endswith(".txt")  # the user's name is kept


async def test_the_dialog_fits_80x24(studio_app):
    app = studio_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        dialog.add_class("-running")  # with its progress bar and a two-line status
        dialog.query_one("#export-status", Static).update("x " * 60)
        await pilot.pause()
        box = dialog.query_one("#export-box")
        assert box.max_scroll_y == 0  # nothing scrolled out of sight
        for wid in ("start", "cancel", "export-status", "path", "scope", "format",
                    "columns", "messages", "progress"):
            widget = dialog.query_one(f"#{wid}")
            region = widget.region
            assert region.height and dialog.region.contains_region(region), (wid, region)
            found, _ = dialog.get_widget_at(region.x + 1, region.y)
            assert found is widget or widget in found.ancestors, (wid, found)


# ---------------------------------------------------------------- full CSV
def test_full_columns_are_the_documented_list_fields():
    assert api_export.FULL_CSV_COLUMNS == DOCUMENTED_LIST_FIELDS
    assert CSV_COLUMNS == DOCUMENTED_LIST_FIELDS[:20] + ["model"]  # the brief's set, unchanged


def rich_api(n: int = 4) -> FakeApi:
    api = FakeApi(n)
    for i, row in enumerate(api.rows):
        row.update({
            "handoff_reason": "frustration", "handoff_reason_detail": "=asked twice",
            "recontact_risk": "high", "recontact_risk_reason": "unresolved",
            "deflection_quality": None, "deflection_quality_reason": None,
            "sentiment_shift": "degraded", "sentiment_shift_reason": "got angry",
            "user_intent": "refund", "winback_sent_at": None,
            "context": {"email": f"u{i}@example.com", "plan": ["pro", "=x"]},
            "undocumented": "left out",
        })
    return api


async def test_full_csv_has_every_signal_and_json_for_nested_values(tmp_path):
    api = rich_api()
    out = tmp_path / "full.csv"
    async with api.client(tmp_path) as client:
        await run_export(client, ConversationQuery(), out, "csv", columns="full", clock=clock)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert list(rows[0]) == DOCUMENTED_LIST_FIELDS
    first = rows[0]
    assert first["handoff_reason"] == "frustration" and first["recontact_risk"] == "high"
    assert first["handoff_reason_detail"] == "'=asked twice"  # made safe, as in the brief set
    assert first["sentiment_shift"] == "degraded" and first["user_intent"] == "refund"
    assert json.loads(first["playbooks_info"]) == [
        {"id": "pb-1", "name": "Helper ✨", "version": 2}]
    assert json.loads(first["context"]) == {"email": "u0@example.com", "plan": ["pro", "=x"]}
    assert rows[2]["tags"] == "billing, refund" and first["deflection_quality"] == ""
    assert first["has_handoff"] == "true"


async def test_brief_columns_stay_the_default_of_run_export(tmp_path):
    api = rich_api()
    out = tmp_path / "brief.csv"
    async with api.client(tmp_path) as client:
        await run_export(client, ConversationQuery(), out, "csv", clock=clock)
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == CSV_COLUMNS


async def test_resume_with_another_column_set_is_refused(tmp_path):
    api = FakeApi(500)
    out = tmp_path / "out.csv"
    async with api.client(tmp_path) as client:
        task = asyncio.create_task(run_export(
            client, ConversationQuery(), out, "csv", keep_partial=True, clock=clock,
            retry_delay=0, columns="full", page_size=50,
            progress=lambda p: task.cancel() if p.done >= 200 else None))
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(ExportError, match="columns"):
            await run_export(client, ConversationQuery(), out, "csv", resume=True,
                             keep_partial=True, clock=clock)
        await run_export(client, ConversationQuery(), out, "csv", resume=True,
                         keep_partial=True, clock=clock, columns="full")
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == DOCUMENTED_LIST_FIELDS


async def test_the_dialog_exports_full_csv_by_default(studio_app, tmp_path):
    app = studio_app()
    out = tmp_path / "picked.csv"
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("F")  # frustration handoffs: scored
        await settle(pilot)
        await pilot.press("space", "space")
        dialog = await open_dialog(pilot)
        await pilot.click("#fmt-csv")
        assert dialog.query_one("#cols-full", RadioButton).value
        dialog.query_one("#path", Input).value = str(out)
        await pilot.click("#start")
        await settle(pilot)
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
        assert len(rows) == 2 and list(rows[0]) == DOCUMENTED_LIST_FIELDS
        assert {r["handoff_reason"] for r in rows} == {"frustration"}
        assert all(r["recontact_risk"] and r["handoff_reason_detail"] for r in rows)
        info = json.loads(rows[0]["playbooks_info"])
        assert isinstance(info, list) and "name" in info[0]
        # the brief's set, on request
        out2 = tmp_path / "brief.csv"
        dialog.result_path = None
        await pilot.click("#cols-brief")
        dialog.query_one("#path", Input).value = str(out2)
        await pilot.click("#start")
        await settle(pilot)
        assert out2.read_text(encoding="utf-8").splitlines()[0].split(",") == CSV_COLUMNS


def test_cli_columns_flag(demo_db, tmp_path):
    runner = CliRunner()
    headers = {}
    for name, extra in (("default", []), ("brief", ["--columns", "brief"]),
                        ("full", ["--columns", "full"])):
        out = tmp_path / f"{name}.csv"
        result = runner.invoke(main, ["export", "--start", "2026-06-01", "--end", "2026-06-16",
                                      "--handoff-reason", "frustration", "--format", "csv",
                                      *extra, "-o", str(out)], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        headers[name] = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert headers["default"] == headers["brief"] == CSV_COLUMNS
    assert headers["full"] == DOCUMENTED_LIST_FIELDS
    assert "--columns" in runner.invoke(main, ["export", "--help"]).output


async def test_dialog_toggles_differ_in_shape_not_only_colour(studio_app):
    """Every radio button and checkbox of the dialog draws its mark only when on (Textual's
    draw the same mark in both states, told apart by colour alone)."""
    from textual.widgets import Checkbox

    def marks(dialog: ExportDialog) -> dict[str, tuple[bool, str]]:
        toggles = [*dialog.query(RadioButton), *dialog.query(Checkbox)]
        return {t.id: (t.value, t.render().plain[:3]) for t in toggles}

    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        dialog = await open_dialog(pilot)
        before = marks(dialog)
        assert any(on for on, _ in before.values()) and any(not on for on, _ in before.values())
        for on, box in before.values():
            assert (box[1] != " ") == on, before
        await pilot.click("#fmt-csv")
        await pilot.pause()
        after = marks(dialog)
        assert after["fmt-csv"][0] and not after["fmt-json"][0]
        for on, box in after.values():
            assert (box[1] != " ") == on, after
