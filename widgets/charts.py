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

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TypeGuard

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.theme import Theme
from textual.widget import Widget
from textual.widgets import DataTable, Static

from api.text import sanitize
from widgets.figures import FigureState
from widgets.hbars import HBars

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
    """Text sparkline of ``values``; a missing value (None) is a blank, not a 0; empty input
    -> empty string."""
    nums = [None if v is None else float(v) for v in values]
    if not nums:
        return ""
    top = max((v for v in nums if v is not None), default=0.0)
    last = len(_SPARK_BLOCKS) - 1
    return "".join(
        " " if v is None else _SPARK_BLOCKS[round(v / top * last) if top > 0 else 0] for v in nums
    )


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _new_plot() -> Widget:
    from textual_plotext import PlotextPlot  # lazy: plotext is only loaded with a chart

    return PlotextPlot(classes="chart-plot")


class ChartBase(FigureState, Vertical):
    """Title, a plot, its numbers and an empty-state line; ``table_view`` hides the plot.

    A failed load clears the numbers and shows the error on the empty-state line; a stale one
    keeps them with a mark after the title (widgets/figures.py)."""

    DEFAULT_CSS = """
    ChartBase { height: auto; margin: 0 0 1 0; }
    ChartBase > .chart-title { text-style: bold; height: 1; }
    ChartBase > .chart-empty { color: $text-muted; height: auto; }
    ChartBase.-failed > .chart-empty { color: $error; }
    ChartBase > .chart-body { display: none; }
    ChartBase .chart-plot { height: 9; min-width: 20; }
    ChartBase DataTable { height: auto; max-height: 12; }
    """

    table_view: reactive[bool] = reactive(False)

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title = title
        self.initial_title = title  # shown when a load fails: a title may carry figures
        self._empty_text = LOADING
        self.empty = True  # the empty-state line is shown, not the figures

    def compose_title(self) -> ComposeResult:
        yield Static(Text(self.title), classes="chart-title")
        yield Static(Text(self._empty_text), classes="chart-empty")

    def set_title(self, title: str) -> None:
        self.title = title
        self.query_one(".chart-title", Static).update(Text(title))

    def show_empty(self, text: str = NO_DATA) -> None:
        self._empty_text = text
        self.query_one(".chart-empty", Static).update(Text(text))
        self._show(empty=True)

    def _show(self, *, empty: bool) -> None:
        """The figures or the empty-state line. Shown and hidden one by one: a class on the
        chart would restyle its whole subtree (its tables' component styles too) at every
        paint."""
        self.empty = empty
        self.query_one(".chart-empty", Static).display = empty
        self.query_one(".chart-body").display = not empty

    def show_failed(self, text: str) -> None:
        for table in self.query(DataTable):  # no number of another window stays, even hidden
            table.clear()
        for caption in self.query(".chart-caption").results(Static):
            caption.update("")
        for bars in self.query(HBars):
            bars.set_values(())
        self.query_one(".chart-title", Static).update(Text(self.initial_title))
        self.show_empty(text)

    def show_stale(self, text: str) -> None:
        title = Text(self.title)
        title.append(f"  {text}", style="yellow")
        self.query_one(".chart-title", Static).update(title)

    def clear_mark(self) -> None:
        self.query_one(".chart-title", Static).update(Text(self.title))
        self.query_one(".chart-empty", Static).update(Text(""))

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
    BarChart .chart-plot { width: 1fr; height: auto; margin-right: 1; }
    /* every row shown, so that each bar stays beside its row */
    BarChart DataTable { width: auto; max-width: 70%; max-height: 99; }
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
            yield HBars(classes="chart-plot")
            table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True,
                                               classes="chart-table")
            table.add_column("", key="label")
            table.add_column(Text(self.value_label), key="value")
            table.add_column(Text(self.pct_label), key="pct")
            yield table

    def set_bars(self, bars: list[Bar] | None, *, empty_text: str = NO_DATA) -> None:
        """Show ``bars``; None or all-zero bars read as ``empty_text`` (never a fake zero)."""
        self.painted()
        self.bars = list(bars or [])
        table = self.query_one(DataTable)
        table.clear()
        if not self.bars or not any(b.value for b in self.bars):
            self.show_empty(empty_text)
            return
        self._show(empty=False)
        for bar in self.bars:
            pct = MISSING if bar.pct is None else f"{bar.pct:.1f}%"
            if bar.pct is not None and not 0 <= bar.pct <= 100:
                pct = f"{pct} {FLAG}"  # a share an API got wrong: as received, flagged
            table.add_row(
                plain(bar.label), number_cell(_fmt_value(bar.value)), number_cell(pct), key=bar.key
            )
        self.query_one(HBars).set_values([b.value for b in self.bars])

    def _mark_cursor(self) -> None:
        """The bar of the table's cursor row stands out while the table has the focus only
        (an unfocused chart has no chosen bar)."""
        table = self.query_one(DataTable)
        self.query_one(HBars).highlight = table.cursor_row if table.has_focus else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._mark_cursor()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self._mark_cursor()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self._mark_cursor()

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
    # per-bucket amounts (counts, sums): totalled and drawn as steps; False: rates and
    # averages, averaged and drawn as lines that stop at a missing bucket
    total: bool = True
    right: bool = False  # on a right-hand axis (a different scale from the others)
    digits: int | None = None  # decimals to print (None: whole numbers, or 1 decimal)
    # the highest valid value (100 for a percentage): a value outside 0..limit is shown as
    # received with a ⚠ and left out of the plot and of the summary
    limit: float | None = None

    def valid(self, value: float | None) -> TypeGuard[float]:
        return value is not None and (self.limit is None or 0 <= value <= self.limit)

    @property
    def whole(self) -> bool:
        """A count: whole numbers only, so its axis ticks are whole numbers too."""
        return (
            self.total
            and self.digits in (None, 0)
            and all(float(v).is_integer() for v in self.values if v is not None)
        )


