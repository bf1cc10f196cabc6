"""Conversations as Markdown transcripts: what a triage leaves the app with (clipboard, file).

``transcript_markdown(detail)`` writes one conversation::

    # Conversation 21014874

    - **Assistant:** Support Assistant (EN/ES) v5
    - **Inbox:** Email
    - **Time:** 2026-06-15 13:41 → 23:59 (UTC)
    - ... messages, status, each signal label with its reason, intent, summary, tags

    ## Messages

    ### assistant · 06-15 13:41

    I found order ORD-33411.[^1]

    <details><summary>🔧 search_knowledge_base(query: "return an item")</summary>
    ... arguments and result in fenced code blocks ...
    </details>

    [^1]: **Help Center › Refund timelines** — “Refunds are issued to …”

Citations are numbered as the conversation view numbers them (``citation_numbers``: in the
order the messages first mark them with ``[[citation_id]]``, then the others); each marker
becomes a footnote reference where it stood, and the citations no message marks are referenced
from a "Sources not marked in the text" line, so that every definition is shown.
``conversations_markdown`` puts several in one document, a title line first and each
conversation after a ``---`` rule.

API text is untrusted, and no API text can change the document's structure: every text is
sanitized (``api.text.sanitize``: escape sequences and control characters removed; emoji, RTL
and CJK text kept) and, with ``redact``, masked (``api.redact``). Then, in prose, a line start
that Markdown reads as structure (``#``, ``>``, ``-``, ``+``, ``*``, ``=``, a fence, ``[^`` or a
link definition) is backslash-escaped, ``[^`` anywhere too (no forged footnote), ``<`` before a
tag-like character and ``&`` before an entity become ``&lt;`` and ``&amp;`` (no HTML). Texts in
``<summary>`` are HTML-escaped and on one line. Tool arguments and results go in code fences
longer than any backtick run they hold, so nothing inside closes them. Message texts are kept
whole, however long; only header lines and citation excerpts are shortened. Every field of the
models may be missing: a missing one is left out (a missing role or time shows ``?``/``–``).
"""
from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Any

from api.dates import parse_ts, short_time
from api.labels import SIGNALS
from api.redact import redact as redact_text
from api.text import one_line, sanitize

if TYPE_CHECKING:
    from api.lookups import Lookups
    from api.models import Citation, ConversationDetail, Message, ToolCall

__all__ = [
    "CITATION_MARK",
    "MD_SEPARATOR",
    "cited_ids",
    "citation_numbers",
    "looks_like_citation_id",
    "transcript_markdown",
    "conversations_markdown",
    "export_preamble",
]

#: a citation marker in message text, ``[[citation_id]]`` (ids: letters, digits, - and _)
CITATION_MARK = re.compile(r"\[\[([A-Za-z0-9][A-Za-z0-9_-]{0,127})\]\]")
#: what precedes each conversation of a several-conversation document
MD_SEPARATOR = "\n---\n\n"
HEADER_CHARS = 2_000  # one header line (a summary, a reason)
EXCERPT_CHARS = 300  # a citation's text in its footnote, as the conversation view cuts it
SUMMARY_ARGS_CHARS = 80  # a tool call's arguments in its one-line summary
REDACTED = "emails, phone numbers and card-like numbers are masked"

# Line starts Markdown reads as structure: ATX headings, block quotes, list items and
# thematic breaks, setext underlines, code fences, footnote and link reference definitions.
_BLOCK_START = re.compile(
    r"^( {0,3})(?:(#{1,6})(?=[ \t]|$)|(>)|([-+*])(?=[ \t]|$)|([-*_=])(?=[-*_= \t]*$)"
    r"|(`{3,}|~{3,})|(\[)(?=\^|[^\]]*\]:))", re.M)
_FOOTNOTE_REF = re.compile(r"\[\^")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
_BACKTICKS = re.compile(r"`+")


def looks_like_citation_id(text: str) -> bool:
    """A marker the citation list does not hold still hides a machine id (not ``[[bold]]``)."""
    return len(text) >= 8 and any(c.isdigit() for c in text)


def cited_ids(text: str) -> list[str]:
    """The citation ids `text` marks, in order of first mention."""
    return list(dict.fromkeys(m.group(1) for m in CITATION_MARK.finditer(text)))


def citation_numbers(texts: Iterable[str], citations: Sequence[Citation]) -> dict[str, int]:
    """Citation id -> its number: first the ones `texts` mark, in order of first mention,
    then the other citations in list order (the numbers of the conversation view)."""
    known = {c.citation_id for c in citations if c.citation_id}
    order = [cid for text in texts for cid in cited_ids(text) if cid in known]
    order += [c.citation_id for c in citations if c.citation_id]
    numbers: dict[str, int] = {}
    for cid in order:
        if cid not in numbers:
            numbers[cid] = len(numbers) + 1
    return numbers


