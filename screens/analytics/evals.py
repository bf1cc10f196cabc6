"""Evals: test cases per assistant, its runs (paged) with pass/fail counts, a run's results.

Endpoints take the playbook *base* id: ``/playbooks/{base}/eval-cases``,
``/playbooks/{base}/eval-runs?page=&page_size=``, ``/eval-runs/{id}/results``.
The shared window does not apply (runs are listed newest first).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from api.query import ConversationQuery
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import fmt_int, items, latest_playbooks, num, obj, seg, text, when
from widgets.charts import number_cell, plain
from widgets.figures import FigureText
from widgets.tables import PagedTable, TitledTable

RUNS_PAGE = 10
RESULTS = ("#results", "#result-detail")  # what a run's results repaint
VERDICT_MARK = {"passed": "✓", "failed": "✗", "ambiguous": "~"}


def _count(value: float | None) -> Any:
    return number_cell(fmt_int(value) or "—")


def case_rows(cases: Any) -> list[tuple[str, list]]:
    rows = []
    for i, c in enumerate(items(cases)):
        enabled = c.get("is_enabled", c.get("enabled"))
        assertions = c.get("assertions") if isinstance(c.get("assertions"), list) else []
        rows.append(
            (
                text(c, "id") or str(i),
                [
                    plain(text(c, "name")),
                    plain("yes" if enabled is not False else "no"),
                    _count(num(c, "max_turns")),
                    _count(len(assertions)),
                    plain(text(c, "first_message") or text(c, "input") or ""),
                ],
            )
        )
    return rows


def run_rows(runs: list[dict]) -> list[tuple[str, list]]:
    return [
        (
            text(r, "id") or str(i),
            [
                plain(when(r.get("created_at"))),
                plain(text(r, "name") or ""),
                plain(f"v{num(r, 'playbook_version') or 0:.0f}"),
                plain(text(r, "status")),
                _count(num(r, "passed_cases")),
                _count(num(r, "failed_cases")),
                _count(num(r, "error_cases")),
                _count(num(r, "total_cases")),
            ],
        )
        for i, r in enumerate(runs)
    ]


def result_rows(results: Any) -> list[tuple[str, list]]:
    return [
        (
            text(r, "id") or str(i),
            [
                plain(text(r, "case_name") or text(r, "case_id")),
                plain(text(r, "status"), style="bold red" if r.get("status") == "failed" else ""),
                _count(num(r, "passed_assertions")),
                _count(num(r, "failed_assertions")),
                plain(text(r, "error_message") or ""),
            ],
        )
        for i, r in enumerate(items(results))
    ]


def result_detail(result: dict) -> Text:
    """A result's assertions: verdict, criteria and the judge's explanation (untrusted text)."""
    out = Text()
    out.append(text(result, "case_name") or text(result, "case_id") or "—", style="bold")
    if text(result, "error_message"):
        out.append("\nerror: ", style="bold red")
        out.append(plain(text(result, "error_message")))
    for a in items(result, "assertion_results"):
        verdict = text(a, "verdict") or ("passed" if a.get("passed") else "failed")
        out.append(
            f"\n{VERDICT_MARK.get(verdict, '?')} {verdict}: ",
            style="red" if verdict == "failed" else "",
        )
        out.append(plain(text(a, "criteria")))
        if text(a, "explanation"):
            out.append(" — ", style="dim")
            out.append(plain(text(a, "explanation"), style="dim"))
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
        self.results: dict[str, dict] = {}

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
        await self.swr_path(f"/projects/{self.pid}/playbooks", None, self.paint_assistants)
        if self.base_id:
            await self.load_assistant(self.base_id)

    def paint_assistants(self, data: Any) -> None:
        bases = latest_playbooks(data)
        if self.base_id not in dict(bases):
            self.base_id = bases[0][0] if bases else None
        self.query_one("#assistants", TitledTable).set_rows(
            [(b, [plain(name)]) for b, name in bases], empty_text="no assistant"
        )

    async def load_assistant(self, base_id: str) -> None:
        await self.gather(
            self.swr_path(
                f"/playbooks/{seg(base_id)}/eval-cases",
                None,
                lambda d: self.query_one("#cases", TitledTable).set_rows(
                    case_rows(d), empty_text="no eval case for this assistant"
                ),
            ),
            self.load_runs(base_id, 0),
        )

    async def load_runs(self, base_id: str, offset: int) -> None:
        page = offset // RUNS_PAGE + 1
        await self.swr_path(
            f"/playbooks/{seg(base_id)}/eval-runs",
            {"page": page, "page_size": RUNS_PAGE},
            self.paint_runs,
        )

    def paint_runs(self, data: Any) -> None:
        data = obj(data)
        runs = items(data, "items")
        if runs and text(runs[0], "id") and not self._results_shown:
            self._results_shown = True  # the newest run's results until another is chosen
            self.run_task(self.load_results(text(runs[0], "id")), "results", RESULTS)
        elif self.run_id and self.query_one("#results", TitledTable).figure_state != "fresh":
            self.run_task(self.load_results(self.run_id), "results", RESULTS)  # ctrl+r retries
        page = int(num(data, "page") or 1)
        total = num(data, "total")
        self.query_one("#runs", PagedTable).set_page(
            run_rows(runs),
            offset=(page - 1) * RUNS_PAGE,
            total=None if total is None else int(total),
            empty_text="no eval run yet",
        )

    async def load_results(self, run_id: str) -> None:
        self.run_id = run_id
        table = self.query_one("#results", TitledTable)
        table.set_title(f"Results of run {run_id} — enter on another run to see its results")
        await self.swr_path(f"/eval-runs/{seg(run_id)}/results", None, self.paint_results)

    def paint_results(self, data: Any) -> None:
        self.results = {text(r, "id") or str(i): r for i, r in enumerate(items(data))}
        self.query_one("#results", TitledTable).set_rows(
            result_rows(data), empty_text="no result in this run"
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
