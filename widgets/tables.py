"""Titled tables for the analytics screens: rows you can select (drill-down) and page.

``TitledTable`` shows a title, a DataTable and an empty-state line; enter on a row posts
``TitledTable.Selected`` with the row's key. ``PagedTable`` adds a position line
("rows 11-20 of 134") and n / p bindings that post ``PagedTable.PageRequested`` with the
offset to load: the screen fetches that page (server-side paging) and calls ``set_page``.

Cells are given as ``rich.text.Text`` (see ``widgets.charts.plain``) or plain strings that
the table turns into literal Text — never markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

from widgets.charts import LOADING, NO_DATA, plain
from widgets.figures import FigureState

Row = tuple[str, Sequence[object]]  # (row key, cells)


def _cell(value: object) -> object:
    return value if isinstance(value, Text) else plain(value)


class TitledTable(FigureState, Vertical):
    """A title, rows and an empty-state line. A failed load clears the rows and shows the
    error instead; a stale one keeps them with a mark after the title (widgets/figures.py)."""

    DEFAULT_CSS = """
    TitledTable { height: auto; margin: 0 0 1 0; }
    TitledTable > .table-title { text-style: bold; height: 1; }
    TitledTable > .table-empty { color: $text-muted; height: auto; }
    TitledTable.-failed > .table-empty { color: $error; }
    TitledTable > DataTable { height: auto; max-height: 16; display: none; }
    TitledTable > .table-note { color: $text-muted; height: auto; display: none; }
    """

    class Selected(Message):
        def __init__(self, table: TitledTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> TitledTable:
            return self.table

    def __init__(
        self,
        title: str,
        columns: Sequence[str],
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.initial_title = title  # shown when a load fails: a title may carry figures
        self.columns = list(columns)
        self.keys: list[str] = []
        self.empty = True  # the empty-state line is shown, not the rows
        self._noted = False

    def compose(self) -> ComposeResult:
        yield Static(Text(self.title), classes="table-title")
        yield Static(Text(LOADING), classes="table-empty")
        table: DataTable[Text | str] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns(*(Text(c) for c in self.columns))  # never markup
        yield table
        yield Static("", classes="table-note")

    def show_failed(self, text: str) -> None:
        self.table.clear()
        self.keys = []
        self.query_one(".table-title", Static).update(Text(self.initial_title))
        for note in self.query(".table-note").results(Static):  # it reads the rows' figures
            note.update("")
        self._noted = False
        self.query_one(".table-empty", Static).update(Text(text))
        self._show(empty=True)

    def show_stale(self, text: str) -> None:
        title = Text(self.title)
        title.append(f"  {text}", style="yellow")
        self.query_one(".table-title", Static).update(title)

    def clear_mark(self) -> None:
        self.query_one(".table-title", Static).update(Text(self.title))

    @property
    def table(self) -> DataTable:
        return self.query_one(DataTable)

    def set_title(self, title: str) -> None:
        self.title = title
        self.query_one(".table-title", Static).update(Text(title))

    def set_note(self, note: str | None) -> None:
        """A footnote under the rows (how to read them, e.g. why they do not add up to a
        total); None removes it."""
        self.query_one(".table-note", Static).update(Text(note or ""))
        self._noted = bool(note)
        self._show(empty=self.empty)

    def set_rows(self, rows: Sequence[Row], *, empty_text: str = NO_DATA) -> None:
        self.painted()
        table = self.table
        table.clear()
        self.keys = []
        for key, cells in rows:
            if key in self.keys:  # a repeated id from the API must not crash the table
                key = f"{key}#{len(self.keys)}"
            self.keys.append(key)
            table.add_row(*(_cell(c) for c in cells), key=key)
        self.query_one(".table-empty", Static).update(Text(empty_text))
        self._show(empty=not rows)

    def _show(self, *, empty: bool) -> None:
        """The rows (and the note under them) or the empty-state line. Shown and hidden one
        by one: a class on the table would restyle its whole subtree (the DataTable's
        component styles too) at every paint."""
        self.empty = empty
        self.query_one(".table-empty", Static).display = empty
        self.table.display = not empty
        self.query_one(".table-note", Static).display = self._noted and not empty

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = str(event.row_key.value).split("#", 1)[0]
        self.post_message(self.Selected(self, key))

    def rows_text(self) -> list[list[str]]:
        """Plain text of every cell (tests, copy)."""
        table = self.table
        return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


class PagedTable(TitledTable):
    """A TitledTable over one page of a server-side paged list."""

    BINDINGS = [
        Binding("n", "page(1)", "Next page", id="analytics.next_page"),
        Binding("p", "page(-1)", "Previous page", id="analytics.prev_page"),
    ]

    DEFAULT_CSS = """
    PagedTable > .table-position { color: $text-muted; height: 1; }
    """

    class PageRequested(Message):
        def __init__(self, table: PagedTable, offset: int) -> None:
            super().__init__()
            self.table = table
            self.offset = offset

        @property
        def control(self) -> PagedTable:
            return self.table

    def __init__(self, title: str, columns: Sequence[str], *, page_size: int = 10, **kw) -> None:
        super().__init__(title, columns, **kw)
        self.page_size = page_size
        self.page_offset = 0
        self.total: int | None = None

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Static("", classes="table-position")

    def set_page(
        self, rows: Sequence[Row], *, offset: int, total: int | None, empty_text: str = NO_DATA
    ) -> None:
        self.page_offset = max(0, offset)
        self.total = total
        self.set_rows(rows, empty_text=empty_text)
        if rows:
            last = self.page_offset + len(rows)
            of = "" if total is None else f" of {total:,}"
            position = f"rows {self.page_offset + 1:,}-{last:,}{of} · n/p: next/previous page"
        else:
            position = "" if total is None else f"{total:,} rows"
        self.query_one(".table-position", Static).update(Text(position))

    def show_failed(self, text: str) -> None:
        super().show_failed(text)
        self.total = None
        self.query_one(".table-position", Static).update(Text(""))

    def action_page(self, step: int) -> None:
        offset = self.page_offset + step * self.page_size
        if offset < 0 or (self.total is not None and offset >= self.total):
            self.app.bell()
            return
        self.post_message(self.PageRequested(self, offset))