# ------------------------------------------------------------------------ escaping
def _inline(text: str) -> str:
    """Text inside a line: no HTML, no entity, no footnote reference of its own."""
    text = _ENTITY.sub("&amp;", text)
    text = _TAG_START.sub("&lt;", text)
    return _FOOTNOTE_REF.sub(r"\\[^", text)


def _unblock(match: re.Match[str]) -> str:
    marker = next(group for group in match.groups()[1:] if group)
    return match.group(1) + "\\" + marker


def _prose(text: str) -> str:
    """Multi-line text as Markdown that stays inside its own block (module docstring)."""
    return _BLOCK_START.sub(_unblock, _inline(text))


def _html(text: str) -> str:
    return html.escape(text, quote=False)


def _fenced(text: str, info: str = "") -> str:
    """``text`` in a code fence longer than any backtick run it holds."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}\n{fence}"


def _pretty(value: Any) -> tuple[str, str]:
    """Tool arguments or a result (JSON text, usually) pretty-printed, and its fence info."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value, "text"
    return json.dumps(value, indent=2, ensure_ascii=False, default=str), "json"


class _Transcript:
    """Writes one conversation (``transcript_markdown``'s options held)."""

    def __init__(self, names: Lookups | None, tz: tzinfo, redact: bool, level: int,
                 footnote_prefix: str) -> None:
        self.names = names
        self.tz = tz
        self.redact = redact
        self.level = level
        self.prefix = footnote_prefix

    def text(self, value: Any) -> str:
        """An API value as safe plain text (sanitized, masked when redacting)."""
        text = sanitize(value)
        return redact_text(text) if self.redact else text

    def line(self, value: Any, limit: int = HEADER_CHARS) -> str:
        return _inline(one_line(self.text(value), limit))

    def heading(self, depth: int, text: str) -> str:
        return f"{'#' * min(6, self.level + depth)} {text}"

    # -------------------------------------------------------------- header
    def render(self, detail: ConversationDetail) -> str:
        # never masked: the id is how the reader finds the conversation again
        cid = _inline(one_line(sanitize(detail.conversation_id), 200)) \
            if detail.conversation_id else "(no id)"
        out = [self.heading(0, f"Conversation {cid}"), ""]
        out += [f"- **{name}:** {value}" for name, value in self.facts(detail)]
        texts = [sanitize(m.content) for m in detail.messages]
        numbers = citation_numbers(texts, detail.citations)
        out += ["", self.heading(1, "Messages"), ""]
        if "messages" not in detail.model_fields_set:
            out += ["_(messages not available)_", ""]
        elif not detail.messages:
            out += ["_(no messages)_", ""]
        marked: set[str] = set()
        for message, text in zip(detail.messages, texts, strict=True):
            out += self.message(message, text, numbers, marked)
        out += self.footnotes(detail.citations, numbers, marked)
        while out and not out[-1]:
            out.pop()
        return "\n".join(out) + "\n"

    def facts(self, detail: ConversationDetail) -> list[tuple[str, str]]:
        facts: list[tuple[str, str]] = []

        def add(name: str, value: str | None) -> None:
            if value:
                facts.append((name, value))

        add("Assistant", self.assistant(detail))
        inbox = detail.inbox_name or (self.names.inbox_name(detail.inbox_id) if self.names
                                      else None) or detail.inbox_id
        add("Inbox", self.line(inbox) if inbox else None)
        add("Time", self.time_range(detail.first_message_at, detail.last_message_at))
        if detail.message_count is not None:
            add("Messages", str(detail.message_count))
        add("Status", self.status(detail))
        if not any(getattr(detail, label_key) for _, label_key, _ in SIGNALS):
            add("Signals", "not scored")
        for field, label_key, reason_key in SIGNALS:
            label, reason = getattr(detail, label_key), getattr(detail, reason_key)
            if label or reason:
                value = self.line(label) if label else "–"
                add(field.replace("_", " ").capitalize(),
                    f"{value} — {self.line(reason)}" if reason else value)
        add("Intent", self.line(detail.user_intent) if detail.user_intent else None)
        add("Summary", self.line(detail.summary) if detail.summary else None)
        add("Tags", ", ".join(self.line(t) for t in detail.tags if t) or None)
        add("Skills", ", ".join(self.line(s) for s in detail.skills if s) or None)
        add("Review", self.review(detail.get("review")))
        return facts

    def assistant(self, detail: ConversationDetail) -> str | None:
        name, version = detail.playbook_name, detail.playbook_version
        if self.names is not None:  # the assistant's current name, from its version id
            refs = [p for p in detail.playbooks_info if p.id]
            ref = next((p for p in refs if (p.name, p.version) == (name, version)), None)
            if ref is None and name is None and refs:
                ref = refs[-1]
            if ref is not None and ref.id:
                resolved = self.names.version_label(ref.id)
                if resolved != ref.id:
                    return self.line(resolved)
        if name is None and version is None:
            return None
        shown = self.line(name) if name else "?"
        return f"{shown} v{version}" if version is not None else shown

    def time_range(self, first: str | None, last: str | None) -> str | None:
        start, end = parse_ts(first), parse_ts(last)
        moment = start or end
        if moment is None:
            return None
        zone = getattr(self.tz, "key", None) or moment.astimezone(self.tz).tzname() or ""

        def shown(value: datetime | None, raw: str | None, day: bool = True) -> str:
            if value is None:
                return self.line(raw) if raw else "?"
            return value.astimezone(self.tz).strftime("%Y-%m-%d %H:%M" if day else "%H:%M")

        same_day = (start is not None and end is not None
                    and start.astimezone(self.tz).date() == end.astimezone(self.tz).date())
        return (f"{shown(start, first)} → {shown(end, last, not same_day)} "
                f"({self.line(zone)})")

    def status(self, detail: ConversationDetail) -> str | None:
        parts = []
        if detail.has_handoff is not None:
            parts.append("handoff" if detail.has_handoff else "AI-resolved")
        if detail.has_error:
            parts.append("⚠ error")
        if detail.winback_sent_at:
            parts.append(f"winback sent {short_time(detail.winback_sent_at, self.tz)}")
        return " · ".join(parts) or None

    def review(self, review: Any) -> str | None:
        """A local review added by the export (``review`` object: status, verdict, ...)."""
        if not isinstance(review, dict):
            return None
        parts = [self.line(review[key]) for key in ("status", "verdict")
                 if isinstance(review.get(key), str) and review[key]]
        text = " · ".join(parts) or "–"
        if isinstance(review.get("note"), str) and review["note"]:
            text += f" — {self.line(review['note'])}"
        who = [self.line(review[key]) for key in ("who", "updated_at")
               if isinstance(review.get(key), str) and review[key]]
        return text + (f" ({', '.join(who)})" if who else "")

    # -------------------------------------------------------------- messages
    def message(self, message: Message, text: str, numbers: dict[str, int],
                marked: set[str]) -> list[str]:
        title = f"{self.line(message.role) if message.role else '?'} · " \
                f"{short_time(message.created_at, self.tz)}"
        if message.is_winback:
            title += " · ↻ winback"
        out = [self.heading(2, title), ""]
        body = self.body(text, numbers, marked)
        out += [body if body.strip() else "_(empty message)_", ""]
        if message.attachments:
            names = [self.line(a.get("file_name") or a.get("type") or "file")
                     if isinstance(a, dict) else "file" for a in message.attachments]
            out += [f"📎 {', '.join(names)}", ""]
        for call in message.tool_calls:
            out += self.tool_call(call)
        return out

    def body(self, text: str, numbers: dict[str, int], marked: set[str]) -> str:
        """The message text, its ``[[id]]`` markers as footnote references (``\\[?\\]`` for
        an id the citation list lacks; other ``[[...]]`` left as written)."""
        pieces: list[str] = []
        last = 0
        for match in CITATION_MARK.finditer(text):
            cid = match.group(1)
            number = numbers.get(cid)
            if number is None and not looks_like_citation_id(cid):
                continue
            pieces.append(self._prose_piece(text[last:match.start()]))
            if number is None:
                pieces.append("\\[?\\]")
            else:
                pieces.append(f"[^{self.prefix}{number}]")
                marked.add(cid)
                if text.startswith(":", match.end()):  # ``[^1]:`` would be a definition
                    pieces.append("\\")
            last = match.end()
        pieces.append(self._prose_piece(text[last:]))
        return "".join(pieces)

    def _prose_piece(self, text: str) -> str:
        return _prose(redact_text(text) if self.redact else text)

    def tool_call(self, call: ToolCall) -> list[str]:
        name = one_line(self.text(call.name), 100) if call.name else "?"
        error = call.get("error")
        summary = f"🔧 {name}({self.arguments_summary(call.arguments)})"
        if error is not None:
            summary += " ⚠ failed"
        out = [f"<details><summary>{_html(summary)}</summary>", ""]
        out += self.block("arguments", call.arguments)
        if call.result is not None or error is None:
            out += self.block("result", call.result)
        if error is not None:
            out += self.block("error", error)
        return out + ["</details>", ""]

    def arguments_summary(self, arguments: str | None) -> str:
        if arguments is None:
            return ""
        try:
            value = json.loads(arguments)
        except ValueError:
            value = arguments
        if isinstance(value, dict):
            text = ", ".join(f"{key}: {json.dumps(item, ensure_ascii=False, default=str)}"
                             for key, item in value.items())
        else:
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return one_line(self.text(text), SUMMARY_ARGS_CHARS)

    def block(self, title: str, value: Any) -> list[str]:
        if value is None:
            return [f"**{title}:** –", ""]
        text, info = _pretty(value)
        return [f"**{title}**", "", _fenced(self.text(text), info), ""]

    # -------------------------------------------------------------- citations
    def footnotes(self, citations: Sequence[Citation], numbers: dict[str, int],
                  marked: set[str]) -> list[str]:
        if not citations:
            return []
        entries: list[tuple[int, Citation]] = []
        by_id = {c.citation_id: c for c in citations if c.citation_id}
        entries += sorted(((n, by_id[cid]) for cid, n in numbers.items()), key=lambda e: e[0])
        extra = len(numbers)
        for citation in citations:  # without an id: numbered after the others
            if not citation.citation_id:
                extra += 1
                entries.append((extra, citation))
        unmarked = [n for n, c in entries if c.citation_id not in marked]
        out: list[str] = []
        if unmarked:
            refs = " ".join(f"[^{self.prefix}{n}]" for n in unmarked)
            out += [f"Sources not marked in the text: {refs}", ""]
        out += [f"[^{self.prefix}{n}]: {self.citation(c)}" for n, c in entries]
        return out + [""]

    def citation(self, citation: Citation) -> str:
        kb_id, item_id = citation.kb_id or "", citation.item_id or ""
        kb = self.names.kb_title(kb_id) if self.names else kb_id
        item = self.names.kb_items.get((kb_id, item_id)) if self.names else None
        title = (f"**{self.line(kb or 'unknown KB', 200)} › "
                 f"{self.line(item or citation.file_name or item_id or 'item', 200)}**")
        if citation.file_name and item:
            title += f" ({self.line(citation.file_name, 200)})"
        excerpt = self.line(citation.content, EXCERPT_CHARS) if citation.content else ""
        return f"{title} — “{excerpt}”" if excerpt else title


