"""Conversation endpoints: list, summaries, detail, batch, messages, metrics, analyze."""
from __future__ import annotations

import hashlib
import json
from typing import Any

from api import labels
from api.demo import content
from api.demo import convfilter as cf
from api.demo.codec import RawJSON, loads_stored
from api.demo.params import ApiError, validation_error
from api.demo.routing import Ctx, cpu_bound, routes, serial

BATCH_MAX = 50
SUMMARY_FIELDS = (
    "conversation_id", "summary", "sentiment_label", "resources_label", "first_user_message",
    "tags", "has_handoff", "message_count", "last_message_at", "skills", "user_intent",
    "sentiment_shift", "deflection_quality", "handoff_reason", "recontact_risk",
)
METRIC_FIELDS = (
    "sentiment_label", "sentiment_reason", "resources_label", "resources_reason", "summary",
    "user_intent", "sentiment_shift", "sentiment_shift_reason", "deflection_quality",
    "deflection_quality_reason", "handoff_reason", "handoff_reason_detail", "recontact_risk",
    "recontact_risk_reason",
)
LEGACY_MESSAGE_FIELDS = ("role", "content", "created_at")
LEGACY_CITATION_FIELDS = ("citation_id", "kb_id", "content")


def _page(ctx: Ctx, default_limit: int) -> tuple[cf.ConvFilter, cf.Sort, int, int]:
    p = ctx.params
    f = cf.parse_filter(p, (ctx.project(),))
    sort = cf.parse_sort(p)
    limit = p.integer("limit", default_limit, ge=1, le=100)
    offset = p.integer("offset", 0, ge=0)
    p.check()
    cf.validate_order(f)
    return f, sort, limit, offset


def _warm_counts(ctx: Ctx) -> None:
    """A list page's slow part, run in the thread pool before its lane (routing.serial)."""
    f, _, _, _ = _page(ctx, 20)
    cf.warm_counts(ctx.store, f)


@serial("pages", prepare=_warm_counts)
def list_conversations(ctx: Ctx) -> RawJSON:
    f, sort, limit, offset = _page(ctx, 20)
    seqs, total = cf.page_seqs(ctx.store, f, sort, limit, offset)
    items = ",".join(cf.bodies(ctx.store, seqs))
    return RawJSON(f'{{"conversations":[{items}],"total":{total},"limit":{limit},"offset":{offset}}}')


def list_summaries(ctx: Ctx) -> dict[str, Any]:
    f, sort, limit, offset = _page(ctx, 50)
    seqs, total = cf.page_seqs(ctx.store, f, sort, limit, offset)
    summaries = []
    for raw in cf.bodies(ctx.store, seqs):
        body = json.loads(raw)
        summaries.append({k: body.get(k) for k in SUMMARY_FIELDS})
    return {"summaries": summaries, "total": total, "limit": limit, "offset": offset}


def _lookup(ctx: Ctx, cid: str) -> tuple[int, dict[str, Any]]:
    row = ctx.store.one(
        "SELECT seq, body FROM conversations WHERE conversation_id=? AND project_id=?",
        (cid, ctx.project()),
    )
    if row is None:
        raise ApiError(404, "Conversation not found")
    return row[0], loads_stored(row[1])


def _extra(ctx: Ctx, seq: int) -> dict[str, Any]:
    """The conversation's stored messages and citations (``conv_messages``)."""
    text = content.stored_extra_json(ctx.store.conn, seq)
    if text is None:  # every generated database stores them
        raise RuntimeError(f"demo database stores no messages for seq {seq}")
    extra: dict[str, Any] = loads_stored(text)
    return extra


@cpu_bound
def conversation_detail(ctx: Ctx) -> dict[str, Any]:
    seq, body = _lookup(ctx, ctx.path["cid"])
    detail = dict(body)
    detail.update(_extra(ctx, seq))
    return detail


def _batch_ids(body: Any) -> list[str]:
    ids = body.get("conversation_ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError(422, [validation_error(["body", "conversation_ids"],
                                              "Field required: a list of strings", "list_type")])
    if len(ids) > BATCH_MAX:
        raise ApiError(422, [validation_error(
            ["body", "conversation_ids"], f"List should have at most {BATCH_MAX} items after validation, not {len(ids)}",
            "too_long")])
    return list(dict.fromkeys(ids))


