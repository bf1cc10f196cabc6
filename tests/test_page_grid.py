"""The explorer's grid repaints only the rows a cursor move changes: the row it left must lose
the cursor's colour and the row it reached gain it, whatever moved it (keys, a click, code)."""
from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from widgets.page_grid import PageGrid

ROWS = 6


class GridApp(App[None]):
    def compose(self) -> ComposeResult:
        yield PageGrid()

    def on_mount(self) -> None:
        grid = self.query_one(PageGrid)
        grid.add_column("Id", width=6, key="id")
        grid.add_column("Intent", width=12, key="intent")
        grid.add_rows([Text(f"c{n:03d}"), Text(f"intent {n}")] for n in range(ROWS))
        grid.focus()


def cursor_colour(grid: PageGrid):
    """The cursor's background now (it differs with the grid's focus)."""
    return grid.get_component_rich_style("page-grid--cursor").bgcolor


def cursor_lines(grid: PageGrid, colour=None) -> list[int]:
    """The lines (0 is the header) painted in the cursor's colour, as the screen gets them:
    through the widget's line cache, which a partial repaint must keep right."""
    colour = colour or cursor_colour(grid)
    lines = grid.render_lines(grid.size.region)
    return [y for y, strip in enumerate(lines)
            if any(segment.style is not None and segment.style.bgcolor == colour
                   for segment in strip)]


async def test_a_cursor_move_repaints_the_row_it_left_and_the_row_it_reached():
    app = GridApp()
    async with app.run_test(size=(40, 12)) as pilot:
        grid = app.query_one(PageGrid)
        await pilot.pause()
        assert cursor_lines(grid) == [1]
        await pilot.press("down", "down")
        assert cursor_lines(grid) == [3]
        await pilot.press("end")
        assert cursor_lines(grid) == [ROWS]
        grid.move_cursor(row=1)
        await pilot.pause()
        assert cursor_lines(grid) == [2]
        await pilot.click(PageGrid, offset=(2, 5))
        assert cursor_lines(grid) == [5]
        await pilot.press("up", "home")
        assert cursor_lines(grid) == [1]


async def test_focus_recolours_the_cursor_row():
    """Focused and blurred cursors differ in colour (a `:focus` rule): Textual restyles the
    grid when its focus changes, and the cursor row follows."""
    app = GridApp()
    async with app.run_test(size=(40, 12)) as pilot:
        grid = app.query_one(PageGrid)
        await pilot.press("down")
        focused = cursor_colour(grid)
        assert cursor_lines(grid) == [2]
        grid.blur()
        await pilot.pause()
        assert cursor_colour(grid) != focused
        assert cursor_lines(grid, focused) == []
        assert cursor_lines(grid) == [2]
        grid.focus()
        await pilot.pause()
        assert cursor_lines(grid, focused) == [2]


async def test_a_new_theme_repaints_the_header_and_rows_in_its_colours():
    """The grid keeps its rendered lines: a theme change must reach them (the header kept
    the former theme's colour once the screen was shown again)."""
    app = GridApp()
    async with app.run_test(size=(40, ROWS + 2)) as pilot:
        await pilot.pause()
        grid = app.query_one(PageGrid)

        def header_colour():
            return list(grid.render_lines(grid.size.region)[0])[0].style.bgcolor

        before = header_colour()
        assert before == grid.get_component_rich_style("page-grid--header").bgcolor
        app.theme = "nord" if app.theme != "nord" else "gruvbox"
        await pilot.pause()
        await pilot.pause()
        wanted = grid.get_component_rich_style("page-grid--header").bgcolor
        assert wanted != before and header_colour() == wanted


class CountingGrid(PageGrid):
    """Records the rows it draws (-1: the header)."""

    def __init__(self) -> None:
        super().__init__()
        self.drawn: list[int] = []

    def _render_row(self, row, cursor, width):  # noqa: ANN001, ANN202 - the grid's own
        self.drawn.append(row)
        return super()._render_row(row, cursor, width)


class CountingApp(GridApp):
    def compose(self) -> ComposeResult:
        yield CountingGrid()


async def test_a_cell_repainted_unchanged_draws_nothing_and_a_changed_one_its_row():
    """The triage marks are set again on every row after each page: drawing the page again
    for each of them was most of a page's paint. A cell that differs only in its style
    (rich's `Text ==` compares the plain text) is a change."""
    from textual.coordinate import Coordinate

    app = CountingApp()
    async with app.run_test(size=(40, ROWS + 2)) as pilot:
        await pilot.pause()
        grid = app.query_one(CountingGrid)
        assert sorted(grid.drawn) == list(range(-1, ROWS))
        grid.drawn.clear()
        for row in range(ROWS):
            grid.update_cell_at(Coordinate(row, 1), Text(f"intent {row}"))
        await pilot.pause()
        assert grid.drawn == []

        grid.update_cell_at(Coordinate(3, 1), Text("intent 3", style="red"))
        await pilot.pause()
        assert grid.drawn == [3]
        line = grid.render_lines(grid.size.region)[4]
        colours = {s.text.strip(): s.style.color for s in line if s.text.strip()}
        assert colours["intent 3"] != colours["c003"]  # red, as the theme draws it