FLAG = "⚠"


def _fmt_value(value: float | None, unit: str = "", digits: int | None = None) -> str:
    if value is None:
        return MISSING
    if digits is None:
        digits = 0 if float(value).is_integer() else 1
    return f"{value:,.{digits}f}{unit}"


def _fmt_cell(series: Series, value: float | None) -> str:
    shown = _fmt_value(value, series.unit, series.digits)
    return shown if value is None or series.valid(value) else f"{shown} {FLAG}"


def _series_caption(series: Series, dates: Sequence[str] = ()) -> str:
    """total (or avg), max and last over the valid values; the last bucket empty reads "last
    —" (with the latest value and its bucket), never as a 0 it is not."""
    values = list(series.values)
    valid = [(i, v) for i, v in enumerate(values) if series.valid(v)]
    flagged = [v for v in values if v is not None and not series.valid(v)]
    if not valid and not flagged:
        return f"{series.name}: {MISSING}"

    def fmt(value: float) -> str:
        return _fmt_value(value, series.unit, series.digits)

    parts = [f"{series.name}:"]
    if valid:
        present = [v for _, v in valid]
        if series.total:
            parts.append(f"total {fmt(sum(present))}")
        else:
            parts.append(f"avg {fmt(sum(present) / len(present))}")
        parts.append(f"max {fmt(max(present))}")
        if series.valid(values[-1]):
            parts.append(f"last {fmt(present[-1])}")
        else:
            i, latest = valid[-1]
            when = f" on {_tick(dates[i])}" if i < len(dates) else ""
            parts.append(f"last {MISSING} (latest {fmt(latest)}{when})")
    if flagged:
        limit = _fmt_value(series.limit, series.unit)
        over = all(v > (series.limit or 0) for v in flagged)
        where = f"over {limit}" if over else f"outside 0-{limit}"
        parts.append(
            f"· {FLAG} {len(flagged)} {'value' if len(flagged) == 1 else 'values'} {where}"
            " (shown as received, left out of these figures)"
        )
    return " ".join(parts)


# one colour per series, shared by its segments (a line stops at a missing bucket)
PALETTE = ((0, 130, 200), (60, 180, 75), (230, 25, 75), (245, 130, 48), (145, 30, 180))


def _runs(series: Series) -> list[list[tuple[int, float]]]:
    """The series' valid values in runs of consecutive buckets."""
    runs: list[list[tuple[int, float]]] = []
    for i, v in enumerate(series.values):
        if not series.valid(v):
            continue
        if runs and runs[-1][-1][0] == i - 1:
            runs[-1].append((i, v))
        else:
            runs.append([(i, v)])
    return runs


def _nice_step(top: float, parts: int = 4) -> int:
    """A whole step of 1, 2 or 5 times a power of ten that cuts 0..top into ~parts."""
    raw = max(top, 1) / parts
    magnitude = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    for m in (1, 2, 5, 10):
        if m * magnitude >= raw:
            return int(m * magnitude)
    return int(10 * magnitude)  # pragma: no cover - the loop always returns


