"""Conversation analytics (project and account) and aggregate metric distributions, in SQL."""
from __future__ import annotations

from typing import Any

from api import labels
from api.demo import convfilter as cf
from api.demo.params import iso
from api.demo.routing import Ctx, routes
from api.demo.store import Store

HOUR_RANGE_LIMIT = 2 * 86400  # ranges up to two days get hourly buckets

TOTALS_SQL = (
    "count(*), coalesce(sum(c.message_count),0), coalesce(sum(c.has_handoff),0), "
    "avg(c.avg_latency_ms), coalesce(sum(c.has_winback),0), coalesce(sum(c.winback_answered),0), "
    "coalesce(sum(c.ai_message_count),0)"
)


def pct(part: float, whole: float) -> float:
    return round(part * 100.0 / whole, 2) if whole else 0.0


def _filter(ctx: Ctx, projects: tuple[str, ...], list_filters: bool = False) -> cf.ConvFilter:
    p = ctx.params
    f = cf.parse_filter(p, projects, list_filters=list_filters, dates_required=True)
    p.check()
    cf.validate_order(f)
    return f


def granularity(f: cf.ConvFilter) -> tuple[str, int]:
    span = (f.end_ts or 0) - (f.start_ts or 0)
    return ("hour", 3600) if span <= HOUR_RANGE_LIMIT else ("day", 86400)


def totals(store: Store, f: cf.ConvFilter) -> dict[str, Any]:
    where, args = f.where()
    n, msgs, handoffs, latency, wb_sent, wb_answered, ai_msgs = store.aggregate(
        f"SELECT {TOTALS_SQL} FROM conversations c WHERE {where}", args)
    return {
        "total_conversations": n,
        "total_messages": msgs,
        "total_ai_messages": ai_msgs,
        "conversations_with_handoff": handoffs,
        "conversations_without_handoff": n - handoffs,
        "deflection_rate": pct(n - handoffs, n),
        "avg_messages_per_conversation": round(msgs / n, 2) if n else 0.0,
        "avg_response_latency_ms": round(latency) if latency is not None else 0,
        "winback_sent_count": wb_sent,
        "winback_answered_count": wb_answered,
        "winback_conversion_rate": pct(wb_answered, wb_sent),
    }


def playbook_names(store: Store) -> dict[str | None, str | None]:
    """base_id -> name of its newest version."""
    names: dict[str | None, str | None] = {}
    for _id, _p, base, _s, body in store.doc_rows("playbook"):
        names[base or body.get("base_id")] = body.get("name") or base
    return names


def _breakdown(rows: list[tuple[Any, ...]], key: str,
               names: dict[str | None, str | None] | None = None) -> list[dict[str, Any]]:
    out = []
    for value, n, handoffs, msgs in rows:
        item = {key: value}
        if names is not None:
            item["playbook_name"] = names.get(value, value)
        item.update(total_conversations=n, conversations_with_handoff=handoffs,
                    conversations_without_handoff=n - handoffs, total_messages=msgs,
                    deflection_rate=pct(n - handoffs, n))
        out.append(item)
    return sorted(out, key=lambda i: -i["total_conversations"])


def by_playbook(store: Store, f: cf.ConvFilter) -> list[dict[str, Any]]:
    where, args = f.where()
    rows = store.rows(
        "SELECT c.playbook_base_id, count(*), sum(c.has_handoff), sum(c.message_count) "
        f"FROM conversations c WHERE {where} GROUP BY c.playbook_base_id", args)
    items = _breakdown(rows, "playbook_base_id", playbook_names(store))
    for item in items:
        item["playbook_id"] = item["playbook_base_id"]
    return items


def by_tag(store: Store, f: cf.ConvFilter) -> list[dict[str, Any]]:
    where, args = f.where()
    rows = store.rows(
        "SELECT t.tag, count(*), sum(c.has_handoff), sum(c.message_count) FROM conversations c "
        f"JOIN conv_tags t ON t.seq = c.seq WHERE {where} GROUP BY t.tag", args)
    return _breakdown(rows, "tag")


