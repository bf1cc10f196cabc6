"""Full-screen view of one conversation: metadata, message timeline, tool calls, citations.

Messages are mounted in chunks after the first paint (a 300-message conversation or a 50 KB
message never freezes the UI); long texts are folded until asked for.

Triage: the conversation's local review is shown under its title; `m` / `!` toggle reviewed /
flagged (back to todo), `E` edits the verdict and note. Writes go through the app's review
store in a thread, one at a time (a toggle reads the result of the one before), and post
`ReviewsChanged`. `M` copies a Markdown transcript, `O` opens the platform's page.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Input, Static

from api.endpoints import conversations
from api.endpoints.conversations import ConversationRow
from api.errors import InvalidIdError
from api.lookups import Lookups, resolve_kb_items
from api.reviews import Review
from api.text import one_line, sanitize
from screens.resume import KeepStylesOnResume
from screens.services import ReviewsChanged, services
from screens.share import copy_transcript, open_platform_link
from widgets.conversation_meta import meta_text, review_text
from widgets.footer import KeyBar
from widgets.message_view import CitationRefs, MessageView
from widgets.scroll_body import ScrollBody
from widgets.status_header import StatusHeader

if TYPE_CHECKING:

    from api.models import Citation, ConversationDetail
    from api.reviews import ReviewStore
    from screens.review_dialog import ReviewEdit

CHUNK = 25
UNREVIEWED_STEPS = 5000  # conversations `u` walks through at most

# (step, the conversation shown) -> the conversation `step` away in the list it came from
Navigator = Callable[[int, str | None], Awaitable[ConversationRow | None]]


def citation_label(citation: Citation, lookups: Lookups) -> Text:
    """``KB › item`` of one citation (titles from the lookups when known, else ids)."""
    kb_id, item_id = citation.kb_id or "", citation.item_id or ""
    kb = lookups.kb_title(kb_id)
    item = lookups.kb_items.get((kb_id, item_id))
    text = Text()
    text.append(sanitize(kb or "unknown KB"), style="bold")
    text.append(" › ")
    text.append(sanitize(item or citation.file_name or item_id or "item"))
    return text


def citations_text(citations: Sequence[Citation], lookups: Lookups,
                   refs: CitationRefs | None = None) -> Text:
    """The conversation's citation list, each under the number ``[n]`` its messages use."""
    text = Text()
    if not citations:
        return text
    refs = refs or CitationRefs.build([], citations)
    text.append(f"Citations ({len(citations)})\n", style="bold underline")
    unnumbered = [c for c in citations if str(c.citation_id) not in refs.numbers]
    entries = [*refs.ordered(), *((None, c) for c in unnumbered)]
    for number, citation in entries:
        text.append(f"[{number}] " if number is not None else "• ", style="bold cyan")
        text.append_text(citation_label(citation, lookups))
        excerpt = sanitize(citation.content or "").replace("\n", " ")
        if excerpt:
            text.append("\n   " + (excerpt[:300] + "…" if len(excerpt) > 300 else excerpt),
                        style="dim")
        text.append("\n")
    return text


