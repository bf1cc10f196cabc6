"""PageGrid: a light, line-rendered table for ONE page of rows.

Textual's DataTable renders every cell through Rich separately; PageGrid renders a row as
one Text, so a page flip repaints in a fraction of the time (figures: bench/README.md). It
offers the small part of the DataTable API the conversation table uses: columns with fixed
widths, rows of Text cells, a row cursor, and `RowHighlighted` / `RowSelected` / `HeaderSelected` messages.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget


class GridColumn(NamedTuple):
    key: str
    label: str
    width: int


class PageGrid(Widget, can_focus=True):
    COMPONENT_CLASSES = {"page-grid--header", "page-grid--cursor", "page-grid--odd"}

    DEFAULT_CSS = """
    PageGrid { height: 1fr; background: $surface; }
    PageGrid > .page-grid--header { text-style: bold; background: $panel; }
    PageGrid > .page-grid--odd { background: $surface-lighten-1; }
    /* underlined: in 16 colours the blurred background is the odd rows' (bright black) */
    PageGrid > .page-grid--cursor { background: $block-cursor-blurred-background;
                                    text-style: underline; }
    PageGrid:focus > .page-grid--cursor { background: $block-cursor-background;
                                          color: $block-cursor-foreground; text-style: bold; }
    """

    BINDINGS = [
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("home", "first", "First row", show=False),
        Binding("end", "last", "Last row", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, init=False, repaint=False)

    class _RowMessage(Message):
        def __init__(self, grid: PageGrid, cursor_row: int) -> None:
            super().__init__()
            self.grid, self.cursor_row = grid, cursor_row

        @property
        def control(self) -> PageGrid:
            return self.grid

    class RowHighlighted(_RowMessage):
        """The cursor moved to `cursor_row`."""

    class RowSelected(_RowMessage):
        """Enter (or a click on the cursor row) on `cursor_row`."""

    class HeaderSelected(Message):
        def __init__(self, grid: PageGrid, column_key: str) -> None:
            super().__init__()
            self.grid, self.column_key = grid, column_key

        @property
        def control(self) -> PageGrid:
            return self.grid

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.columns: list[GridColumn] = []
        self._rows: list[list[Text]] = []
        self._strips: dict[tuple[int, bool, bool, int], Strip] = {}
        # a row's cells fitted and rendered once: the cursor and the focus only restyle them
        self._segments: dict[int, list[Segment]] = {}
        self._row_styles: dict[tuple[str, bool], Style] = {}

    # ---------------------------------------------------------------- DataTable-like API
    @property
    def row_count(self) -> int:
        return len(self._rows)

    def clear(self, columns: bool = False) -> None:
        self._rows = []
        if columns:
            self.columns = []
        self._changed()

    def add_column(self, label: str, *, width: int, key: str) -> None:
        self.columns.append(GridColumn(key, label, width))
        self._changed()

    def add_rows(self, rows: Any) -> None:
        self._rows.extend(list(row) for row in rows)
        self._changed()

    def get_cell_at(self, coordinate: Coordinate) -> Text:
        return self._rows[coordinate.row][coordinate.column]

    def update_cell_at(self, coordinate: Coordinate, value: Text) -> None:
        row, column = coordinate
        cells = self._rows[row]
        if _same(cells[column], value):  # marks repainted unchanged: nothing to draw again
            return
        cells[column] = value
        # only that row's lines are drawn again, not the page's
        self._segments.pop(row, None)
        for key in [key for key in self._strips if key[0] == row]:
            del self._strips[key]
        self.refresh(self._line_of(row))

    def move_cursor(self, *, row: int) -> None:
        row = max(0, min(row, len(self._rows) - 1))
        if row == self.cursor_row:
            self.post_message(self.RowHighlighted(self, row))  # the page changed under it
            self.refresh()
        self.cursor_row = row

    def watch_cursor_row(self, old: int, new: int) -> None:
        # two lines change: over a slow link a cursor move sends them, not the whole page
        self.refresh(self._line_of(old), self._line_of(new))
        if 0 <= new < len(self._rows):
            self.post_message(self.RowHighlighted(self, new))

    def _line_of(self, row: int) -> Region:
        return Region(0, row + 1, self.size.width, 1)

    def _changed(self) -> None:
        self._strips.clear()
        self._segments.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        # the lines kept carry the colours of the styles they were drawn with (a theme)
        super().notify_style_update()
        self._strips.clear()
        self._row_styles.clear()

    # ---------------------------------------------------------------- actions
    def action_cursor_down(self) -> None:
        if self.cursor_row < len(self._rows) - 1:
            self.cursor_row += 1

    def action_cursor_up(self) -> None:
        if self.cursor_row > 0:
            self.cursor_row -= 1

    def action_first(self) -> None:
        self.move_cursor(row=0)

    def action_last(self) -> None:
        self.move_cursor(row=len(self._rows) - 1)

    def action_select(self) -> None:
        if 0 <= self.cursor_row < len(self._rows):
            self.post_message(self.RowSelected(self, self.cursor_row))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            key = self._column_at(event.x)
            if key is not None:
                self.post_message(self.HeaderSelected(self, key))
            return
        row = event.y - 1
        if 0 <= row < len(self._rows):
            if row == self.cursor_row:
                self.action_select()
            else:
                self.cursor_row = row

    def _column_at(self, x: int) -> str | None:
        start = 0
        for column in self.columns:
            start += column.width + 2
            if x < start:
                return column.key
        return None

    # ---------------------------------------------------------------- rendering
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            return self._strip(-1, False, width)
        row = y - 1
        if row >= len(self._rows):
            return Strip.blank(width, self._row_style(0, False))  # an even row: the base style
        return self._strip(row, row == self.cursor_row, width)

    def _strip(self, row: int, cursor: bool, width: int) -> Strip:
        key = (row, cursor, self.has_focus, width)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._render_row(row, cursor, width)
        return strip

    def _row_style(self, row: int, cursor: bool) -> Style:
        if row < 0:
            name = "page-grid--header"
        elif cursor:
            name = "page-grid--cursor"
        else:
            name = "page-grid--odd" if row % 2 else ""
        key = (name, self.has_focus)
        style = self._row_styles.get(key)
        if style is None:
            base = self.rich_style
            style = base + self.get_component_rich_style(name) if name else base
            self._row_styles[key] = style
        return style

    def _render_row(self, row: int, cursor: bool, width: int) -> Strip:
        style = self._row_style(row, cursor)
        segments = self._segments.get(row)
        if segments is None:
            segments = self._segments[row] = self._fit_row(row)
        # the cursor's background wins over the cells' own
        post = Style(bgcolor=style.bgcolor) if cursor else None
        return Strip(Segment.apply_style(segments, style, post)).crop_extend(
            0, width, style).simplify()

    def _fit_row(self, row: int) -> list[Segment]:
        """The row's cells, each cut or padded to its column, unstyled by the row: every
        segment gets the row's style on top when drawn (Textual's NO_COLOR filter reads
        style.color, so none may be left without one)."""
        line = Text(no_wrap=True, end="")
        for index, column in enumerate(self.columns):
            cell = Text(column.label) if row < 0 else self._rows[row][index]
            cell = cell.copy()
            cell.no_wrap = True
            cell.truncate(column.width, overflow="ellipsis")
            if cell.justify == "right":
                cell.pad_left(column.width - cell.cell_len)
            cell.truncate(column.width, pad=True)
            line.append(" ")
            line.append_text(cell)
            line.append(" ")
        return list(line.render(self.app.console))


def _same(a: Text, b: Text) -> bool:
    """Equal text and styling (rich's `Text.__eq__` compares the plain text only)."""
    return (a.plain == b.plain and a.spans == b.spans and a.style == b.style
            and a.justify == b.justify)
