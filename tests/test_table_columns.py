"""The explorer table's columns (issue 13): choice and order, the new columns (tags, handoff
reason, CSAT, review, new since last look) and the dialog that picks them.

A small app around the widget serves made-up pages (hostile text, odd timestamps); the real
app on the pinned demo backend checks the default set at 80 and 160 columns.
"""
from __future__ import annotations

from dataclasses import dataclass

from app_support import explorer, screen_lines, settle
from textual.app import App, ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import Static

from api.columns import DEFAULT_COLUMNS, TABLE_COLUMNS
from api.endpoints.conversations import ConversationRow, RowPage
from api.query import ConversationQuery
from screens.columns_dialog import ColumnsDialog
from widgets.conversation_table import COLUMN_BY_KEY, ConversationTable

NARROW, WIDE = (80, 24), (160, 48)
HOSTILE_TAG = "[bold red]boom[/] \x1b]0;title\x07\x1b[31mred\u202e"


@dataclass(frozen=True)
class FakeReview:
    conversation_id: str
    status: str


def item(n: int, **fields) -> dict:
    return {"conversation_id": f"c{n:03d}", "last_message_at": "2026-06-01T12:00:00Z",
            "message_count": n, "user_intent": f"intent {n}", **fields}


class TableApp(App):
    """One ConversationTable, its pages cut from `items` (every request counted)."""

    def __init__(self, items: list[dict]) -> None:
        super().__init__()
        self.items, self.requests = items, 0

    def compose(self) -> ComposeResult:
        yield ConversationTable()

    def on_mount(self) -> None:
        self.query_one(ConversationTable).load(ConversationQuery())

    def on_conversation_table_page_wanted(self, event: ConversationTable.PageWanted) -> None:
        self.requests += 1
        request, table = event.request, self.query_one(ConversationTable)
        rows = tuple(ConversationRow(i)
                     for i in self.items[request.offset:request.offset + request.limit])
        table.show_page(request, RowPage(rows, len(self.items)), from_cache=False)
        table.page_settled(request)


def grid_keys(table: ConversationTable) -> list[str]:
    return [c.key for c in table.table.columns]


def cells(table: ConversationTable, key: str) -> list[str]:
    """The plain text of column `key`'s cells, page order (a mark of a shared grid column
    cut out of it)."""
    for index, column in enumerate(table.table.columns):
        keys = column.key.split("+")
        if key in keys:
            at = keys.index(key)
            grid = table.table
            texts = [grid.get_cell_at(Coordinate(y, index)).plain for y in range(grid.row_count)]
            return [t[at] for t in texts] if len(keys) > 1 else texts
    raise AssertionError(f"{key} not shown: {grid_keys(table)}")


def line_width(table: ConversationTable) -> int:
    return sum(c.width + 2 for c in table.table.columns)


# ---------------------------------------------------------------------------- the default set


async def test_default_columns_at_80_and_160_columns(studio_app):
    for size, wide_only in ((NARROW, False), (WIDE, True)):
        app = studio_app()
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            table = explorer(app).table
            assert table.columns == DEFAULT_COLUMNS
            expected = ["sel+new+review", "last", "id", "msgs", "sentiment", "outcome", "risk",
                        "intent"]
            if wide_only:
                expected[3:3] = ["assistant", "inbox"]
            assert grid_keys(table) == expected, size
            # the intent takes the rest of the line: nothing cut, no gap at the end
            assert table.size.width - 1 <= line_width(table) <= table.size.width, size
            header = screen_lines(app)[2]
            assert "last msg ▼" in header and "intent" in header
            assert ("assistant" in header) is wide_only and ("inbox" in header) is wide_only
            assert cells(table, "sel") == cells(table, "new") == [" "] * len(table.rows)


# ---------------------------------------------------------------------------- choice and order


