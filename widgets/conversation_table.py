"""Server-side paged conversation table.

The grid (widgets.page_grid: faster to repaint than DataTable) only ever holds ONE page. The
table works out which page it needs (its size follows the layout) and asks for it with
`PageWanted`; the screen loads it and hands it over with `show_page` (a cached page at once, the
fresh one after), then `page_settled`. Names for ids (`lookups`) and the time zone (`tz`) are
set by the screen too.

The columns shown and their order (`columns`, keys of api.columns.TABLE_COLUMNS) are set with
`set_columns`. The local marks (`reviews`, `csat`, `new_since`) are attributes the screen sets,
then calls `refresh_marks`: they need no request. Adjacent one-cell mark columns (selection,
new, review) share one grid column: the gaps between columns would cost more than the marks.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.coordinate import Coordinate
from textual.message import Message
from textual.widgets import Static

from api.columns import DEFAULT_COLUMNS, check_columns
from api.dates import parse_ts, short_time
from api.endpoints.conversations import ConversationRow, RowPage
from api.labels import SORT_BY
from api.lookups import Lookups
from api.query import ConversationQuery
from api.text import one_line, sanitize
from widgets.labels import MISSING, badge, outcome
from widgets.page_grid import PageGrid

SORT_COLUMNS = {"last": "last_message_at", "msgs": "message_count"}
WIDE_WIDTH = 118


class Column(NamedTuple):
    key: str
    label: str
    width: int  # in cells; the least it gets when it takes the width left (FLEX)
    wide_only: bool = False


COLUMNS = (
    Column("sel", "", 1),
    Column("new", "N", 1),
    Column("review", "R", 1),
    Column("last", "last msg", 11),
    Column("id", "id", 12),
    Column("assistant", "assistant", 14, wide_only=True),
    Column("inbox", "inbox", 11, wide_only=True),
    Column("msgs", "msgs", 5),  # room for the sort arrow
    Column("sentiment", "sent.", 7),
    Column("outcome", "outcome", 11),
    Column("risk", "risk", 7),
    Column("intent", "intent", 8),
    Column("tags", "tags", 16),
    Column("reason", "reason", 11),
    Column("csat", "csat", 4),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# the first of these shown takes the width left (none shown: the rest of the line stays blank)
FLEX = ("intent", "tags")
MARKS = frozenset({"sel", "new", "review"})  # one-cell columns drawn side by side
LOCAL = frozenset({"new", "review", "csat"})  # painted from the screen's data, no request


class HasStatus(Protocol):
    """What the table reads of a review (api.reviews.Review): its status."""

    @property
    def status(self) -> str: ...


_NOTHING: Mapping[str, Any] = MappingProxyType({})


class Marks(NamedTuple):
    """The screen's local data the cells of `LOCAL` columns are drawn from."""

    reviews: Mapping[str, HasStatus] = _NOTHING
    csat: Mapping[str, int] = _NOTHING
    new_since: datetime | None = None


NO_MARKS = Marks()


class GridPart(NamedTuple):
    """One column of the grid: one table column, or adjacent mark columns side by side."""

    keys: tuple[str, ...]
    width: int

    @property
    def key(self) -> str:
        return "+".join(self.keys)


class PageRequest(NamedTuple):
    """The rows the table needs: `limit` conversations of `query` from `offset`."""

    query: ConversationQuery
    offset: int
    limit: int

    def following(self) -> PageRequest:
        return PageRequest(self.query, self.offset + self.limit, self.limit)


def _clip(value: str | None, width: int) -> Text:
    text = sanitize(value) if value else "–"
    text = text.replace("\n", " ")
    return Text(text if len(text) <= width else text[: width - 1] + "…")


_REVIEW_MARKS = {"reviewed": ("✓", "bold green"), "flagged": ("!", "bold yellow"),
                 "todo": (" ", "")}


def _csat(rating: int | None) -> Text:
    if rating is None:
        return Text(MISSING, style="dim")
    if isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5:
        style = "bold red" if rating <= 2 else "yellow" if rating == 3 else "green"
        return Text(f"{rating}★", style=style)
    return Text(f"? {sanitize(str(rating))}")


def _tags(row: ConversationRow) -> Text:
    tags = [one_line(t) for t in row.tags if t]
    return _clip(", ".join(tags), 120) if tags else Text(MISSING, style="dim")


