"""Pilot tests of the explorer on the in-process demo backend (pinned anchor, temp cache).

Requests are captured by the recording transport of the `studio_app` fixture, so each test
checks what the UI asked the API for, as the contract says, and what it then shows.
"""
from __future__ import annotations

import csv
import json
import sqlite3
import stat
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from app_support import detail_fetched, screen_lines, screen_segments, settle, wait_until
from textual.coordinate import Coordinate
from textual.widgets import Input, OptionList, SelectionList, Static

from api.dates import short_time
from api.demo.generate import hostile_conversation_ids
from api.endpoints import conversations
from api.query import ConversationQuery
from screens.conversation import ConversationScreen
from screens.explorer import TRIAGE_PRESETS, ExplorerScreen
from screens.export_dialog import ExportDialog
from screens.help import HelpScreen
from widgets.choice import NULL, Choice
from widgets.filter_sidebar import FilterSidebar
from widgets.message_view import MessageView

WIDE = (160, 48)
# below the sidebar's width (110 columns): for tests of everything but the sidebar
NO_SIDEBAR = (100, 40)
NOW = datetime(2026, 6, 16, tzinfo=UTC)  # end of the pinned anchor day


def list_params(app) -> list[dict[str, str]]:
    return app.test_transport.params_of("/conversations")


def last_params(app) -> dict[str, str]:
    return list_params(app)[-1]


def current_params(app) -> dict[str, str]:
    """Params of the page on screen (a query seen before is served by the cache, unasked)."""
    request = explorer(app).table.current_request()
    assert request is not None
    endpoint = conversations.rows(app.test_info.project_id, request.query,
                                  limit=request.limit, offset=request.offset)
    return dict(endpoint.params)


def explorer(app) -> ExplorerScreen:
    screen = app.get_screen_for_mode("explorer")
    assert isinstance(screen, ExplorerScreen)
    return screen


def sidebar(app) -> FilterSidebar:
    return explorer(app).query_one(FilterSidebar)


async def choose(pilot, wid: str, value) -> None:
    sidebar(pilot.app).query_one(f"#{wid}", Choice).value = value
    await settle(pilot)


async def tick(pilot, wid: str, *values: str) -> None:
    selection = sidebar(pilot.app).query_one(f"#{wid}", SelectionList)
    for value in values:
        selection.select(value)
    await settle(pilot)


async def type_into(pilot, wid: str, text: str) -> None:
    box = sidebar(pilot.app).query_one(f"#{wid}", Input)
    box.focus()
    box.value = text
    await pilot.press("enter")
    await settle(pilot)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------- first page