async def test_chosen_columns_keep_their_order_cursor_and_page():
    app = TableApp([item(n, tags=[f"t{n}"]) for n in range(120)])
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        table = app.query_one(ConversationTable)
        await pilot.press("n", "j", "j", "j")
        await pilot.pause()
        page, cursor, asked = table.page, table.table.cursor_row, app.requests
        assert page == 2 and cursor == 3

        table.set_columns(("intent", "csat", "id", "tags", "last"))
        await pilot.pause()
        assert table.columns == ("sel", "intent", "csat", "id", "tags", "last")
        assert grid_keys(table) == ["sel", "intent", "csat", "id", "tags", "last"]
        assert "risk" not in grid_keys(table) and "msgs" not in grid_keys(table)
        assert (table.page, table.table.cursor_row, app.requests) == (page, cursor, asked)
        row = table.current()
        assert cells(table, "id")[cursor] == row.conversation_id
        assert cells(table, "tags")[cursor] == f"t{table.shown_offset + cursor}"

        table.set_columns(DEFAULT_COLUMNS)  # back to today's table
        await pilot.pause()
        assert grid_keys(table)[:3] == ["sel+new+review", "last", "id"]
        assert table.table.cursor_row == cursor and app.requests == asked


async def test_without_intent_the_tags_take_the_rest_of_the_line():
    app = TableApp([item(n, tags=["a"]) for n in range(5)])
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        table = app.query_one(ConversationTable)
        table.set_columns(("sel", "id", "tags", "reason"))
        await pilot.pause()
        widths = {c.key: c.width for c in app.query_one(ConversationTable).table.columns}
        assert widths["tags"] > COLUMN_BY_KEY["tags"].width
        assert table.size.width - 1 <= line_width(table) <= table.size.width
        table.set_columns(("sel", "id", "reason"))  # nothing to stretch: no overflow either
        await pilot.pause()
        assert line_width(table) < table.size.width


async def test_wide_only_columns_wait_for_a_wide_table_and_bad_keys_are_refused():
    app = TableApp([item(n) for n in range(5)])
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        table = app.query_one(ConversationTable)
        table.set_columns(("assistant", "id", "inbox"))
        await pilot.pause()
        assert grid_keys(table) == ["sel", "id"]
        try:
            table.set_columns(("id", "colour"))
        except ValueError as error:
            assert "colour" in str(error)
        else:
            raise AssertionError("an unknown column was accepted")
        assert table.columns == ("sel", "assistant", "id", "inbox")
        table.set_columns(("sel",))  # no data column: the default set
        assert table.columns == DEFAULT_COLUMNS


def test_every_column_a_view_may_list_is_drawn():
    assert sorted(COLUMN_BY_KEY) == sorted(TABLE_COLUMNS)


# ---------------------------------------------------------------------------- new columns


async def test_hostile_tags_and_reasons_are_shown_literally():
    app = TableApp([
        item(0, tags=[HOSTILE_TAG, "vip"], has_handoff=True, handoff_reason="frustration"),
        item(1, tags=[], has_handoff=True, handoff_reason="[i]x[/i]"),
    ])
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        table = app.query_one(ConversationTable)
        table.set_columns(("sel", "id", "reason", "tags"))
        await pilot.pause()
        assert cells(table, "tags") == ["[bold red]boom[/] red, vip", "–"]
        assert cells(table, "reason") == ["‼ frustr", "? [i]x[/i]"]
        shown = "\n".join(screen_lines(app))
        assert "[bold red]boom[/] red, vip" in shown and "? [i]x[/i]" in shown
        assert "\x1b" not in app.export_screenshot() and "\u202e" not in shown


async def test_review_csat_and_new_marks_repaint_without_a_request():
    app = TableApp([
        item(0, last_message_at="2026-06-12T10:00:00Z"),  # after the last look: new
        item(1, last_message_at="2026-06-09T23:00:00Z"),
        item(2, last_message_at="2026-06-10T01:00:00+02:00"),  # 23:00 UTC the day before
        item(3, last_message_at="yesterday"),
        item(4, last_message_at=None),
    ])
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        table = app.query_one(ConversationTable)
        table.set_columns(("sel", "new", "review", "id", "csat"))
        await pilot.pause()
        asked, cursor = app.requests, 2
        table.table.move_cursor(row=cursor)
        assert cells(table, "review") == cells(table, "new") == [" "] * 5
        assert cells(table, "csat") == ["–"] * 5

        table.reviews = {"c000": FakeReview("c000", "reviewed"),
                         "c001": FakeReview("c001", "flagged"),
                         "c002": FakeReview("c002", "todo")}
        table.csat = {"c000": 5, "c001": 1, "c003": 3, "c004": 9}
        table.new_since = "2026-06-10T00:00:00Z"
        assert cells(table, "review") == [" "] * 5  # not before the screen asks
        table.refresh_marks()
        await pilot.pause()
        # each state its own shape (NO_COLOR), not only its own colour
        assert cells(table, "review") == ["✓", "!", " ", " ", " "]
        assert cells(table, "new") == ["●", " ", " ", " ", " "]
        assert cells(table, "csat") == ["5★", "1★", "–", "3★", "? 9"]
        assert app.requests == asked and table.table.cursor_row == cursor

        table.new_since = "not a date"  # no marker rather than a guess
        table.refresh_marks()
        assert cells(table, "new") == [" "] * 5


