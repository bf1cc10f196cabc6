"""The explorer's triage: saved views, local reviews (marks, verdicts, the review filter and
progress), the last session, and what leaves the app (a Markdown transcript, the platform link).

`TriageScreen` is the explorer's base class: the explorer owns the table, the filters and the
pages; this part reads and writes what the user made of them (see screens/triage.py for the
state it keeps).
"""
from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from api.columns import DEFAULT_COLUMNS, check_columns
from api.dates import PRESETS, window_range
from api.endpoints import conversations
from api.endpoints.conversations import ConversationRow, RowPage
from api.errors import StudioError
from api.query import ConversationQuery, QueryError
from api.session import SessionState
from api.text import one_line
from screens.resume import KeepStylesOnResume
from screens.services import ReviewsChanged, services
from screens.share import copy_transcript, open_platform_link
from screens.triage import REVIEW_FILTERS, SCAN_CAP, SCAN_PAGE, Scan, Triage, status_of
from widgets.conversation_table import ConversationTable
from widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from api.views import View
    from widgets.filter_sidebar import FilterSidebar

log = logging.getLogger(__name__)

SESSION_SAVE_DELAY_S = 0.5  # the last session is written once the user pauses
CSAT_PAGE = 200  # the most the ratings table gives at once
CSAT_CAP = 5000