async def test_first_page_request_and_paging(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        table = explorer(app).table
        first = list_params(app)[0]
        assert first["offset"] == "0"
        assert first["limit"] == str(table.page_size)
        assert first["start_date"] == iso(NOW - timedelta(days=30))
        assert first["end_date"] == iso(NOW)
        assert "sort_by" not in first  # the server default
        assert table.total and table.total > table.page_size
        assert len(table.rows) == table.page_size == table.table.row_count
        status = table.query_one("#page-status", Static).render()
        assert f"page 1 / {table.pages}" in str(status)

        await pilot.press("n")
        await settle(pilot)
        assert table.page == 2
        offsets = [p["offset"] for p in list_params(app)]
        assert str(table.page_size) in offsets  # page 2 asked for (or prefetched)
        assert table.table.row_count == table.page_size  # the table holds one page only

        before = len(list_params(app))
        await pilot.press("p")
        await settle(pilot)
        assert table.page == 1
        assert len(list_params(app)) == before  # page 1 came from the cache

        await pilot.press("right_curly_bracket")
        await settle(pilot)
        assert table.page == table.pages
        assert last_params(app)["offset"] == str((table.pages - 1) * table.page_size)
        assert len(table.rows) == table.total - (table.pages - 1) * table.page_size
        await pilot.press("left_curly_bracket")
        await settle(pilot)
        assert table.page == 1


@pytest.mark.parametrize("size", [(100, 30), (80, 24), WIDE])
async def test_the_first_page_is_asked_for_at_its_final_size(studio_app, monkeypatch, size):
    """The detail pane mounted after the first page must not change the table's height: a
    page of another size would flash, then be asked for again (and the cached first page
    of the next start would be keyed on a size the table never keeps)."""
    from widgets.conversation_table import ConversationTable

    asked: list[int] = []
    request = ConversationTable._request

    def recording(self, force: bool = False) -> None:
        if (wanted := self.current_request()) is not None and self.is_mounted:
            asked.append(wanted.limit)
        request(self, force)

    monkeypatch.setattr(ConversationTable, "_request", recording)
    app = studio_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await wait_until(lambda: explorer(app).query("#detail"), pilot=pilot)
        await settle(pilot)
        table = explorer(app).table
        assert table.rows
        assert set(asked) == {table.page_size}
        sizes = {int(p["limit"]) for p in list_params(app)}
        assert sizes == {table.page_size}


async def test_vim_keys_cross_pages(studio_app):
    app = studio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = explorer(app).table
        await pilot.press("G")
        assert table.table.cursor_row == len(table.rows) - 1
        await pilot.press("j")  # past the last row: next page, first row
        await settle(pilot)
        assert (table.page, table.table.cursor_row) == (2, 0)
        await pilot.press("k")  # before the first row: previous page, last row
        await settle(pilot)
        assert (table.page, table.table.cursor_row) == (1, len(table.rows) - 1)
        await pilot.press("g")
        assert table.table.cursor_row == 0
        await pilot.press("pagedown")  # flips pages (not the grid's cursor)
        await settle(pilot)
        assert table.page == 2
        await pilot.press("pageup")
        await settle(pilot)
        assert table.page == 1


async def test_sorting_by_api_sort_fields(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        table = explorer(app).table
        await pilot.press("comma")  # next sort field
        await settle(pilot)
        assert last_params(app)["sort_by"] == "first_message_at"
        await pilot.press("comma")
        await settle(pilot)
        assert last_params(app)["sort_by"] == "message_count"
        assert last_params(app)["sort_order"] == "desc"
        counts = [r.message_count for r in table.rows]
        assert counts == sorted(counts, reverse=True)
        await pilot.press(".")  # flip the order (the terminal sends `full_stop`)
        await settle(pilot)
        assert last_params(app)["sort_order"] == "asc"
        counts = [r.message_count for r in table.rows]
        assert counts == sorted(counts)
        # the sidebar shows the same sort
        assert sidebar(app).query_one("#sort_by", Choice).value == "message_count"
        assert sidebar(app).query_one("#sort_order", Choice).value == "asc"


# ---------------------------------------------------------------------------- filters


@pytest.mark.long
async def test_every_filter_dimension_changes_the_request(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        lookups = app.lookups
        assert lookups.assistants and lookups.inboxes and lookups.tags and lookups.skills
        table = explorer(app).table

        await choose(pilot, "preset", "7d")
        assert last_params(app)["start_date"] == iso(NOW - timedelta(days=7))
        assert app.filters.start_date == iso(NOW - timedelta(days=7))  # shared with analytics

        assistant = lookups.assistants[0]
        await choose(pilot, "playbook_base_id", assistant.base_id)
        assert last_params(app)["playbook_base_id"] == assistant.base_id
        assert app.filters.playbook_base_id == assistant.base_id
        version_id = assistant.versions[0][0]
        await choose(pilot, "playbook_id", version_id)
        assert last_params(app)["playbook_id"] == version_id
        await choose(pilot, "playbook_id", NULL)
        await choose(pilot, "playbook_base_id", NULL)
        assert "playbook_base_id" not in current_params(app)
        assert app.filters.playbook_base_id is None

        inbox_id, inbox_name = lookups.inboxes[0]
        await choose(pilot, "inbox_id", inbox_id)
        assert last_params(app)["inbox_id"] == inbox_id
        assert {r.inbox_name for r in table.rows} == {inbox_name}
        await choose(pilot, "inbox_id", NULL)

        await choose(pilot, "has_handoff", "yes")
        assert last_params(app)["has_handoff"] == "true"
        assert all(r.has_handoff for r in table.rows)
        await choose(pilot, "has_handoff", "no")
        assert last_params(app)["has_handoff"] == "false"
        await choose(pilot, "has_handoff", "any")
        assert "has_handoff" not in current_params(app)
        await choose(pilot, "has_winback", "yes")
        assert last_params(app)["has_winback"] == "true"
        await choose(pilot, "has_winback", "any")

        await tick(pilot, "tags", lookups.tags[0])
        assert last_params(app)["tags"] == lookups.tags[0]
        assert all(lookups.tags[0] in r.conversation().tags for r in table.rows)
        sidebar(app).query_one("#tags", SelectionList).deselect_all()
        await settle(pilot)

        for field, values, row_key in (
            ("sentiment", ("negative", "neutral"), "sentiment_label"),
            ("resources", ("irrelevant", "partial"), "resources_label"),
            ("sentiment_shift", ("degraded", "stable"), "sentiment_shift"),
            ("deflection_quality", ("resolved", "no_response"), "deflection_quality"),
            ("handoff_reason", ("policy", "frustration"), "handoff_reason"),
            ("recontact_risk", ("high", "medium"), "recontact_risk"),
        ):
            await tick(pilot, field, *values)
            assert last_params(app)[field] == ",".join(values), field
            assert table.rows and {getattr(r.conversation(), row_key) for r in table.rows} \
                <= set(values), field
            sidebar(app).query_one(f"#{field}", SelectionList).deselect_all()
            await settle(pilot)
            assert field not in current_params(app)

        await type_into(pilot, "min_messages", "6")
        await type_into(pilot, "max_messages", "8")
        assert (last_params(app)["min_messages"], last_params(app)["max_messages"]) == ("6", "8")
        assert all(6 <= r.message_count <= 8 for r in table.rows)
        await type_into(pilot, "min_messages", "")
        await type_into(pilot, "max_messages", "")

        skill = lookups.skills[0]
        await choose(pilot, "skill_name", skill)
        assert last_params(app)["skill_name"] == skill
        # (the demo drops optional fields from a few hostile rows: "skills" may be missing)
        assert all(skill in r.conversation().skills for r in table.rows
                   if "skills" in r.conversation().model_fields_set)
        assert any(r.conversation().skills for r in table.rows)
        await choose(pilot, "skill_name", NULL)

        await type_into(pilot, "search", "2101")
        assert last_params(app)["search"] == "2101"
        assert all("2101" in r.conversation_id for r in table.rows)
        await type_into(pilot, "search", "")

        await choose(pilot, "sort_by", "message_count")
        await choose(pilot, "sort_order", "asc")
        assert (last_params(app)["sort_by"], last_params(app)["sort_order"]) == (
            "message_count", "asc")


async def test_custom_dates_with_time_zone(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await type_into(pilot, "tz", "+02:00")
        await type_into(pilot, "start_date", "2026-06-01")
        await type_into(pilot, "end_date", "2026-06-10 12:30")
        params = last_params(app)
        assert params["start_date"] == "2026-06-01T00:00:00+02:00"
        assert params["end_date"] == "2026-06-10T12:30:00+02:00"
        assert sidebar(app).query_one("#preset", Choice).value == "custom"
        table = explorer(app).table
        # the table shows times in the chosen zone
        plus2 = timezone(timedelta(hours=2))
        shown = str(table.table.get_cell_at(Coordinate(0, 1)))
        assert shown == short_time(table.rows[0].last_message_at, plus2)
        low = datetime(2026, 5, 31, 22, tzinfo=UTC)
        high = datetime(2026, 6, 10, 10, 30, tzinfo=UTC)
        for row in table.rows:
            moment = datetime.fromisoformat(row.last_message_at.replace("Z", "+00:00"))
            assert low <= moment <= high


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("start_date", "2026-13-45", "start_date"),
        ("tz", "Mars/Olympus", "time zone"),
    ],
)
async def test_bad_filter_input_is_rejected_inline(studio_app, field, value, message):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        before = list(list_params(app))
        query = explorer(app).query_obj
        await type_into(pilot, field, value)
        error = sidebar(app).query_one(f"#err-{field}", Static)
        assert error.has_class("-shown")
        assert message in str(error.render())
        assert list_params(app) == before  # nothing applied, nothing asked
        assert explorer(app).query_obj == query
        assert any("Filter not applied" in (n.title or "") for n in app.test_notifications)


@pytest.mark.parametrize(
    ("first", "second", "error_field", "message"),
    [
        (("max_messages", "3"), ("min_messages", "9"), "min_messages", "must not exceed"),
        (("start_date", "2026-06-10"), ("end_date", "2026-06-01"), "end_date", "after start"),
    ],
)
async def test_inconsistent_pair_is_rejected(studio_app, first, second, error_field, message):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await type_into(pilot, *first)
        query, count = explorer(app).query_obj, len(list_params(app))
        await type_into(pilot, *second)
        assert len(list_params(app)) == count  # not applied, not asked
        assert explorer(app).query_obj == query
        assert message in str(sidebar(app).query_one(f"#err-{error_field}", Static).render())


async def test_clear_filters_keeps_date_range(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("F")
        await settle(pilot)
        assert last_params(app)["handoff_reason"] == "frustration"
        explorer(app).query_one("#conversations").focus()
        await pilot.press("C")
        await settle(pilot)
        params = current_params(app)
        assert set(params) == {"start_date", "end_date", "limit", "offset"}
        assert not all(r.has_handoff for r in explorer(app).table.rows)
        assert sidebar(app).current_query() == explorer(app).query_obj


# ---------------------------------------------------------------------------- presets


@pytest.mark.long
async def test_triage_presets_combine_with_date_and_assistant(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await choose(pilot, "preset", "90d")
        base = app.lookups.assistants[0].base_id
        await choose(pilot, "playbook_base_id", base)
        await tick(pilot, "sentiment", "positive")  # kept, unless the preset sets sentiment
        expected = {
            "S": {"sentiment": "negative"},
            "H": {"has_handoff": "true"},
            "F": {"has_handoff": "true", "handoff_reason": "frustration"},
            "R": {"recontact_risk": "high"},
            "D": {"sentiment_shift": "degraded"},
            "I": {"resources": "irrelevant"},
        }
        assert set(expected) == {p.key for p in TRIAGE_PRESETS}
        for key, changes in expected.items():
            explorer(app).query_one("#conversations").focus()
            await pilot.press(key)  # on: its own filters over the others
            await settle(pilot)
            params = current_params(app)
            assert params["start_date"] == iso(NOW - timedelta(days=90)), key
            assert params["playbook_base_id"] == base, key
            extra = {k: v for k, v in params.items()
                     if k not in ("start_date", "end_date", "playbook_base_id", "limit",
                                  "offset")}
            assert extra == {"sentiment": "positive", **changes}, key
            assert explorer(app).table.total is not None
            await pilot.press(key)  # off again (see test_explorer_keys for combining)
            await settle(pilot)
            assert not set(changes) & (set(current_params(app)) - {"sentiment"}), key
            if key == "S":
                await tick(pilot, "sentiment", "positive")


async def test_presets_and_screens_in_the_command_palette(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.palette_commands()]
        for preset in TRIAGE_PRESETS:
            assert f"Triage: {preset.name}" in titles
        assert "Screen: Explorer" in titles and "Export conversations" in titles
        # chosen in the palette (ctrl+p, type, enter), a preset applies
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"frustration")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert last_params(app)["handoff_reason"] == "frustration"
        assert last_params(app)["has_handoff"] == "true"


async def test_drill_down_applies_query(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        query = ConversationQuery.build(start_date="2026-06-01", end_date="2026-06-15",
                                        has_handoff=True, handoff_reason=["frustration"])
        app.drill_down(query)
        await settle(pilot)
        params = last_params(app)
        assert params["handoff_reason"] == "frustration" and params["has_handoff"] == "true"
        assert params["start_date"] == "2026-06-01T00:00:00Z"
        assert app.filters.start_date == "2026-06-01T00:00:00Z"
        assert explorer(app).query_obj.handoff_reason == ("frustration",)
        assert sidebar(app).current_query() == explorer(app).query_obj


# ---------------------------------------------------------------------------- detail


async def test_detail_open_next_previous_and_copy(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        table = explorer(app).table
        ids = [r.conversation_id for r in table.rows]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConversationScreen)
        assert screen.conversation_id == ids[0]
        assert screen.detail and screen.detail.conversation_id == ids[0]
        assert len(screen.query(MessageView)) == len(screen.detail.messages)
        await pilot.press("J")
        await settle(pilot)
        assert screen.conversation_id == ids[1]
        assert screen.detail.conversation_id == ids[1]
        await pilot.press("K")
        await settle(pilot)
        assert screen.conversation_id == ids[0]
        await pilot.press("y")
        assert app.clipboard == ids[0]
        await pilot.press("Y")
        assert json.loads(app.clipboard)["conversation_id"] == ids[0]
        assert any("Copied" in n.message for n in app.test_notifications)
        await pilot.press("escape")
        assert isinstance(app.screen, ExplorerScreen)


async def test_next_conversation_crosses_a_page(studio_app):
    app = studio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = explorer(app).table
        await pilot.press("G", "enter")
        await settle(pilot)
        await pilot.press("J")
        await settle(pilot)
        assert table.page == 2
        assert app.screen.conversation_id == table.rows[0].conversation_id


async def test_search_inside_a_conversation(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        word = screen.detail.messages[0].content.split()[0]
        await pilot.press("slash")
        screen.query_one("#find", Input).value = word
        await pilot.press("enter")
        await pilot.pause()
        assert screen._matches and all(word.lower() in v.searchable() for v in screen._matches)
        assert screen._matches[0].has_class("-match")
        await pilot.press("n")
        await pilot.press("N")


async def test_hostile_text_is_shown_literally(studio_app, demo_db):
    conn = sqlite3.connect(demo_db)
    ids = hostile_conversation_ids(conn)[:12]
    conn.close()
    app = studio_app()
    seen_markup = False
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        for cid in ids:
            await app.push_screen(ConversationScreen(cid))
            await settle(pilot)
            screen = app.screen
            texts = [str(w.render()) for w in screen.query(Static)]
            for text in texts:
                assert "\x1b" not in text and "\x07" not in text and "\x00" not in text, cid
            seen_markup |= any("[bold]URGENT[/bold]" in t for t in texts)
            assert "\x1b" not in app.export_screenshot()
            app.pop_screen()
            await pilot.pause()
        assert seen_markup  # markup-like text reached the screen as typed, not as styles


# ---------------------------------------------------------------------------- errors


async def test_api_error_keeps_the_table(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        table = explorer(app).table
        rows = list(table.rows)
        app.test_faults.error_rate = 1.0
        app.test_faults.path_contains = "/conversations"
        await pilot.press("S")  # a new query: not cached, the API answers 500
        await settle(pilot)
        assert table.rows == rows and table.table.row_count == len(rows)
        assert app.connection == "error"
        errors = [n for n in app.test_notifications if n.severity == "error"]
        assert errors and "ctrl+r" in errors[-1].message
        app.test_faults.error_rate = 0.0
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert last_params(app)["sentiment"] == "negative"
        assert {r.sentiment_label for r in table.rows} == {"negative"}
        assert app.connection == "online"


# ---------------------------------------------------------------------------- export


async def test_selection_export_to_csv(studio_app, tmp_path):
    app = studio_app()
    out = tmp_path / "picked.csv"
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        table = explorer(app).table
        await pilot.press("space", "space", "space")
        picked = [r.conversation_id for r in table.rows[:3]]
        assert table.selection() == ("ids", sorted(picked))
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        await pilot.click("#fmt-csv")
        dialog.query_one("#path", Input).value = str(out)
        await pilot.click("#start")
        await settle(pilot)
        assert out.exists()
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        with out.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert sorted(r["conversation_id"] for r in rows) == sorted(picked)
        assert any(str(out) in n.message for n in app.test_notifications)


async def test_export_all_matching_json_with_overwrite_confirmation(studio_app, tmp_path):
    app = studio_app()
    out = tmp_path / "all.json"
    out.write_text("old")
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("F")  # frustration handoffs: a small set
        await settle(pilot)
        total = explorer(app).table.total
        await pilot.press("asterisk")
        assert explorer(app).table.selection()[0] == "query"
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#path", Input).value = str(out)
        dialog.query_one("#path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert out.read_text() == "old"  # asked first
        assert "exists" in str(dialog.query_one("#export-error", Static).render())
        await pilot.press("enter")
        await settle(pilot)
        data = json.loads(out.read_text())
        assert data["total_matched"] == total == data["total_exported"]
        assert {c["handoff_reason"] for c in data["conversations"]} == {"frustration"}


async def test_export_can_be_cancelled(studio_app, tmp_path):
    app = studio_app()
    out = tmp_path / "slow.jsonl"
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        app.test_faults.latency_ms = 300  # every API call is slow from now on
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        await pilot.click("#fmt-jsonl")
        dialog.query_one("#messages").value = True
        dialog.query_one("#path", Input).value = str(out)
        dialog.query_one("#path", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert dialog.running and dialog.has_class("-running")
        await pilot.press("escape")  # cancels the running export, the dialog stays
        await settle(pilot)
        assert not dialog.running
        assert "cancelled" in str(dialog.query_one("#export-status", Static).render())
        assert not out.exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith("slow")]  # no partial
        assert isinstance(app.screen, ExportDialog)
        await pilot.press("escape")
        assert isinstance(app.screen, ExplorerScreen)


async def test_export_unwritable_path_is_reported(studio_app, tmp_path):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#path", Input).value = str(tmp_path / "missing-dir" / "out.json")
        await pilot.click("#start")
        await settle(pilot)
        assert "does not exist" in str(dialog.query_one("#export-error", Static).render())
        assert isinstance(app.screen, ExportDialog)


# ---------------------------------------------------------------------------- keys


async def test_keymap_from_the_config_file(studio_app, tmp_path):
    app = studio_app()
    app.settings = app.settings.replace(config_dir=tmp_path)
    app.settings.config_file.write_text('[keymap]\n"table.next_page" = "ctrl+n"\n')
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = explorer(app).table
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert table.page == 2
        await pilot.press("n")  # remapped: n no longer flips pages
        await settle(pilot)
        assert table.page == 2


# ---------------------------------------------------------------------------- help


async def test_help_lists_bindings_from_the_bindings(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one("DataTable")
        described = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        screen_bindings = {b.description for b in ExplorerScreen.BINDINGS}
        assert screen_bindings <= described
        assert {"Quit", "Help", "Next page", "Select all matching"} <= described
        await pilot.press("escape")
        assert isinstance(app.screen, ExplorerScreen)


# ---------------------------------------------------------------------------- hostile API text

HOSTILE = ("[bold]vip[/]", "x[/]y", "[link=x]site[/link]", "csi\x1b[31mred\x1b[0m",
           "osc\x1b]52;c;aGk=\x07bel", "ost\x1b]52;c;aGk=\x1b\\st")
HOSTILE_SHOWN = ("[bold]vip[/]", "x[/]y", "[link=x]site[/link]", "csired", "oscbel", "ostst")
NAME_KEYS = ("name", "title", "tag", "playbook_name", "inbox_name", "file_name", "content",
             "user_intent")


def poison(data, counter=None):
    """`data` with every name/title/tag/content string prefixed by a hostile string."""
    counter = counter if counter is not None else [0]

    def bad(value: str) -> str:
        counter[0] += 1
        return HOSTILE[counter[0] % len(HOSTILE)] + value

    if isinstance(data, list):
        return [poison(item, counter) for item in data]
    if not isinstance(data, dict):
        return data
    out = {}
    for key, value in data.items():
        if key in NAME_KEYS and isinstance(value, str):
            out[key] = bad(value)
        elif key == "tags" and isinstance(value, list):
            out[key] = [bad(str(v)) for v in value]
        else:
            out[key] = poison(value, counter)
    return out


class PoisonTransport(httpx.AsyncBaseTransport):
    """Every JSON answer poisoned; skill names (keys of the sparklines map) too."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def handle_async_request(self, request):
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        try:
            data = json.loads(body)
        except ValueError:
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        if request.url.path.endswith("/skills/sparklines") and isinstance(data, dict):
            data = {HOSTILE[i % len(HOSTILE)] + k: v for i, (k, v) in enumerate(data.items())}
        data = poison(data)
        headers = {k: v for k, v in response.headers.items()
                   if k.lower() not in ("content-length", "content-encoding")}
        return httpx.Response(response.status_code, headers=headers, json=data)

    async def aclose(self) -> None:
        await self.inner.aclose()


def poisoned_app(studio_app):
    app = studio_app()
    app.test_transport.inner = PoisonTransport(app.test_transport.inner)
    return app


def screen_text(app) -> str:
    """What is on screen, asserting no escape character reaches a rendered segment."""
    for piece in screen_segments(app):
        assert "\x1b" not in piece[2] and "\x07" not in piece[2], piece
    return "\n".join(screen_lines(app))


async def test_hostile_names_render_literally_at_80x24(studio_app):
    app = poisoned_app(studio_app)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert app.lookups.loaded and app.is_running
        await pilot.press("f")  # the sidebar is mounted now, with the poisoned lookups
        await settle(pilot)
        assert app.is_running
        tags = sidebar(app).query_one("#tags", SelectionList)
        prompts = {str(tags.get_option_at_index(i).prompt) for i in range(tags.option_count)}
        for shown in HOSTILE_SHOWN:  # kept literally: not styled, not a crash
            assert any(shown in p for p in prompts), shown
        assert all("\x1b" not in p for p in prompts)
        skills = sidebar(app).query_one("#skill_name", Choice)
        skills.focus()
        await pilot.press("enter")  # its list, open
        choices = skills.query_one(OptionList)
        labels = [str(choices.get_option_at_index(i).prompt) for i in range(choices.option_count)]
        assert any("x[/]y" in label for label in labels)
        await pilot.press("escape")
        tags.focus()
        await pilot.press("down", "space")  # tick a hostile tag: it becomes a filter
        await settle(pilot)
        assert app.is_running and explorer(app).query_obj.tags
        screen_text(app)


async def test_hostile_text_in_table_detail_and_conversation(studio_app):
    app = poisoned_app(studio_app)
    async with app.run_test(size=NO_SIDEBAR, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        await wait_until(lambda: detail_fetched(app), pilot=pilot)  # after its debounce
        await settle(pilot)
        shown = screen_text(app)
        assert any(s in shown for s in HOSTILE_SHOWN[:3])  # markup shown as typed
        assert "aGk=" not in shown  # the OSC 52 payload is dropped with its sequence
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("a")  # tool calls unfolded: their (poisoned) names in titles
        await settle(pilot)
        shown = screen_text(app)
        assert any(s in shown for s in HOSTILE_SHOWN)
        assert app.is_running


async def test_markup_typed_into_a_filter_is_reported_literally(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE, notifications=True) as pilot:
        await settle(pilot)
        await type_into(pilot, "start_date", "[/]")
        await pilot.pause()
        assert app.is_running
        error = sidebar(app).query_one("#err-start_date", Static)
        assert "[/]" in str(error.render())
        assert any("[/]" in n.message for n in app.test_notifications)
        screen_text(app)


# ---------------------------------------------------------------------------- stable presets


async def test_two_starts_seconds_apart_ask_for_the_same_first_page(studio_app):
    params = []
    for second in (5, 9):  # the real clock (not the demo's pinned one), 4 s apart
        app = studio_app(now=datetime(2026, 6, 15, 10, 0, second, tzinfo=UTC))
        async with app.run_test(size=NO_SIDEBAR) as pilot:
            await settle(pilot)
            params.append(current_params(app))  # (the 2nd start may be served by the cache)
    assert params[0] == params[1]
    assert params[0]["end_date"] == "2026-06-16T00:00:00Z"  # the end of the UTC day
    assert params[0]["start_date"] == "2026-05-17T00:00:00Z"


def test_preset_bounds_are_whole_hours_or_days():
    from api.dates import preset_range

    now = datetime(2026, 6, 15, 10, 17, 3, tzinfo=UTC)
    assert preset_range("24h", now) == ("2026-06-14T11:00:00Z", "2026-06-15T11:00:00Z")
    assert preset_range("7d", now) == ("2026-06-09T00:00:00Z", "2026-06-16T00:00:00Z")
    assert preset_range("30d", NOW) == (iso(NOW - timedelta(days=30)), iso(NOW))
    assert preset_range("all", now) == (None, None)


# ---------------------------------------------------------------------------- quoted ids


def conversation_paths(app) -> list[str]:
    return [r.url.raw_path.decode() for r in app.test_transport.requests
            if "/conversations/" in r.url.path and not r.url.path.endswith("/analytics")]


@pytest.mark.parametrize("cid", ["a/b?c#d", "../analytics"])
async def test_conversation_ids_are_quoted_path_segments(studio_app, cid):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR, notifications=True) as pilot:
        await settle(pilot)
        before = len(app.test_transport.requests)
        app.push_screen(ConversationScreen(cid))
        await settle(pilot)
        paths = [r.url.raw_path.decode() for r in app.test_transport.requests[before:]]
        quoted = cid.replace("/", "%2F").replace("?", "%3F").replace("#", "%23")
        assert any(p.endswith("/conversations/" + quoted) for p in paths), paths
        assert not any(p.endswith("/conversations/analytics") for p in paths)
        assert app.is_running


@pytest.mark.parametrize("cid", [None, "", ".."])
async def test_a_missing_conversation_id_asks_nothing(studio_app, cid):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR, notifications=True) as pilot:
        await settle(pilot)
        before = len(app.test_transport.requests)
        app.push_screen(ConversationScreen(cid))
        await settle(pilot)
        pane = str(explorer(app).table.current().conversation_id)  # the detail pane's
        # (the list's next page may be prefetched meanwhile: a page, not a conversation)
        paths = [r.url.path for r in app.test_transport.requests[before:]
                 if not r.url.path.endswith("/conversations")]
        assert all(p.endswith(f"/conversations/{pane}") for p in paths), paths
        title = str(app.screen.query_one("#conv-title", Static).render())
        assert "Cannot open this conversation" in title


async def test_detail_pane_quotes_the_id(studio_app):
    from api.endpoints.conversations import ConversationRow
    from widgets.conversation_table import ConversationTable

    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        table = explorer(app).table
        before = len(app.test_transport.requests)
        row = ConversationRow({"conversation_id": "x/../../projects?y#z"})
        table.post_message(ConversationTable.Highlighted(row))  # its detail is loaded
        await settle(pilot)
        paths = [r.url.raw_path.decode() for r in app.test_transport.requests[before:]]
        assert any(p.endswith("/conversations/x%2F..%2F..%2Fprojects%3Fy%23z") for p in paths)
        assert not any(p.endswith("/projects") for p in paths), paths  # no other endpoint


# ---------------------------------------------------------------------------- export cancel


async def test_cancel_during_the_publish_reports_the_written_file(studio_app, tmp_path,
                                                                  monkeypatch):
    import threading

    from api import export

    entered, release = threading.Event(), threading.Event()
    original = export._Export.finish

    def slow_finish(self):
        entered.set()
        release.wait(10)
        return original(self)

    monkeypatch.setattr(export._Export, "finish", slow_finish)
    app = studio_app()
    out = tmp_path / "late.csv"
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        await pilot.click("#fmt-csv")
        dialog.query_one("#path", Input).value = str(out)
        await pilot.click("#start")
        await wait_until(entered.is_set, pilot=pilot)  # the export is publishing its file
        await pilot.press("escape")
        await pilot.pause()
        assert dialog.running  # not reported before the worker has stopped
        release.set()
        await settle(pilot)
        status = str(dialog.query_one("#export-status", Static).render())
        assert out.exists()
        # the complete file was published: the export succeeded, and says so
        assert "✓ exported" in status and str(out) in status
        assert "no file written" not in status and "cancelled" not in status


# ---------------------------------------------------------------------------- footer


def footer_keys(app) -> list[str]:
    from widgets.footer import KeyBar

    return [key.key for key in app.screen.query_one(KeyBar).keys]


async def test_footer_follows_the_focus_and_repaints_only_on_change(studio_app):
    from widgets.footer import KeyBar

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        footer = app.screen.query_one(KeyBar)
        table_keys = footer_keys(app)
        assert "n" in table_keys and "f" in table_keys  # the table's and the screen's keys
        assert footer.palette is not None and footer.palette.key == "ctrl+p"
        line = footer_line(app)
        assert "Next page" in line and line.rstrip().endswith("palette")
        refreshes = []
        original = footer.refresh

        def counting(*args, **kwargs):
            refreshes.append(1)
            return original(*args, **kwargs)

        footer.refresh = counting
        app.screen.refresh_bindings()  # same bindings: nothing repainted
        await settle(pilot)
        assert refreshes == []
        sidebar(app).query_one("#search", Input).focus()  # the table's keys are gone
        await settle(pilot)
        assert refreshes and "n" not in footer_keys(app) and "f1" in footer_keys(app)
        assert "Next page" not in footer_line(app)


def footer_line(app) -> str:
    return screen_text(app).rstrip("\n").splitlines()[-1]


async def test_footer_keeps_help_and_palette_at_80_columns(studio_app):
    app = studio_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        line = footer_line(app)
        assert len(line) <= 80
        assert "? Help" in line and line.rstrip().endswith("^p palette")
        assert "n Next page" in line  # the first keys, then what fits
        footer = app.screen.query_one("KeyBar")
        drawn = [key.key for _, _, key in footer.spans]
        assert drawn[-1] == "ctrl+p" and drawn[:-1] == [k for k in footer_keys(app) if k in drawn]
        # fewer keys, each with its label (issue 11): never a bare `x  q`
        assert all(key.description for _, _, key in footer.spans)


async def test_footer_click_presses_the_key(studio_app):
    from widgets.footer import KeyBar

    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        table = explorer(app).table
        footer = app.screen.query_one(KeyBar)
        start, _end, key = next(s for s in footer.spans if s[2].key.startswith("n"))
        await pilot.click(KeyBar, offset=(start + 1, 0))
        await settle(pilot)
        assert table.page == 2
        await pilot.hover(KeyBar, offset=(start + 1, 0))
        assert footer.hover is not None and footer.spans[footer.hover][2] == key


async def test_palette_shows_titles_and_help_as_plain_text(studio_app, monkeypatch):
    from tui.commands import PaletteCommand

    app = studio_app()
    chosen = []
    commands = [PaletteCommand("Screen: x[/]y [bold]vip[/]", "help [link=x]h[/link] [/]",
                               lambda: chosen.append(1))]
    monkeypatch.setattr(app, "palette_commands", lambda: commands)
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)  # the discovery list (no query yet)
        assert "x[/]y [bold]vip[/]" in screen_text(app)
        await pilot.press(*"vip")
        await settle(pilot)
        shown = screen_text(app)
        assert "x[/]y [bold]vip[/]" in shown and "help [link=x]h[/link] [/]" in shown
        await pilot.press("enter")
        await settle(pilot)
        assert chosen == [1] and app.is_running
