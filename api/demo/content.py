"""Conversation bodies and messages, built deterministically from the per-conversation plan.

``build_messages`` builds a conversation's messages and citations from
``plan.plan_conversation`` — the same plan ``generate.py`` used to write the conversation row
and its ``resource_events`` — so tool calls, skill loads and citations always match what the
analytics endpoints report. The generator stores that answer (``conv_messages``,
``encode_extra``), which the app serves as the real API serves stored data
(``stored_extra_json``).
"""
from __future__ import annotations

import json
import random
import sqlite3
import zlib
from collections.abc import Mapping
from typing import Any

from api.demo import world as W
from api.demo.codec import dumps
from api.demo.plan import Plan, ToolCall

OPTIONAL_KEYS_DROPPED = ("context", "model", "winback_sent_at", "skills", "inbox_name",
                         "avg_response_latency_ms")


def _reason(table: Mapping[str, str | tuple[str, ...]], label: str | None, subject: str,
            seq: int) -> str | None:
    if label is None:
        return None
    text = table[label]
    if isinstance(text, tuple):
        text = text[seq % len(text)]
    return text.format(subject=subject)


def conversation_body(plan: Plan) -> dict[str, Any]:
    """The list-endpoint object of one conversation (every field of api-reference.md)."""
    last = plan.participants[-1]
    s = plan.signals
    subject = plan.subject
    scored = plan.scored
    body = {
        "conversation_id": plan.conversation_id,
        "inbox_name": plan.inbox_name,
        "playbook_name": last.name,
        "playbook_version": last.number,
        "playbooks_info": [{"id": v.id, "name": v.name, "version": v.number}
                           for v in plan.participants],
        "message_count": len(plan.roles),
        "first_message_at": W.iso(plan.first_ts),
        "last_message_at": W.iso(plan.last_ts),
        "first_user_message": plan.first_user_message,
        "last_assistant_message": plan.last_assistant_message,
        "has_handoff": plan.has_handoff,
        "has_error": plan.has_error,
        "tags": plan.tags,
        "skills": plan.skills or None,
        "avg_response_latency_ms": plan.avg_latency,
        "sentiment_label": s["sentiment"],
        "sentiment_reason": _reason(W.SENTIMENT_REASONS, s["sentiment"], subject, plan.seq),
        "resources_label": s["resources"],
        "resources_reason": _reason(W.RESOURCES_REASONS, s["resources"], subject, plan.seq),
        "summary": plan.summary if scored else None,
        "user_intent": plan.user_intent if scored else None,
        "sentiment_shift": s["sentiment_shift"],
        "sentiment_shift_reason": _reason(W.SHIFT_REASONS, s["sentiment_shift"], subject,
                                          plan.seq),
        "deflection_quality": s["deflection_quality"],
        "deflection_quality_reason": _reason(W.DEFLECTION_REASONS, s["deflection_quality"],
                                             subject, plan.seq),
        "handoff_reason": s["handoff_reason"],
        "handoff_reason_detail": _reason(W.HANDOFF_DETAILS, s["handoff_reason"], subject,
                                         plan.seq),
        "recontact_risk": s["recontact_risk"],
        "recontact_risk_reason": _reason(W.RISK_REASONS, s["recontact_risk"], subject, plan.seq),
        "model": last.model,
        "winback_sent_at": (W.iso(plan.times[plan.winback_index])
                            if plan.winback_index is not None else None),
        "context": plan.context,
    }
    if plan.hostile == "missing":
        for key in OPTIONAL_KEYS_DROPPED:
            body.pop(key, None)
    return body


# --------------------------------------------------------------------------------------------
# messages


def kb_citation_id(call: ToolCall, k: int) -> str:
    """The id of the k-th citation of a kb_search call (= its resource_events row id)."""
    return f"{call.event_id[:-2]}{k:02x}"


# json.dumps(obj, ensure_ascii=False) without building an encoder per call (the same text)
_TEXT_JSON = json.JSONEncoder(ensure_ascii=False)


def tool_call_json(call: ToolCall) -> dict[str, Any]:
    """One message ``tool_calls`` entry."""
    enhanced = dict(call.arguments)
    if call.kind == "kb_search":
        enhanced["kb_ids"] = sorted({i.kb_id for i in call.citations})
    entry = {
        "id": "call_" + call.event_id.replace("-", "")[:24],
        "name": call.action or call.name,
        "arguments": _TEXT_JSON.encode(call.arguments),
        "result": _TEXT_JSON.encode(call.result) if call.success else None,
        "tool_type": call.kind if call.kind in ("kb_search", "list_agents") else "custom",
        "enhanced_params": enhanced,
    }
    if not call.success:
        entry["error"] = call.error
    return entry


def _citations(plan: Plan, world: W.World) -> list[dict[str, Any]]:
    out = []
    for call in plan.tool_calls:
        for k, item in enumerate(call.citations):
            out.append({
                "citation_id": kb_citation_id(call, k),
                "kb_id": item.kb_id,
                "item_id": item.id or None,
                "content": item.content[:280],
                "file_name": world.kb_by_id[item.kb_id].file_name,
            })
    return out


