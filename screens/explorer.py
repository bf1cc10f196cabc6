"""The conversation explorer: filter sidebar, one-line filter summary, paged table, detail pane.

State: the shared filters (dates, assistant, tags) are the app's (`app.filters`), so that the
analytics screens agree; the explorer owns only its other filters and sort (`own`). Its query,
`query_obj`, is both. It loads what its widgets show: the table's pages (a cached page paints
at once, then the fresh one replaces it; a small in-memory LRU makes flipping back and forth
instant, and the next page is prefetched) and the highlighted conversation's detail.
"""
from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual.worker import Worker

from api.dates import preset_range
from api.endpoints import conversations, load_models
from api.endpoints.conversations import ConversationRow, RowPage
from api.lookups import Lookups
from api.query import ConversationQuery, QueryError
from api.session import SessionState
from api.text import sanitize
from screens.explorer_triage import TriageScreen
from screens.services import services
from screens.triage import REVIEW_FILTERS
from tui.commands import PaletteCommand
from widgets.conversation_table import ConversationTable, PageRequest
from widgets.detail_pane import DetailPane
from widgets.filter_bar import FilterBar
from widgets.footer import KeyBar
from widgets.status_header import StatusHeader

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # imported when first shown: the sidebar's many widget classes stay off the first frame
    from api.views import View
    from widgets.filter_sidebar import FilterSidebar

AUTO_FOLD_WIDTH = 110
PAGE_CACHE_SIZE = 24  # pages kept in memory
PREFETCH_DELAY_S = 0.15
DETAIL_PAINT_DELAY_S = 0.03  # before the detail pane's metadata: a page flip paints first
DETAIL_DEBOUNCE_S = 0.25  # then before fetching the highlighted conversation's detail


class TriagePreset(NamedTuple):
    key: str
    name: str
    changes: dict[str, Any]


TRIAGE_PRESETS = (
    TriagePreset("S", "negative sentiment", {"sentiment": ("negative",)}),
    TriagePreset("H", "handoffs", {"has_handoff": True}),
    TriagePreset("F", "frustration handoffs",
                 {"has_handoff": True, "handoff_reason": ("frustration",)}),
    TriagePreset("R", "high recontact risk", {"recontact_risk": ("high",)}),
    TriagePreset("D", "degraded sentiment", {"sentiment_shift": ("degraded",)}),
    TriagePreset("I", "irrelevant resources", {"resources": ("irrelevant",)}),
)