class ConversationScreen(KeepStylesOnResume, Screen[None]):
    CSS_PATH = "conversation.tcss"

    BINDINGS = [
        # triage first: the footer shows the keys in this order, as many as fit
        Binding("m", "mark('reviewed')", "Reviewed", id="conversation.review.mark"),
        Binding("exclamation_mark", "mark('flagged')", "Flag", id="conversation.review.flag"),
        Binding("E", "edit_review", "Verdict", id="conversation.review.edit"),
        Binding("J,right_square_bracket", "step(1)", "Next conv.", id="conversation.next"),
        Binding("K,left_square_bracket", "step(-1)", "Prev conv.", id="conversation.prev"),
        Binding("u", "next_unreviewed", "Next unreviewed", show=False,
                id="conversation.review.next"),
        Binding("slash", "find", "Search", id="conversation.find"),
        Binding("M", "copy_markdown", "Copy Markdown", id="conversation.copy_markdown"),
        Binding("O", "open_url", "Open link", id="conversation.open_url"),
        Binding("n", "find_next(1)", "Next match", show=False, id="conversation.find_next"),
        Binding("N", "find_next(-1)", "Prev match", show=False, id="conversation.find_prev"),
        Binding("y", "copy_id", "Copy id", id="conversation.copy_id"),
        Binding("Y", "copy_json", "Copy JSON", id="conversation.copy_json"),
        Binding("a", "toggle_tools", "Tool calls", id="conversation.tools"),
        Binding("j", "scroll(1)", "Down", show=False, id="conversation.down"),
        Binding("k", "scroll(-1)", "Up", show=False, id="conversation.up"),
        Binding("g", "top", "Top", show=False, id="conversation.top"),
        Binding("G", "bottom", "Bottom", show=False, id="conversation.bottom"),
    ]

    def __init__(self, conversation_id: str | None, navigator: Navigator | None = None) -> None:
        super().__init__()
        self.conversation_id = conversation_id
        self.navigator = navigator
        self.detail: ConversationDetail | None = None
        self.citation_refs = CitationRefs()
        self._matches: list[MessageView] = []
        self._match_index = -1
        self._term: str | None = None
        self.review: Review | None = None  # of `conversation_id`; None until read
        self._review_writes = asyncio.Lock()

    def compose(self) -> ComposeResult:
        yield StatusHeader("Conversation")
        yield Static("", id="conv-title", markup=False)
        yield Static(review_text(None), id="conv-review", markup=False)
        with ScrollBody(id="conv-body"):
            yield Static(Text("loading…", style="dim"), id="conv-meta", markup=False)
            yield Vertical(id="messages")
            yield Static("", id="citations", markup=False)
        yield Input(placeholder="search in this conversation (enter; n / N to move)",
                    id="find")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#conv-body").focus()
        self._load(self.conversation_id)

    def refresh_data(self) -> None:
        self._load(self.conversation_id)

    # ----------------------------------------------------------------- loading
    @work(exclusive=True, group="conversation", exit_on_error=False)
    async def _load(self, cid: str | None) -> None:
        app = services(self)
        if cid is None:  # no id to ask for: say so, no request
            self._show_problem("Cannot open this conversation: missing id (None)")
            return
        self._set_title(cid, loading=True)
        self._load_review(cid)
        try:
            client = await app.get_client()
            try:
                endpoint = conversations.detail(client.project_id, cid)
            except InvalidIdError as exc:
                self._show_problem(f"Cannot open this conversation: {exc}")
                return
            async for result in client.load_swr(endpoint):
                if cid != self.conversation_id:
                    return
                app.note_result(result)
                if result.data != self.detail:
                    await self._show_detail(result.data)
        except Exception as exc:  # noqa: BLE001 - shown, last good view kept
            app.report_error(exc, retry=self.refresh_data)
        self._set_title(cid, loading=False)

    def _show_problem(self, message: str) -> None:
        self.query_one("#conv-title", Static).update(Text(f" {message} ", style="bold red"))
        self.query_one("#conv-meta", Static).update("")
        self.notify(message, severity="error", timeout=6, markup=False)

    def _set_title(self, cid: str, *, loading: bool) -> None:
        text = Text()
        text.append(f" {sanitize(cid)} ", style="bold reverse")
        if loading:
            text.append("  loading…", style="dim")
        elif self._term:
            text.append(f"  search “{sanitize(self._term)}”: {len(self._matches)} match(es)")
        self.query_one("#conv-title", Static).update(text)

    async def _show_detail(self, detail: ConversationDetail) -> None:
        self.detail = detail
        app = services(self)
        tz = app.display_tz
        self.query_one("#conv-meta", Static).update(meta_text(detail, tz))
        container = self.query_one("#messages", Vertical)
        await container.remove_children()
        messages = detail.messages
        self._matches, self._match_index = [], -1
        refs = self.citation_refs = CitationRefs.build(
            [sanitize(m.content or "") for m in messages], detail.citations,
            lambda citation: citation_label(citation, services(self).lookups))
        for start in range(0, len(messages), CHUNK):  # chunked: the first screen paints first
            chunk = messages[start:start + CHUNK]
            await container.mount_all(
                MessageView(m, start + i, tz, refs) for i, m in enumerate(chunk)
            )
        self.query_one("#conv-body", VerticalScroll).scroll_home(animate=False)
        await self._render_citations(detail.citations)
        if self._term:
            self._find(self._term, jump=False)

    async def _render_citations(self, citations: Sequence[Citation]) -> None:
        app = services(self)
        lookups = app.lookups
        widget = self.query_one("#citations", Static)
        widget.update(citations_text(citations, lookups, self.citation_refs))
        if not citations:
            return
        pairs = {(c.kb_id or "", c.item_id or "") for c in citations}
        try:
            await resolve_kb_items(await app.get_client(), lookups, pairs)
        except Exception:  # noqa: BLE001 - titles are a nicety; ids stay shown
            return
        widget.update(citations_text(citations, lookups, self.citation_refs))
        for view in self.query(MessageView):
            view.refresh_citations()

    # ----------------------------------------------------------------- navigation
    def action_step(self, delta: int) -> None:
        if self.navigator is not None:
            self._step(delta)

    @work(exclusive=True, group="conversation-step", exit_on_error=False)
    async def _step(self, delta: int) -> None:
        row = (await self.navigator(delta, self.conversation_id)
               if self.navigator is not None else None)
        if row is None or not row.conversation_id:
            self.notify("No more conversations in that direction", timeout=2, markup=False)
            return
        self.conversation_id = row.conversation_id
        self.detail = None
        self._load(self.conversation_id)

    def action_next_unreviewed(self) -> None:
        if self.navigator is not None:
            self._next_unreviewed()

    @work(exclusive=True, group="conversation-step", exit_on_error=False)
    async def _next_unreviewed(self) -> None:
        """On through the list the view came from to the next conversation still to do."""
        if self.navigator is None:
            return
        store = await services(self).review_store()
        shown = self.conversation_id
        for _ in range(UNREVIEWED_STEPS):
            row = await self.navigator(1, shown)
            if row is None or not row.conversation_id:
                break
            shown = row.conversation_id
            reviews = await asyncio.to_thread(store.get, [shown])
            if shown not in reviews or reviews[shown].status == "todo":
                self.conversation_id, self.detail = shown, None
                self._load(shown)
                return
        self.notify("No unreviewed conversation after this one", timeout=3, markup=False)

    def action_scroll(self, delta: int) -> None:
        body = self.query_one("#conv-body", VerticalScroll)
        body.scroll_relative(y=delta * 3, animate=False)

    def action_top(self) -> None:
        self.query_one("#conv-body", VerticalScroll).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one("#conv-body", VerticalScroll).scroll_end(animate=False)

    def action_toggle_tools(self) -> None:
        from textual.widgets import Collapsible

        collapsibles = list(self.query(Collapsible))
        expand = any(c.collapsed for c in collapsibles)
        for collapsible in collapsibles:
            collapsible.collapsed = not expand

    # ----------------------------------------------------------------- search
    def action_find(self) -> None:
        find = self.query_one("#find", Input)
        find.add_class("-shown")
        find.focus()

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._find(event.value.strip() or None, jump=True)
        self.query_one("#conv-body").focus()

    def _find(self, term: str | None, *, jump: bool) -> None:
        self._term = term
        self._matches = []
        needle = term.lower() if term else None
        for view in self.query(MessageView):
            hit = bool(needle and needle in view.searchable())
            view.set_highlight(term if hit else None)
            if hit:
                self._matches.append(view)
        self._match_index = -1
        self._set_title(self.conversation_id or "", loading=False)
        if term and not self._matches:
            self.notify(f"No match for “{term}”", timeout=2, markup=False)
        elif jump and self._matches:
            self.action_find_next(1)

    def action_find_next(self, delta: int) -> None:
        if not self._matches:
            return
        self._match_index = (self._match_index + delta) % len(self._matches)
        target = self._matches[self._match_index]
        self.query_one("#conv-body", VerticalScroll).scroll_to_widget(target, animate=False,
                                                                        top=True)
        target.focus(scroll_visible=False)

    # ----------------------------------------------------------------- clipboard
    def action_copy_id(self) -> None:
        cid = self.conversation_id or ""
        self.app.copy_to_clipboard(cid)
        self.notify(f"Copied conversation id {sanitize(cid)}", timeout=3, markup=False)

    def action_copy_json(self) -> None:
        if self.detail is None:
            self.notify("Nothing loaded yet", severity="warning", timeout=2, markup=False)
            return
        payload = json.dumps(self.detail.answer, indent=2, ensure_ascii=False, default=str)
        self.app.copy_to_clipboard(payload)
        self.notify(f"Copied the conversation JSON ({len(payload):,} characters)", timeout=3,
                    markup=False)

    # ----------------------------------------------------------------- review
    @work(exclusive=True, group="review-read", exit_on_error=False)
    async def _load_review(self, cid: str) -> None:
        try:
            store = await services(self).review_store()
            found = await asyncio.to_thread(store.get, [cid])
        except Exception as exc:  # noqa: BLE001 - shown in place of the review
            if cid == self.conversation_id:
                self.query_one("#conv-review", Static).update(
                    review_text(None, problem=f"not available: {exc}"))
            return
        if cid == self.conversation_id:
            self._show_review(found.get(cid) or Review.todo(cid))

    def _show_review(self, review: Review) -> None:
        self.review = review
        self.query_one("#conv-review", Static).update(
            review_text(review, services(self).display_tz))

    def action_mark(self, status: str) -> None:
        if self.conversation_id:
            self._toggle_review(self.conversation_id, status)

    def action_edit_review(self) -> None:
        if self.conversation_id:
            self._edit_review(self.conversation_id)

    async def _current_review(self, store: ReviewStore, cid: str) -> Review:
        if self.review is not None and self.review.conversation_id == cid:
            return self.review
        found = await asyncio.to_thread(store.get, [cid])
        return found.get(cid) or Review.todo(cid)

    @work(group="review-write", exit_on_error=False)
    async def _toggle_review(self, cid: str, status: str) -> None:
        async with self._review_writes:
            try:
                store = await services(self).review_store()
                current = await self._current_review(store, cid)
                target = "todo" if current.status == status else status
                await self._write_review(store, cid, status=target)
            except Exception as exc:  # noqa: BLE001 - one line, the view unchanged
                self._review_failed(cid, exc)

    @work(group="review-write", exit_on_error=False)
    async def _edit_review(self, cid: str) -> None:
        from screens.review_dialog import ReviewDialog

        app = services(self)
        try:
            store = await app.review_store()
            current = await self._current_review(store, cid)
        except Exception as exc:  # noqa: BLE001 - one line
            self._review_failed(cid, exc)
            return
        edit: ReviewEdit | None = await self.app.push_screen_wait(ReviewDialog(
            cid, app.review_verdicts, verdict=current.verdict, note=current.note))
        if edit is None:
            return
        async with self._review_writes:
            try:
                current = await self._current_review(store, cid)  # a toggle may have run
                # only what changed: a stored verdict no longer configured stays valid
                verdict = (edit.verdict or "") if edit.verdict != current.verdict else None
                note = edit.note if edit.note != current.note else None
                status = "reviewed" if current.status == "todo" else None  # saving is reviewing
                if (status, verdict, note) != (None, None, None):
                    await self._write_review(store, cid, status=status, verdict=verdict,
                                             note=note)
            except Exception as exc:  # noqa: BLE001 - one line, the view unchanged
                self._review_failed(cid, exc)

    async def _write_review(self, store: ReviewStore, cid: str, *, status: str | None = None,
                            verdict: str | None = None, note: str | None = None) -> None:
        """Set the given fields (None: left as stored) and show and announce the result."""
        app = services(self)
        written = await asyncio.to_thread(partial(store.mark, [cid], status=status,
                                                  verdict=verdict, note=note,
                                                  who=app.review_who))
        if written and cid == self.conversation_id:
            self._show_review(written[0])
        self.app.post_message(ReviewsChanged((cid,)))

    def _review_failed(self, cid: str, error: BaseException) -> None:
        self.notify(one_line(f"Review of {cid} not saved: {error}", 300), severity="error",
                    timeout=8, markup=False)

    # ----------------------------------------------------------------- leaving the app
    def action_copy_markdown(self) -> None:
        if self.detail is None:
            self.notify("Nothing loaded yet", severity="warning", timeout=2, markup=False)
            return
        self.run_worker(copy_transcript(self, self.detail), group="markdown", exclusive=True,
                        exit_on_error=False)

    def action_open_url(self) -> None:
        open_platform_link(self, self.conversation_id or "")