def _message_text(rng: random.Random, plan: Plan, i: int, last_ai: int, last_ask: int,
                  calls: list[ToolCall]) -> str:
    """Middle messages follow the conversation's story in order (followups/answers cycle);
    the customer's last message before a handoff says why when the reason is theirs (asked
    for a person, frustrated), and a negative conversation's last one sounds it."""
    if i == 0:
        return plan.first_user_message
    if i == last_ai:
        return plan.last_assistant_message
    turn = i // 2 - 1 if plan.roles[i] == "user" else i // 2
    spanish = plan.vars["locale"].startswith("es")
    if plan.roles[i] == "user":
        if plan.winback_index is not None and i == plan.winback_index + 1:
            rng.choice((0, 1, 2))  # the draw that once picked the reply: later ones stay
            return W.WINBACK_REPLIES[plan.deflection or "no_response"]
        if plan.hostile and rng.random() < 0.3:
            return W.hostile_text(plan.hostile, plan.seq) or ""
        if i == last_ask:
            if plan.handoff_reason in W.HANDOFF_ASKS:
                return W.HANDOFF_ASKS[plan.handoff_reason][spanish]
            if plan.signals["sentiment"] == "negative":
                return W.ANNOYED[spanish]
        followups = plan.story.followups
        return followups[turn % len(followups)].format(**plan.vars)
    answers = plan.story.answers
    text = answers[turn % len(answers)].format(**plan.vars)
    marks = " ".join(f"[[{kb_citation_id(c, k)}]]" for c in calls for k in range(len(c.citations)))
    return f"{text} {marks}" if marks else text


def _metadata(rng: random.Random, plan: Plan, i: int, last_core: int, text: str) -> dict[str, Any]:
    version = plan.participants[plan.owners[i]]
    handoff = plan.has_handoff and i == last_core
    meta = {
        "playbook_id": version.id,
        "playbook_name": version.name,
        "playbook_version": version.number,
        "response_latency_ms": plan.latencies[i],
        "labels": plan.tags if i == last_core else [],
        "priority": ("high" if plan.signals["sentiment"] == "negative" or "urgent" in plan.tags
                     else None) if i == last_core else None,
        "notes": ([f"Handoff: {plan.signals['handoff_reason'] or 'escalated'}"]
                  if handoff else []),
        "handoff": handoff,
        "explanation": ("Escalating to a human." if handoff
                        else f"Answering about {plan.subject}."),
    }
    if rng.random() < 0.92:  # token usage is optional in the public API
        price = W.MODELS.get(version.model, (0, 0.5, 1.5))
        inp = 900 + 160 * i + rng.randrange(400)
        out = len(text) // 4 + rng.randrange(10, 60)
        cache_read = int(inp * 0.6) if i > 1 else 0
        meta.update(input_tokens=inp, output_tokens=out, cache_read_tokens=cache_read,
                    cache_write_tokens=0 if i > 1 else int(inp * 0.3),
                    cost_usd=round((inp * price[1] + out * price[2]) / 1e6, 6))
    return meta


def build_messages(world: W.World, plan: Plan) -> dict[str, Any]:
    """``{"messages": [...], "citations": [...]}`` of a conversation.

    Exactly ``message_count`` messages, timestamps between first and last message, assistant
    metadata naming the playbook version that answered, tool calls consistent with the
    conversation's ``resource_events`` rows."""
    rng = random.Random(f"content:{world.seed}:{plan.seq}")
    ai = [i for i, r in enumerate(plan.roles) if r == "assistant"]
    last_ai = ai[-1]
    core = [i for i in ai if i != plan.winback_index]
    last_core = core[-1] if core else last_ai
    # the customer's last message before the last core answer (not the opener)
    asks = [i for i in range(1, last_core) if plan.roles[i] == "user"]
    last_ask = asks[-1] if asks else -1
    by_msg: dict[int, list[ToolCall]] = {}
    for c in plan.tool_calls:
        by_msg.setdefault(c.msg, []).append(c)
    messages = []
    for i, role in enumerate(plan.roles):
        calls = by_msg.get(i, [])
        text = _message_text(rng, plan, i, last_ai, last_ask, calls)
        msg: dict[str, Any] = {"role": role, "content": text, "created_at": W.iso(plan.times[i])}
        if role == "assistant":
            msg["metadata"] = _metadata(rng, plan, i, last_core, text)
            msg["tool_calls"] = [tool_call_json(c) for c in calls]
        else:
            msg["metadata"] = {}
            msg["tool_calls"] = []
        msg["is_winback"] = i == plan.winback_index
        msg["attachments"] = _attachments(rng, plan, i)
        messages.append(msg)
    return {"messages": messages, "citations": _citations(plan, world)}


def _attachments(rng: random.Random, plan: Plan, i: int) -> list[dict[str, Any]]:
    if plan.roles[i] != "user" or plan.intent.key not in ("refund", "bug_report"):
        return []
    if rng.random() >= 0.15:
        return []
    name = "photo_damage.jpg" if plan.intent.key == "refund" else "screenshot.png"
    return [{"type": "image", "file_name": name, "content_type": "image/jpeg",
             "url": f"https://files.demo.example/{plan.conversation_id}/{name}",
             "size_bytes": 48_000 + rng.randrange(900_000)}]


# --------------------------------------------------------------------------------------------
# stored messages (conv_messages)


def encode_extra(extra: dict[str, Any]) -> bytes:
    """``conv_messages.body`` of ``{"messages": [...], "citations": [...]}``: the app's compact
    JSON (``codec.dumps``), zlib-compressed."""
    return zlib.compress(dumps(extra))


def decode_extra(blob: bytes) -> str:
    """The JSON text of a ``conv_messages.body``."""
    return zlib.decompress(blob).decode("utf-8")


def stored_extra_json(conn: sqlite3.Connection, seq: int) -> str | None:
    """The stored JSON text of ``build_messages`` for conversation ``seq``, or None when the
    database stores none for it."""
    row = conn.execute("SELECT body FROM conv_messages WHERE seq = ?", (seq,)).fetchone()
    return None if row is None else decode_extra(row[0])