def whole_ticks(top: float, parts: int = 4) -> list[int]:
    """Whole-number ticks from 0 to at least ``top`` (counts never read 0.33)."""
    step = _nice_step(top, parts)
    ticks = [0]
    while ticks[-1] < top:
        ticks.append(ticks[-1] + step)
    return ticks if len(ticks) > 1 else [0, step]


def nice_ticks(top: float, parts: int = 4) -> list[float]:
    """About ``parts`` even ticks from 0 to at least ``top``, on steps of 1, 2, 2.5 or 5 times a
    power of ten."""
    if not top > 0 or not math.isfinite(top):
        return [0.0, 1.0]
    raw = top / parts
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def tick_texts(ticks: Sequence[float]) -> list[str]:
    """The ticks printed with as many decimals as their step needs (2.5 -> 1, 0.25 -> 2)."""
    digits = 0
    while digits < 6 and any(round(t, digits) != round(t, 10) for t in ticks):
        digits += 1
    return [f"{t:,.{digits}f}" for t in ticks]


class TimeChart(ChartBase):
    """One or more series over date buckets, with a caption of their numbers.

    Per-bucket amounts (``Series.total``) are steps: a count holds its value over its bucket
    and never passes through a fraction between two buckets. Rates and averages are lines
    that stop at a bucket without a value. Whole-number series get whole-number ticks.
    """

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

    def on_mount(self) -> None:
        self._follow_theme(self.app.current_theme)
        self.app.theme_changed_signal.subscribe(self, self._follow_theme)

    def _follow_theme(self, theme: Theme) -> None:
        # the plot's "auto" theme paints the theme's surface, which an ANSI theme leaves to
        # the terminal (it would come out black): there the plot paints no background
        self.plot.theme = "clear" if theme.ansi else "auto"

    def set_series(
        self,
        dates: Sequence[str],
        series: list[Series],
        *,
        empty_text: str = NO_DATA,
        window: tuple[datetime, datetime] | None = None,
    ) -> None:
        """Show ``series`` over ``dates``; ``window`` (start, end): the x axis covers it all."""
        self.painted()
        dates = [sanitize(str(d)) for d in dates]
        if not dates or all(v in (None, 0) for s in series for v in s.values):
            self.show_empty(empty_text)
            return
        dates, series = fill_gaps(dates, series, window)
        self._show(empty=False)
        self.query_one(".chart-caption", Static).update(
            Text("\n".join(_series_caption(s, dates) for s in series))
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
            cells = [number_cell(_fmt_cell(s, _at(s.values, i))) for s in series]
            table.add_row(Text(date), *cells)

    def _draw(self, dates: Sequence[str], series: list[Series]) -> None:
        plt = self.plot.plt
        plt.clear_data()
        plt.clear_figure()
        for k, s in enumerate(series):
            side = "right" if s.right else "left"
            label = f"{s.name} (right axis)" if s.right else s.name
            color = PALETTE[k % len(PALETTE)]
            for j, run in enumerate(_runs(s)):
                if s.total:  # a step: the bucket's value from its start to its end
                    xs = [x for i, _ in run for x in (i - 0.5, i + 0.5)]
                    ys = [v for _, v in run for _ in (0, 1)]
                else:
                    xs, ys = [i for i, _ in run], [v for _, v in run]
                plt.plot(
                    xs, ys, label=label if j == 0 else None, marker="hd", yside=side, color=color
                )
        for side in ("left", "right"):
            on_side = [s for s in series if s.right == (side == "right")]
            values = [v for s in on_side for v in s.values if s.valid(v)]
            if not on_side or min(values, default=0) < 0:
                continue
            top = max(values, default=0)
            # few, round ticks: plotext's own land on values such as 41.7, and more than three
            # cannot sit evenly on the handful of rows of a chart
            parts = 2
            whole = all(s.whole for s in on_side)
            ticks = whole_ticks(top, parts) if whole else nice_ticks(top, parts)
            plt.yticks(ticks, tick_texts(ticks), yside=side)
            plt.ylim(0, ticks[-1], yside=side)
        step = max(1, len(dates) // 6)
        ticks = list(range(0, len(dates), step))
        plt.xticks(ticks, tick_labels([dates[i] for i in ticks]))
        plt.xlim(-0.5, max(0.5, len(dates) - 0.5))
        self.plot.refresh()


_BUCKET_FORMATS = (("%Y-%m-%d", timedelta(days=1)), ("%Y-%m-%d %H:%M", timedelta(hours=1)))
MAX_BUCKETS = 2000


def _window_buckets(
    window: tuple[datetime, datetime] | None, step: timedelta
) -> tuple[datetime, datetime] | None:
    """The first and last UTC buckets of [start, end) (naive, like the parsed labels)."""
    if window is None:
        return None
    start, end = (w.astimezone(UTC).replace(tzinfo=None) for w in window)
    last = end - timedelta(microseconds=1)
    if last < start:
        return None
    if step >= timedelta(days=1):
        floor = lambda t: t.replace(hour=0, minute=0, second=0, microsecond=0)  # noqa: E731
    else:
        floor = lambda t: t.replace(minute=0, second=0, microsecond=0)  # noqa: E731
    return floor(start), floor(last)


def fill_gaps(
    dates: list[str], series: list[Series], window: tuple[datetime, datetime] | None = None
) -> tuple[list[str], list[Series]]:
    """Add the buckets an API leaves out (days or hours with nothing), and those of
    ``window`` (start, end) before or after the data, so the x axis is time: counts read 0
    there, rates (``total=False``) stay empty. Labels it cannot read as daily or hourly
    buckets are left as they are."""
    for fmt, step in _BUCKET_FORMATS:
        try:
            stamps = [datetime.strptime(d, fmt) for d in dates]
        except ValueError:
            continue
        if sorted(stamps) != stamps or len(set(stamps)) != len(stamps):
            return dates, series
        first, last = stamps[0], stamps[-1]
        bounds = _window_buckets(window, step)
        if bounds is not None:
            first, last = min(first, bounds[0]), max(last, bounds[1])
        span = int((last - first) / step) + 1
        if span > MAX_BUCKETS or any((t - first) % step for t in stamps):
            return dates, series
        index = {t: i for i, t in enumerate(stamps)}
        full = [first + k * step for k in range(span)]
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
    """'2026-06-01' -> '06-01'; an hourly bucket ('2026-06-01 13:00', '2026-06-01T13:00:00Z')
    -> '06-01 13:00'."""
    day, sep, time = date.replace("T", " ").partition(" ")
    if sep:
        return f"{day[5:10]} {time[:5]}"
    return date[5:10] if len(date) >= 10 else date


def tick_labels(dates: Sequence[str]) -> list[str]:
    """Labels of the x ticks: days as 'MM-DD'; hours as 'HH:MM', with the day on the first
    tick and wherever the day changes (a 24h window is not six ticks of the same day)."""
    labels, previous = [], None
    for date in dates:
        label = _tick(date)
        day, sep, hour = label.partition(" ")
        if sep and day == previous:
            label = hour
        previous = day if sep else None
        labels.append(label)
    return labels


class Kpis(FigureState, Widget):
    """Labelled figures laid out in as many columns as fit. Missing values show as a dash.

    A failed load replaces the figures with its error; a stale one puts a mark above them."""

    DEFAULT_CSS = """
    Kpis { height: auto; margin: 0 0 1 0; }
    """
    CELL = 19  # 4 columns at 80x24; labels and values longer than 18 cells are cut with …

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.items: list[tuple[str, str | None]] = []
        self.mark = ""  # a failed/stale mark (widgets/figures.py)

    def set_items(self, items: list[tuple[str, str | None]]) -> None:
        self.painted()
        self.items = [(sanitize(label), None if v is None else sanitize(v)) for label, v in items]
        self.refresh(layout=True)

    def _columns(self, width: int) -> int:
        return max(1, (width or 80) // self.CELL)

    def show_failed(self, text: str) -> None:
        self.items = []
        self.mark = text
        self.refresh(layout=True)

    def show_stale(self, text: str) -> None:
        self.mark = text
        self.refresh(layout=True)

    def clear_mark(self) -> None:
        self.mark = ""
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:  # noqa: ANN001
        marks = -(-len(self.mark) // max(1, width or 80)) if self.mark else 0
        if self.mark and not self.items:
            return marks
        rows = -(-len(self.items) // self._columns(width)) if self.items else 1
        return rows * 2 + marks

    def render(self) -> Text:
        out = Text()
        if self.mark:
            out.append(self.mark, style="bold" if self.figure_state == "failed" else "yellow")
            if not self.items:
                return out
            out.append("\n")
        elif not self.items:
            return Text(MISSING, style="dim")
        cols = self._columns(self.size.width)
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
        figures = " ".join(f"{label}: {MISSING if v is None else v}" for label, v in self.items)
        return f"{self.mark} {figures}".strip() if self.mark else figures
