"""Deployment impact: each deployment of an assistant, newest first, the metrics of
`api.compare` in the N days before (A) against the N days after (B), each difference drawn as
its 95% interval around 0, and the conversations behind a metric one key away.

Reached from the Configuration screen's assistants and deployment history (and the palette).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static

from api.text import one_line
from screens.analytics.fmt import when
from screens.compare import interval_bar
from screens.resume import KeepStylesOnResume
from screens.services import services
from widgets.charts import number_cell, plain
from widgets.footer import KeyBar
from widgets.status_header import StatusHeader
from widgets.tables import TitledTable

if TYPE_CHECKING:
    from api.impact import DeploymentImpact, Impact, Window
    from api.lookups import Assistant

# the cells carry their own one-space gutter (the table's padding is 0): 80 columns fit
COLUMNS = ("metric", "     A", "     B", "  Δ pp", " 95% interval of B − A")
MIN_SCALE = 5.0  # pp: the narrowest drawing, so that small intervals do not look wide
NAME_CHARS = 60


def _pct(value: float | None) -> Text:
    return number_cell(" –" if value is None else f" {value:.1f}%")


def _window_line(label: str, window: Window | None, conversations: int | None) -> Text:
    line = Text(f"{label} ", style="bold")
    if window is None:
        line.append("no time on this side", style="dim")
        return line
    line.append(f"{when(window.start)} → {when(window.end)}")
    if conversations is not None:
        line.append(f" · {conversations:,} conversations")
    if window.clipped:
        line.append(f" · clipped {window.clipped}", style="yellow")
    return line


def _heading(dep: DeploymentImpact) -> Text:
    version = f"v{dep.version}" if dep.version is not None else "version ?"
    out = Text(f"{version} deployed {when(dep.deployed_at)}", style="bold")
    if dep.activated_by:
        out.append(f" by {one_line(dep.activated_by, 40)}", style="bold")
    counts = dep.comparison.conversations if dep.comparison else (None, None)
    out.append("\n")
    out.append_text(_window_line("before (A)", dep.before, counts[0]))
    out.append("\n")
    out.append_text(_window_line("after  (B)", dep.after, counts[1]))
    return out


def _rows(dep: DeploymentImpact, scale: float) -> list[tuple[str, list[Text]]]:
    rows = []
    kept = dep.comparison.holm_kept if dep.comparison else (False,) * len(dep.metrics)
    for metric, holm in zip(dep.metrics, kept, strict=True):
        cells = [plain(metric.name), _pct(metric.a.pct), _pct(metric.b.pct)]
        if metric.delta_pp is not None and metric.ci95_pp is not None:
            low, high = metric.ci95_pp
            mark = "**" if holm else "* " if metric.significant else "  "
            cells += [number_cell(f" {metric.delta_pp:+.1f}{mark}"),
                      Text(" ").append_text(interval_bar(low, high, metric.delta_pp, scale))]
        else:
            cells += [number_cell(" – "), Text(" no base", style="dim")]
        rows.append((metric.name, cells))
    return rows


def _note(dep: DeploymentImpact) -> str:
    assert dep.comparison is not None
    note = dep.comparison.multiple_comparisons_note()
    avg_a, avg_b = dep.average_messages
    if avg_a is not None or avg_b is not None:
        shown = ["–" if v is None else f"{v:.1f}" for v in (avg_a, avg_b)]
        note += f"; messages per conversation {shown[0]} → {shown[1]}"
    return note


class ImpactScreen(KeepStylesOnResume, Screen[None]):
    """Every deployment of one assistant: before against after, metric by metric."""

    CSS_PATH = "impact.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="impact.back"),
        Binding("b", "open('before')", "Before's conversations", id="impact.open_before"),
        Binding("plus,equals_sign", "days(1)", "More days", id="impact.more_days"),
        Binding("minus", "days(-1)", "Fewer days", id="impact.fewer_days"),
        Binding("ctrl+r", "run", "Load again", id="impact.run", show=False),
    ]

    def __init__(self, assistant_base_id: str, days: int = 7) -> None:
        """`assistant_base_id`: the assistant's base id (a name is found too, as by
        `studio-tui impact`); `days` either side of each deployment."""
        from api.impact import MAX_DAYS

        super().__init__()
        self.assistant_base_id = assistant_base_id
        self.days = max(1, min(MAX_DAYS, days))
        self.result: Impact | None = None  # what the sections show
        self._assistant: Assistant | None = None
        self._sections: dict[str, DeploymentImpact] = {}  # table id -> its deployment

    def compose(self) -> ComposeResult:
        yield StatusHeader("Deployment impact")
        yield Static("", id="impact-status", markup=False)
        yield VerticalScroll(id="impact-body")
        yield Static("", id="impact-note", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.action_run()

    # -------------------------------------------------------------- loading
    def action_run(self) -> None:
        self.query_one("#impact-status", Static).update(
            f"loading {self.days} days either side of each deployment…")
        self.query_one("#impact-body").add_class("-outdated")
        self._load(self.days)

    def action_days(self, step: int) -> None:
        from api.impact import MAX_DAYS

        days = max(1, min(MAX_DAYS, self.days + step))
        if days != self.days:
            self.days = days
            self.action_run()

    @work(exclusive=True, group="impact", exit_on_error=False)
    async def _load(self, days: int) -> None:
        from api.impact import find_assistant, impact, load_assistants

        app = services(self)
        try:
            client = await app.get_client()
            if self._assistant is None:
                playbooks = await load_assistants(client, client.project_id)
                self._assistant = find_assistant(playbooks, self.assistant_base_id)
            result = await impact(client, client.project_id, self._assistant, days=days,
                                  now=app.now())
        except Exception as exc:  # noqa: BLE001 - an unknown assistant or the API's error
            if days == self.days:
                await self._failed(one_line(str(exc) or type(exc).__name__, 300))
            return
        if days != self.days:
            return  # stale: the days were changed meanwhile
        await self._show(result)

    async def _failed(self, message: str) -> None:
        """The error in place of the figures: none of another number of days stays."""
        self.result = None
        self._sections = {}
        body = self.query_one("#impact-body", VerticalScroll)
        await body.remove_children()
        body.remove_class("-outdated")
        self.query_one("#impact-status", Static).update(Text(f"✗ {message}", style="bold red"))
        self.query_one("#impact-note", Static).update("")

    async def _show(self, result: Impact) -> None:
        focus = self._focused_position()
        body = self.query_one("#impact-body", VerticalScroll)
        await body.remove_children()
        body.remove_class("-outdated")
        self.result = result
        self._sections = {}
        newest_first = list(reversed(result.deployments))
        spans = [abs(v) for dep in newest_first for m in dep.metrics if m.ci95_pp
                 for v in m.ci95_pp]
        scale = max([MIN_SCALE, *spans])
        widgets: list[Static | TitledTable] = []
        tables: list[tuple[TitledTable, DeploymentImpact]] = []
        for i, dep in enumerate(newest_first):
            widgets.append(Static(_heading(dep), classes="deployment-heading"))
            counts = dep.comparison.conversations if dep.comparison else (0, 0)
            if dep.comparison is None or counts == (0, 0):
                why = "no time on one side" if dep.comparison is None \
                    else "no conversation before or after"
                widgets.append(Static(Text(f"no comparison: {why}"),
                                      classes="deployment-missing"))
                continue
            table = TitledTable("A = before, B = after · enter: B's conversations · b: A's",
                                COLUMNS, id=f"deployment-{i}", classes="deployment-metrics")
            self._sections[f"deployment-{i}"] = dep
            widgets.append(table)
            tables.append((table, dep))
        await body.mount_all(widgets)
        for table, dep in tables:
            table.table.cell_padding = 0
            table.set_rows(_rows(dep, scale))
            table.set_note(_note(dep))
        assistant = result.assistant
        status = (f"{one_line(assistant.name, NAME_CHARS)} · {len(result.deployments)} "
                  f"deployments · {result.days} days either side (+/-) · UTC")
        if not result.csat_configured:
            status += " · CSAT not configured"
        self.query_one("#impact-status", Static).update(status)
        self.query_one("#impact-note", Static).update(
            f"Δ = B − A · * significant, ** after Holm too · line: 95% interval, "
            f"±{scale:.0f} pp, │ = 0")
        self._restore_focus(focus, tables)

    def _focused_position(self) -> tuple[str, int] | None:
        table = self._focused_table()
        if table is None:
            return None
        return str(table.id), table.table.cursor_row

    def _restore_focus(self, position: tuple[str, int] | None,
                       tables: list[tuple[TitledTable, DeploymentImpact]]) -> None:
        if not tables:
            return
        found = next((t for t, _ in tables if position and t.id == position[0]), tables[0][0])
        found.table.focus()
        if position and found.id == position[0]:
            found.table.move_cursor(row=position[1])

    # -------------------------------------------------------------- drill-down
    def _focused_table(self) -> TitledTable | None:
        focused = self.focused
        if isinstance(focused, DataTable) and isinstance(focused.parent, TitledTable) \
                and focused.parent.id in self._sections:
            return focused.parent
        return None

    @on(DataTable.RowHighlighted)
    def _follow_cursor(self, event: DataTable.RowHighlighted) -> None:
        # a table scrolls its own rows only: the body must show the table the cursor is in
        if event.data_table.has_focus:  # (filling a table highlights its first row too)
            self.call_after_refresh(self._show_row, event.data_table)

    def _show_row(self, table: DataTable) -> None:
        body = self.query_one("#impact-body", VerticalScroll)
        y = table.region.y + table.header_height + table.cursor_row - round(table.scroll_y)
        if y < body.region.y:
            body.scroll_relative(y=y - body.region.y, animate=False)
        elif y >= body.region.bottom:
            body.scroll_relative(y=y - body.region.bottom + 1, animate=False)

    @on(TitledTable.Selected, ".deployment-metrics")
    def _selected(self) -> None:
        self.action_open("after")

    def action_open(self, side: str) -> None:
        """The conversations of the `side` window that the highlighted metric counts."""
        from api.compare import metric_query
        from api.impact import CSAT_METRIC

        table = self._focused_table()
        if table is None:
            return
        if self.result is None or self.result.days != self.days:
            self.notify("Still loading the new number of days", timeout=3, markup=False)
            return
        dep = self._sections[str(table.id)]
        comparison = dep.comparison
        if comparison is None or not dep.metrics:
            return
        metric = dep.metrics[table.table.cursor_row]
        if metric.name == CSAT_METRIC:
            self.notify("CSAT: the explorer cannot filter conversations by rating", timeout=3,
                        markup=False)
            return
        query = metric_query(comparison.b if side == "after" else comparison.a, metric.name)
        if query is None:
            self.notify(f"{side.capitalize()}: no conversation counts for {metric.name}",
                        timeout=3, markup=False)
            return
        services(self).drill_down(query)
