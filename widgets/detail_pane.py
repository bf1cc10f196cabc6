"""Detail pane: the highlighted conversation's metadata, then a preview of its last messages.

The screen hands it the conversation (`show`) and, once it has loaded the detail, the messages
(`show_preview`); `tz` is the time zone dates are shown in.
"""
from __future__ import annotations

from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from api.text import sanitize
from widgets.conversation_meta import meta_text

if TYPE_CHECKING:
    from api.models import Conversation, ConversationDetail

PREVIEW_MESSAGES = 4


class DetailPane(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    DetailPane { background: $surface; padding: 0 1; }
    DetailPane > Static { width: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conversation: Conversation | None = None
        self.tz: tzinfo = UTC

    def compose(self) -> ComposeResult:
        yield Static(Text("No conversation highlighted", style="dim"), id="detail-meta",
                     markup=False)
        yield Static("", id="detail-preview", markup=False)

    def show(self, conversation: Conversation | None) -> None:
        """Show `conversation`'s metadata, its preview cleared."""
        self.conversation = conversation
        meta = self.query_one("#detail-meta", Static)
        self.query_one("#detail-preview", Static).update("")
        if conversation is None:
            meta.update(Text("No conversation highlighted", style="dim"))
            return
        meta.update(meta_text(conversation, self.tz, compact=True))
        self.scroll_home(animate=False)

    def show_preview(self, conversation_id: str, detail: ConversationDetail) -> None:
        """The last messages of `detail` (of `conversation_id`), if that is still the
        conversation shown."""
        shown = self.conversation
        if shown is None or shown.conversation_id != conversation_id:
            return
        self.query_one("#detail-preview", Static).update(preview_text(detail))


def preview_text(detail: ConversationDetail) -> Text:
    messages = detail.messages
    text = Text("\n")
    text.append(f"Last {min(PREVIEW_MESSAGES, len(messages))} of {len(messages)} messages "
                "(enter: full view)\n", style="bold")
    for message in messages[-PREVIEW_MESSAGES:]:
        role = sanitize(message.role or "?")
        content = sanitize(message.content or "").replace("\n", " ")
        text.append(f"{role:>9} ", style="bold cyan" if role == "assistant" else "bold")
        text.append((content[:300] + "…") if len(content) > 300 else content)
        text.append("\n")
    return text