class ExplorerScreen(TriageScreen):
    CSS_PATH = "explorer.tcss"
    # size classes are set by _size_classes (in compose, before the children exist: no
    # restyle of the whole screen at start-up), not by Textual's breakpoints
    WIDE_WIDTH = 190
    TALL_HEIGHT = 30

    BINDINGS = [
        Binding("f", "toggle_sidebar", "Filters", id="explorer.sidebar"),
        # from anywhere on the screen (a sidebar box, list, the detail pane) back to the
        # table; in the table itself the key is the app's `back` (see check_action)
        Binding("escape", "leave", "Back to the table", id="explorer.leave"),
        Binding("C", "clear_filters", "Clear filters", show=False, id="explorer.clear"),
        Binding("x", "export", "Export", id="explorer.export"),
        Binding("d", "toggle_detail", "Detail pane", show=False, id="explorer.detail"),
        Binding("slash", "search", "Search id", show=False, id="explorer.search"),
        Binding("y", "copy_id", "Copy id", show=False, id="explorer.copy_id"),
        *(
            Binding(p.key, f"preset('{p.key}')", f"Triage: {p.name}", show=False,
                    id=f"explorer.preset.{p.name.replace(' ', '_')}")
            for p in TRIAGE_PRESETS
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.own = ConversationQuery()  # the filters and sort not shared with other screens
        self._user_folded: bool | None = None
        self._sidebar_worker: Worker[None] | None = None
        self._pushing = False  # setting the app's filters: this screen shows them itself
        self._pages: OrderedDict[PageRequest, RowPage] = OrderedDict()

    @property
    def query_obj(self) -> ConversationQuery:
        """What the explorer lists: the app's shared filters with its own."""
        return self.own.with_shared(services(self).filters)

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        self._size_classes(self.app.size.width, self.app.size.height)
        yield StatusHeader("Explorer")
        with Horizontal(id="explorer-body"):  # the sidebar is mounted when first shown
            with Vertical(id="main"):
                yield FilterBar(shared_only=False, wrap=True, id="filter-summary")
                yield Static("", id="triage-line", markup=False)
                with Horizontal(id="table-and-detail"):
                    yield ConversationTable(id="table")
                    yield DetailPane(id="detail")
        yield KeyBar()

    @property
    def table(self) -> ConversationTable:
        return self.query_one(ConversationTable)

    @property
    def detail(self) -> DetailPane:
        return self.query_one(DetailPane)

    @property
    def sidebar(self) -> FilterSidebar | None:
        """The filter sidebar, or None until it is first shown (the screen's largest widget
        tree: mounting it lazily keeps it off the path to the first frame, and away at 80
        columns): looked up by name, its module is not imported before)."""
        found = self.query("FilterSidebar")
        return cast("FilterSidebar", found.first()) if found else None

    async def ensure_sidebar(self) -> FilterSidebar:
        sidebar = self.sidebar
        if sidebar is None:
            from widgets.filter_sidebar import FilterSidebar

            app = services(self)
            sidebar = FilterSidebar(app.now(), app.display_tz, id="sidebar")
            await self.query_one("#explorer-body").mount(sidebar, before="#main")
            if app.lookups.loaded:
                self._fill_sidebar(sidebar, app.lookups)
            sidebar.set_query(self.query_obj, preset=app.date_preset)
            sidebar.set_views(list(app.views), app.active_view)
        return sidebar

    def on_mount(self) -> None:
        app = services(self)
        table = self.table
        table.tz = self.detail.tz = app.display_tz
        table.lookups = app.lookups
        offset = self._restore(app.restored)
        self._show_query(offset=offset, highlight=app.restored.conversation_id
                         if app.restored else None)
        self.call_after_refresh(self._mount_sidebar_if_room)
        self.watch(self.app, "filters", self._app_filters_changed, init=False)
        self.watch(self.app, "lookups", self._lookups_changed, init=False)
        self.watch(self.app, "views", self.views_changed, init=False)
        self.watch(self.app, "active_view", self.active_view_changed)
        self.query_one("#conversations").focus()

    def _restore(self, state: SessionState | None) -> int:
        """The explorer of the last session (the app restored the shared filters): its own
        filters, columns, review filter; returns the offset of the row to highlight."""
        if state is None:
            return 0
        restored = services(self).restored_query()
        if restored is not None:
            self.own = restored.own()
        if state.columns:
            self.set_columns(state.columns)
        if state.review_filter in REVIEW_FILTERS:
            self.triage.mode = state.review_filter
        if state.view:  # reopening the view is a look at it: what came since is marked
            self.look_at_view(state.view)
        if state.open_conversation and state.conversation_id:
            self.call_after_refresh(self.reopen, state.conversation_id)
        return state.offset

    def _size_classes(self, width: int, height: int) -> None:
        wanted = {
            "-wide": width >= self.WIDE_WIDTH,
            "-tall": height >= self.TALL_HEIGHT,
            "-short": height < self.TALL_HEIGHT,
            "-folded": width < AUTO_FOLD_WIDTH if self._user_folded is None
            else self._user_folded,
        }
        add = [name for name, on in wanted.items() if on and not self.has_class(name)]
        remove = [name for name, on in wanted.items() if not on and self.has_class(name)]
        if add:
            self.add_class(*add)
        if remove:
            self.remove_class(*remove)

    def on_resize(self, event: events.Resize) -> None:
        self._size_classes(event.size.width, event.size.height)
        self._mount_sidebar_if_room()

    def _mount_sidebar_if_room(self) -> None:
        if self.has_class("-folded") or self.sidebar is not None or not self.is_attached:
            return
        if self._sidebar_worker is not None and not self._sidebar_worker.is_finished:
            return  # already on its way (resize and mount both ask at start-up)
        self._sidebar_worker = self.run_worker(self._mount_sidebar(), group="sidebar",
                                               exit_on_error=False)

    async def _mount_sidebar(self) -> None:
        try:
            await self.ensure_sidebar()
        except Exception as exc:  # noqa: BLE001 - the table works without the sidebar
            self.notify(f"Filter sidebar not shown: {type(exc).__name__}", severity="error",
                        markup=False)

    def _show_query(self, offset: int = 0, highlight: str | None = None) -> None:
        query = self.query_obj
        self.query_one(FilterBar).show(query, services(self).lookups)
        self.rescan()
        self.load_csat()
        dropped = self.table.load(query, offset=offset, highlight=highlight)
        if dropped:  # a selection is of the conversations the filters list: never lost unsaid
            self.notify(f"Selection cleared, the filters changed: {dropped}",
                        severity="warning", timeout=5, markup=False)
        self.show_triage()
        self.save_session_soon()

    # ----------------------------------------------------------------- filters
    def apply_query(self, query: ConversationQuery, *, preset: str | None = None) -> None:
        """Show `query` (from the sidebar, a preset, a drill-down)."""
        if query == self.query_obj and preset is None:
            return
        self.own = query.own()
        if self.sidebar is not None:
            self.sidebar.set_query(query, preset=preset)
        self._set_shared(query, preset)
        self._show_query()

    def _set_shared(self, query: ConversationQuery, preset: str | None) -> None:
        """The app's filters from `query` (this screen shows the result itself)."""
        self._pushing = True
        try:
            services(self).set_filters(query, preset)
        finally:
            self._pushing = False

    def _app_filters_changed(self, filters: ConversationQuery) -> None:
        """Another screen (or a drill-down) changed the shared filters."""
        if self._pushing:
            return
        if self.sidebar is not None:
            self.sidebar.set_query(self.query_obj, preset=services(self).date_preset)
        self._show_query()

    def _lookups_changed(self, lookups: Lookups) -> None:
        self.table.lookups = lookups
        if self.sidebar is not None:
            self._fill_sidebar(self.sidebar, lookups)
        self.query_one(FilterBar).show(self.query_obj, lookups)

    def _fill_sidebar(self, sidebar: FilterSidebar, lookups: Lookups) -> None:
        try:
            sidebar.set_lookups(lookups)
        except Exception as exc:  # noqa: BLE001 - optional choices; the filters still work
            self.notify(f"Filter choices not loaded: {type(exc).__name__}", severity="warning",
                        markup=False)

    def on_filter_sidebar_view_chosen(self, event: FilterSidebar.ViewChosen) -> None:
        view = services(self).views.get(event.name)
        if view is not None:
            self.apply_view(view)
            self.action_focus_table()

    def on_filter_sidebar_search_submitted(self, event: FilterSidebar.SearchSubmitted) -> None:
        self._fold_after_search()
        self.action_focus_table()  # the user looks for one conversation: show the results

    def on_filter_sidebar_changed(self, event: FilterSidebar.Changed) -> None:
        app = services(self)
        if event.tz != app.display_tz:  # times in the table and detail follow the tz
            app.display_tz = self.table.tz = self.detail.tz = event.tz
            self.table.repaint()
        self.own = event.query.own()
        self._set_shared(event.query, event.preset)
        self._show_query()

    @on(ConversationTable.SortRequested)
    def _sort_requested(self, event: ConversationTable.SortRequested) -> None:
        default = event.sort_by == "last_message_at" and event.sort_order == "desc"
        self.apply_query(self.query_obj.replace(
            sort_by=None if default else event.sort_by,
            sort_order=None if default else event.sort_order,
        ))

    def preset_active(self, preset: TriagePreset) -> bool:
        return all(getattr(self.query_obj, f) == v for f, v in preset.changes.items())

    def preset_query(self, preset: TriagePreset) -> ConversationQuery:
        """The query with the preset toggled: its own filters set (or, when they already are,
        cleared), every other filter kept — `S` then `H` lists negative handoffs."""
        if self.preset_active(preset):
            cleared = {f: () if isinstance(v, tuple) else None for f, v in preset.changes.items()}
            return self.query_obj.replace(**cleared)
        return self.query_obj.replace(**preset.changes)

    def action_preset(self, key: str) -> None:
        preset = next(p for p in TRIAGE_PRESETS if p.key == key)
        turned_off = self.preset_active(preset)
        self.apply_query(self.preset_query(preset))
        self.notify(f"Triage: {preset.name} {'off' if turned_off else 'on'}", timeout=2,
                    markup=False)

    def action_clear_filters(self) -> None:
        """Clear every filter except the date range."""
        query = self.query_obj
        self.apply_query(ConversationQuery(start_date=query.start_date, end_date=query.end_date))
        self.notify("Filters cleared (date range kept)", timeout=2, markup=False)

    # ----------------------------------------------------------------- pages
    def show_filtered_page(self) -> None:
        request = self.table.current_request()
        if request is not None:
            self._page_wanted(ConversationTable.PageWanted(request, False))

    @on(ConversationTable.PageWanted)
    def _page_wanted(self, event: ConversationTable.PageWanted) -> None:
        # a prefetch planned for the page left behind (or another query): no longer wanted
        self.workers.cancel_group(self, "conversation-prefetch")
        request = event.request
        if self.triage.mode != "all":  # served from the scan: the API cannot filter reviews
            self.table.show_page(request, self.triage.page(request.offset, request.limit),
                                 from_cache=False)
            if self.triage.scan is not None and self.triage.scan.complete:
                self.table.page_settled(request)
            return
        if event.force:
            self._pages.clear()
        cached = self._pages.get(request)
        if cached is not None:
            self.table.show_page(request, cached, from_cache=True)
            self.reviews_for_page(cached)
            # revalidate once the page is on screen: the fetch (and, on the embedded demo,
            # the backend's SQL in this process) must not delay the paint
            self.call_after_refresh(self._start_fetch, request)
        else:
            self._start_fetch(request)

    def _start_fetch(self, request: PageRequest) -> None:
        if request == self.table.current_request():
            self._fetch_page(request)

    @work(exclusive=True, group="conversation-page", exit_on_error=False)
    async def _fetch_page(self, request: PageRequest) -> None:
        app, table = services(self), self.table
        try:
            if await self._paint_peek(request):
                await self.wait_for_refresh()  # on screen before the client is built
        except Exception as exc:  # noqa: BLE001 - the peek only saves time: the API is asked
            log.info("cached first page not shown: %s", type(exc).__name__)
        finally:
            app.first_page_shown()
        try:
            client = await app.get_client()
            endpoint = conversations.rows(client.project_id, request.query,
                                          limit=request.limit, offset=request.offset)
            async for result in client.load_swr(endpoint):
                if request != table.current_request():
                    return  # stale: the user moved on
                self._remember(request, result.data)
                table.show_page(request, result.data, from_cache=result.from_cache)
                self.reviews_for_page(result.data)
                app.note_result(result)
        except Exception as exc:  # noqa: BLE001 - reported, the page shown is kept
            if request == table.current_request():
                table.page_settled(request, failed=True)
                app.report_error(exc, retry=self.refresh_data)
            return
        table.page_settled(request)
        self._prefetch(request.following())

    async def _paint_peek(self, request: PageRequest) -> bool:
        """At start-up, paint the cached page before the client exists (see tui.cache_peek);
        whether it did."""
        if request in self._pages:
            return False
        page = await services(self).peek_cached(partial(
            conversations.rows, query=request.query, limit=request.limit,
            offset=request.offset))
        if page is not None:
            self.table.show_page(request, page, from_cache=True)
            self.reviews_for_page(page)
        return page is not None

    @work(exclusive=True, group="conversation-prefetch", exit_on_error=False)
    async def _prefetch(self, request: PageRequest) -> None:
        total = self.table.total
        if total is None or request.offset >= total:
            return
        # A beat first: the page just fetched gets painted before the next one is asked for
        # (on the embedded demo the backend's SQL runs in this process), and while a key is
        # held down each flip cancels this worker (`_page_wanted`) before it has sent anything.
        await asyncio.sleep(PREFETCH_DELAY_S)
        if request in self._pages:
            return
        client = await services(self).get_client()
        self._remember(request, await client.load(conversations.rows(
            client.project_id, request.query, limit=request.limit, offset=request.offset)))

    def _remember(self, request: PageRequest, page: RowPage) -> None:
        self._pages[request] = page
        self._pages.move_to_end(request)
        while len(self._pages) > PAGE_CACHE_SIZE:
            self._pages.popitem(last=False)

    def refresh_data(self) -> None:
        self.rescan(force=True)  # the counts too: what the line says is reloaded with the page
        self.table.reload()

    # ----------------------------------------------------------------- table events
    @on(ConversationTable.Highlighted)
    def _highlighted(self, event: ConversationTable.Highlighted) -> None:
        self._show_detail(event.conversation)
        self.save_session_soon()

    @work(exclusive=True, group="detail-pane", exit_on_error=False)
    async def _show_detail(self, row: ConversationRow | None) -> None:
        """The row's metadata in the detail pane, then (after a pause: the cursor may be
        moving on) its last messages; the fetch also warms the cache for the full view."""
        pane = self.detail
        await asyncio.sleep(DETAIL_PAINT_DELAY_S)
        if row is None:
            pane.show(None)
            return
        await load_models()  # at start-up, in a thread begun once the first page is painted
        pane.show(row.conversation())
        cid = row.conversation_id
        if not cid:
            return
        await asyncio.sleep(DETAIL_DEBOUNCE_S)
        try:
            client = await services(self).get_client()
            detail = await client.load(conversations.detail(client.project_id, cid))
        except Exception:  # noqa: BLE001 - the pane keeps the metadata it has
            return
        pane.show_preview(cid, detail)

    @on(ConversationTable.Selected)
    def _selected(self, event: ConversationTable.Selected) -> None:
        cid = event.conversation.conversation_id
        if cid:
            self.open_conversation(cid)

    # ----------------------------------------------------------------- actions
    async def action_toggle_sidebar(self) -> None:
        folded = not self.has_class("-folded")
        self._user_folded = folded
        self.set_class(folded, "-folded")
        if not folded:  # its first field, not the scrolling container
            (await self.ensure_sidebar()).query_one("#preset").focus()
        else:
            self.action_focus_table()

    def action_focus_table(self) -> None:
        self.query_one("#conversations").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "leave":  # (also asked before the table is composed)
            grid = self.query("#conversations")
            return bool(grid) and self.focused is not grid.first()
        return True

    def action_leave(self) -> None:
        self._fold_after_search()
        self.action_focus_table()

    def action_toggle_detail(self) -> None:
        """Show/hide the detail pane (hidden by default on short terminals)."""
        self.toggle_class("-detail-toggled")

    async def action_search(self) -> None:
        if self.has_class("-folded"):  # opened for the search only: folded again after it
            self._search_unfolded, self._folded_choice = True, self._user_folded
            await self.action_toggle_sidebar()
        (await self.ensure_sidebar()).query_one("#search").focus()

    _search_unfolded = False  # `/` unfolded the sidebar
    _folded_choice: bool | None = None  # the fold choice before it (None: by the width)

    def _fold_after_search(self) -> None:
        """Fold the sidebar `/` unfolded: the results, not the filters, get the width."""
        if self._search_unfolded and not self.has_class("-folded"):
            self._user_folded = self._folded_choice
            self.add_class("-folded")
        self._search_unfolded = False

    def action_copy_id(self) -> None:
        row = self.table.current()
        if row and row.conversation_id:
            cid = row.conversation_id
            self.app.copy_to_clipboard(cid)
            self.notify(f"Copied conversation id {sanitize(cid)}", timeout=3, markup=False)

    def action_export(self) -> None:
        from screens.export_dialog import ExportDialog

        selection = self.table.selection()
        if self.triage.mode != "all" and (selection is None or selection[0] != "ids"):
            listed = self.listed_selection()  # what the table lists, not all the API matches
            if listed is None:
                self.notify("The review filter is still reading the conversations: export "
                            "when its count is shown", severity="warning", markup=False)
                return
            selection = ("ids", listed)
        self.app.push_screen(ExportDialog(selection or ("query", self.query_obj),
                                          self.query_obj, self.table.total))

    def palette_commands(self) -> list[PaletteCommand]:
        commands = [
            PaletteCommand(f"Triage: {p.name}", f"Explorer preset ({p.key})",
                           partial(self._run_from_palette, p))
            for p in TRIAGE_PRESETS
        ]
        commands += [
            PaletteCommand("Export conversations", "Selection or all matching (x)",
                           self.action_export),
            PaletteCommand("Clear filters", "Keep the date range only (C)",
                           self.action_clear_filters),
            PaletteCommand("Toggle filter sidebar", "(f)", self.action_toggle_sidebar),
        ]
        for preset in ("24h", "7d", "30d", "90d"):
            commands.append(PaletteCommand(f"Date range: last {preset}", "Shared date filter",
                                           partial(self.set_date_preset, preset)))
        app = services(self)
        for view in app.views.values():
            kind = "built-in view" if view.builtin else "saved view"
            commands.append(PaletteCommand(f"View: {view.name}", f"{kind}: {view.text()}",
                                           partial(self._view_from_palette, view)))
        commands += [
            PaletteCommand("Save filters as a view", "Name asked (V)", self.action_save_view),
            PaletteCommand("Choose columns", "Show, hide and order the table's columns (T)",
                           self.action_choose_columns),
            PaletteCommand("Review filter: all / unreviewed / flagged", "(U)",
                           self.action_cycle_review_filter),
            PaletteCommand("Compare: these filters vs the whole project",
                           "Every metric with its 95% interval",
                           partial(self.open_compare, self.query_obj.replace(
                               start_date=None, end_date=None, sort_by=None,
                               sort_order=None).to_text(), "")),
            PaletteCommand("Cost per resolution (these filters)",
                           "From the messages' cost_usd; s switches to a sample",
                           self.open_cost),
            PaletteCommand(f"Redact transcripts: turn {'off' if app.redact else 'on'}",
                           "Mask emails, phone and card numbers in Markdown copies",
                           self.toggle_redact),
        ]
        return commands + self._compare_commands()

    def _compare_commands(self) -> list[PaletteCommand]:
        """Compare each assistant's last two versions; each saved view with the project."""
        app = services(self)
        commands = []
        for assistant in app.lookups.assistants:
            if len(assistant.versions) >= 2:
                (new, new_n), (old, old_n) = assistant.versions[:2]
                commands.append(PaletteCommand(
                    f"Compare: {assistant.name} v{old_n} vs v{new_n}",
                    "The two latest versions, each over its whole history",
                    partial(self.open_compare, f"playbook:{old}", f"playbook:{new}",
                            whole_history=True)))
        for view in app.views.values():
            commands.append(PaletteCommand(
                f"Compare: view {view.name} vs the whole project", view.text(),
                partial(self.open_compare, view.name, "")))
        for assistant in app.lookups.assistants:
            commands.append(PaletteCommand(
                f"Deployment impact: {assistant.name}",
                "Each deployment: 7 days before vs after, with intervals",
                partial(self.open_impact, assistant.base_id)))
        commands.append(PaletteCommand(
            "KB article health", "Cited items against the base rates, over the shared window",
            self.open_kb_health))
        return commands

    def open_impact(self, base_id: str) -> None:
        from screens.impact import ImpactScreen

        self.app.push_screen(ImpactScreen(base_id))

    def open_kb_health(self) -> None:
        from screens.kb_health import KBHealthScreen

        self.app.push_screen(KBHealthScreen())

    def open_cost(self) -> None:
        from screens.cost import CostScreen

        self.app.push_screen(CostScreen(self.query_obj))

    def open_compare(self, a: str, b: str, *, whole_history: bool = False) -> None:
        from screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(a, b, whole_history=whole_history))

    def _view_from_palette(self, view: View) -> None:
        if self.app.current_mode != "explorer":
            self.app.switch_mode("explorer")
        self.apply_view(view)

    def toggle_redact(self) -> None:
        app = services(self)
        app.redact = not app.redact
        self.notify(f"Redaction {'on' if app.redact else 'off'} for transcripts", timeout=3,
                    markup=False)

    def _run_from_palette(self, preset: TriagePreset) -> None:
        if self.app.current_mode != "explorer":
            self.app.switch_mode("explorer")
        self.action_preset(preset.key)

    def set_date_preset(self, preset: str) -> None:
        start, end = preset_range(preset, services(self).now())
        try:
            query = self.query_obj.replace(start_date=start, end_date=end)
        except QueryError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        self.apply_query(query, preset=preset)