@cpu_bound
def batch(ctx: Ctx) -> dict[str, Any] | RawJSON:
    """Each detail is the row's stored body with the stored ``"messages"`` and ``"citations"``
    appended, joined as JSON text without decoding it (what ``conversation_detail`` answers
    as objects)."""
    pid = ctx.project()
    ids = _batch_ids(ctx.body)
    if not ids:
        return {"conversations": []}
    marks = ",".join("?" * len(ids))
    rows = ctx.store.rows(
        "SELECT c.conversation_id, c.body, m.body FROM conversations c "
        "JOIN conv_messages m ON m.seq = c.seq "
        f"WHERE c.project_id=? AND c.conversation_id IN ({marks})",
        [pid, *ids],
    )
    found = {cid: (body, blob) for cid, body, blob in rows}
    items = []
    for cid in ids:
        if cid in found:
            body, blob = found[cid]
            items.append(f"{body[:-1]},{content.decode_extra(blob)[1:]}")
    return RawJSON('{"conversations":[' + ",".join(items) + "]}")


@cpu_bound
def messages(ctx: Ctx) -> dict[str, Any]:
    seq, _ = _lookup(ctx, ctx.path["cid"])
    extra = _extra(ctx, seq)
    return {
        "messages": [{k: m.get(k) for k in LEGACY_MESSAGE_FIELDS} for m in extra.get("messages", [])],
        "citations": [{k: c.get(k) for k in LEGACY_CITATION_FIELDS} for c in extra.get("citations", [])],
    }


def _metrics_of(body: dict[str, Any]) -> dict[str, Any]:
    metrics = {k: body.get(k) for k in METRIC_FIELDS}
    scored = body.get("sentiment_label") is not None
    metrics["scored_at"] = body.get("scored_at") or (body.get("last_message_at") if scored else None)
    metrics["message_count_at_scoring"] = body.get("message_count_at_scoring") or (
        body.get("message_count") if scored else None)
    return metrics


def conversation_metrics(ctx: Ctx) -> dict[str, Any]:
    _, body = _lookup(ctx, ctx.path["cid"])
    overlay = ctx.state.analyzed.get(body.get("conversation_id"))
    return overlay or _metrics_of(body)


def _pick(seed: str, options: tuple[str, ...]) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return options[digest[0] % len(options)]


def _score(body: dict[str, Any]) -> dict[str, Any]:
    """A deterministic scoring for a conversation the generator left unscored."""
    cid = str(body.get("conversation_id"))
    handoff = bool(body.get("has_handoff"))
    tools = bool(body.get("skills"))
    sentiment = _pick(cid + "s", labels.SENTIMENT)
    metrics: dict[str, Any] = {
        "sentiment_label": sentiment, "sentiment_reason": f"The customer's tone reads {sentiment}.",
        "resources_label": _pick(cid + "r", labels.RESOURCES) if tools else None,
        "resources_reason": "Tools were used during the conversation." if tools else None,
        "summary": f"Conversation {cid}: {body.get('first_user_message') or 'no user message'}"[:300],
        "user_intent": body.get("user_intent") or "general question",
        "sentiment_shift": _pick(cid + "h", labels.SENTIMENT_SHIFT),
        "sentiment_shift_reason": "Compared first and last customer messages.",
        "deflection_quality": None if handoff else _pick(cid + "d", labels.DEFLECTION_QUALITY),
        "deflection_quality_reason": None if handoff else "Scored on the assistant's last reply.",
        "handoff_reason": _pick(cid + "o", labels.HANDOFF_REASON) if handoff else None,
        "handoff_reason_detail": "The conversation was escalated to a human." if handoff else None,
        "recontact_risk": _pick(cid + "k", labels.RECONTACT_RISK),
        "recontact_risk_reason": "Estimated from the resolution state.",
    }
    metrics["scored_at"] = body.get("last_message_at")
    metrics["message_count_at_scoring"] = body.get("message_count")
    return metrics


def analyze(ctx: Ctx) -> dict[str, Any]:
    _, body = _lookup(ctx, ctx.path["cid"])
    if (body.get("message_count") or 0) < 2:
        raise ApiError(400, "Conversation needs at least 2 messages to be scored")
    if body.get("sentiment_label") is not None:
        return _metrics_of(body)
    metrics = _score(body)
    ctx.state.analyzed[body["conversation_id"]] = metrics
    return metrics


ROUTES = routes(
    ("GET", "/projects/{pid}/conversations", list_conversations),
    ("GET", "/projects/{pid}/conversations/summaries", list_summaries),
    ("POST", "/projects/{pid}/conversations/batch", batch),
    ("GET", "/projects/{pid}/conversations/{cid}/messages", messages),
    ("GET", "/projects/{pid}/conversations/{cid}/metrics", conversation_metrics),
    ("POST", "/projects/{pid}/conversations/{cid}/metrics/analyze", analyze),
    ("GET", "/projects/{pid}/conversations/{cid}", conversation_detail),
)
