"""What leaves the app from a conversation: its Markdown transcript over OSC 52, and its link
on the platform it came from (both screens that show conversations offer them)."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from api.text import one_line
from screens.services import services

if TYPE_CHECKING:
    from textual.widget import Widget

    from api.models import ConversationDetail

OSC52_WARN_BYTES = 100_000  # past this, some terminals (and tmux) drop an OSC 52 copy


async def copy_transcript(node: Widget, detail: ConversationDetail) -> None:
    """Copy `detail` as a Markdown transcript over OSC 52 (redacted when the app's toggle is
    on) and say how many characters went; a failure is one notification line."""
    from api.transcript import transcript_markdown

    app = services(node)
    redact = app.redact
    try:  # a long conversation takes a moment: off the event loop
        markdown = await asyncio.to_thread(transcript_markdown, detail, names=app.lookups,
                                           tz=app.display_tz, redact=redact)
    except Exception as exc:  # noqa: BLE001 - one line
        node.notify(one_line(f"Transcript not made: {exc}", 300), severity="error", timeout=8,
                    markup=False)
        return
    node.app.copy_to_clipboard(markdown)
    message = (f"Copied the conversation as Markdown ({len(markdown):,} characters"
               f"{', redacted' if redact else ''})")
    if len(markdown.encode("utf-8")) > OSC52_WARN_BYTES:
        node.notify(f"{message}. Over 100 KB: some terminals cut OSC 52 payloads this long, "
                    "so the clipboard may hold only its start", severity="warning", timeout=8,
                    markup=False)
    else:
        node.notify(message, timeout=3, markup=False)


def open_platform_link(node: Widget, conversation_id: str) -> None:
    """Open the conversation on its platform (the profile's `conversation_url` template) and
    copy the link, or say in one line that no template is configured."""
    app = services(node)
    url = app.conversation_url(conversation_id) if conversation_id else None
    if url is None:
        node.notify(f"No platform link: set conversation_url (a URL with {{id}}) in the "
                    f"profile in {app.settings.config_file}", severity="warning", timeout=8,
                    markup=False)
        return
    opened = app.open_link(url)
    how = "Opened (and copied)" if opened else "Copied (no graphical browser here to open it)"
    node.notify(f"{how}: {one_line(url, 200)}", timeout=5, markup=False)