async def test_selecting_a_row_updates_the_shared_mark_cell():
    app = TableApp([item(n) for n in range(5)])
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        table = app.query_one(ConversationTable)
        table.table.focus()
        table.reviews = {"c000": FakeReview("c000", "flagged")}
        table.new_since = "2026-05-01T00:00:00Z"
        table.refresh_marks()
        await pilot.press("space")
        await pilot.pause()
        assert table.table.get_cell_at(Coordinate(0, 0)).plain == "✓●!"
        assert table.table.get_cell_at(Coordinate(1, 0)).plain == " ● "


async def test_a_review_shows_in_the_real_explorer(studio_app):
    app = studio_app()
    async with app.run_test(size=NARROW) as pilot:
        await settle(pilot)
        table = explorer(app).table
        first = table.rows[0].conversation_id
        table.reviews = {first: FakeReview(first, "reviewed")}
        table.refresh_marks()
        await pilot.pause()
        row = screen_lines(app)[3]
        assert row.startswith("   ✓  ") and first in row, row


# ---------------------------------------------------------------------------- the dialog


class DialogApp(App):
    def __init__(self, shown: tuple[str, ...]) -> None:
        super().__init__()
        self.shown, self.results = shown, []

    def on_mount(self) -> None:
        self.push_screen(ColumnsDialog(self.shown), self.results.append)


def listed(dialog: ColumnsDialog) -> list[str]:
    return list(dialog._order)


def error_line(dialog: ColumnsDialog) -> str:
    return str(dialog.query_one("#columns-error", Static).render())


async def test_dialog_toggles_reorders_and_applies():
    app = DialogApp(DEFAULT_COLUMNS)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ColumnsDialog)
        shown = "\n".join(screen_lines(app))
        for key in TABLE_COLUMNS:  # every column, with what it shows, fits at 80x24
            assert key in shown, key
        assert "Apply" in shown and TABLE_COLUMNS["csat"] in shown
        assert listed(dialog)[: len(DEFAULT_COLUMNS)] == list(DEFAULT_COLUMNS)

        tags = listed(dialog).index("tags")
        await pilot.press(*["down"] * tags, "space")  # show the tags
        await pilot.press("K", "shift+up")  # two places up: before risk
        await pilot.press("up", "up", "up", "space")  # hide msgs
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [("sel", "new", "review", "last", "id", "assistant", "inbox",
                                "sentiment", "outcome", "tags", "risk", "intent")]


async def test_dialog_moves_down_and_cancels():
    app = DialogApp(("sel", "id", "last"))
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert listed(dialog)[:3] == ["sel", "id", "last"]
        await pilot.press("down", "J")
        assert listed(dialog)[:3] == ["sel", "last", "id"]
        await pilot.press("shift+down")  # below the first hidden one
        assert listed(dialog)[:4] == ["sel", "last", "assistant", "id"]
        assert dialog.chosen == ("sel", "last", "id")
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]


async def test_dialog_keeps_the_selection_mark_and_one_data_column():
    app = DialogApp(("id",))
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        dialog = app.screen
        assert listed(dialog)[:2] == ["sel", "id"] and dialog.chosen == ("sel", "id")
        await pilot.press("space")  # on the selection mark
        await pilot.pause()
        assert "always shown" in error_line(dialog)
        await pilot.press("down", "space")  # the last data column
        await pilot.pause()
        assert "At least one data column" in error_line(dialog)
        assert set(dialog.column_list.selected) == {"sel", "id"}
        await pilot.press("down", "space", "up", "space")  # another one first: then it may go
        await pilot.pause()
        assert error_line(dialog) == ""
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [("sel", "last")]


async def test_enter_on_the_cancel_button_cancels():
    app = DialogApp(DEFAULT_COLUMNS)
    async with app.run_test(size=NARROW) as pilot:
        await pilot.pause()
        app.screen.query_one("#cancel").focus()
        await pilot.press("enter")
        await pilot.pause()
        assert app.results == [None]
