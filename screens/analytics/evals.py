"""Evals: test cases per assistant, its runs (paged) with pass/fail counts, a run's results.

Cases and runs are listed by the assistant's *base* id (``api.endpoints.evals``). The shared
window does not apply (runs are listed newest first).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from api import models as m
from api.endpoints import configuration as config
from api.endpoints import evals
from api.query import ConversationQuery
from api.text import sanitize
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import fmt_int, when
from widgets.charts import number_cell, plain
from widgets.figures import FigureText
from widgets.tables import PagedTable, TitledTable

RUNS_PAGE = 10
RESULTS = ("#results", "#result-detail")  # what a run's results repaint
VERDICT_MARK = {"passed": "✓", "failed": "✗", "ambiguous": "~"}


def _count(value: float | None) -> Any:
    return number_cell(fmt_int(value) or "—")


def case_rows(cases: list[m.EvalCase]) -> list[tuple[str, list]]:
    rows = []
    for i, c in enumerate(cases):
        enabled = c.is_enabled if c.is_enabled is not None else c.enabled
        rows.append(
            (
                c.id or str(i),
                [
                    plain(c.name),
                    plain("yes" if enabled is not False else "no"),
                    _count(c.max_turns),
                    _count(len(c.assertions)),
                    plain(c.first_message or c.input or ""),
                ],
            )
        )
    return rows


def run_rows(runs: list[m.EvalRun]) -> list[tuple[str, list]]:
    return [
        (
            r.id or str(i),
            [
                plain(when(r.created_at)),
                plain(r.name or ""),
                plain(f"v{r.playbook_version or 0}"),
                plain(r.status),
                _count(r.passed_cases),
                _count(r.failed_cases),
                _count(r.error_cases),
                _count(r.total_cases),
            ],
        )
        for i, r in enumerate(runs)
    ]


def result_rows(results: list[m.EvalResult]) -> list[tuple[str, list]]:
    return [
        (
            r.id or str(i),
            [
                plain(r.case_name or r.case_id),
                plain(r.status, style="bold red" if r.status == "failed" else ""),
                _count(r.passed_assertions),
                _count(r.failed_assertions),
                plain(r.error_message or ""),
            ],
        )
        for i, r in enumerate(results)
    ]


def result_detail(result: m.EvalResult) -> Text:
    """A result's assertions: verdict, criteria and the judge's explanation (untrusted text)."""
    out = Text()
    out.append(sanitize(result.case_name or result.case_id) or "—", style="bold")
    if result.error_message:
        out.append("\nerror: ", style="bold red")
        out.append(plain(result.error_message))
    for a in result.assertion_results:
        verdict = sanitize(a.verdict) or ("passed" if a.passed else "failed")
        out.append(
            f"\n{VERDICT_MARK.get(verdict, '?')} {verdict}: ",
            style="red" if verdict == "failed" else "",
        )
        out.append(plain(a.criteria))
        if a.explanation:
            out.append(" — ", style="dim")
            out.append(plain(a.explanation, style="dim"))
    return out


class EvalsScreen(AnalyticsScreen):
    TITLE = "Evals"
    SUBTITLE = "Eval cases and runs per assistant (not filtered by the shared window)"
    CSS_PATH = ["analytics.tcss"]
    WINDOWED = False

    def __init__(self) -> None:
        super().__init__()
        self.base_id: str | None = None
        self._results_shown = False
        self.run_id: str | None = None  # the run whose results are shown (or asked for)
        self.results: dict[str, m.EvalResult] = {}  # the shown run's, by row key

    def scope_of(self, filters: ConversationQuery) -> Hashable:
        return "project"  # no filter applies: only ctrl+r reloads

    def scope_text(self, filters: ConversationQuery) -> Text:
        return Text("window: not applied — every eval case and run, newest runs first")

    def compose_body(self) -> ComposeResult:
        yield TitledTable("Assistants — enter: its cases and runs", ("assistant",), id="assistants")
        yield TitledTable(
            "Cases", ("case", "enabled", "max turns", "assertions", "first message"), id="cases"
        )
        yield PagedTable(
            "Runs — enter: per-case results",
            ("created", "name", "version", "status", "passed", "failed", "errors", "cases"),
            page_size=RUNS_PAGE,
            id="runs",
        )
        yield TitledTable("Results", ("case", "status", "passed", "failed", "error"), id="results")
        yield FigureText("", id="result-detail")

    async def load(self, filters: ConversationQuery) -> None:
        await self.swr(config.playbooks(self.project), self.paint_assistants)
        if self.base_id:
            await self.load_assistant(self.base_id)

    def paint_assistants(self, playbooks: list[m.Playbook]) -> None:
        latest = config.latest_versions(playbooks)
        if self.base_id not in latest:
            self.base_id = next(iter(latest), None)
        self.query_one("#assistants", TitledTable).set_rows(
            [(base, [plain(pb.name or base)]) for base, pb in latest.items()],
            empty_text="no assistant",
        )

    async def load_assistant(self, base_id: str) -> None:
        await self.gather(
            self.swr(
                evals.eval_cases(base_id),
                lambda cases: self.query_one("#cases", TitledTable).set_rows(
                    case_rows(cases), empty_text="no eval case for this assistant"
                ),
            ),
            self.load_runs(base_id, 0),
        )

    async def load_runs(self, base_id: str, offset: int) -> None:
        page = offset // RUNS_PAGE + 1
        await self.swr(evals.eval_runs(base_id, page=page, page_size=RUNS_PAGE), self.paint_runs)

    def paint_runs(self, data: m.EvalRunPage) -> None:
        runs = data.items
        newest = runs[0].id if runs else None
        if newest and not self._results_shown:
            self._results_shown = True  # the newest run's results until another is chosen
            self.run_task(self.load_results(newest), "results", RESULTS)
        elif self.run_id and self.query_one("#results", TitledTable).figure_state != "fresh":
            self.run_task(self.load_results(self.run_id), "results", RESULTS)  # ctrl+r retries
        page = data.page or 1
        self.query_one("#runs", PagedTable).set_page(
            run_rows(runs),
            offset=(page - 1) * RUNS_PAGE,
            total=data.total,
            empty_text="no eval run yet",
        )

    async def load_results(self, run_id: str) -> None:
        self.run_id = run_id
        table = self.query_one("#results", TitledTable)
        table.set_title(
            f"Results of run {sanitize(run_id)} — enter on another run to see its results"
        )
        await self.swr(evals.eval_results(run_id), self.paint_results)

    def paint_results(self, results: list[m.EvalResult]) -> None:
        self.results = {r.id or str(i): r for i, r in enumerate(results)}
        self.query_one("#results", TitledTable).set_rows(
            result_rows(results), empty_text="no result in this run"
        )
        first = next(iter(self.results.values()), None)
        self.query_one("#result-detail", Static).update(result_detail(first) if first else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.data_table.parent is self.query_one("#results"):
            result = self.results.get(str(event.row_key.value))
            if result:
                self.query_one("#result-detail", Static).update(result_detail(result))

    def on_titled_table_selected(self, event: TitledTable.Selected) -> None:
        if event.table.id == "assistants":
            self.base_id = event.key
            self._results_shown = False
            self.run_task(
                self.load_assistant(event.key), "assistant", ("#cases", "#runs", *RESULTS)
            )
        elif event.table.id == "runs":
            self.run_task(self.load_results(event.key), "results", RESULTS)

    def on_paged_table_page_requested(self, event: PagedTable.PageRequested) -> None:
        if self.base_id:
            self.run_task(self.load_runs(self.base_id, event.offset), "runs")
