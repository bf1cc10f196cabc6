"""Customer outcomes: CSAT analytics and conversion metrics (definitions + analytics)."""
from __future__ import annotations

import json
from typing import Any

from api.demo import convfilter as cf
from api.demo.params import ApiError, Params, check_order, epoch, iso
from api.demo.routes_analytics import pct
from api.demo.routing import Ctx, routes
from api.demo.store import Store

DEFAULT_WINDOW_DAYS = 7


def tag_expr_sql(expr: Any) -> tuple[str, tuple[Any, ...]]:
    """Compile a TagExpr (`"tag"`, `{"tag": t}`, `{"and"|"or": [...]}`, `{"not": e}`, or
    `{"op": "AND"|"OR"|"NOT", "args"|"children"|"exprs": [...]}`) to SQL over `{seq}`."""
    if isinstance(expr, str):
        return "EXISTS (SELECT 1 FROM conv_tags x WHERE x.tag = ? AND x.seq = {seq})", (expr,)
    if not isinstance(expr, dict):
        raise ValueError("tag expression must be a string or an object")
    if "tag" in expr:
        return tag_expr_sql(str(expr["tag"]))
    op, children = _op_and_children(expr)
    if op == "NOT":
        if len(children) != 1:
            raise ValueError("NOT takes exactly one expression")
        sql, args = tag_expr_sql(children[0])
        return f"NOT ({sql})", args
    if not children:
        raise ValueError(f"{op} needs at least one expression")
    parts = [tag_expr_sql(c) for c in children]
    return (f" {op} ".join(f"({s})" for s, _ in parts), tuple(a for _, args in parts for a in args))


def _op_and_children(expr: dict[str, Any]) -> tuple[str, list[Any]]:
    for op in ("and", "or", "not"):
        for key in (op, op.upper()):
            if key in expr:
                value = expr[key]
                return op.upper(), value if isinstance(value, list) else [value]
    op = str(expr.get("op") or expr.get("operator") or expr.get("type") or "").upper()
    if op not in ("AND", "OR", "NOT"):
        raise ValueError("unknown tag expression operator")
    for key in ("args", "children", "exprs", "operands", "items", "tags"):
        if key in expr:
            value = expr[key]
            return op, value if isinstance(value, list) else [value]
    raise ValueError("tag expression without operands")


def outcome_filter(ctx: Ctx, p: Params) -> tuple[cf.ConvFilter, float, float]:
    """Conversation filter (tags / tag_filter / playbook_base_id) and the [start, end] window."""
    start, end = p.day_range(DEFAULT_WINDOW_DAYS, ctx.store.now)
    tag_sql = None
    raw = p.text("tag_filter")
    base = p.text("playbook_base_id")
    tags = p.csv("tags")
    p.check()
    check_order(start, end)
    if raw:
        try:
            tag_sql = tag_expr_sql(json.loads(raw))
        except (ValueError, RecursionError) as exc:
            raise ApiError(400, f"Malformed tag_filter: {exc}") from None
    f = cf.ConvFilter(project_ids=(ctx.project(),), playbook_base_ids=(base,) if base else (),
                      tags=() if tag_sql else tags, tag_sql=tag_sql)
    return f, epoch(start), epoch(end)


def tags_of(store: Store, seqs: list[int]) -> dict[int, list[str]]:
    if not seqs:
        return {}
    marks = ",".join("?" * len(seqs))
    out: dict[int, list[str]] = {s: [] for s in seqs}
    for tag, seq in store.rows(f"SELECT tag, seq FROM conv_tags WHERE seq IN ({marks}) ORDER BY tag", seqs):
        out[seq].append(tag)
    return out


def _eligible(store: Store, f: cf.ConvFilter, start: float, end: float, step: int) -> dict[int, int]:
    """Deflected conversations per bucket (by last_message_at) in the window."""
    where, args = cf.ConvFilter(**{**f.__dict__, "start_ts": start, "end_ts": end,
                                   "has_handoff": False}).where()
    return dict(store.rows(
        f"SELECT (c.last_ts / {step}) * {step} b, count(*) FROM conversations c WHERE {where} GROUP BY b",
        args))


def _step(start: float, end: float) -> tuple[str, int]:
    return ("hour", 3600) if end - start <= 2 * 86400 else ("day", 86400)


