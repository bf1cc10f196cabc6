"""The conversations behind a topic, a rating, an event or a tool call: exact ids.

The list endpoint cannot filter by a set of ids, so this screen reads them through the batch
endpoint (``POST .../conversations/batch``, 50 ids per call), one page of 50 at a time, in
the order given. Enter opens a conversation in the full conversation view, where the next /
previous keys walk this list. ``esc`` goes back to the analytics screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Static

from api.endpoints import conversations
from api.errors import StudioError
from screens.analytics.fmt import fmt_int, when
from screens.resume import KeepStylesOnResume
from screens.services import services
from widgets.charts import number_cell, plain
from widgets.footer import KeyBar
from widgets.status_header import StatusHeader
from widgets.tables import PagedTable

if TYPE_CHECKING:
    from api import models as m

PAGE = 50  # the batch endpoint's limit
COLUMNS = ("last message", "id", "assistant", "msgs", "sentiment", "outcome", "risk", "intent")


def conversation_row(c: m.Conversation) -> list[Any]:
    handoff = c.has_handoff is True
    outcome = c.handoff_reason if handoff else c.deflection_quality
    return [
        plain(when(c.last_message_at)),
        plain(c.conversation_id),
        plain(c.playbook_name),
        number_cell(fmt_int(c.message_count) or "—"),
        plain(c.sentiment_label),
        plain(f"handoff: {outcome or '?'}" if handoff else outcome),
        plain(c.recontact_risk),
        plain(c.user_intent or ""),
    ]


class ConversationIdsScreen(KeepStylesOnResume, Screen[None]):
    """A list of exact conversation ids, read through the batch endpoint."""

    AUTO_FOCUS = "DataTable"
    DEFAULT_CSS = """
    ConversationIdsScreen #ids-title { height: auto; padding: 0 1; color: $text-muted; }
    ConversationIdsScreen PagedTable { height: 1fr; padding: 0 1; }
    ConversationIdsScreen PagedTable > DataTable { max-height: 100%; height: 1fr; }
    """

    def __init__(self, ids: list[str], title: str) -> None:
        super().__init__()
        self.ids = list(dict.fromkeys(i for i in ids if i))
        self.title_text = title
        self.rows: list[m.ConversationDetail] = []  # the conversations of the page shown

    def compose(self) -> ComposeResult:
        yield StatusHeader("Conversations")
        yield Static(Text(self.title_text), id="ids-title")
        yield PagedTable(
            f"{len(self.ids):,} conversations — enter: open one (then ] / [ walk this list)",
            COLUMNS,
            page_size=PAGE,
            id="ids",
        )
        yield KeyBar()

    def on_mount(self) -> None:
        self.load_page(0)

    def load_page(self, offset: int) -> None:
        self.run_worker(self._load(offset), exclusive=True, group="ids", exit_on_error=False)

    async def _load(self, offset: int) -> None:
        app = services(self)
        client = app.client
        chunk = self.ids[offset : offset + PAGE]
        try:
            answer = await conversations.batch(client, str(client.project_id), chunk)
        except StudioError as error:
            app.report_error(error, lambda: self.load_page(offset))
            return
        found = {c.conversation_id: c for c in answer}
        self.rows = [found[i] for i in chunk if i in found]  # the order given, unknown skipped
        missing = len(chunk) - len(self.rows)
        self.query_one("#ids", PagedTable).set_page(
            [
                (c.conversation_id or str(n), conversation_row(c))
                for n, c in enumerate(self.rows)
            ],
            offset=offset,
            total=len(self.ids),
            empty_text="none of these conversations exists any more",
        )
        if missing:
            self.notify(
                f"{missing} of these conversations were not found (deleted or not visible).",
                markup=False,
            )

    def on_paged_table_page_requested(self, event: PagedTable.PageRequested) -> None:
        self.load_page(event.offset)

    def on_titled_table_selected(self, event: PagedTable.Selected) -> None:
        from screens.conversation import ConversationScreen

        self.app.push_screen(ConversationScreen(event.key, self.step))

    async def step(self, delta: int, shown: str | None = None
                   ) -> conversations.ConversationRow | None:
        """Next / previous conversation of this page for the conversation view (which walks
        the explorer's rows: a ConversationRow, built from the list item's fields)."""
        table = self.query_one("#ids", PagedTable).query_one(DataTable)
        row = table.cursor_row + delta
        if not 0 <= row < len(self.rows):
            return None
        table.move_cursor(row=row)
        item = self.rows[row].model_dump(exclude={"messages", "citations"})
        return conversations.ConversationRow(item)