def p99_by_bucket(rows: list[tuple[int, int]]) -> dict[int, int]:
    """{bucket: the latency at rank ceil(0.99 n) (1-based, ascending) of its n values}.

    In Python rather than a window function: one pass over a covering index and a sort per
    bucket is faster than SQLite sorting every row of a large window."""
    values: dict[int, list[int]] = {}
    for b, latency in rows:
        values.setdefault(b, []).append(latency)
    out = {}
    for b, lat in values.items():
        lat.sort()
        out[b] = lat[(99 * len(lat) + 99) // 100 - 1]
    return out


def time_series(store: Store, f: cf.ConvFilter, step: int) -> list[dict[str, Any]]:
    where, args = f.where()
    bucket = f"(c.last_ts / {step}) * {step}"
    rows = store.rows(
        f"SELECT {bucket} b, count(*), sum(c.has_handoff), avg(c.avg_latency_ms), "
        f"min(c.avg_latency_ms), max(c.avg_latency_ms) FROM conversations c WHERE {where} "
        "GROUP BY b ORDER BY b", args)
    p99 = p99_by_bucket(store.rows(
        f"SELECT {bucket}, c.avg_latency_ms FROM conversations c WHERE {where} "
        "AND c.avg_latency_ms IS NOT NULL", args))
    return [
        {"timestamp": iso(b), "total_conversations": n, "conversations_with_handoff": h,
         "avg_response_latency_ms": round(avg) if avg is not None else None,
         "min_response_latency_ms": lo, "max_response_latency_ms": hi,
         "p99_response_latency_ms": p99.get(b)}
        for b, n, h, avg, lo, hi in rows
    ]


def conversation_analytics(ctx: Ctx) -> dict[str, Any]:
    f = _filter(ctx, (ctx.project(),))
    name, step = granularity(f)
    data = totals(ctx.store, f)
    del data["total_ai_messages"]
    data.update(by_playbook=by_playbook(ctx.store, f), by_tag=by_tag(ctx.store, f),
                time_series=time_series(ctx.store, f, step), time_granularity=name)
    return data


def account_analytics(ctx: Ctx) -> dict[str, Any]:
    f = _filter(ctx, ctx.account_projects())
    name, step = granularity(f)
    data = totals(ctx.store, f)
    for key in ("winback_sent_count", "winback_answered_count", "winback_conversion_rate",
                "avg_response_latency_ms"):
        data.pop(key)
    assistants = by_playbook(ctx.store, f)
    for item in assistants:
        item["name"] = item["playbook_name"]
    series = [{k: v for k, v in point.items() if "latency" not in k}
              for point in time_series(ctx.store, f, step)]
    data.update(by_assistant=assistants, time_series=series, time_granularity=name,
                time_saved_minutes=data["total_ai_messages"] * 5)
    return data


def distributions(store: Store, f: cf.ConvFilter) -> dict[str, dict[str, int]]:
    columns = [(field, value) for field, allowed in labels.LABEL_FIELDS.items() for value in allowed]
    sums = ", ".join(f"coalesce(sum(c.{field} = ?), 0)" for field, _ in columns)
    where, args = f.where()
    row = store.aggregate(f"SELECT {sums} FROM conversations c WHERE {where}",
                          [v for _, v in columns] + args)
    out: dict[str, dict[str, int]] = {field: {} for field in labels.LABEL_FIELDS}
    for (field, value), n in zip(columns, row, strict=True):
        out[field][value] = n
    return out


def aggregate_metrics(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    f = cf.parse_filter(p, (ctx.project(),), list_filters=False, dates_required=True)
    inbox = p.text("inbox_id")
    p.check()
    cf.validate_order(f)
    if inbox:
        f = cf.ConvFilter(**{**f.__dict__, "inbox_id": inbox})
    where, args = f.where()
    total, scored = ctx.store.aggregate(
        f"SELECT count(*), coalesce(sum(c.scored),0) FROM conversations c WHERE {where}", args)
    dist = distributions(ctx.store, f)
    return {
        "total_conversations": total,
        "total_scored_conversations": scored,
        "coverage_percentage": pct(scored, total),
        "sentiment_distribution": dist["sentiment"],
        "resources_distribution": dist["resources"],
        "sentiment_shift_distribution": dist["sentiment_shift"],
        "deflection_quality_distribution": dist["deflection_quality"],
        "handoff_reason_distribution": dist["handoff_reason"],
        "recontact_risk_distribution": dist["recontact_risk"],
    }


ROUTES = routes(
    ("GET", "/projects/{pid}/conversations/analytics", conversation_analytics),
    ("GET", "/account/conversations/analytics", account_analytics),
    ("GET", "/projects/{pid}/conversations/metrics/aggregate", aggregate_metrics),
)
