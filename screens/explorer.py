"""The conversation explorer: filter sidebar, one-line filter summary, paged table, detail pane.

State: `self.query_obj` is the full query (shared filters + the explorer's own). The shared part
lives on the app (`app.filters`) so the analytics screens agree; changes coming from there are
merged in, changes made here are pushed there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from api.query import ConversationQuery, QueryError
from api.text import sanitize
from tui.commands import PaletteCommand
from widgets.conversation_table import ConversationTable
from widgets.detail_pane import DetailPane
from widgets.filter_bar import SHARED_FIELDS, FilterBar
from widgets.footer import KeyBar
from widgets.status_header import StatusHeader

if TYPE_CHECKING:  # imported when first shown: the sidebar's many widget classes stay off the first frame
    from widgets.filter_sidebar import FilterSidebar

AUTO_FOLD_WIDTH = 110


@dataclass(frozen=True)
class TriagePreset:
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


class ExplorerScreen(Screen[None]):
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
        self.query_obj: ConversationQuery = ConversationQuery()
        self._user_folded: bool | None = None
        self._sidebar_worker: Any = None

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        self._size_classes(self.app.size.width, self.app.size.height)
        yield StatusHeader("Explorer")
        with Horizontal(id="explorer-body"):  # the sidebar is mounted when first shown
            with Vertical(id="main"):
                yield FilterBar(shared_only=False, wrap=True, id="filter-summary")
                with Horizontal(id="table-and-detail"):
                    yield ConversationTable(id="table")
                    yield DetailPane(id="detail")
        yield KeyBar()

    @property
    def table(self) -> ConversationTable:
        return self.query_one(ConversationTable)

    @property
    def sidebar(self) -> FilterSidebar | None:
        """The filter sidebar, or None until it is first shown (the screen's largest widget
        tree: mounting it lazily keeps it off the path to the first frame, and away at 80
        columns)."""
        found = self.query("FilterSidebar")
        return found.first() if found else None

    async def ensure_sidebar(self) -> FilterSidebar:
        sidebar = self.sidebar
        if sidebar is None:
            from widgets.filter_sidebar import FilterSidebar

            sidebar = FilterSidebar(self.app.now(), id="sidebar")
            await self.query_one("#explorer-body").mount(sidebar, before="#main")
            if self.app.lookups.loaded:
                self._fill_sidebar(sidebar, self.app.lookups)
            sidebar.set_query(self.query_obj, preset=self.app.date_preset)
        return sidebar

    def on_mount(self) -> None:
        app = self.app
        self.query_obj = ConversationQuery(**{f: getattr(app.filters, f) for f in SHARED_FIELDS})
        self._show_query()
        self.call_after_refresh(self._mount_sidebar_if_room)
        self.watch(app, "filters", self._app_filters_changed, init=False)
        self.watch(app, "lookups", self._lookups_changed, init=False)
        self.query_one("#conversations").focus()

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

    def _show_query(self) -> None:
        self.query_one(FilterBar).show(self.query_obj)
        dropped = self.table.load(self.query_obj)
        if dropped:  # a selection is of the conversations the filters list: never lost unsaid
            self.notify(f"Selection cleared, the filters changed: {dropped}",
                        severity="warning", timeout=5, markup=False)

    # ----------------------------------------------------------------- filters
    def apply_query(self, query: ConversationQuery, *, preset: str | None = None,
                    push_shared: bool = True) -> None:
        """Show `query` (from the sidebar, a preset, a drill-down)."""
        if query == self.query_obj and preset is None:
            return
        self.query_obj = query
        if self.sidebar is not None:
            self.sidebar.set_query(query, preset=preset)
        if push_shared:
            self.app.set_filters(query, preset)
        self._show_query()

    def _app_filters_changed(self, filters: ConversationQuery) -> None:
        shared = {f: getattr(filters, f) for f in SHARED_FIELDS}
        if all(getattr(self.query_obj, f) == v for f, v in shared.items()):
            return
        self.apply_query(self.query_obj.replace(**shared), preset=self.app.date_preset,
                         push_shared=False)

    def _lookups_changed(self, lookups: Any) -> None:
        if self.sidebar is not None:
            self._fill_sidebar(self.sidebar, lookups)
        self.query_one(FilterBar).show(self.query_obj)

    def _fill_sidebar(self, sidebar: FilterSidebar, lookups: Any) -> None:
        try:
            sidebar.set_lookups(lookups)
        except Exception as exc:  # noqa: BLE001 - optional choices; the filters still work
            self.notify(f"Filter choices not loaded: {type(exc).__name__}", severity="warning",
                        markup=False)

    def on_filter_sidebar_search_submitted(self, event: FilterSidebar.SearchSubmitted) -> None:
        self.action_focus_table()  # the user looks for one conversation: show the results

    def on_filter_sidebar_changed(self, event: FilterSidebar.Changed) -> None:
        if event.tz != self.app.display_tz:  # times in the table and detail follow the tz
            self.app.display_tz = event.tz
            self.table.repaint()
        self.query_obj = event.query
        self.app.set_filters(event.query, event.preset)
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
        dates = {"start_date": self.query_obj.start_date, "end_date": self.query_obj.end_date}
        self.apply_query(ConversationQuery(**dates))
        self.notify("Filters cleared (date range kept)", timeout=2, markup=False)

    # ----------------------------------------------------------------- table events
    @on(ConversationTable.Highlighted)
    def _highlighted(self, event: ConversationTable.Highlighted) -> None:
        self.query_one(DetailPane).show(event.conversation)

    @on(ConversationTable.Selected)
    def _selected(self, event: ConversationTable.Selected) -> None:
        from screens.conversation import ConversationScreen

        cid = event.conversation.get("conversation_id")
        if cid:
            self.app.push_screen(ConversationScreen(str(cid), self.table.step))

    @on(ConversationTable.LoadFailed)
    def _load_failed(self, event: ConversationTable.LoadFailed) -> None:
        self.app.report_error(event.error, retry=self.refresh_data)

    def refresh_data(self) -> None:
        self.table.reload()

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
        self.action_focus_table()

    def action_toggle_detail(self) -> None:
        """Show/hide the detail pane (hidden by default on short terminals)."""
        self.toggle_class("-detail-toggled")

    async def action_search(self) -> None:
        if self.has_class("-folded"):
            await self.action_toggle_sidebar()
        (await self.ensure_sidebar()).query_one("#search").focus()

    def action_copy_id(self) -> None:
        conv = self.table.current()
        if conv and conv.get("conversation_id"):
            cid = str(conv["conversation_id"])
            self.app.copy_to_clipboard(cid)
            self.notify(f"Copied conversation id {sanitize(cid)}", timeout=3, markup=False)

    def action_export(self) -> None:
        from screens.export_dialog import ExportDialog

        selection = self.table.selection() or ("query", self.query_obj)
        self.app.push_screen(ExportDialog(selection, self.query_obj, self.table.total))

    def palette_commands(self) -> list[PaletteCommand]:
        commands = [
            PaletteCommand(f"Triage: {p.name}", f"Explorer preset ({p.key})",
                           lambda p=p: self._run_from_palette(p))
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
                                           lambda p=preset: self.set_date_preset(p)))
        return commands

    def _run_from_palette(self, preset: TriagePreset) -> None:
        if self.app.current_mode != "explorer":
            self.app.switch_mode("explorer")
        self.action_preset(preset.key)

    def set_date_preset(self, preset: str) -> None:
        from tui.dates import preset_range

        start, end = preset_range(preset, self.app.now())
        try:
            query = self.query_obj.replace(start_date=start, end_date=end)
        except QueryError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        self.apply_query(query, preset=preset)
