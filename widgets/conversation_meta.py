"""Conversation metadata as Rich Text (labels with reasons, summary, intent, tags, ...).

Shared by the explorer's detail pane and the full conversation screen. Input is the tolerant
model of the list/detail endpoint (`api.models.Conversation`): any field may be None; the
local review (`api.reviews.Review`) is drawn by `review_text`.
"""
from __future__ import annotations

import json
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from rich.text import Text

from api.dates import short_time
from api.labels import SIGNALS
from api.text import one_line, sanitize
from widgets.labels import badge

if TYPE_CHECKING:
    from api.models import Conversation, PlaybookRef
    from api.reviews import Review

LONG_FIELD = 2_000
# a review's status by shape as well as colour (NO_COLOR, 16 colours)
REVIEW_STATUS = {"todo": ("○ todo", "dim"), "reviewed": ("✓ reviewed", "bold green"),
                 "flagged": ("⚑ flagged", "bold yellow")}


def _s(value: Any, limit: int = LONG_FIELD) -> str:
    if value is None:
        return "–"
    text = sanitize(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                                     default=str))
    return text if len(text) <= limit else text[:limit] + f"… (+{len(text) - limit:,} chars)"


def _row(text: Text, label: str, value: Any, style: str = "") -> None:
    text.append(f"{label:<13}", style="bold")
    text.append(_s(value) if not isinstance(value, Text) else value, style=style)
    text.append("\n")


def _names(items: list[str | None]) -> str:
    if not items:
        return "–"
    return ", ".join(sanitize(str(i)) for i in items)


def _playbooks(items: list[PlaybookRef]) -> str:
    parts = [f"{sanitize(item.name or item.id or '?')} "
             f"v{'?' if item.version is None else item.version}" for item in items]
    return ", ".join(parts) or "–"


def _context(context: dict[str, Any]) -> str:
    if not context:
        return "–"
    return "  ".join(f"{sanitize(str(k))}={_s(v, 200)}" for k, v in list(context.items())[:12])


def signals_text(conv: Conversation) -> Text:
    """Every quality label with its reason."""
    text = Text()
    for field, key, reason_key in SIGNALS:
        value = getattr(conv, key)
        if value is None and field in ("deflection_quality", "handoff_reason"):
            continue  # only one of the two applies to a conversation
        text.append(f"{field.replace('_', ' '):<19}", style="bold")
        text.append_text(badge(field, value))
        reason = getattr(conv, reason_key)
        if reason:
            text.append("  ")
            text.append(_s(reason, 600), style="italic")
        text.append("\n")
    return text


def meta_text(conv: Conversation, tz: tzinfo | None = None, *, compact: bool = False) -> Text:
    """Header facts, signals, summary/intent, tags/skills/playbooks, context."""
    text = Text()
    _row(text, "id", conv.conversation_id, "bold")
    assistant = conv.playbook_name
    if assistant is not None and conv.playbook_version is not None:
        assistant = f"{assistant} v{conv.playbook_version}"
    _row(text, "assistant", assistant)
    _row(text, "inbox", conv.inbox_name)
    _row(text, "messages", f"{_s(conv.message_count)}   "
                           f"latency {_s(conv.avg_response_latency_ms)} ms   "
                           f"model {_s(conv.model)}")
    _row(text, "activity", f"{short_time(conv.first_message_at, tz)} → "
                           f"{short_time(conv.last_message_at, tz)}")
    flags = []
    flags.append("handoff" if conv.has_handoff else "AI-resolved")
    if conv.has_error:
        flags.append("⚠ error")
    if conv.winback_sent_at:
        flags.append(f"winback sent {short_time(conv.winback_sent_at, tz)}")
    _row(text, "status", "  ".join(flags))
    text.append("\n")
    text.append_text(signals_text(conv))
    text.append("\n")
    _row(text, "intent", conv.user_intent)
    _row(text, "summary", conv.summary)
    _row(text, "tags", _names(conv.tags))
    _row(text, "skills", _names(conv.skills))
    _row(text, "playbooks", _playbooks(conv.playbooks_info))
    if not compact:
        _row(text, "context", _context(conv.context))
        _row(text, "first user", conv.first_user_message)
        _row(text, "last reply", conv.last_assistant_message)
    text.rstrip()
    return text


def review_text(review: Review | None, tz: tzinfo | None = None, *,
                problem: str | None = None) -> Text:
    """The local review on one line (wrapped when narrow): status, verdict, who and when,
    then the note. None: not read yet; `problem`: why it could not be read."""
    text = Text()
    text.append(f"{'review':<13}", style="bold")  # aligned with the rows of `meta_text`
    if problem is not None:
        text.append(one_line(problem, 200), style="red")
        return text
    if review is None:
        text.append("…", style="dim")
        return text
    label, style = REVIEW_STATUS.get(review.status, (sanitize(review.status), ""))
    text.append(label, style=style)
    if review.verdict:
        text.append("  verdict ", style="dim")
        text.append(sanitize(review.verdict), style="bold")
    if review.updated_at:
        text.append(f"  by {one_line(review.who, 40)} {short_time(review.updated_at, tz)}",
                    style="dim")
    if review.note:
        text.append("  note ", style="dim")
        text.append(one_line(review.note, 300), style="italic")
    return text