def cell(column: str, row: ConversationRow, selected: bool, lookups: Lookups,
         tz: tzinfo, marks: Marks = NO_MARKS) -> Text:
    """One grid cell for `row` (always a Text: never parsed as markup)."""
    if column == "sel":
        return Text("✓" if selected else " ", style="bold")
    cid = row.conversation_id or ""
    if column == "new":
        moment, since = parse_ts(row.last_message_at), marks.new_since
        is_new = moment is not None and since is not None and moment > since
        return Text("●" if is_new else " ", style="bold cyan")
    if column == "review":
        review = marks.reviews.get(cid)
        status = "todo" if review is None else str(review.status)
        mark, style = _REVIEW_MARKS.get(status, ("?", "bold"))
        return Text(mark, style=style)
    if column == "csat":
        return _csat(marks.csat.get(cid))
    if column == "tags":
        return _tags(row)
    if column == "reason":
        return badge("handoff_reason", row.handoff_reason)
    if column == "last":
        return Text(short_time(row.last_message_at, tz))
    if column == "id":
        return _clip(row.conversation_id, 12)
    if column == "assistant":
        name, version = row.playbook_name, row.playbook_version
        return _clip(f"{name} v{version}" if name and version is not None else name, 14)
    if column == "inbox":
        return _clip(row.inbox_name or lookups.inbox_name(row.inbox_id), 11)
    if column == "msgs":
        count = row.message_count
        return Text(str(count) if count is not None else "–", justify="right")
    if column == "sentiment":
        return badge("sentiment", row.sentiment_label)
    if column == "outcome":
        return outcome(row.has_handoff, row.handoff_reason, row.deflection_quality)
    if column == "risk":
        return badge("recontact_risk", row.recontact_risk)
    return _clip(row.user_intent or row.summary, 120)