def transcript_markdown(detail: ConversationDetail, *, names: Lookups | None = None,
                        tz: tzinfo = UTC, redact: bool = False, heading_level: int = 1,
                        footnote_prefix: str = "") -> str:
    """One conversation as a Markdown transcript (module docstring). ``names`` resolves
    assistant, inbox and knowledge-base names; times are shown in ``tz``; ``redact`` masks
    emails, phone numbers and card-like numbers. ``heading_level`` and ``footnote_prefix``
    place it inside a larger document (footnote labels must be unique there)."""
    writer = _Transcript(names, tz, redact, max(1, heading_level), footnote_prefix)
    return writer.render(detail)


def conversations_markdown(details: Iterable[ConversationDetail], *,
                           names: Lookups | None = None, tz: tzinfo = UTC,
                           redact: bool = False) -> str:
    """Several conversations in one document: a title line, then each after a ``---``."""
    parts = [transcript_markdown(detail, names=names, tz=tz, redact=redact, heading_level=2,
                                 footnote_prefix=f"{k}-")
             for k, detail in enumerate(details, start=1)]
    head = [f"# Conversations ({len(parts)})", ""]
    if redact:
        head += [f"_Redacted: {REDACTED}._", ""]
    return "\n".join(head).rstrip("\n") + "\n" + "".join(MD_SEPARATOR + p for p in parts)


