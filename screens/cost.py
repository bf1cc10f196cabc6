"""Cost per resolution over the explorer's filters: what `studio-tui cost` reports, read with
progress (every conversation's messages, or a sample of them with its interval).

Conversations whose messages carry no cost are counted apart, never as $0; when none carries
any, the screen says so and shows no figure.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, ProgressBar, Static

from api.text import one_line
from screens.resume import KeepStylesOnResume
from screens.services import services
from widgets.filter_bar import span_text
from widgets.footer import KeyBar
from widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from api.cost import CostProgress, CostReport, Estimate
    from api.query import ConversationQuery

SAMPLE = 300  # conversations read by `s` (a sample), against all of them by default


def usd(estimate: Estimate) -> tuple[str, str, str]:
    """(value, n, 95% interval) as shown: a missing figure is a dash, never $0."""
    value = f"${estimate.value:.4f}" if estimate.value is not None else "–"
    interval = (f"${estimate.ci95[0]:.4f} – ${estimate.ci95[1]:.4f}" if estimate.ci95
                else "")
    return value, f"{estimate.n:,}", interval


class CostScreen(KeepStylesOnResume, Screen[None]):
    """Cost per conversation, per AI-resolved conversation, per resolution, per version and
    per model."""

    CSS_PATH = "cost.tcss"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="cost.back"),
        Binding("s", "toggle_sample", "Sample / all", id="cost.sample"),
        Binding("ctrl+r", "run", "Read again", show=False, id="cost.run"),
    ]

    class Read(Message):
        """Progress of the reading (posted from the worker; the last one wins)."""

        def __init__(self, progress: CostProgress) -> None:
            super().__init__()
            self.progress = progress

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, CostScreen.Read)

    def __init__(self, query: ConversationQuery, sample: int | None = None) -> None:
        super().__init__()
        self.query_obj = query
        self.sample = sample
        self.report: CostReport | None = None

    def compose(self) -> ComposeResult:
        yield StatusHeader("Cost")
        with Vertical(id="cost-body"):
            yield Static("", id="cost-status", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="cost-progress")
            yield DataTable(id="cost-figures", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="cost-versions", cursor_type="row", zebra_stripes=True)
            yield DataTable(id="cost-models", cursor_type="row", zebra_stripes=True)
            yield Static("", id="cost-note", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#cost-figures", DataTable).add_columns("figure", "USD", "n",
                                                               "95% interval")
        self.query_one("#cost-versions", DataTable).add_columns(
            "assistant version", "model", "convs", "total", "per conv")
        self.query_one("#cost-models", DataTable).add_columns(
            "model", "convs", "total", "per conv", "95% interval")
        self.action_run()

    def action_toggle_sample(self) -> None:
        self.sample = None if self.sample else SAMPLE
        self.action_run()

    def action_run(self) -> None:
        what = f"a sample of {self.sample:,}" if self.sample else "every conversation"
        self.query_one("#cost-status", Static).update(f"reading the messages of {what}…")
        self.add_class("-reading")
        self._read(self.query_obj, self.sample)

    @work(exclusive=True, group="cost", exit_on_error=False)
    async def _read(self, query: ConversationQuery, sample: int | None) -> None:
        from api.cost import collect_costs

        def progress(p: CostProgress) -> None:
            self.post_message(self.Read(p))

        app = services(self)
        try:
            client = await app.get_client()
            report = await collect_costs(client, query, sample=sample, progress=progress)
        except Exception as exc:  # noqa: BLE001 - one line in place of the figures
            self.remove_class("-reading")
            self.query_one("#cost-status", Static).update(
                f"✗ {one_line(str(exc) or type(exc).__name__, 300)}")
            return
        if sample != self.sample:
            return  # stale: `s` was pressed meanwhile
        self.report = report
        self._show(report)

    @on(Read)
    def _progress(self, event: Read) -> None:
        self.query_one("#cost-progress", ProgressBar).update(total=event.progress.total,
                                                              progress=event.progress.done)

    def _show(self, report: CostReport) -> None:
        self.remove_class("-reading")
        sampled = (f"a sample of {report.sample_size:,} of {report.in_window:,}"
                   if report.sample_size is not None else f"all {report.in_window:,}")
        self.query_one("#cost-status", Static).update(
            f"{span_text(report.start, report.end)} · {sampled} conversations · "
            f"with cost {report.with_cost:,}, without {report.without_cost:,}, partial "
            f"(left out) {report.partial_cost:,}")
        figures = self.query_one("#cost-figures", DataTable)
        versions = self.query_one("#cost-versions", DataTable)
        models = self.query_one("#cost-models", DataTable)
        figures.clear()
        versions.clear()
        models.clear()
        if report.has_cost:
            for name, estimate in (("per conversation", report.per_conversation),
                                   ("per AI-resolved conversation",
                                    report.per_resolved_conversation),
                                   ("per resolution (all cost / resolved)",
                                    report.per_resolution)):
                figures.add_row(name, *usd(estimate))
            for row in report.versions:
                label = f"{row.assistant} v{row.number}" if row.number is not None \
                    else row.assistant
                # API text as plain Text: a str cell would be read as markup
                versions.add_row(Text(one_line(label, 60)), Text(row.model or "?"),
                                 f"{row.conversations:,}", f"${row.cost_usd:.4f}",
                                 usd(row.per_conversation)[0])
            for model in report.models:
                value, _, interval = usd(model.per_conversation)
                models.add_row(Text(model.model or "(unknown model)"), f"{model.conversations:,}",
                               f"${model.cost_usd:.4f}", value, interval)
        self.query_one("#cost-note", Static).update(
            " · ".join(p for p in (report.note(), report.models_note, report.interval) if p))