class ConversationTable(Vertical, can_focus=False):
    """A page of conversations plus its paging status line."""

    DEFAULT_CSS = """
    ConversationTable { height: 1fr; }
    ConversationTable > PageGrid { height: 1fr; }
    ConversationTable > #page-status { height: 1; padding: 0 1; background: $boost; }
    """

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table.down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up"),
        Binding("g", "first_row", "First row", show=False, id="table.first_row"),
        Binding("G", "last_row", "Last row", show=False, id="table.last_row"),
        Binding("n,right_square_bracket", "next_page", "Next page", id="table.next_page"),
        Binding("p,left_square_bracket", "prev_page", "Prev page", id="table.prev_page"),
        # priority: bindings of the focused grid would otherwise come first
        Binding("pagedown", "next_page", "Next page", show=False, priority=True,
                id="table.next_page_key"),
        Binding("pageup", "prev_page", "Prev page", show=False, priority=True,
                id="table.prev_page_key"),
        Binding("left_curly_bracket,ctrl+home", "first_page", "First page", show=False,
                id="table.first_page"),
        Binding("right_curly_bracket,ctrl+end", "last_page", "Last page", show=False,
                id="table.last_page"),
        Binding("space", "toggle_select", "Select", id="table.select"),
        Binding("asterisk", "select_all", "Select all matching", show=False,
                id="table.select_all"),
        Binding("comma", "cycle_sort", "Sort field", show=False, id="table.sort_field"),
        Binding("full_stop", "toggle_order", "Sort order", show=False, id="table.sort_order"),
    ]

    class Highlighted(Message):
        """The cursor moved to `conversation` (None when the page is empty)."""

        def __init__(self, conversation: ConversationRow | None) -> None:
            super().__init__()
            self.conversation = conversation

    class Selected(Message):
        """Enter was pressed on `conversation`."""

        def __init__(self, conversation: ConversationRow) -> None:
            super().__init__()
            self.conversation = conversation

    class PageWanted(Message):
        """The table needs the rows of `request` (`force`: not from a cache)."""

        def __init__(self, request: PageRequest, force: bool) -> None:
            super().__init__()
            self.request, self.force = request, force

    class PageChanged(Message):
        def __init__(self, page: int, pages: int, total: int | None, from_cache: bool) -> None:
            super().__init__()
            self.page, self.pages, self.total, self.from_cache = page, pages, total, from_cache

    class SortRequested(Message):
        def __init__(self, sort_by: str, sort_order: str) -> None:
            super().__init__()
            self.sort_by, self.sort_order = sort_by, sort_order

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.query_obj: ConversationQuery | None = None
        self.lookups = Lookups()  # names for ids (inboxes)
        self.tz: tzinfo = UTC  # the time zone dates are shown in
        self.columns: tuple[str, ...] = DEFAULT_COLUMNS  # set with `set_columns`
        # local marks, set by the screen (then `refresh_marks`), keyed by conversation id
        self.reviews: Mapping[str, HasStatus] = {}
        self.csat: Mapping[str, int] = {}
        self.new_since: str | None = None  # ISO 8601; later last messages are marked new
        self.page_size = 0
        self.start = 0
        self.total: int | None = None
        self.rows: list[ConversationRow] = []
        self.selected: set[str] = set()
        self.select_all_matching = False
        self.excluded: set[str] = set()  # unpicked while all matching are selected
        self._shown_request: PageRequest | None = None
        self._shown_start = 0  # offset of the rows on screen (`start` is the page asked for)
        self._shown_page: RowPage | None = None
        self._wide: bool | None = None
        self._parts: list[GridPart] = []  # the grid's columns as built
        self._built_sort: tuple[str, str] | None = None  # the sort the header's arrow shows
        self._pending_cursor = 0
        self._keep_id: str | None = None  # kept highlighted across a change of the page size
        self.loading_page = False
        self._waiting: list[asyncio.Future[bool]] = []  # `page_ready` callers

    # ----------------------------------------------------------------- composition
    def compose(self) -> ComposeResult:
        yield PageGrid(id="conversations")
        yield Static("", id="page-status", markup=False)

    @property
    def table(self) -> PageGrid:
        return self.query_one("#conversations", PageGrid)

    def on_mount(self) -> None:
        # after every layout, not only on Resize: a resize can reach the widget without a
        # Resize event (the detail pane shown while the compositor map was rebuilt lazily)
        self.screen.screen_layout_refresh_signal.subscribe(self, self._screen_laid_out)

    def on_unmount(self) -> None:
        self.screen.screen_layout_refresh_signal.unsubscribe(self)

    def _screen_laid_out(self, screen: Any) -> None:
        if self.is_attached and screen is self.screen:
            self._layout_changed()

    def on_resize(self) -> None:
        self._layout_changed()

    def _layout_changed(self) -> None:
        if not self.size.height:
            return  # hidden (another screen): keep the page as it is
        wide = self.size.width >= WIDE_WIDTH
        rows = max(3, self.size.height - 2)  # header row + status line
        if wide != self._wide or self._plan(wide) != self._parts:
            self._wide = wide
            self._build_columns()
        if rows != self.page_size:
            # the page that holds the highlighted conversation, cursor on it
            first = self._cursor_offset()
            if self._shown_request == self.current_request():  # else: the one kept before
                row = self.current()
                self._keep_id = row.conversation_id if row else None
            self.page_size = min(rows, 100)
            self.start = (first // self.page_size) * self.page_size
            self._pending_cursor = first - self.start
            self._request()

    def _cursor_offset(self) -> int:
        """Offset in the whole result of the highlighted (or about to be) conversation."""
        if not self.page_size:
            return self.start
        if self._shown_request == self.current_request() and self.rows:
            return self._shown_start + max(0, self.table.cursor_row)
        # a page on its way: where its cursor will land (-1: its last row)
        pending = self._pending_cursor
        return self.start + (self.page_size - 1 if pending < 0 else pending)

    def _plan(self, wide: bool | None) -> list[GridPart]:
        """The grid's columns for the chosen keys at this width: the first FLEX column shown
        takes what is left (the grid crops, so no horizontal scrollbar eats a row)."""
        shown = [COLUMN_BY_KEY[k] for k in self.columns
                 if wide or not COLUMN_BY_KEY[k].wide_only]
        parts: list[list[Column]] = []
        for column in shown:
            if parts and column.key in MARKS and parts[-1][-1].key in MARKS:
                parts[-1].append(column)
            else:
                parts.append([column])
        flex = next((k for k in FLEX if any(c.key == k for c in shown)), None)
        fixed = sum(c.width for c in shown if c.key != flex) + 2 * len(parts)
        return [GridPart(tuple(c.key for c in part),
                         max(part[0].width, self.size.width - fixed - 1)
                         if part[0].key == flex else sum(c.width for c in part))
                for part in parts]

    def _build_columns(self) -> None:
        table = self.table
        table.clear(columns=True)
        self._parts = self._plan(self._wide)
        self._built_sort = self._sort()
        for part in self._parts:
            table.add_column(self._part_label(part), width=part.width, key=part.key)
        self._paint_rows(table.cursor_row)

    def _part_label(self, part: GridPart) -> str:
        if len(part.keys) == 1:
            return self._header_label(COLUMN_BY_KEY[part.keys[0]])
        return "".join(COLUMN_BY_KEY[k].label[:1] or " " for k in part.keys)

    def set_columns(self, keys: tuple[str, ...] | list[str]) -> None:
        """Show these columns in this order (keys of api.columns.TABLE_COLUMNS; ValueError
        naming an unknown one). The selection mark is always shown (first when left out);
        without any data column the default set is shown. Cursor and page are kept."""
        chosen = check_columns(keys)
        if "sel" not in chosen:
            chosen = ("sel", *chosen)
        if len(chosen) == 1:
            chosen = DEFAULT_COLUMNS
        self.columns = chosen
        if self._wide is not None:  # laid out: else the first layout builds them
            self._build_columns()

    def refresh_marks(self) -> None:
        """Repaint the local columns (reviews, CSAT, new) of the page, after the screen
        changed `reviews`, `csat` or `new_since`: no request, cursor left where it is."""
        table, marks = self.table, self._marks()
        for index, part in enumerate(self._parts):
            if LOCAL.isdisjoint(part.keys):
                continue
            for y, row in enumerate(self.rows[: table.row_count]):
                table.update_cell_at(Coordinate(y, index), self._part_cell(part, row, marks))

    def _marks(self) -> Marks:
        return Marks(self.reviews, self.csat, parse_ts(self.new_since))

    def _part_cell(self, part: GridPart, row: ConversationRow, marks: Marks) -> Text:
        selected, lookups, tz = self.is_selected(row), self.lookups, self.tz
        if len(part.keys) == 1:
            return cell(part.keys[0], row, selected, lookups, tz, marks)
        return Text.assemble(*(cell(k, row, selected, lookups, tz, marks) for k in part.keys))

    def _sort(self) -> tuple[str, str]:
        query = self.query_obj
        return ((query and query.sort_by) or "last_message_at",
                (query and query.sort_order) or "desc")

    def _header_label(self, column: Column) -> str:
        """The column's label, with ▲/▼ when the rows are sorted by it."""
        sort_by, order = self._sort()
        if SORT_COLUMNS.get(column.key) != sort_by:
            return column.label
        arrow = "▲" if order == "asc" else "▼"
        width = column.width or len(column.label) + 2
        for label in (f"{column.label} {arrow}", f"{column.label}{arrow}"):
            if len(label) <= width:
                return label
        return column.label[: width - 1] + arrow

    # ----------------------------------------------------------------- loading
    def load(self, query: ConversationQuery, *, offset: int = 0,
             highlight: str | None = None) -> str | None:
        """Show `query` on the page that holds `offset`, the cursor there, or on the
        conversation `highlight` when that page lists it (the screen calls this whenever
        filters change; with an offset and an id when it restores a session).

        The selection is kept when `query` lists the same conversations (only the sort
        differs), else cleared: returns what was dropped ("2 selected conversations"), for
        the screen to say so, or None."""
        dropped = None
        if self.query_obj is None or not _same_conversations(query, self.query_obj):
            dropped = self.describe_selection()
            self.clear_selection()
        self.query_obj = query
        if self._wide is not None and self._sort() != self._built_sort:
            self._build_columns()  # the arrow moves to the sorted column
        size = self.page_size
        self.start = (offset // size) * size if size else offset
        self._pending_cursor = offset - self.start
        self._keep_id = highlight
        self._request()
        return dropped

    def repaint(self) -> None:
        """Paint the current page again (e.g. the time zone or the names changed)."""
        self._paint_rows(self.table.cursor_row)

    def reload(self) -> None:
        """Ask for the current page again, past any cache."""
        self._request(force=True)

    def current_request(self) -> PageRequest | None:
        """The page the table shows or waits for."""
        if self.query_obj is None or not self.page_size:
            return None
        return PageRequest(self.query_obj, self.start, self.page_size)

    def _request(self, force: bool = False) -> None:
        request = self.current_request()
        if request is None or not self.is_mounted:
            return
        self.loading_page = True
        self.post_message(self.PageWanted(request, force))

    def show_page(self, request: PageRequest, page: RowPage, *, from_cache: bool) -> None:
        """The rows of `request` (ignored unless the table still wants them)."""
        if request != self.current_request():
            return
        self._wake_waiting(True)
        if request == self._shown_request and page == self._shown_page:
            return  # the refresh brought the same page: nothing to repaint
        self._shown_page = page
        self.rows = list(page.rows)
        self.total = page.total
        same_page = request == self._shown_request
        cursor = self.table.cursor_row if same_page else self._pending_cursor
        if not same_page and self._keep_id is not None:  # the page size changed, a restore
            cursor = next((i for i, r in enumerate(self.rows)
                           if r.conversation_id == self._keep_id), cursor)
        self._shown_request = request
        self._shown_start = request.offset
        self._paint_rows(cursor)
        self.post_message(self.PageChanged(self.page, self.pages, self.total, from_cache))

    def page_settled(self, request: PageRequest, *, failed: bool = False) -> None:
        """The load of `request` is over (`failed`: the rows shown, if any, are older)."""
        if request != self.current_request():
            return
        self.loading_page = False
        self._update_status()
        if failed:
            self._wake_waiting(False)

    def _wake_waiting(self, shown: bool) -> None:
        waiting, self._waiting = self._waiting, []
        for future in waiting:
            if not future.done():
                future.set_result(shown)

    async def page_ready(self) -> bool:
        """Wait until the page the table wants is on screen (False: its load failed)."""
        if self._shown_request == self.current_request():
            return True
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        return await future

    # ----------------------------------------------------------------- painting
    def _paint_rows(self, cursor: int = 0) -> None:
        table = self.table
        table.clear()
        parts, marks = self._parts, self._marks()
        table.add_rows([self._part_cell(p, row, marks) for p in parts] for row in self.rows)
        if self.rows:
            last = len(self.rows) - 1
            table.move_cursor(row=last if cursor < 0 else min(cursor, last))
        else:
            self.post_message(self.Highlighted(None))
        self._update_status()

    def _update_status(self) -> None:
        status = Text(no_wrap=True, overflow="ellipsis")
        if self.total is None:
            status.append("loading…" if self.loading_page else "no data")
        elif self.total == 0:
            status.append("no conversation matches these filters")
        else:  # the rows on screen: after a failed load, the last page shown
            shown = self._shown_start
            status.append(f"page {shown // self.page_size + 1} / {self.pages}", style="bold")
            status.append(f" · {shown + 1:,}–{shown + len(self.rows):,} of {self.total:,}")
            if not self.loading_page and self._shown_request != self.current_request():
                status.append(" · not updated: the last load failed", style="bold")
        if self.select_all_matching and self.excluded:
            n = len(self.excluded)
            count = "all matching" if self.total is None else f"{max(0, self.total - n):,}"
            status.append(f" · {count} selected (all but {n:,})", style="bold")
        elif self.select_all_matching:
            status.append(" · all matching selected", style="bold")
        elif self.selected:
            status.append(f" · {len(self.selected)} selected", style="bold")
        if self.loading_page and self.total is not None:
            status.append(" · refreshing…", style="dim")
        self.query_one("#page-status", Static).update(status)

    # ----------------------------------------------------------------- state
    @property
    def page(self) -> int:
        return self.start // self.page_size + 1 if self.page_size else 1

    @property
    def shown_offset(self) -> int:
        """Where the rows on screen start in the whole result (the page asked for may be
        another one, still loading)."""
        return self._shown_start

    @property
    def pages(self) -> int:
        if not self.total or not self.page_size:
            return 1
        return (self.total + self.page_size - 1) // self.page_size

    def current(self) -> ConversationRow | None:
        row = self.table.cursor_row
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def is_selected(self, row: ConversationRow) -> bool:
        cid = row.conversation_id
        if self.select_all_matching:
            return cid not in self.excluded
        return cid in self.selected

    def selection(self) -> tuple[str, Any] | None:
        """("query", query) for all matching, ("except", (query, [ids])) for all matching
        but the rows unpicked since, ("ids", [...]) for picked rows, else None."""
        if self.select_all_matching and self.excluded:
            return ("except", (self.query_obj, sorted(self.excluded)))
        if self.select_all_matching:
            return ("query", self.query_obj)
        if self.selected:
            return ("ids", sorted(self.selected))
        return None

    def describe_selection(self) -> str | None:
        """The selection in words ("all 91 matching conversations"), or None."""
        total = self.total
        if self.select_all_matching and self.excluded:
            n = len(self.excluded)
            if total is None:
                return f"all matching conversations but {n:,}"
            return f"{_conversations(max(0, total - n), 'selected')} (all matching but {n:,})"
        if self.select_all_matching:
            return "all matching conversations" if total is None else \
                f"all {_conversations(total, 'matching')}"
        return _conversations(len(self.selected), "selected") if self.selected else None

    def clear_selection(self) -> None:
        self.selected.clear()
        self.excluded.clear()
        self.select_all_matching = False

    # ----------------------------------------------------------------- events
    @on(PageGrid.RowHighlighted, "#conversations")
    def _row_highlighted(self, event: PageGrid.RowHighlighted) -> None:
        event.stop()
        self.post_message(self.Highlighted(self.current()))

    @on(PageGrid.RowSelected, "#conversations")
    def _row_selected(self, event: PageGrid.RowSelected) -> None:
        event.stop()
        row = self.current()
        if row is not None:
            self.post_message(self.Selected(row))

    @on(PageGrid.HeaderSelected, "#conversations")
    def _header_selected(self, event: PageGrid.HeaderSelected) -> None:
        event.stop()
        field = SORT_COLUMNS.get(event.column_key)
        if field:
            order = self._sort()[1]
            same = self.query_obj is not None and self.query_obj.sort_by == field
            self.post_message(self.SortRequested(field, _flip(order) if same else "desc"))

    # ----------------------------------------------------------------- actions
    def action_cursor_down(self) -> None:
        if self.table.cursor_row >= len(self.rows) - 1 and self.page < self.pages:
            self.go_to_page(self.page + 1, cursor=0)
        else:
            self.table.action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.table.cursor_row <= 0 and self.page > 1:
            self.go_to_page(self.page - 1, cursor=-1)
        else:
            self.table.action_cursor_up()

    def action_first_row(self) -> None:
        self.table.move_cursor(row=0)

    def action_last_row(self) -> None:
        self.table.move_cursor(row=max(0, len(self.rows) - 1))

    def go_to_page(self, page: int, *, cursor: int = 0) -> bool:
        page = max(1, min(page, self.pages))
        if page == self.page or not self.page_size:
            return False
        self.start = (page - 1) * self.page_size
        self._pending_cursor = cursor
        self._keep_id = None
        self._request()
        return True

    def action_next_page(self) -> None:
        self.go_to_page(self.page + 1)

    def action_prev_page(self) -> None:
        self.go_to_page(self.page - 1)

    def action_first_page(self) -> None:
        self.go_to_page(1)

    def action_last_page(self) -> None:
        self.go_to_page(self.pages)

    def action_toggle_select(self) -> None:
        row = self.current()
        if row is None or not row.conversation_id:
            return
        cid = row.conversation_id
        if self.select_all_matching:  # all matching but the rows unpicked
            self.excluded.symmetric_difference_update({cid})
            if self.total is not None and len(self.excluded) >= self.total:
                self.clear_selection()  # every one unpicked: nothing left selected
        else:
            self.selected.symmetric_difference_update({cid})
        index = next((i for i, p in enumerate(self._parts) if "sel" in p.keys), None)
        if index is not None:
            self.table.update_cell_at(Coordinate(self.table.cursor_row, index),
                                      self._part_cell(self._parts[index], row, self._marks()))
        self._update_status()
        self.action_cursor_down()

    def action_select_all(self) -> None:
        """All matching, or (when they are selected, with exceptions or not) nothing."""
        all_matching = not self.select_all_matching
        self.clear_selection()
        self.select_all_matching = all_matching
        self._paint_rows(self.table.cursor_row)

    def action_cycle_sort(self) -> None:
        current, order = self._sort()
        following = SORT_BY[(SORT_BY.index(current) + 1) % len(SORT_BY)] \
            if current in SORT_BY else SORT_BY[0]
        self.post_message(self.SortRequested(following, order))

    def action_toggle_order(self) -> None:
        sort_by, order = self._sort()
        self.post_message(self.SortRequested(sort_by, _flip(order)))

    async def step(self, delta: int) -> ConversationRow | None:
        """Move the cursor by one conversation (crossing pages); returns the new current row."""
        before = (self.start, self.table.cursor_row)
        if delta > 0:
            self.action_cursor_down()
        else:
            self.action_cursor_up()
        if (self.start, self.table.cursor_row) == before:
            return None
        if not await self.page_ready():  # the neighbouring page is being loaded
            return None
        return self.current()


def _flip(order: str) -> str:
    return "asc" if order == "desc" else "desc"


def _conversations(count: int, adjective: str) -> str:
    return f"{count:,} {adjective} conversation{'' if count == 1 else 's'}"


def _same_conversations(query: ConversationQuery, other: ConversationQuery) -> bool:
    """Whether two queries list the same conversations (they may differ in sort only)."""
    return all(getattr(query, name) == getattr(other, name) for name in query._fields
               if name not in ("sort_by", "sort_order"))
