"""Labels built from API text (series names, column titles) are never parsed as markup."""
from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from widgets.charts import Series, TimeChart
from widgets.tables import TitledTable

HOSTILE = "vip [/] [link=x]y[/link] [bold]z"


class _Harness(App):
    def compose(self) -> ComposeResult:
        yield TimeChart("trend", id="chart")
        yield TitledTable("t", ["id", HOSTILE], id="table")


async def test_series_names_and_column_titles_render_literally() -> None:
    app = _Harness()
    async with app.run_test(size=(100, 40)) as pilot:
        chart = app.query_one("#chart", TimeChart)
        chart.set_series(["2026-06-01", "2026-06-02"], [Series(HOSTILE, [1, 2])])
        await pilot.pause()
        labels = [str(c.label) for c in chart.query_one(".chart-table", DataTable).columns.values()]
        assert HOSTILE in labels
        table = app.query_one("#table", TitledTable).table
        assert HOSTILE in [str(c.label) for c in table.columns.values()]
