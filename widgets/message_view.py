"""One message of a conversation: header facts, folded content, collapsible tool calls."""
from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Static

from api.text import sanitize
from widgets.conversation_table import short_time

FOLD_CHARS = 3_000


def _num(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return f"{value:,}" if isinstance(value, int) else f"{value:,.4f}"


def message_header(message: dict, tz: Any = None) -> Text:
    """role · time · playbook version · latency · tokens · cost (each when present)."""
    meta = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
    role = sanitize(str(message.get("role") or "?"))
    text = Text()
    text.append(f" {role} ", style="bold reverse" if role == "assistant" else "bold")
    text.append(f"  {short_time(message.get('created_at'), tz)}", style="dim")
    if message.get("is_winback"):
        text.append("  ↻ winback", style="magenta")
    if meta.get("playbook_name") or meta.get("playbook_version") is not None:
        text.append(f"  {sanitize(str(meta.get('playbook_name') or 'playbook'))}"
                    f" v{sanitize(str(meta.get('playbook_version', '?')))}")
    latency = _num(meta.get("response_latency_ms"))
    if latency:
        text.append(f"  latency {latency} ms")
    tokens = [(label, _num(meta.get(key))) for label, key in (
        ("in", "input_tokens"), ("out", "output_tokens"), ("cache r", "cache_read_tokens"),
        ("cache w", "cache_write_tokens"))]
    tokens = [(label, value) for label, value in tokens if value]
    if tokens:
        text.append("  tokens " + " / ".join(f"{label} {value}" for label, value in tokens),
                    style="dim")
    cost = _num(meta.get("cost_usd"))
    if cost:
        text.append(f"  ${cost}", style="dim")
    return text


def pretty_json(value: Any) -> str:
    """Arguments/results arrive as JSON strings (or objects): pretty-print when parseable."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return sanitize(value)
    return sanitize(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def tool_call_body(call: dict) -> Text:
    text = Text()
    text.append("arguments\n", style="bold")
    text.append(_fold(pretty_json(call.get("arguments")), FOLD_CHARS))
    text.append("\nresult\n", style="bold")
    result = call.get("result")
    text.append(_fold(pretty_json(result), FOLD_CHARS) if result is not None else "–")
    return text


def _fold(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n… {len(text) - limit:,} more characters (enter on the message: expand)"


class MessageView(Vertical, can_focus=True):
    """A message; `expanded` shows content longer than FOLD_CHARS in full."""

    DEFAULT_CSS = """
    MessageView { height: auto; padding: 0 1; margin-bottom: 1; }
    MessageView:focus { background: $boost; }
    MessageView.-match { border-left: thick $warning; }
    MessageView .content { padding: 0 0 0 2; }
    MessageView Collapsible { margin: 0 0 0 2; padding-bottom: 0; border-top: none; }
    """

    BINDINGS = [("enter", "toggle_fold", "Expand/fold message")]

    def __init__(self, message: dict, index: int, tz: Any = None) -> None:
        super().__init__()
        self.message = message
        self.index = index
        self.tz = tz
        self.expanded = False
        self.highlight: str | None = None
        self.content_text = sanitize(str(message.get("content") or ""))

    def compose(self) -> ComposeResult:
        yield Static(message_header(self.message, self.tz), markup=False)
        yield Static(self._content(), classes="content", markup=False, id="content")
        calls = self.message.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            if not isinstance(call, dict):
                continue
            title = (f"⚙ {sanitize(str(call.get('name') or '?'))} "
                     f"({sanitize(str(call.get('tool_type') or 'tool'))})")
            with Collapsible(title=Content(title), collapsed=True):
                yield Static(tool_call_body(call), markup=False)

    def _content(self) -> Text:
        body = self.content_text or "(empty message)"
        if not self.expanded:
            body = _fold(body, FOLD_CHARS)
        text = Text(body, style="" if self.content_text else "dim italic")
        if self.highlight:
            text.highlight_words([self.highlight], style="reverse", case_sensitive=False)
        return text

    def searchable(self) -> str:
        calls = self.message.get("tool_calls")
        names = " ".join(str(c.get("name")) for c in calls if isinstance(c, dict)) \
            if isinstance(calls, list) else ""
        return f"{self.content_text} {names}".lower()

    def set_highlight(self, term: str | None) -> None:
        self.highlight = term
        self.set_class(bool(term), "-match")
        self.query_one("#content", Static).update(self._content())

    def action_toggle_fold(self) -> None:
        self.expanded = not self.expanded
        self.query_one("#content", Static).update(self._content())
