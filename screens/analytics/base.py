"""The base of every analytics screen: shared filters, loading from the cache first, drill-down.

The app provides (see docs/ARCHITECTURE.md, "The UI"): ``app.client`` (the one StudioClient),
``app.filters`` (a reactive ConversationQuery holding the shared date range, assistant and
tags) and ``app.drill_down(query)`` (opens the explorer on that query).

A screen implements ``load(filters)``; the base runs it in an exclusive worker whenever the
screen opens or the shared filters change (a newer load cancels the older one), and turns any
failure into one notification while the last figures stay on screen. ``swr(path, params,
paint)`` paints the cached answer at once and the fresh one when it arrives.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from api.errors import StudioError
from api.query import ConversationQuery, QueryError
from screens.analytics.fmt import seg
from widgets.charts import ChartBase
from widgets.conversation_table import parse_ts  # ISO 8601 -> aware datetime (naive = UTC)
from widgets.filter_bar import FilterBar
from widgets.footer import KeyBar
from widgets.status_header import StatusHeader

Paint = Callable[[Any], None]
#: the load generation a worker was started for (set inside each load/task worker's context)
_GENERATION: ContextVar[int | None] = ContextVar("analytics_generation", default=None)
WINDOW_PRESETS = ("24h", "7d", "30d", "90d")


class AnalyticsScreen(Screen):
    """A screen of figures over the shared filters. Subclasses: ``compose_body`` and ``load``."""

    BINDINGS = [
        Binding("x", "toggle_table", "Chart/table view", id="analytics.toggle_table"),
        Binding("w", "cycle_window", "Window 24h/7d/30d/90d", id="analytics.cycle_window"),
    ]

    TITLE = "Analytics"
    AUTO_FOCUS = "DataTable"  # the first table of bars/rows: arrows + enter drill down at once
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    #: one line under the filter bar saying what the figures are
    SUBTITLE = ""
    #: ``run_task`` groups a reload leaves running (jobs the user started, not figures)
    KEEP_ON_RELOAD: frozenset[str] = frozenset()

    def __init__(self) -> None:
        super().__init__()
        self._loaded_filters: ConversationQuery | None = None
        self._revalidate = False  # ctrl+r: ask the API even when the cache is fresh
        self.load_count = 0  # completed loads (tests wait on workers, this helps debugging)
        self.generation = 0  # bumped by every reload: older loads and tasks are stale

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE)
        yield FilterBar()
        if self.SUBTITLE:
            yield Static(self.SUBTITLE, classes="analytics-subtitle", markup=False)
        with VerticalScroll(classes="analytics-body"):
            yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---------------------------------------------------------------- loading
    def on_mount(self) -> None:
        self.sub_title = self.TITLE
        self.watch(self.app, "filters", self._filters_changed, init=False)
        self.reload()

    def on_screen_resume(self) -> None:
        if self._loaded_filters is not None and self._loaded_filters != self.filters:
            self.reload()

    def _filters_changed(self, _filters: ConversationQuery) -> None:
        if self.is_current:
            self.reload()

    @property
    def filters(self) -> ConversationQuery:
        return self.app.filters

    @property
    def client(self):  # noqa: ANN201 - StudioClient
        return self.app.client

    @property
    def pid(self) -> str:
        """The project id as a quoted URL path segment."""
        return seg(self.client.project_id)

    def reload(self) -> None:
        """(Re)load every figure of the screen for the current shared filters."""
        filters = self.filters
        self._loaded_filters = filters
        self.generation += 1
        for worker in list(self.workers):  # pages, selections started for the older filters
            if worker.node is self and worker.group not in self.KEEP_ON_RELOAD:
                worker.cancel()
        self.run_worker(
            self._in_generation(self._run_load(filters)),
            exclusive=True,
            group="load",
            exit_on_error=False,
        )

    async def _in_generation(self, coro: Awaitable[None]) -> None:
        _GENERATION.set(self.generation)  # this worker's own context: seen by swr/is_stale
        await coro

    def is_stale(self) -> bool:
        """Whether the running load/task was started before the latest reload."""
        started = _GENERATION.get()
        return started is not None and started != self.generation

    def refresh_data(self) -> None:
        """The app's ctrl+r: reload, asking the API even when the cache is fresh."""
        self._revalidate = True
        self.reload()

    async def _run_load(self, filters: ConversationQuery) -> None:
        get_client = getattr(self.app, "get_client", None)
        if get_client is not None:  # StudioApp builds its client off the event loop
            await get_client()
        try:
            await self.load(filters)
        finally:
            self._revalidate = False
        self.load_count += 1

    async def load(self, filters: ConversationQuery) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def run_task(self, coro: Awaitable[None], group: str) -> None:
        """Run a secondary load (a page, a selection) in its own exclusive worker group.

        A reload cancels it (unless its group is in ``KEEP_ON_RELOAD``), and ``swr`` drops what
        it would paint once a newer reload has started."""
        self.run_worker(self._in_generation(coro), exclusive=True, group=group, exit_on_error=False)

    async def swr(self, path: str, params: dict[str, Any] | None, paint: Paint) -> Any:
        """Paint the cached answer at once, then the fresh one; return the last data."""
        data = None
        async for result in self.client.get_swr(path, params or None, revalidate=self._revalidate):
            if self.is_stale():  # started for older filters: never paints over newer figures
                return data
            data = result.data
            note = getattr(self.app, "note_result", None)
            if note is not None:
                note(result)
            paint(data)
        return data

    async def fetch(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """One answer (from the cache while fresh, else the API), for parts painted once."""
        return await self.client.get(path, params or None)

    @staticmethod
    async def gather(*coros: Awaitable[Any]) -> list[Any]:
        """Run concurrently; a failed part does not stop the others from painting, and the
        first failure is raised once they are all done."""
        results = await asyncio.gather(*coros, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return list(results)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.show_error(event.worker.error)

    def show_error(self, error: BaseException | None) -> None:
        """One line: a StudioError's message, else the kind of failure (never a traceback).

        The app's ``report_error`` (one place for API errors, ctrl+r retries) when it has one.
        """
        if not isinstance(error, StudioError):
            error = StudioError(f"could not load {self.TITLE} ({type(error).__name__})")
        for widget in self.query("ChartBase, TitledTable"):
            widget.mark_failed()
        report = getattr(self.app, "report_error", None)
        if report is not None:
            report(error, self.refresh_data)
        else:
            self.notify(str(error), title=self.TITLE, severity="error", timeout=8, markup=False)

    def now(self) -> datetime:
        """The app's clock (the demo's anchor on the demo backend), else the wall clock."""
        now = getattr(self.app, "now", None)
        return now() if now is not None else datetime.now(UTC)

    # ---------------------------------------------------------------- drill-down
    def open_conversations(self, ids: list[str] | tuple[str, ...], title: str) -> None:
        """Exact conversations (a topic's, a rating's, ...): the list endpoint cannot filter
        by ids, so one id opens the conversation view and several open a list read through
        the batch endpoint (screens/analytics/ids.py)."""
        ids = [i for i in dict.fromkeys(ids) if i]
        if not ids:
            self.notify(
                "No conversation is attached to this row.", severity="warning", markup=False
            )
        elif len(ids) == 1:
            from screens.conversation import ConversationScreen

            self.app.push_screen(ConversationScreen(ids[0]))
        else:
            from screens.analytics.ids import ConversationIdsScreen

            self.app.push_screen(ConversationIdsScreen(ids, title))

    def drill(self, **changes: Any) -> None:
        """Open the explorer on the shared filters plus ``changes``."""
        try:
            query = self.filters.replace(**changes)
        except QueryError as exc:
            self.notify(f"cannot open these conversations: {exc}", severity="warning", markup=False)
            return
        self.app.drill_down(query)

    def action_cycle_window(self) -> None:
        """The next shared date preset (the explorer follows: the window is shared)."""
        from widgets.filter_sidebar import preset_range

        current = getattr(self.app, "date_preset", None)
        index = WINDOW_PRESETS.index(current) if current in WINDOW_PRESETS else -1
        preset = WINDOW_PRESETS[(index + 1) % len(WINDOW_PRESETS)]
        start, end = preset_range(preset, self.now())
        try:
            query = self.filters.replace(start_date=start, end_date=end)
        except QueryError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        set_filters = getattr(self.app, "set_filters", None)
        if set_filters is not None:
            set_filters(query, preset)
        else:
            self.app.filters = query
        self.notify(f"Window: last {preset}", timeout=2, markup=False)

    # ---------------------------------------------------------------- view
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_table":
            return bool(self.query(ChartBase))  # no chart on this screen: no binding shown
        return True

    def action_toggle_table(self) -> None:
        charts = list(self.query(ChartBase))
        if not charts:
            return
        table_view = not charts[0].table_view
        for chart in charts:
            chart.table_view = table_view


# -------------------------------------------------------------------- date helpers
def resource_dates(filters: ConversationQuery) -> dict[str, str]:
    """Resource analytics take ``YYYY-MM-DD``: the UTC days the shared window touches.

    The end is inclusive there, so an end at midnight means the day before.
    """
    params: dict[str, str] = {}
    start = parse_ts(filters.start_date)
    end = parse_ts(filters.end_date)
    if start is not None:
        params["start_date"] = start.astimezone(UTC).date().isoformat()
    if end is not None:
        end_utc = end.astimezone(UTC)
        last: date = end_utc.date()
        if end_utc.time() == datetime.min.time():
            last -= timedelta(days=1)
        params["end_date"] = last.isoformat()
    return params
