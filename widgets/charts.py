"""Chart widgets for the analytics screens: bars, time series, KPI tiles, text sparklines.

Every chart carries its numbers in plain text beside it (a small table of the bars, a caption
of the series) and can switch to a table-only view (``table_view``), so nothing depends on
reading a plot. Bars are drillable by keyboard: their table rows post ``BarChart.Selected``.

plotext is imported lazily (inside ``compose``), so importing this module stays cheap; the
plot itself is only built when a screen holding a chart is opened.

All labels are untrusted API text: they are sanitised before they reach plotext (whose output
is decoded as ANSI) and shown as ``rich.text.Text`` (never markup) in the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import DataTable, Static

from api.text import sanitize

NO_DATA = "no data in this window"
LOADING = "loading…"
MISSING = "—"
_SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def plain(value: object, *, style: str = "", justify: str | None = None) -> Text:
    """Untrusted value -> literal Text (escape sequences stripped, never markup)."""
    if value is None:
        return Text(MISSING, style="dim", justify=justify)  # type: ignore[arg-type]
    return Text(sanitize(str(value)), style=style, justify=justify)  # type: ignore[arg-type]


def number_cell(text: str) -> Text:
    return Text(text, justify="right")


def spark(values: Sequence[float | int | None]) -> str:
    """Text sparkline of ``values`` (None counts as 0); empty input -> empty string."""
    nums = [float(v or 0) for v in values]
    if not nums:
        return ""
    top = max(nums)
    if top <= 0:
        return _SPARK_BLOCKS[0] * len(nums)
    last = len(_SPARK_BLOCKS) - 1
    return "".join(_SPARK_BLOCKS[round(v / top * last)] for v in nums)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _short(label: str, width: int = 14) -> str:
    return _cut(sanitize(label).replace("\n", " "), width)


def _new_plot() -> Widget:
    from textual_plotext import PlotextPlot  # lazy: plotext is only loaded with a chart

    return PlotextPlot(classes="chart-plot")


class ChartBase(Vertical):
    """Title, a plot, its numbers and an empty-state line; ``table_view`` hides the plot."""

    DEFAULT_CSS = """
    ChartBase { height: auto; margin: 0 0 1 0; }
    ChartBase > .chart-title { text-style: bold; height: 1; }
    ChartBase > .chart-empty { color: $text-muted; height: 1; display: none; }
    ChartBase.-empty > .chart-empty { display: block; }
    ChartBase.-empty > .chart-body { display: none; }
    ChartBase .chart-plot { height: 9; min-width: 20; }
    ChartBase DataTable { height: auto; max-height: 12; }
    """

    table_view: reactive[bool] = reactive(False)

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self._empty_text = LOADING
        self.add_class("-empty")

    def compose_title(self) -> ComposeResult:
        yield Static(Text(self.title), classes="chart-title")
        yield Static(Text(self._empty_text), classes="chart-empty")

    def set_title(self, title: str) -> None:
        self.title = title
        self.query_one(".chart-title", Static).update(Text(title))

    def show_empty(self, text: str = NO_DATA) -> None:
        self._empty_text = text
        self.query_one(".chart-empty", Static).update(Text(text))
        self.add_class("-empty")

    def mark_failed(self, text: str = "not loaded (API error) · ctrl+r retries") -> None:
        """A chart still waiting for its first data says its load failed."""
        if self.has_class("-empty") and self._empty_text == LOADING:
            self.show_empty(text)

    def watch_table_view(self, table_view: bool) -> None:
        self.set_class(table_view, "-table")

    @property
    def plot(self):  # noqa: ANN201 - PlotextPlot, imported lazily
        return self.query_one(".chart-plot")


@dataclass(frozen=True)
class Bar:
    key: str  # identity used for drill-down (e.g. the label value, a base id)
    label: str  # what is shown (untrusted)
    value: float
    pct: float | None = None  # share, already computed by the caller (e.g. % of scored)


class BarChart(ChartBase):
    """Horizontal bar chart with the bars' table beside it (enter on a row = Selected)."""

    DEFAULT_CSS = """
    BarChart > .chart-body { height: auto; }
    BarChart .chart-plot { width: 1fr; }
    BarChart DataTable { width: auto; max-width: 60%; }
    BarChart.-table .chart-plot { display: none; }
    BarChart.-table DataTable { width: 1fr; }
    """

    class Selected(Message):
        """A bar was chosen (enter on its row)."""

        def __init__(self, chart: BarChart, bar: Bar) -> None:
            super().__init__()
            self.chart = chart
            self.bar = bar

        @property
        def control(self) -> BarChart:
            return self.chart

    def __init__(
        self,
        title: str,
        *,
        value_label: str = "count",
        pct_label: str = "%",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(title, id=id, classes=classes)
        self.value_label = value_label
        self.pct_label = pct_label
        self.bars: list[Bar] = []

    def compose(self) -> ComposeResult:
        yield from self.compose_title()
        with Horizontal(classes="chart-body"):
            yield _new_plot()
            table = DataTable(cursor_type="row", zebra_stripes=True, classes="chart-table")
            table.add_column("", key="label")
            table.add_column(Text(self.value_label), key="value")
            table.add_column(Text(self.pct_label), key="pct")
            yield table

    def set_bars(self, bars: list[Bar] | None, *, empty_text: str = NO_DATA) -> None:
        """Show ``bars``; None or all-zero bars read as ``empty_text`` (never a fake zero)."""
        self.bars = list(bars or [])
        table = self.query_one(DataTable)
        table.clear()
        if not self.bars or not any(b.value for b in self.bars):
            self.show_empty(empty_text)
            return
        self.remove_class("-empty")
        for bar in self.bars:
            pct = MISSING if bar.pct is None else f"{bar.pct:.1f}%"
            table.add_row(
                plain(bar.label), number_cell(_fmt_value(bar.value)), number_cell(pct), key=bar.key
            )
        plot = self.plot
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        n = len(self.bars)
        rows = list(range(n, 0, -1))  # numeric positions: the first bar on top, as in the table
        # plotext rounds bar edges and tick labels to whole rows. Measured over random data:
        # three rows per bar with thin bars puts every label on its own bar, separated by
        # blank rows; past a handful of bars two rows each keep the chart short (a label may
        # then sit on the bar's second row). Plus the frame and the tick labels.
        rows_per_bar, width = (3, 0.34) if n <= 6 else (2, 0.5)
        plt.bar(rows, [b.value for b in self.bars], orientation="horizontal", width=width)
        plt.yticks(rows, [_short(b.label) for b in self.bars])
        plt.ylim(0.5, n + 0.5)
        plot.styles.height = rows_per_bar * n + 3
        plot.refresh()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value
        for bar in self.bars:
            if bar.key == key:
                self.post_message(self.Selected(self, bar))
                return


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per date; None = no value for that bucket
    unit: str = ""
    total: bool = True  # whether a total over the window makes sense (counts, not rates)
    right: bool = False  # on a right-hand axis (a different scale from the others)
    digits: int | None = None  # decimals to print (None: whole numbers, or 1 decimal)


def _fmt_value(value: float | None, unit: str = "", digits: int | None = None) -> str:
    if value is None:
        return MISSING
    if digits is None:
        digits = 0 if float(value).is_integer() else 1
    return f"{value:,.{digits}f}{unit}"


def _series_caption(series: Series) -> str:
    present = [v for v in series.values if v is not None]
    if not present:
        return f"{series.name}: {MISSING}"

    def fmt(value: float) -> str:
        return _fmt_value(value, series.unit, series.digits)

    parts = [f"{series.name}:"]
    if series.total:
        parts.append(f"total {fmt(sum(present))}")
    else:
        parts.append(f"avg {fmt(sum(present) / len(present))}")
    parts.append(f"max {fmt(max(present))}")
    parts.append(f"last {fmt(present[-1])}")
    return " ".join(parts)


class TimeChart(ChartBase):
    """Line chart of one or more series over date buckets, with a caption of their numbers."""

    DEFAULT_CSS = """
    TimeChart > .chart-body { height: auto; }
    TimeChart .chart-caption { height: auto; color: $text; }
    TimeChart .chart-table { display: none; }
    TimeChart.-table .chart-plot { display: none; }
    TimeChart.-table .chart-table { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield from self.compose_title()
        with Vertical(classes="chart-body"):
            yield _new_plot()
            yield Static("", classes="chart-caption")
            yield DataTable(cursor_type="row", zebra_stripes=True, classes="chart-table")

    def set_series(
        self, dates: Sequence[str], series: list[Series], *, empty_text: str = NO_DATA
    ) -> None:
        dates = [sanitize(str(d)) for d in dates]
        if not dates or all(v in (None, 0) for s in series for v in s.values):
            self.show_empty(empty_text)
            return
        dates, series = fill_gaps(dates, series)
        self.remove_class("-empty")
        self.query_one(".chart-caption", Static).update(
            Text("\n".join(_series_caption(s) for s in series))
        )
        self._fill_table(dates, series)
        self._draw(dates, series)

    def _fill_table(self, dates: Sequence[str], series: list[Series]) -> None:
        table = self.query_one(".chart-table", DataTable)
        table.clear(columns=True)
        table.add_column("date", key="date")
        for s in series:
            table.add_column(Text(s.name), key=s.name)  # labels are never markup
        for i, date in enumerate(dates):
            cells = [number_cell(_fmt_value(_at(s.values, i), s.unit, s.digits)) for s in series]
            table.add_row(Text(date), *cells)

    def _draw(self, dates: Sequence[str], series: list[Series]) -> None:
        plt = self.plot.plt
        plt.clear_data()
        plt.clear_figure()
        for s in series:
            points = [(i, v) for i, v in enumerate(s.values) if v is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                side = "right" if s.right else "left"
                label = f"{s.name} (right axis)" if s.right else s.name
                plt.plot(list(xs), list(ys), label=label, marker="hd", yside=side)
        step = max(1, len(dates) // 6)
        ticks = list(range(0, len(dates), step))
        plt.xticks(ticks, [_tick(dates[i]) for i in ticks])
        plt.xlim(0, max(1, len(dates) - 1))
        self.plot.refresh()


_BUCKET_FORMATS = (("%Y-%m-%d", timedelta(days=1)), ("%Y-%m-%d %H:%M", timedelta(hours=1)))
MAX_BUCKETS = 2000


def fill_gaps(dates: list[str], series: list[Series]) -> tuple[list[str], list[Series]]:
    """Add the buckets an API leaves out (days or hours with nothing), so the x axis is time:
    counts read 0 there, rates (``total=False``) stay empty. Labels it cannot read as daily or
    hourly buckets are left as they are."""
    for fmt, step in _BUCKET_FORMATS:
        try:
            stamps = [datetime.strptime(d, fmt) for d in dates]
        except ValueError:
            continue
        if sorted(stamps) != stamps or len(set(stamps)) != len(stamps):
            return dates, series
        span = int((stamps[-1] - stamps[0]) / step) + 1
        if span > MAX_BUCKETS or any((t - stamps[0]) % step for t in stamps):
            return dates, series
        index = {t: i for i, t in enumerate(stamps)}
        full = [stamps[0] + k * step for k in range(span)]
        filled = [
            replace(
                s,
                values=[
                    _at(s.values, index[t]) if t in index else (0 if s.total else None)
                    for t in full
                ],
            )
            for s in series
        ]
        return [t.strftime(fmt) for t in full], filled
    return dates, series


def _at(values: Sequence[float | None], i: int) -> float | None:
    return values[i] if i < len(values) else None


def _tick(date: str) -> str:
    """'2026-06-01' -> '06-01'; '2026-06-01T13:00:00Z' -> '01 13h'."""
    if "T" in date:
        day, _, time = date.partition("T")
        return f"{day[8:10]} {time[:2]}h"
    return date[5:10] if len(date) >= 10 else date


class Kpis(Widget):
    """Labelled figures laid out in as many columns as fit. Missing values show as a dash."""

    DEFAULT_CSS = """
    Kpis { height: auto; margin: 0 0 1 0; }
    """
    CELL = 19  # 4 columns at 80x24; labels and values longer than 18 cells are cut with …

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.items: list[tuple[str, str | None]] = []

    def set_items(self, items: list[tuple[str, str | None]]) -> None:
        self.items = [(sanitize(label), None if v is None else sanitize(v)) for label, v in items]
        self.refresh(layout=True)

    def _columns(self, width: int) -> int:
        return max(1, (width or 80) // self.CELL)

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        rows = -(-len(self.items) // self._columns(width)) if self.items else 1
        return rows * 2

    def render(self) -> Text:
        if not self.items:
            return Text(MISSING, style="dim")
        cols = self._columns(self.size.width)
        out = Text()
        for start in range(0, len(self.items), cols):
            row = self.items[start : start + cols]
            for label, _ in row:
                out.append(_cut(label, self.CELL - 1).ljust(self.CELL), style="dim")
            out.append("\n")
            for _, value in row:
                shown = MISSING if value is None else value
                out.append(_cut(shown, self.CELL - 1).ljust(self.CELL), style="bold")
            out.append("\n")
        out.rstrip()
        return out

    @property
    def text(self) -> str:
        return " ".join(f"{label}: {MISSING if v is None else v}" for label, v in self.items)
