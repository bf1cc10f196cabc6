"""Detail pane: the highlighted conversation's metadata at once, its detail fetched (debounced).

The fetch warms the response cache, so opening the full view right after is instant, and adds a
message preview.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.widgets import Static

from api.text import sanitize
from tui.lookups import api_path
from widgets.conversation_meta import meta_text

DEBOUNCE_S = 0.25  # before fetching the detail
PAINT_DELAY_S = 0.03  # before painting the metadata: a page flip paints its table first
PREVIEW_MESSAGES = 4


class DetailPane(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    DetailPane { background: $surface; padding: 0 1; }
    DetailPane > Static { width: 1fr; }
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.conversation: dict | None = None
        self._timer: Any = None
        self._paint_timer: Any = None

    def compose(self):
        yield Static(Text("No conversation highlighted", style="dim"), id="detail-meta",
                     markup=False)
        yield Static("", id="detail-preview", markup=False)

    def show(self, conversation: dict | None) -> None:
        self.conversation = conversation
        if self._paint_timer is not None:
            self._paint_timer.stop()
        self._paint_timer = self.set_timer(PAINT_DELAY_S, self._paint)

    def _paint(self) -> None:
        conversation = self.conversation
        meta = self.query_one("#detail-meta", Static)
        preview = self.query_one("#detail-preview", Static)
        preview.update("")
        if conversation is None:
            meta.update(Text("No conversation highlighted", style="dim"))
            return
        meta.update(meta_text(conversation, getattr(self.app, "display_tz", None), compact=True))
        self.scroll_home(animate=False)
        if self._timer is not None:
            self._timer.stop()
        cid = conversation.get("conversation_id")
        if cid:
            self._timer = self.set_timer(DEBOUNCE_S, lambda: self._fetch(str(cid)))

    @work(exclusive=True, group="detail-pane", exit_on_error=False)
    async def _fetch(self, cid: str) -> None:
        client = await self.app.get_client()
        try:
            path = api_path("/projects/{}/conversations/{}", client.project_id, cid)
        except ValueError:  # no usable id: the pane keeps the metadata, nothing is asked
            return
        try:
            result = await client.get_result(path)
        except Exception:  # noqa: BLE001 - the pane keeps the metadata it has
            return
        if not self.conversation or self.conversation.get("conversation_id") != cid:
            return
        self.query_one("#detail-preview", Static).update(preview_text(result.data))


def preview_text(detail: Any) -> Text:
    messages = detail.get("messages") if isinstance(detail, dict) else None
    text = Text("\n")
    if not isinstance(messages, list):
        return text
    text.append(f"Last {min(PREVIEW_MESSAGES, len(messages))} of {len(messages)} messages "
                "(enter: full view)\n", style="bold")
    for message in messages[-PREVIEW_MESSAGES:]:
        if not isinstance(message, dict):
            continue
        role = sanitize(str(message.get("role") or "?"))
        content = sanitize(str(message.get("content") or "")).replace("\n", " ")
        text.append(f"{role:>9} ", style="bold cyan" if role == "assistant" else "bold")
        text.append((content[:300] + "…") if len(content) > 300 else content)
        text.append("\n")
    return text