def _label(ts: int, gran: str) -> str:
    text = iso(ts)
    return text[:10] if gran == "day" else text[:13] + ":00:00Z"


# --- CSAT ---------------------------------------------------------------------------------------
def _csat_empty(offset: int) -> dict[str, Any]:
    return {"is_configured": False, "total_rated": 0, "csat_score_pct": 0.0, "dsat_score_pct": 0.0,
            "eligible_deflected": 0, "response_rate_pct": 0.0,
            "rating_distribution": {str(r): 0 for r in range(1, 6)}, "positive_count": 0,
            "neutral_count": 0, "negative_count": 0, "time_series": [], "time_granularity": "day",
            "ratings": [], "ratings_offset": offset}


def csat_analytics(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    limit = p.integer("ratings_limit", 10, ge=1, le=200)
    offset = p.integer("ratings_offset", 0, ge=0)
    max_rating = p.integer("max_rating", None, ge=1, le=5)
    f, start, end = outcome_filter(ctx, p)
    store = ctx.store
    if store.one("SELECT 1 FROM csat_ratings WHERE project_id=? LIMIT 1", (f.project_ids[0],)) is None:
        return _csat_empty(offset)
    gran, step = _step(start, end)
    # Rated conversations, windowed and bucketed like the eligible ones (by last_message_at):
    # "% of eligible convos that were rated" never counts a rating outside its own bucket.
    where, args = cf.ConvFilter(**{**f.__dict__, "start_ts": start, "end_ts": end}).where()
    base = f"FROM csat_ratings r JOIN conversations c ON c.seq = r.seq WHERE r.project_id = ? AND {where}"
    base_args = [f.project_ids[0], *args]
    dist = dict(store.rows(f"SELECT r.rating, count(*) {base} GROUP BY r.rating", base_args))
    rated = sum(dist.values())
    pos, neu, neg = dist.get(4, 0) + dist.get(5, 0), dist.get(3, 0), dist.get(1, 0) + dist.get(2, 0)
    eligible = _eligible(store, f, start, end, step)
    n_eligible = sum(eligible.values())
    return {
        "is_configured": True, "total_rated": rated,
        "csat_score_pct": pct(pos, rated), "dsat_score_pct": pct(neg, rated),
        "eligible_deflected": n_eligible, "response_rate_pct": pct(rated, n_eligible),
        "rating_distribution": {str(r): dist.get(r, 0) for r in range(1, 6)},
        "positive_count": pos, "neutral_count": neu, "negative_count": neg,
        "time_series": _csat_series(store, base, base_args, step, gran, eligible),
        "time_granularity": gran,
        "ratings": _csat_ratings(store, base, base_args, max_rating, limit, offset),
        "ratings_offset": offset,
    }


def _csat_series(store: Store, base: str, args: list[Any], step: int, gran: str,
                 eligible: dict[int, int]) -> list[dict[str, Any]]:
    rows = store.rows(
        f"SELECT (c.last_ts / {step}) * {step} b, count(*), sum(r.rating >= 4), sum(r.rating = 3), "
        f"sum(r.rating <= 2) {base} GROUP BY b", args)
    counts = {b: (n, p, u, g) for b, n, p, u, g in rows}
    out = []
    for b in sorted(set(counts) | set(eligible)):
        n, p, u, g = counts.get(b, (0, 0, 0, 0))
        e = eligible.get(b, 0)
        out.append({"date": _label(b, gran), "total": n, "positive": p, "neutral": u, "negative": g,
                    "csat_pct": pct(p, n) if n else None, "eligible": e,
                    "response_rate_pct": pct(n, e) if e else None})
    return out


def _csat_ratings(store: Store, base: str, args: list[Any], max_rating: int | None, limit: int,
                  offset: int) -> list[dict[str, Any]]:
    extra, extra_args = ("AND r.rating <= ?", [max_rating]) if max_rating else ("", [])
    rows = store.rows(
        f"SELECT r.seq, r.conversation_id, r.rating, r.remark, r.rated_at, c.first_ts {base} {extra} "
        "ORDER BY r.ts DESC, r.seq DESC LIMIT ? OFFSET ?", [*args, *extra_args, limit, offset])
    tags = tags_of(store, [r[0] for r in rows])
    return [{"conversation_id": cid, "rating": rating, "remark": remark, "rated_at": rated_at,
             "tags": tags.get(seq, []), "first_message_at": iso(first)}
            for seq, cid, rating, remark, rated_at, first in rows]


# --- conversion metrics ---------------------------------------------------------------------------
def _definitions(ctx: Ctx) -> list[dict[str, Any]]:
    defs = ctx.store.docs("conversion_metric", project_id=ctx.project())
    return sorted(defs, key=lambda d: str(d.get("created_at") or ""))


def _definition(ctx: Ctx, slug: str) -> dict[str, Any] | None:
    return next((d for d in _definitions(ctx) if d.get("slug") == slug), None)


def list_conversion_metrics(ctx: Ctx) -> list[dict[str, Any]]:
    return _definitions(ctx)


def get_conversion_metric(ctx: Ctx) -> dict[str, Any]:
    definition = _definition(ctx, ctx.path["slug"])
    if definition is None:
        raise ApiError(404, "Conversion metric not found")
    return definition


def _conversion_empty(offset: int) -> dict[str, Any]:
    return {"is_configured": False, "definition": None, "total_events": 0, "total_value": 0.0,
            "avg_value": 0.0, "converting_conversations": 0, "eligible_conversations": 0,
            "conversion_rate_pct": 0.0, "avg_value_per_conversation": 0.0,
            "time_granularity": "day", "time_series": [], "events": [], "events_offset": offset,
            "total_events_filtered": 0}


def conversion_analytics(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    limit = p.integer("events_limit", 25, ge=1, le=200)
    offset = p.integer("events_offset", 0, ge=0)
    f, start, end = outcome_filter(ctx, p)
    definition = _definition(ctx, ctx.path["slug"])
    if definition is None:
        return _conversion_empty(offset)
    store = ctx.store
    gran, step = _step(start, end)
    where, args = f.where()
    base = ("FROM conversion_events e JOIN conversations c ON c.seq = e.seq WHERE e.project_id = ? "
            f"AND e.metric_slug = ? AND e.ts >= ? AND e.ts <= ? AND {where}")
    base_args = [f.project_ids[0], definition["slug"], start, end, *args]
    n, value, converting = store.aggregate(
        f"SELECT count(*), coalesce(sum(e.value), 0), count(DISTINCT e.seq) {base}", base_args)
    eligible = sum(_eligible(store, f, start, end, step).values())
    series = store.rows(
        f"SELECT (e.ts / {step}) * {step} b, count(*), sum(e.value), count(DISTINCT e.seq) {base} "
        "GROUP BY b ORDER BY b", base_args)
    return {
        "is_configured": True, "definition": definition, "total_events": n,
        "total_value": round(value, 2), "avg_value": round(value / n, 2) if n else 0.0,
        "converting_conversations": converting, "eligible_conversations": eligible,
        "conversion_rate_pct": pct(converting, eligible),
        "avg_value_per_conversation": round(value / converting, 2) if converting else 0.0,
        "time_granularity": gran,
        "time_series": [{"date": _label(b, gran), "event_count": c, "total_value": round(v, 2),
                         "converting_conversations": d} for b, c, v, d in series],
        "events": _events(store, base, base_args, limit, offset),
        "events_offset": offset, "total_events_filtered": n,
    }


def _events(store: Store, base: str, args: list[Any], limit: int,
            offset: int) -> list[dict[str, Any]]:
    rows = store.rows(
        "SELECT e.seq, e.id, e.conversation_id, e.match_value, e.idempotency_key, e.value, "
        f"e.occurred_at, e.metadata {base} ORDER BY e.ts DESC, e.id DESC LIMIT ? OFFSET ?",
        [*args, limit, offset])
    tags = tags_of(store, [r[0] for r in rows])
    return [{"id": eid, "conversation_id": cid, "match_value": match, "idempotency_key": key,
             "value": value, "occurred_at": occurred,
             "metadata": json.loads(meta) if meta else None, "tags": tags.get(seq, [])}
            for seq, eid, cid, match, key, value, occurred, meta in rows]


ROUTES = routes(
    ("GET", "/projects/{pid}/csat/analytics", csat_analytics),
    ("GET", "/projects/{pid}/conversion-metrics", list_conversion_metrics),
    ("GET", "/projects/{pid}/conversion-metrics/{slug}", get_conversion_metric),
    ("GET", "/projects/{pid}/conversion-metrics/{slug}/analytics", conversion_analytics),
)