class TriageScreen(KeepStylesOnResume, Screen[None]):
    """Views, reviews and the session of a screen that lists conversations in a
    `ConversationTable` (the explorer)."""

    BINDINGS = [
        Binding("m", "review('reviewed')", "Reviewed", id="explorer.review.mark"),
        Binding("exclamation_mark", "review('flagged')", "Flag", show=False,
                id="explorer.review.flag"),
        Binding("E", "edit_review", "Verdict and note", show=False, id="explorer.review.edit"),
        Binding("u", "next_unreviewed", "Next unreviewed", show=False,
                id="explorer.review.next"),
        Binding("U", "cycle_review_filter", "Unreviewed/flagged only", show=False,
                id="explorer.review.filter"),
        Binding("w", "cycle_view(1)", "Next view", id="explorer.view.next"),
        Binding("W", "cycle_view(-1)", "Previous view", show=False, id="explorer.view.prev"),
        Binding("V", "save_view", "Save as view", show=False, id="explorer.view.save"),
        Binding("T", "choose_columns", "Columns", show=False, id="explorer.columns"),
        Binding("M", "copy_markdown", "Copy as Markdown", show=False,
                id="explorer.copy_markdown"),
        Binding("O", "open_url", "Open on its platform", show=False, id="explorer.open_url"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.triage = Triage()
        self._session_timer: Any = None
        self._conversation_open = False  # a conversation view was pushed from here

    # what the explorer provides
    @property
    def table(self) -> ConversationTable:
        raise NotImplementedError

    @property
    def query_obj(self) -> ConversationQuery:
        raise NotImplementedError

    @property
    def sidebar(self) -> FilterSidebar | None:
        raise NotImplementedError

    def apply_query(self, query: ConversationQuery, *, preset: str | None = None) -> None:
        raise NotImplementedError

    def show_filtered_page(self) -> None:
        """The table's page again, from the scan (the review filter is on)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- conversation
    def open_conversation(self, cid: str) -> None:
        from screens.conversation import ConversationScreen

        self.app.push_screen(ConversationScreen(cid, self.step_from))
        self._conversation_open = True
        self.save_session_soon()

    async def step_from(self, delta: int, shown: str | None) -> ConversationRow | None:
        """The conversation `delta` rows from `shown` (the conversation view's J/K). When
        `shown` left the list (reviewed under "unreviewed only"), the row that took its place
        is highlighted already: it is the next one."""
        table = self.table
        current = table.current()
        listed = {r.conversation_id for r in table.rows}
        if delta > 0 and shown and shown not in listed and current is not None:
            return current
        return await table.step(delta)

    async def reopen(self, cid: str) -> None:
        """The conversation left open last session, once its page is on screen."""
        await self.table.page_ready()
        if self.app.screen is self:
            self.open_conversation(cid)

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        if self._conversation_open:  # back from a conversation: it is no longer open
            self._conversation_open = False
            self.save_session_soon()

    # ----------------------------------------------------------------- session
    def save_session_soon(self) -> None:
        if self._session_timer is not None:
            self._session_timer.stop()
        self._session_timer = self.set_timer(SESSION_SAVE_DELAY_S, self._save_session)

    def current_window(self) -> str | None:
        """The relative window the dates come from: a preset, or the active view's own
        window (`2w`) while the dates are still its; None for fixed dates."""
        app = services(self)
        if PRESETS.get(app.date_preset):
            return app.date_preset
        view = self.active_view()
        if view is not None and view.window:
            start, end = window_range(view.window, app.now())
            query = self.query_obj
            if (query.start_date, query.end_date) == (start, end):
                return view.window
        return None

    def session_state(self) -> SessionState:
        app, table = services(self), self.table
        row = table.current()
        columns = table.columns
        window = self.current_window()
        return SessionState(
            view=app.active_view, query=self.query_obj.to_text(), preset=app.date_preset,
            window=None if window in PRESETS else window,
            columns=None if columns == DEFAULT_COLUMNS else tuple(columns),
            review_filter=self.triage.mode,
            offset=table.shown_offset + max(0, table.table.cursor_row),
            conversation_id=row.conversation_id if row else None,
            open_conversation=self._conversation_open,
            names=app.lookups.labels_of(self.query_obj))

    def _save_session(self) -> None:
        self._session_timer = None
        if self.is_attached:
            state = self.session_state()
            self.run_worker(partial(services(self).save_session, state), thread=True,
                            group="session", exit_on_error=False)

    # ----------------------------------------------------------------- views
    def views_changed(self, views: dict[str, View]) -> None:
        if self.sidebar is not None:
            self.sidebar.set_views(list(views), services(self).active_view)
        self.show_triage()

    def active_view_changed(self, name: str | None) -> None:
        if self.sidebar is not None:
            self.sidebar.set_views(list(services(self).views), name)
        self.show_triage()

    def active_view(self) -> View | None:
        app = services(self)
        return app.views.get(app.active_view) if app.active_view else None

    def view_modified(self) -> bool:
        view = self.active_view()
        if view is None:
            return False
        def shown(columns: tuple[str, ...]) -> list[str]:  # "sel" is always shown
            return [c for c in columns if c != "sel"]

        return (view.resolve(services(self).now()) != self.query_obj
                or shown(view.columns or DEFAULT_COLUMNS) != shown(tuple(self.table.columns)))

    def apply_view(self, view: View) -> None:
        """Show `view`: its query (a relative window taken from now), its columns; the
        conversations newer than the last look at it are marked new."""
        app = services(self)
        try:
            query = view.resolve(app.now())
        except QueryError as exc:
            self.notify(f"View {view.name}: {exc}", severity="error", markup=False)
            return
        preset = view.window if view.window in PRESETS else (
            "custom" if query.start_date or query.end_date else "all")
        app.active_view = view.name
        self.set_columns(view.columns or DEFAULT_COLUMNS)
        self.triage.new_since = None
        self.apply_query(query, preset=preset)
        self.look_at_view(view.name)

    @work(group="view-look", exit_on_error=False)
    async def look_at_view(self, name: str) -> None:
        app = services(self)
        store = await app.review_store()
        now = app.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        before = await asyncio.to_thread(store.last_look, name)
        await asyncio.to_thread(store.set_last_look, name, now)
        if app.active_view == name:
            self.triage.new_since = before
            self.show_triage()

    def action_cycle_view(self, step: int) -> None:
        app = services(self)
        names = list(app.views)
        if not names:
            self.notify("No views yet (the built-in ones load with the config)", timeout=3,
                        markup=False)
            return
        index = names.index(app.active_view) + step if app.active_view in names else (
            0 if step > 0 else -1)
        view = app.views[names[index % len(names)]]
        self.apply_view(view)
        self.notify(f"View {view.name}", timeout=2, markup=False)

    def action_save_view(self) -> None:
        from screens.save_view_dialog import SaveViewDialog

        app = services(self)
        user_views = {n for n, v in app.views.items() if not v.builtin}
        dialog = SaveViewDialog(user_views, name=app.active_view or "")
        self.app.push_screen(dialog, self._view_named)

    def _view_named(self, name: str | None) -> None:
        if name:
            self._save_view(name)

    @work(group="view-save", exit_on_error=False)
    async def _save_view(self, name: str) -> None:
        from api.views import View, load_views, save_view

        app = services(self)
        window = self.current_window()
        query = self.query_obj
        if window:  # a relative window is saved as such: the view moves with time
            query = query.replace(start_date=None, end_date=None)
        columns = tuple(self.table.columns)
        active = self.active_view()
        description = active.description if active is not None and active.name == name else ""
        path = app.settings.config_file
        try:
            view = View(name, query, window, None if columns == DEFAULT_COLUMNS else columns,
                        description=description)
            await asyncio.to_thread(save_view, path, view, overwrite=True)
            views = await asyncio.to_thread(load_views, path)
        except (OSError, ValueError, StudioError) as exc:
            self.notify(f"View not saved: {one_line(str(exc), 200)}", severity="error",
                        markup=False)
            return
        app.views = views
        app.active_view = name
        self.notify(f"Saved view {name} in {path}", timeout=4, markup=False)

    # ----------------------------------------------------------------- columns
    def set_columns(self, columns: tuple[str, ...] | list[str]) -> None:
        try:
            self.table.set_columns(check_columns(tuple(columns)))
        except ValueError as exc:
            self.notify(f"Columns not applied: {exc}", severity="warning", markup=False)

    def load_csat(self) -> None:
        """The ratings of the window when the CSAT column is shown (the list does not carry
        them): the CSAT endpoint's ratings table, read page by page up to `CSAT_CAP`."""
        if "csat" in self.table.columns:
            self._load_csat(self.query_obj)

    @work(exclusive=True, group="csat-ratings", exit_on_error=False)
    async def _load_csat(self, query: ConversationQuery) -> None:
        from api.endpoints import analytics

        app = services(self)
        ratings: dict[str, int] = {}
        try:
            client = await app.get_client()
            offset = 0
            while offset < CSAT_CAP:
                answer = await client.load(analytics.csat(
                    client.project_id, query, ratings_limit=CSAT_PAGE, ratings_offset=offset))
                for rating in answer.ratings:
                    if rating.conversation_id and rating.rating is not None:
                        ratings.setdefault(rating.conversation_id, rating.rating)
                offset += CSAT_PAGE
                if not answer.ratings or offset >= (answer.total_rated or 0):
                    break
        except Exception as exc:  # noqa: BLE001 - the column says "–"; the reason is told
            self.notify(f"CSAT ratings not loaded: {one_line(str(exc) or type(exc).__name__)}",
                        severity="warning", timeout=5, markup=False)
            return
        if self.query_obj.shared() == query.shared():
            self.table.csat = ratings
            self.table.refresh_marks()

    def action_choose_columns(self) -> None:
        from screens.columns_dialog import ColumnsDialog

        self.app.push_screen(ColumnsDialog(tuple(self.table.columns)), self._columns_chosen)

    def _columns_chosen(self, chosen: tuple[str, ...] | None) -> None:
        if chosen:
            self.set_columns(chosen)
            self.load_csat()
            self.show_triage()
            self.save_session_soon()

    # ----------------------------------------------------------------- reviews
    def rescan(self, force: bool = False) -> None:
        """Read every conversation of the query when the review filter or a view needs
        them (see screens.triage)."""
        query = self.query_obj
        wanted = self.triage.mode != "all" or services(self).active_view is not None
        scan = self.triage.scan
        if not wanted:
            self.workers.cancel_group(self, "review-scan")
            self.triage.scan = None
            return
        if not force and scan is not None and scan.query == query:
            return
        self.triage.scan = Scan(query)
        self.triage.scan_error = None
        self._scan_rows(query, force)

    @work(exclusive=True, group="review-scan", exit_on_error=False)
    async def _scan_rows(self, query: ConversationQuery, force: bool) -> None:
        app = services(self)
        try:
            client = await app.get_client()
            scan = Scan(query)
            offset = 0
            while True:
                endpoint = conversations.rows(client.project_id, query, limit=SCAN_PAGE,
                                              offset=offset)
                if force:  # ctrl+r: past the response cache
                    endpoint = endpoint._replace(cache=False)
                page = await client.load(endpoint)
                if self.query_obj != query:
                    return  # stale: the filters changed meanwhile
                scan = scan.extended(page)
                offset += SCAN_PAGE
                done = not page.rows or offset >= (page.total or 0)
                capped = not done and len(scan.rows) >= SCAN_CAP
                if done or capped:
                    scan = scan.finished(capped)
                await self._read_reviews_or_say([r.conversation_id for r in page.rows
                                                 if r.conversation_id])
                self.triage.scan = scan
                self._triage_changed()
                if scan.complete:
                    return
        except Exception as exc:  # noqa: BLE001 - said; the counts stay marked incomplete
            if self.query_obj == query:
                self.triage.scan_error = one_line(str(exc) or type(exc).__name__, 80)
                self.show_triage()
                app.report_error(exc, retry=lambda: self.rescan(force=True))

    async def _read_reviews_or_say(self, ids: list[str]) -> None:
        """The reviews of `ids`; a store that fails is said once (its rows read as todo),
        never taken for an API error."""
        try:
            await self._read_reviews(ids)
        except Exception as exc:  # noqa: BLE001 - one line; the list goes on
            if not self.triage.store_failed:
                self.triage.store_failed = True
                self.notify(f"Reviews not read: {one_line(str(exc) or type(exc).__name__)}",
                            title="Review store", severity="error", timeout=8, markup=False)

    async def _read_reviews(self, ids: list[str]) -> None:
        if not ids:
            return
        store = await services(self).review_store()
        found = await asyncio.to_thread(store.get, ids)
        for cid in ids:
            self.triage.reviews.pop(cid, None)
        self.triage.reviews.update(found)

    @work(group="page-reviews", exit_on_error=False)
    async def reviews_for_page(self, page: RowPage) -> None:
        try:
            await self._read_reviews([r.conversation_id for r in page.rows
                                      if r.conversation_id])
        except Exception as exc:  # noqa: BLE001 - the table works without its marks
            log.info("reviews not read: %s", type(exc).__name__)
            return
        self._show_marks()

    def reviews_changed(self, ids: tuple[str, ...]) -> None:
        """Reviews were written (here, in the conversation view, or by the CLI)."""
        self._refresh_reviews(list(ids))

    @work(group="reviews-changed", exit_on_error=False)
    async def _refresh_reviews(self, ids: list[str]) -> None:
        await self._read_reviews(ids)
        self._triage_changed()

    def _triage_changed(self) -> None:
        """The scan or the reviews moved: marks, the triage line, the filtered page."""
        self.show_triage()
        if self.triage.mode != "all":
            self.show_filtered_page()

    def _show_marks(self) -> None:
        table = self.table
        table.reviews = self.triage.reviews
        table.new_since = self.triage.new_since
        table.refresh_marks()

    def show_triage(self) -> None:
        app = services(self)
        line = self.triage.line(app.active_view, self.view_modified())
        widget = self.query_one("#triage-line", Static)
        widget.update(line)
        widget.display = bool(line)
        view = app.active_view
        header = self.query_one(StatusHeader)
        header.screen_title = f"Explorer: {view}{'*' if self.view_modified() else ''}" \
            if view else "Explorer"
        self._show_marks()

    def listed_selection(self) -> list[str] | None:
        """Under a review filter, the ids "all matching" selects: those the table lists
        (the API's "all matching" would bring the others back); None while still read."""
        if not self.triage.exact():
            return None
        excluded = self.table.excluded
        return [r.conversation_id for r in self.triage.filtered()
                if r.conversation_id and r.conversation_id not in excluded]

    def _targets(self) -> list[str]:
        """The conversations a review key applies to: the picked rows (all listed ones
        under a review filter), else the highlighted one."""
        table = self.table
        if table.select_all_matching and self.triage.mode != "all":
            listed = self.listed_selection()
            if listed is None:
                self.notify("The review filter is still reading the conversations",
                            severity="warning", markup=False)
                return []
            return listed
        if table.select_all_matching:  # the API's whole result: not marked blindly
            self.notify("Reviews apply to picked rows (space), not to all matching (*)",
                        severity="warning", markup=False)
            return []
        if table.selected:
            return sorted(table.selected)
        row = table.current()
        return [row.conversation_id] if row and row.conversation_id else []

    def action_review(self, status: str) -> None:
        ids = self._targets()
        if not ids:
            return
        current = {status_of(self.triage.reviews, cid) for cid in ids}
        new = "todo" if current == {status} else status  # the same key again undoes it
        self._write_reviews(ids, status=new)
        if len(ids) == 1 and new != "todo" and self.triage.mode == "all":
            self.table.action_cursor_down()  # on to the next one, as a queue goes

    @work(group="review-write", exit_on_error=False)
    async def _write_reviews(self, ids: list[str], **changes: Any) -> None:
        app = services(self)
        try:
            store = await app.review_store()
            await asyncio.to_thread(partial(store.mark, ids, who=app.review_who, **changes))
        except Exception as exc:  # noqa: BLE001 - one line; nothing else changes
            self.notify(f"Review not saved: {one_line(str(exc) or type(exc).__name__, 200)}",
                        severity="error", markup=False)
            return
        self.app.post_message(ReviewsChanged(tuple(ids)))
        words = {"reviewed": "marked reviewed", "flagged": "flagged", "todo": "back to do"}
        what = words.get(changes.get("status") or "", "updated")
        self.notify(f"{len(ids):,} conversation{'s' if len(ids) != 1 else ''} {what}",
                    timeout=2, markup=False)

    def action_edit_review(self) -> None:
        from screens.review_dialog import ReviewDialog, ReviewEdit

        ids = self._targets()
        if not ids:
            return
        app = services(self)
        review = self.triage.reviews.get(ids[0])

        def save(edit: ReviewEdit | None) -> None:
            if edit is None:
                return
            # only what was edited: the other rows keep their own note, a verdict no
            # longer configured is not sent again ("" clears, None keeps)
            changes: dict[str, Any] = {}
            if edit.verdict != (review.verdict if review else None):
                changes["verdict"] = edit.verdict or ""
            if edit.note != (review.note if review else ""):
                changes["note"] = edit.note
            if all(status_of(self.triage.reviews, cid) == "todo" for cid in ids):
                changes["status"] = "reviewed"
            self._write_reviews(ids, **changes)

        self.app.push_screen(ReviewDialog(
            ids[0] if len(ids) == 1 else f"{len(ids)} conversations", app.review_verdicts,
            review.verdict if review else None, review.note if review else ""), save)

    def action_cycle_review_filter(self) -> None:
        modes = REVIEW_FILTERS
        self.triage.mode = modes[(modes.index(self.triage.mode) + 1) % len(modes)]
        self.rescan()
        self.table.load(self.query_obj)
        self.show_triage()
        self.save_session_soon()
        self.notify({"all": "All conversations", "unreviewed": "Unreviewed only",
                     "flagged": "Flagged only"}[self.triage.mode], timeout=2, markup=False)

    async def action_next_unreviewed(self) -> None:
        """The cursor on the next conversation still to review (crossing pages)."""
        table = self.table
        page = table.start
        for _ in range(SCAN_CAP):
            row = await table.step(1)
            if row is None:
                self.notify("No unreviewed conversation below this one", timeout=3,
                            markup=False)
                return
            if table.start != page:  # a new page: its reviews before its rows are judged
                page = table.start
                await self._read_reviews_or_say([r.conversation_id for r in table.rows
                                                 if r.conversation_id])
                self._show_marks()
            if status_of(self.triage.reviews, row.conversation_id) == "todo":
                return

    # ----------------------------------------------------------------- leaving the app
    @work(group="markdown", exclusive=True, exit_on_error=False)
    async def action_copy_markdown(self) -> None:
        row = self.table.current()
        if row is None or not row.conversation_id:
            return
        app = services(self)
        try:
            client = await app.get_client()
            detail = await client.load(conversations.detail(client.project_id,
                                                            row.conversation_id))
        except Exception as exc:  # noqa: BLE001 - one line
            app.report_error(exc)
            return
        await copy_transcript(self, detail)

    def action_open_url(self) -> None:
        row = self.table.current()
        if row is not None and row.conversation_id:
            open_platform_link(self, row.conversation_id)
