"""One message of a conversation: header facts, folded content with numbered citation
references, the sources it cites, collapsible tool calls."""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Collapsible, Static

from api.dates import short_time
from api.text import sanitize
from api.transcript import CITATION_MARK, citation_numbers, cited_ids
from api.transcript import looks_like_citation_id as _looks_like_id

if TYPE_CHECKING:
    from api.models import Citation, Message, ToolCall

FOLD_CHARS = 3_000
REFERENCE_STYLE = "bold cyan"


def render_citations(text: str, numbers: Mapping[str, int]) -> Text:
    """`text` with each ``[[id]]`` marker shown as its number ``[1]`` (``[?]`` for an id the
    citation list lacks); anything else that looks like a marker stays as written."""
    out = Text()
    last = 0
    for match in CITATION_MARK.finditer(text):
        cid = match.group(1)
        number = numbers.get(cid)
        if number is None and not _looks_like_id(cid):
            continue
        out.append(text[last:match.start()])
        out.append(f"[{number}]" if number is not None else "[?]",
                   style=REFERENCE_STYLE if number is not None else "dim")
        last = match.end()
    out.append(text[last:])
    return out


def _citation_id(citation: Citation) -> Text:
    return Text(sanitize(str(citation.citation_id)))


@dataclass
class CitationRefs:
    """A conversation's citations, numbered in the order its messages first cite them (then
    the ones no message marks); ``label`` names one (``KB › item``) for the lists."""

    numbers: dict[str, int] = field(default_factory=dict)
    by_id: dict[str, Citation] = field(default_factory=dict)
    label: Callable[[Citation], Text] = _citation_id

    @classmethod
    def build(cls, texts: Sequence[str], citations: Sequence[Citation],
              label: Callable[[Citation], Text] | None = None) -> CitationRefs:
        by_id = {c.citation_id: c for c in citations if c.citation_id}
        refs = cls(citation_numbers(texts, citations), by_id)
        if label is not None:
            refs.label = label
        return refs

    def ordered(self) -> list[tuple[int, Citation]]:
        """(number, citation) of every listed citation, by number."""
        return sorted(((n, self.by_id[cid]) for cid, n in self.numbers.items()),
                      key=lambda pair: pair[0])

    def sources(self, text: str) -> Text:
        """What `text` cites, one ``[n] KB › item`` line each (empty when nothing)."""
        out = Text()
        for cid in cited_ids(text):
            number = self.numbers.get(cid)
            if number is None and not _looks_like_id(cid):
                continue
            if out:
                out.append("\n")
            if number is None:
                out.append("[?] ", style="dim")
                out.append(f"not in this conversation's citations ({sanitize(cid)})",
                           style="dim")
                continue
            out.append(f"[{number}] ", style=REFERENCE_STYLE)
            out.append_text(self.label(self.by_id[cid]))
        return out


def _num(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return f"{value:,}" if isinstance(value, int) else f"{value:,.4f}"


def message_header(message: Message, tz: tzinfo | None = None) -> Text:
    """role · time · playbook version · latency · tokens · cost (each when present)."""
    meta = message.metadata
    role = sanitize(message.role or "?")
    text = Text()
    text.append(f" {role} ", style="bold reverse" if role == "assistant" else "bold")
    text.append(f"  {short_time(message.created_at, tz)}", style="dim")
    if message.is_winback:
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


def tool_call_body(call: ToolCall) -> Text:
    text = Text()
    text.append("arguments\n", style="bold")
    text.append(_fold(pretty_json(call.arguments), FOLD_CHARS))
    text.append("\nresult\n", style="bold")
    result = call.result
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
    MessageView .message-citations { padding: 0 0 0 2; color: $text-muted; }
    MessageView Collapsible { margin: 0 0 0 2; padding-bottom: 0; border-top: none; }
    """

    BINDINGS = [("enter", "toggle_fold", "Expand/fold message")]

    def __init__(self, message: Message, index: int, tz: tzinfo | None = None,
                 citations: CitationRefs | None = None) -> None:
        super().__init__()
        self.message = message
        self.index = index
        self.tz = tz
        self.citations = citations or CitationRefs()
        self.expanded = False
        self.highlight: str | None = None
        self.content_text = sanitize(message.content or "")
        self.shown_text = render_citations(self.content_text, self.citations.numbers)

    def compose(self) -> ComposeResult:
        yield Static(message_header(self.message, self.tz), markup=False)
        yield Static(self._content(), classes="content", markup=False, id="content")
        sources = self.citations.sources(self.content_text)
        if sources:
            yield Static(sources, classes="message-citations", markup=False)
        for call in self.message.tool_calls:
            title = f"⚙ {sanitize(call.name or '?')} ({sanitize(call.tool_type or 'tool')})"
            # Content, never markup; Textual takes it though the parameter is typed `str`
            with Collapsible(title=Content(title), collapsed=True):  # type: ignore[arg-type]
                yield Static(tool_call_body(call), markup=False)

    def _content(self) -> Text:
        if not self.content_text:
            text = Text("(empty message)", style="dim italic")
        elif self.expanded or len(self.shown_text) <= FOLD_CHARS:
            text = self.shown_text.copy()
        else:
            text = self.shown_text[:FOLD_CHARS]
            more = len(self.shown_text) - FOLD_CHARS
            text.append(f"\n… {more:,} more characters (enter on the message: expand)")
        if self.highlight:
            text.highlight_words([self.highlight], style="reverse", case_sensitive=False)
        return text

    def searchable(self) -> str:
        names = " ".join(str(c.name) for c in self.message.tool_calls)
        return f"{self.shown_text.plain} {names}".lower()

    def set_highlight(self, term: str | None) -> None:
        self.highlight = term
        self.set_class(bool(term), "-match")
        self.query_one("#content", Static).update(self._content())

    def refresh_citations(self) -> None:
        """Say the sources again (their titles arrive after the first paint)."""
        for sources in self.query(".message-citations").results(Static):
            sources.update(self.citations.sources(self.content_text))

    def action_toggle_fold(self) -> None:
        self.expanded = not self.expanded
        self.query_one("#content", Static).update(self._content())
