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