def export_preamble(*, exported_at: str, total_matched: int | None, total_exported: int,
                    redacted: bool = False, failed_ids: Sequence[str] = (),
                    lacking_ids: Sequence[str] = (), missing_ids: Sequence[str] = ()) -> str:
    """The top of a Markdown export (``api.export``): its title, what is missing when it is
    incomplete, and the export's facts; the conversations follow, each after ``---``."""
    incomplete = [(ids, what) for ids, what in (
        (failed_ids, "left out, their details failed"),
        (lacking_ids, "written without their messages"),
        (missing_ids, "not found by the API")) if ids]
    out = ["# Studio Chat conversations" + (" (incomplete)" if incomplete else ""), ""]
    if incomplete:
        out.append("> **⚠ Incomplete export.**")
        for ids, what in incomplete:
            shown = ", ".join(_code(one_line(str(cid), 200)) for cid in ids)
            out.append(f"> {len(ids)} conversation{'' if len(ids) == 1 else 's'} {what}: "
                       f"{shown}")
        out.append("")
    matched = "?" if total_matched is None else str(total_matched)
    out += [f"- **Exported at:** {_inline(one_line(exported_at))}",
            f"- **Conversations:** {total_exported} exported of {matched} matching"]
    if redacted:
        out.append(f"- **Redacted:** {REDACTED}")
    if not total_exported:
        out += ["", "_(no conversations)_"]
    return "\n".join(out) + "\n"


def _code(text: str) -> str:
    """``text`` as an inline code span that no backtick inside it can end."""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
