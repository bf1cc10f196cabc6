"""The base of every analytics screen: shared filters, loading from the cache first, drill-down.

The app provides (see docs/ARCHITECTURE.md, "The UI"): ``app.client`` (the one StudioClient),
``app.filters`` (a reactive ConversationQuery holding the shared date range, assistant and
tags) and ``app.drill_down(query)`` (opens the explorer on that query).

A screen implements ``load(filters)``; the base runs it in an exclusive worker whenever the
screen opens or the shared filters change (a newer load cancels the older one), and turns any
failure into one notification. ``swr(path, params, paint)`` paints the cached answer at once
and the fresh one when it arrives.

Figures never outlive their window (widgets/figures.py): a reload dims every figure widget;
those it repaints are current; when it fails, those it did not repaint show the error in place
of their figures, unless they are of the same scope (a ctrl+r on the same window and filters:
kept, marked "stale"), and the header says how many did not load. "All" (no dates) is resolved
to an explicit window every dated endpoint accepts (``resolve_window``), and the filter line
shows the window and filters the figures really cover (``scope_text``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from api.client import StudioClient
from api.dates import ISO, parse_ts, stable_end
from api.endpoints import Endpoint, conversations
from api.errors import StudioError
from api.query import ConversationQuery, QueryError
from api.text import one_line, sanitize
from screens.resume import KeepStylesOnResume
from screens.services import Services, services
from widgets.charts import ChartBase
from widgets.figures import FigureState
from widgets.filter_bar import FilterBar, describe_query
from widgets.footer import KeyBar
from widgets.scroll_body import ScrollBody
from widgets.status_header import StatusHeader, connection_state

Paint = Callable[[Any], None]
T = TypeVar("T")
#: the load generation a worker was started for (set inside each load/task worker's context)
_GENERATION: ContextVar[int | None] = ContextVar("analytics_generation", default=None)
WINDOW_PRESETS = ("24h", "7d", "30d", "90d")
#: "all" when the first conversation cannot be found: a fixed span, said in the filter line
ALL_FALLBACK = timedelta(days=365)
LOADING_STATE = ("◌ loading", "dim")
_REQUEST = re.compile(r" \((?:GET|POST|PUT|PATCH|DELETE) /[^)]*\)$")  # "... (GET /path)"


class AnalyticsScreen(KeepStylesOnResume, Screen):
    """A screen of figures over the shared filters. Subclasses: ``compose_body`` and ``load``."""

    BINDINGS = [
        Binding("x", "toggle_table", "Chart/table view", id="analytics.toggle_table"),
        Binding("w", "cycle_window", "Window 24h/7d/30d/90d", id="analytics.cycle_window"),
    ]

    TITLE = "Analytics"
    AUTO_FOCUS = ""  # focus_first: the first interactive element once the figures are in
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    #: one line under the filter bar saying what the figures are
    SUBTITLE = ""
    #: ``run_task`` groups a reload leaves running (jobs the user started, not figures)
    KEEP_ON_RELOAD: frozenset[str] = frozenset()
    #: the figures cover the shared date window (False: project-wide lists, own windows)
    WINDOWED = True

    def __init__(self) -> None:
        super().__init__()
        self._loaded_filters: ConversationQuery | None = None
        self._revalidate = False  # ctrl+r: ask the API even when the cache is fresh
        self.load_count = 0  # completed loads (tests wait on workers, this helps debugging)
        self.generation = 0  # bumped by every reload: older loads and tasks are stale
        self._scope: Hashable = None  # what the figures on screen are for (scope_of)
        #: (the app's filters, the same with "all" resolved to dates) of the latest load
        self._window: tuple[ConversationQuery, ConversationQuery] | None = None
        self.window_note = ""  # how "all" was resolved, for the filter line
        self._counts: dict[FigureState, int] = {}  # paint counts when the load started
        # the breakpoint class of the size the screen opens at, set before its widgets are
        # styled: Textual then finds it in place at the first resize, with nothing to restyle
        shown = _breakpoint(self.app.size.width, self.HORIZONTAL_BREAKPOINTS)
        for _, name in self.HORIZONTAL_BREAKPOINTS:
            self.set_class(name == shown, name, update=False)

    # ---------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield StatusHeader(self.TITLE)
        yield FilterBar()  # scope_text: what the figures really cover
        if self.SUBTITLE:
            yield Static(self.SUBTITLE, classes="analytics-subtitle", markup=False)
        with ScrollBody(classes="analytics-body"):
            yield from self.compose_body()
        yield KeyBar()

    def compose_body(self) -> ComposeResult:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---------------------------------------------------------------- loading
    def on_mount(self) -> None:
        self.schedule_focus_first()
        self.sub_title = self.TITLE
        self.watch(self.app, "filters", self._filters_changed, init=False)
        self.reload()

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        if self._loaded_filters is not None and self.scope_of(self.app_filters) != self._scope:
            self.reload()

    def _filters_changed(self, filters: ConversationQuery) -> None:
        if self.is_current and self.scope_of(filters) != self._scope:
            self.reload()

    def scope_of(self, filters: ConversationQuery) -> Hashable:
        """What the figures depend on: a change reloads them, and figures of another scope are
        never kept after a failed load. Screens add their own view state (account, metric)
        or drop what they ignore (the window, for project-wide lists)."""
        return filters

    @property
    def filters(self) -> ConversationQuery:
        """The shared filters the figures are for: the app's, with "all" (no dates) resolved
        to the explicit window the load asked for (``resolve_window``)."""
        app_filters = self.app_filters
        if self._window is not None and self._window[0] == app_filters:
            return self._window[1]
        return app_filters

    @property
    def services(self) -> Services:
        return services(self)

    @property
    def app_filters(self) -> ConversationQuery:
        """The app's shared filters (as set, "all" unresolved)."""
        return self.services.filters

    @property
    def client(self) -> StudioClient:
        return self.services.client

    @property
    def project(self) -> str:
        """The project id, as the endpoint functions of api.endpoints take it."""
        return str(self.client.project_id)

    def reload(self) -> None:
        """(Re)load every figure of the screen for the current shared filters."""
        filters = self.app_filters
        self._loaded_filters = filters
        self._scope = self.scope_of(filters)
        self.generation += 1
        for worker in list(self.workers):  # pages, selections started for the older filters
            if worker.node is self and worker.group not in self.KEEP_ON_RELOAD:
                worker.cancel()
        self._counts = self._begin(self.figures())
        self.show_scope(self.scope_text(filters))
        self.query_one(StatusHeader).screen_state = LOADING_STATE
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
        await self.services.get_client()  # StudioApp builds its client off the event loop
        try:
            await self.load(await self.resolve_window(filters))
        except Exception as exc:
            self._settle(self._counts, exc)
            raise
        finally:
            self._revalidate = False
            self.schedule_focus_first()
        self._settle(self._counts, None)
        self.load_count += 1

    async def load(self, filters: ConversationQuery) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def run_task(self, coro: Awaitable[None], group: str, sections: tuple[str, ...] = ()) -> None:
        """Run a secondary load (a page, a selection) in its own exclusive worker group.

        A reload cancels it (unless its group is in ``KEEP_ON_RELOAD``), and ``swr`` drops what
        it would paint once a newer reload has started. ``sections``: selectors of the figure
        widgets it repaints for a new choice (another assistant, run, filter): dimmed while it
        runs, and showing the error if it fails (their figures are of the former choice)."""
        self.run_worker(
            self._in_generation(self._run_task(coro, sections)),
            exclusive=True,
            group=group,
            exit_on_error=False,
        )

    async def _run_task(self, coro: Awaitable[None], sections: tuple[str, ...]) -> None:
        widgets = [w for s in sections for w in self.query(s) if isinstance(w, FigureState)]
        counts = self._begin(widgets)
        try:
            await coro
        except Exception as exc:
            self._settle(counts, exc, keep_same_scope=False)
            raise
        self._settle(counts, None)

    async def swr(self, endpoint: Endpoint[T], paint: Callable[[T], None]) -> T | None:
        """Paint the endpoint's cached model at once, then the fresh one; return the last.

        What it painted from the cache is marked stale when the API then fails (or answers
        offline): the figures are of this window, but not refreshed."""
        return await self._swr(
            self.client.load_swr(endpoint, revalidate=self._revalidate), paint
        )

    async def _swr(self, results: AsyncGenerator[Any, None], paint: Callable[[Any], None]
                   ) -> Any:
        data = None
        painted: list[FigureState] = []
        try:
            async for result in results:
                if self.is_stale():  # started for older filters: never paints over newer figures
                    return data
                data = result.data
                self.services.note_result(result)
                painted = self._paint(paint, data)
                if getattr(result, "offline", False):
                    detail = connection_state(result)[1] or "(cached)"
                    for widget in painted:
                        widget.mark_stale(f"API unreachable, cached answer {detail}")
        except Exception as exc:
            if painted and not self.is_stale():
                for widget in painted:
                    widget.mark_stale(f"cached, not refreshed: {self.reason(exc, short=True)}")
            raise
        return data

    def _paint(self, paint: Paint, data: Any) -> list[FigureState]:
        """Run ``paint``; the figure widgets it repainted."""
        figures = self.figures()
        before = [w.paint_count for w in figures]
        paint(data)
        return [w for w, count in zip(figures, before, strict=True) if w.paint_count != count]

    # ---------------------------------------------------------------- figure states
    def figures(self) -> list[FigureState]:
        """Every widget of the screen holding figures (charts, tables, KPIs, figure text)."""
        return [w for w in self.query("*") if isinstance(w, FigureState)]

    @staticmethod
    def _begin(widgets: Sequence[FigureState]) -> dict[FigureState, int]:
        for widget in widgets:
            widget.mark_outdated()
        return {w: w.paint_count for w in widgets}

    def _settle(
        self,
        counts: dict[FigureState, int],
        error: BaseException | None,
        *,
        keep_same_scope: bool = True,
    ) -> None:
        """After a load or task: what it repainted is of the current scope; what it did not
        is restored when it succeeded, else shows the error (or, with the same scope's
        figures, a stale mark). Then the header says what did not load."""
        if self.is_stale():
            return
        if self._loaded_filters is not None:  # a load may have set what it shows (the metric)
            self._scope = self.scope_of(self._loaded_filters)
        reason = "" if error is None else self.reason(error, short=True)
        for widget, count in counts.items():
            if widget.paint_count != count:
                widget.figure_scope = self._scope
            elif error is None:
                widget.mark_restored()
            elif (
                keep_same_scope
                and widget.figure_state != "failed"
                and widget.paint_count
                and widget.figure_scope == self._scope
            ):
                widget.mark_stale(f"not refreshed: {reason}")
            else:
                widget.mark_failed(reason)
        self.show_state()

    def show_state(self) -> None:
        """The header: how many sections did not load (or are stale); the app's connection
        state when all did."""
        # not those the view hides
        figures = [w for w in self.figures() if isinstance(w, Widget) and w.display]
        failed = sum(w.figure_state == "failed" for w in figures)
        stale = sum(w.figure_state == "stale" for w in figures)
        state: tuple[str, str] | None = None
        if failed:
            state = (f"✗ API error · {failed} not loaded · ctrl+r", "bold red")
        elif stale:
            state = (f"⚠ stale · {stale} not refreshed · ctrl+r", "yellow")
        self.query_one(StatusHeader).screen_state = state

    def reason(self, error: BaseException, *, short: bool = False) -> str:
        """One line for a failure: a StudioError's message, else the kind of failure;
        ``short``: without the request (for a section's mark; the notification has it)."""
        if isinstance(error, StudioError):
            message = one_line(str(error) or type(error).__name__, 300)
            return _REQUEST.sub("", message) if short else message
        return f"could not load {self.TITLE} ({type(error).__name__})"

    # ---------------------------------------------------------------- the window
    async def resolve_window(self, filters: ConversationQuery) -> ConversationQuery:
        """``filters`` with explicit dates when the figures cover the window: the analytics
        endpoints require them (or default to the last 7 days), while the explorer's "all"
        has none. A missing start is the first conversation's day (UTC), else ALL_FALLBACK
        before the end; a missing end is the end of today (UTC), as the presets end."""
        note = ""
        resolved = filters
        if self.WINDOWED and not (filters.start_date and filters.end_date):
            end = filters.end_date or stable_end(self.now(), timedelta(days=1)).strftime(ISO)
            start = filters.start_date
            if start is None:
                start, note = await self._first_day(end)
            else:
                note = "open end: until the end of today (UTC)"
            try:
                resolved = filters.replace(start_date=start, end_date=end)
            except QueryError:  # a start after the end of today: the API will say so
                resolved = filters
        if self.is_stale():
            return resolved
        self._window = (filters, resolved)
        self.window_note = note
        self.show_scope(self.scope_text(resolved))
        return resolved

    async def _first_day(self, end: str) -> tuple[str, str]:
        """(start, note) of "all": the UTC day of the project's first conversation (by last
        message, what the date filters apply to), else a fixed span before ``end``."""
        end_at = parse_ts(end) or self.now()
        why = "no conversation found"
        try:
            oldest = ConversationQuery.build(sort_by="last_message_at", sort_order="asc")
            page = await self.fetch(conversations.page(self.project, oldest, limit=1))
            rows = page.conversations
            first = parse_ts(rows[0].last_message_at) if rows else None
        except StudioError as exc:
            first, why = None, f"first conversation unknown: {one_line(str(exc), 60)}"
        if first is not None and first < end_at:
            first = first.astimezone(UTC)
            day = datetime(first.year, first.month, first.day, tzinfo=UTC)
            return day.strftime(ISO), "all = since the first conversation"
        days = ALL_FALLBACK.days
        return (end_at - ALL_FALLBACK).strftime(ISO), f"all = the last {days} days ({why})"

    def scope_text(self, filters: ConversationQuery) -> Text:
        """The filter line: the window and filters the figures cover (screens whose figures
        cover something else say so)."""
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.window_note and self.WINDOWED:
            line.append(self.window_note, style="italic")
            line.append(" · ", style="dim")
        line.append_text(describe_query(filters, self.services.lookups, shared_only=True))
        return line

    def filters_text(self, filters: ConversationQuery) -> Text:
        """" · assistant X · tags a + b" (what of the shared filters applies besides dates)."""
        line = Text()
        lookups = self.services.lookups
        base_id = filters.playbook_base_id
        parts = []
        if base_id:
            parts.append(("assistant", lookups.assistant_name(base_id) if lookups else base_id))
        if filters.tags:
            parts.append(("tags", " + ".join(filters.tags)))
        for label, value in parts:
            line.append(" · ", style="dim")
            line.append(f"{label} ", style="bold")
            line.append(sanitize(str(value)))
        return line

    def show_scope(self, line: Text) -> None:
        self.query_one(FilterBar).update(line)

    async def fetch(self, endpoint: Endpoint[T]) -> T:
        """One model (from the cache while fresh, else the API), for parts painted once."""
        return await self.client.load(endpoint)

    @staticmethod
    async def gather(*coros: Awaitable[Any]) -> list[Any]:
        """Run concurrently; a failed part does not stop the others from painting, and the
        first failure is raised once they are all done."""
        results = await asyncio.gather(*coros, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return list(results)

    _auto_focused: Widget | None = None  # what focus_first focused (None: nothing yet)
    focus_pending = False  # focus_first is scheduled: where the focus lands is not decided yet
    _layout_waits = 0  # layouts focus_first has waited for in a row (see _after_layout)
    _awaiting_layout = False

    def schedule_focus_first(self) -> None:
        self.focus_pending = True
        self._layout_waits = 0
        self.call_after_refresh(self.focus_first)

    def focus_first(self) -> None:
        """Focus the first interactive element (table, tab bar) in the tab order, so that
        arrows and enter work at once; the scrolling body instead when that element is below
        the first screenful (the figures at the top stay in view, tab goes down to it). Not
        once the user has moved the focus, nor onto a widget that is not displayed."""
        focused = self.focused
        chain = self.focus_chain
        if focused is not None and focused is not self._auto_focused and focused in chain:
            self.focus_pending = False
            return
        bodies = [w for w in chain if w.has_class("analytics-body")]
        first = next((w for w in chain if not w.has_class("analytics-body")), None)
        if first is not None and not first.region and self._layout_waits < 3:
            # shown with the figures but not laid out yet: whether it is in view is known
            # once the screen's layout has been refreshed (a refresh may come first)
            self._layout_waits += 1
            self._after_layout(self.focus_first)
            return
        self.focus_pending = False
        self._layout_waits = 0
        if first is None or (bodies and not _in_view(first, bodies[0])):
            first = bodies[0] if bodies else first
        if first is not None and first is not focused:
            first.focus(scroll_visible=False)
        self._auto_focused = first

    def _after_layout(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once, after the screen's next layout refresh."""
        if self._awaiting_layout:
            return
        self._awaiting_layout = True
        node = self.query_one(StatusHeader)  # the screen's own subscription is Textual's

        def laid_out(_screen: Screen) -> None:
            self.screen_layout_refresh_signal.unsubscribe(node)
            self._awaiting_layout = False
            callback()

        self.screen_layout_refresh_signal.subscribe(node, laid_out)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            self.show_error(event.worker.error)

    def show_error(self, error: BaseException | None) -> None:
        """One line: a StudioError's message, else the kind of failure (never a traceback).

        The app's ``report_error``: one place for API errors, ctrl+r retries.
        """
        if not isinstance(error, StudioError):
            error = StudioError(self.reason(error or Exception()))
        self.services.report_error(error, self.refresh_data)

    def now(self) -> datetime:
        """The app's clock (the demo's anchor on the demo backend)."""
        return self.services.now()

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
        self.services.drill_down(query)

    def action_cycle_window(self) -> None:
        """The next shared date preset (the explorer follows: the window is shared)."""
        from widgets.filter_sidebar import preset_range

        current = self.services.date_preset
        index = WINDOW_PRESETS.index(current) if current in WINDOW_PRESETS else -1
        preset = WINDOW_PRESETS[(index + 1) % len(WINDOW_PRESETS)]
        start, end = preset_range(preset, self.now())
        try:
            query = self.filters.replace(start_date=start, end_date=end)
        except QueryError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        self.services.set_filters(query, preset)
        self.notify(f"Window: last {preset}", timeout=2, markup=False)

    # ---------------------------------------------------------------- view
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "toggle_table":
            return bool(self.query(ChartBase))  # no chart on this screen: no binding shown
        if action == "cycle_window":
            return self.WINDOWED  # figures over another window, or none: nothing to cycle
        return True

    def action_toggle_table(self) -> None:
        charts = list(self.query(ChartBase))
        if not charts:
            return
        table_view = not charts[0].table_view
        for chart in charts:
            chart.table_view = table_view


def _breakpoint(width: int, breakpoints: list[tuple[int, str]]) -> str | None:
    """The class of the widest breakpoint that ``width`` reaches, as Textual picks it."""
    reached = [name for threshold, name in sorted(breakpoints) if width >= threshold]
    return reached[-1] if reached else None


def _in_view(widget: Widget, body: Widget) -> bool:
    """Whether two lines of `widget` (or all of a smaller one) show in `body`'s viewport."""
    region = widget.region
    shown = region.intersection(body.content_region)
    return shown.height >= min(region.height, 2) > 0
