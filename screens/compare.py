"""Compare two cohorts: every metric of `api.compare` side by side, the difference drawn as
its 95% interval around 0, and the conversations behind a metric one key away.

A cohort is what `studio-tui compare` takes: a saved view's name or a query in its text
form (empty: the whole project). Both are read over the shared window of the app.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Input, Label, Static

from api.text import one_line
from screens.resume import KeepStylesOnResume
from screens.services import services
from widgets.filter_bar import span_text
from widgets.footer import KeyBar
from widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from api.compare import Cohort, Comparison

BAR = 25  # cells of the interval drawing (odd: 0 sits in the middle)


def interval_bar(low: float, high: float, delta: float, scale: float) -> Text:
    """`low`..`high` (percentage points) as a line over -scale..+scale, 0 marked, the
    difference as a dot: a line that crosses the 0 mark is no evidence of a difference."""
    half = BAR // 2

    def cell(value: float) -> int:
        return max(0, min(BAR - 1, half + round(value / scale * half)))

    cells = [" "] * BAR
    for i in range(cell(low), cell(high) + 1):
        cells[i] = "─"
    cells[half] = "┼" if cells[half] == "─" else "│"
    cells[cell(delta)] = "●"
    crosses = low <= 0 <= high
    return Text("".join(cells), style="dim" if crosses else "bold")


class CompareScreen(KeepStylesOnResume, Screen[None]):
    """Two cohorts, their metrics and the differences with confidence."""

    CSS_PATH = "compare.tcss"
    AUTO_FOCUS = "#metrics"  # the keys are the table's; tab reaches the cohorts
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="compare.back"),
        Binding("A", "open('a')", "A's conversations", id="compare.open_a_key"),
        Binding("B", "open('b')", "B's conversations", id="compare.open_b"),
        Binding("ctrl+r", "run", "Compare again", id="compare.run", show=False),
    ]

    def __init__(self, a: str = "", b: str = "", *, whole_history: bool = False) -> None:
        """`whole_history`: over every date (two versions of an assistant, each live at its
        own time), not the app's shared window."""
        super().__init__()
        self._texts = (a, b)
        self.whole_history = whole_history
        self.result: Comparison | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader("Compare")
        with Vertical(id="compare-body"):
            with Horizontal(classes="cohort"):
                yield Label("A ", classes="cohort-label")
                yield Input(self._texts[0], placeholder="a view name or a query "
                            "(handoff:yes sentiment:negative)", compact=True, id="cohort-a")
            with Horizontal(classes="cohort"):
                yield Label("B ", classes="cohort-label")
                yield Input(self._texts[1], placeholder="empty: the whole project",
                            compact=True, id="cohort-b")
            yield Static("", id="compare-status", markup=False)
            yield DataTable(id="metrics", cursor_type="row", zebra_stripes=True)
            yield Static("", id="compare-note", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#metrics", DataTable)
        table.add_columns("metric", "A", "B", "Δ pp", "95% interval of B − A", "")
        self.action_run()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_run()
        self.query_one("#metrics", DataTable).focus()

    def action_run(self) -> None:
        self.query_one("#compare-status", Static).update(
            "comparing… · below: the last comparison" if self.result else "comparing…")
        self._compare(self.query_one("#cohort-a", Input).value,
                      self.query_one("#cohort-b", Input).value)

    @work(exclusive=True, group="compare", exit_on_error=False)
    async def _compare(self, text_a: str, text_b: str) -> None:
        from api.compare import CompareError, cohort_from, compare

        app = services(self)
        filters = app.filters
        try:
            now = app.now()
            path = app.settings.config_file
            a, b = cohort_from(text_a, path, now), cohort_from(text_b, path, now)
            client = await app.get_client()
            window = (None, None) if self.whole_history else (filters.start_date,
                                                                filters.end_date)
            result = await compare(client, client.project_id, a, b, *window)
        except CompareError as exc:
            self._failed(one_line(str(exc), 300))
            return
        except Exception as exc:  # noqa: BLE001 - the API's error, in one line
            self._failed(f"{one_line(str(exc) or type(exc).__name__, 300)} · ctrl+r: compare "
                         "again")
            return
        if (self.query_one("#cohort-a", Input).value,
                self.query_one("#cohort-b", Input).value) != (text_a, text_b):
            return  # stale: the cohorts were edited meanwhile
        self.result = result
        self._show(result)

    def _failed(self, why: str) -> None:
        """The error in place of the figures: none of an earlier comparison stays, unlabelled,
        under a line that no longer names its cohorts."""
        self.result = None
        self.query_one("#metrics", DataTable).clear()
        self.query_one("#compare-status", Static).update(Text(f"✗ {why}", style="bold red"))

    def _show(self, result: Comparison) -> None:
        lookups = services(self).lookups

        def name(cohort: Cohort) -> str:
            version = cohort.query.playbook_id
            if version and cohort.label == f"playbook:{version}":  # its name, not its id
                return lookups.version_label(version)
            return cohort.label or "the whole project"

        na, nb = result.conversations
        self.query_one("#compare-status", Static).update(
            f"A: {one_line(name(result.a), 60)} ({na:,}) · B: {one_line(name(result.b), 60)} "
            f"({nb:,}) · {span_text(result.start, result.end)}")
        table = self.query_one("#metrics", DataTable)
        table.clear()
        spans = [abs(v) for m in result.metrics if m.ci95_pp for v in m.ci95_pp]
        scale = max([5.0, *spans])
        for metric, kept in zip(result.metrics, result.holm_kept, strict=True):
            a, b = metric.a, metric.b
            cells: list[str | Text] = [
                metric.name,
                f"{a.pct:.1f}%" if a.pct is not None else "–",
                f"{b.pct:.1f}%" if b.pct is not None else "–",
            ]
            if metric.delta_pp is not None and metric.ci95_pp is not None:
                low, high = metric.ci95_pp
                cells += [f"{metric.delta_pp:+.1f}",
                          interval_bar(low, high, metric.delta_pp, scale),
                          Text("significant, Holm too" if kept else "significant",
                               style="bold") if metric.significant else ""]
            else:
                cells += ["–", Text("no base", style="dim"), ""]
            table.add_row(*cells, key=metric.name)
        note = result.multiple_comparisons_note()
        self.query_one("#compare-note", Static).update(
            f"Δ = B − A; the line is the 95% interval over ±{scale:.0f} pp, │ marks 0. "
            f"{note}")

    @on(DataTable.RowSelected, "#metrics")
    def _row_selected(self) -> None:
        self.action_open("a")

    def action_open(self, side: str) -> None:
        """The conversations of cohort `side` that the highlighted metric counts."""
        from api.compare import metric_query

        result = self.result
        table = self.query_one("#metrics", DataTable)
        if result is None or not result.metrics:
            return
        metric = result.metrics[table.cursor_row]
        query = metric_query(result.a if side == "a" else result.b, metric.name)
        if query is None:
            self.notify(f"{side.upper()} has no conversation for {metric.name}", timeout=3,
                        markup=False)
            return
        services(self).drill_down(query)
