"""Resource analytics: API tools, toolkits, skills, KB citations, and their sparklines."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from api.demo.params import ApiError, check_order, days_between, epoch
from api.demo.routing import Ctx, routes
from api.demo.store import Store


@dataclass
class EventQuery:
    """WHERE clause over resource_events of one kind."""

    project_id: str
    kind: str
    parts: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, sql: str, *values: Any) -> None:
        self.parts.append(sql)
        self.args.extend(values)

    @property
    def where(self) -> str:
        return " AND ".join(["project_id = ?", "kind = ?", *self.parts])

    @property
    def all_args(self) -> list[Any]:
        return [self.project_id, self.kind, *self.args]


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def event_query(ctx: Ctx, kind: str, filters: dict[str, str], search_cols: tuple[str, ...]
                ) -> tuple[EventQuery, int, int]:
    """Common parameters: dates (YYYY-MM-DD, end inclusive), equality filters, search, paging."""
    p = ctx.params
    start, end = p.day_range(None, ctx.store.now)
    limit = p.integer("limit", 50, ge=1, le=500)
    offset = p.integer("offset", 0, ge=0)
    values = {param: p.text(param) for param in filters}
    search = p.text("search")
    p.check()
    check_order(start, end)
    q = EventQuery(ctx.project(), kind)
    if start is not None:
        q.add("ts >= ?", epoch(start))
    if end is not None:
        q.add("ts <= ?", epoch(end))
    for param, column in filters.items():
        if values[param] is not None:
            q.add(f"{column} = ?", values[param])
    if search:
        q.add("(" + " OR ".join(f"instr(coalesce({c}, ''), ?) > 0" for c in search_cols) + ")",
              *([search] * len(search_cols)))
    return q, limit, offset


def summary(store: Store, q: EventQuery) -> dict[str, Any]:
    n, ok, avg = store.aggregate(
        f"SELECT count(*), coalesce(sum(success), 0), avg(duration_ms) FROM resource_events WHERE {q.where}",
        q.all_args)
    return {"total_calls": n, "successful_calls": ok, "failed_calls": n - ok,
            "avg_duration_ms": round(avg, 1) if avg is not None else None}


def daily(store: Store, q: EventQuery, with_duration: bool = False) -> list[dict[str, Any]]:
    rows = store.rows(
        "SELECT date(ts, 'unixepoch') d, count(*), sum(success), avg(duration_ms) "
        f"FROM resource_events WHERE {q.where} GROUP BY d ORDER BY d", q.all_args)
    out = []
    for day, n, ok, avg in rows:
        point = {"date": day, "count": n, "success_count": ok}
        if with_duration:
            point["avg_duration_ms"] = round(avg, 1) if avg is not None else None
        out.append(point)
    return out


def recent(store: Store, q: EventQuery, limit: int, offset: int) -> list[dict[str, Any]]:
    rows = store.rows(
        "SELECT id, ref, name, item_id, source, conversation_id, created_at, success, error_message, "
        f"duration_ms, input_params, output_result, request_meta FROM resource_events WHERE {q.where} "
        "ORDER BY ts DESC, id DESC LIMIT ? OFFSET ?", [*q.all_args, limit, offset])
    keys = ("id", "ref", "name", "item_id", "source", "conversation_id", "created_at", "success",
            "error_message", "duration_ms", "input_params", "output_result", "request_meta")
    out = []
    for row in rows:
        item = dict(zip(keys, row, strict=True))
        item["success"] = bool(item["success"])
        for key in ("input_params", "output_result", "request_meta"):
            item[key] = _loads(item[key])
        out.append(item)
    return out


def _pick(items: list[dict[str, Any]], mapping: dict[str, str]) -> list[dict[str, Any]]:
    """Rename/select the columns of `recent` rows: mapping output key -> row key."""
    return [{out: item.get(src) for out, src in mapping.items()} for item in items]


def api_tool_analytics(ctx: Ctx) -> dict[str, Any]:
    q, limit, offset = event_query(ctx, "api_tool", {"api_tool_id": "ref"},
                                   ("input_params", "output_result", "conversation_id", "error_message"))
    data = summary(ctx.store, q)
    tool_id = ctx.params.text("api_tool_id")
    if tool_id:
        tool = ctx.store.doc("api_tool", tool_id, ctx.project()) or {}
        data["tool_config"] = {"method": tool.get("method"), "url": tool.get("url")}
    data["time_series"] = daily(ctx.store, q, with_duration=True)
    data["recent"] = _pick(recent(ctx.store, q, limit, offset), {
        "id": "id", "api_tool_id": "ref", "tool_name": "name", "input_params": "input_params",
        "output_result": "output_result", "request_meta": "request_meta", "success": "success",
        "error_message": "error_message", "duration_ms": "duration_ms", "created_at": "created_at",
        "conversation_id": "conversation_id"})
    return data


def _param_filter(ctx: Ctx, q: EventQuery) -> str | None:
    raw = ctx.params.text("param_filter")
    if raw is None:
        return None
    key, sep, value = raw.partition(":")
    if not sep or not key.strip():
        raise ApiError(400, "param_filter must look like key:value")
    path = '$."' + key.strip().replace('"', "") + '"'
    if value.strip():
        q.add("CAST(json_extract(input_params, ?) AS TEXT) = ?", path, value.strip())
    return path


def toolkit_analytics(ctx: Ctx) -> dict[str, Any]:
    q, limit, offset = event_query(
        ctx, "toolkit", {"toolkit_slug": "ref", "action_name": "name"},
        ("input_params", "output_result", "conversation_id", "name", "error_message"))
    by_param_q = EventQuery(q.project_id, q.kind, list(q.parts), list(q.args))
    path = _param_filter(ctx, q)
    store = ctx.store
    data = summary(store, q)
    data["by_action"] = [
        {"action_name": name, "count": n, "success_count": ok}
        for name, n, ok in store.rows(
            f"SELECT name, count(*), sum(success) FROM resource_events WHERE {q.where} "
            "GROUP BY name ORDER BY count(*) DESC, name", q.all_args)]
    data["by_param"] = [] if path is None else [
        {"value": value, "count": n}
        for value, n in store.rows(
            "SELECT CAST(json_extract(input_params, ?) AS TEXT) v, count(*) FROM resource_events "
            f"WHERE {by_param_q.where} AND v IS NOT NULL GROUP BY v ORDER BY count(*) DESC, v",
            [path, *by_param_q.all_args])]
    data["time_series"] = daily(store, q)
    data["recent"] = _pick(recent(store, q, limit, offset), {
        "id": "id", "toolkit_slug": "ref", "action_name": "name", "input_params": "input_params",
        "output_result": "output_result", "success": "success", "error_message": "error_message",
        "duration_ms": "duration_ms", "created_at": "created_at", "conversation_id": "conversation_id"})
    return data


def skill_analytics(ctx: Ctx) -> dict[str, Any]:
    q, limit, offset = event_query(ctx, "skill", {"skill_name": "ref"},
                                   ("ref", "conversation_id", "error_message"))
    data = summary(ctx.store, q)
    del data["avg_duration_ms"]
    data["time_series"] = daily(ctx.store, q)
    data["recent"] = _pick(recent(ctx.store, q, limit, offset), {
        "id": "id", "skill_name": "ref", "success": "success", "error_message": "error_message",
        "created_at": "created_at", "conversation_id": "conversation_id"})
    return data


def kb_analytics(ctx: Ctx) -> dict[str, Any]:
    q, limit, offset = event_query(
        ctx, "kb_citation", {"kb_id": "ref", "item_id": "item_id", "source": "source"},
        ("ref", "item_id", "name", "conversation_id", "source"))
    store = ctx.store
    titles = {kb["id"]: kb.get("title") for kb in store.docs("kb", project_id=q.project_id)}
    total = store.aggregate(f"SELECT count(*) FROM resource_events WHERE {q.where}",
                            q.all_args)[0]
    by_source = store.rows(f"SELECT source, count(*) FROM resource_events WHERE {q.where} "
                           "GROUP BY source ORDER BY count(*) DESC, source", q.all_args)
    by_kb = store.rows(f"SELECT ref, count(*) FROM resource_events WHERE {q.where} "
                       "GROUP BY ref ORDER BY count(*) DESC, ref", q.all_args)
    return {
        "total_citations": total,
        "by_source": [{"source": s, "count": n} for s, n in by_source],
        "by_kb": [{"kb_id": k, "title": titles.get(k), "count": n} for k, n in by_kb],
        "time_series": [{"date": p["date"], "count": p["count"]} for p in daily(store, q)],
        "recent": _pick(recent(store, q, limit, offset), {
            "kb_id": "ref", "item_id": "item_id", "source": "source", "created_at": "created_at",
            "conversation_id": "conversation_id", "title": "name"}),
    }


def kb_items(ctx: Ctx) -> dict[str, Any]:
    q, limit, offset = event_query(ctx, "kb_citation", {}, ())
    q.add("ref = ?", ctx.path["kb_id"])
    store = ctx.store
    total = store.aggregate(f"SELECT count(DISTINCT item_id) FROM resource_events WHERE {q.where} "
                            "AND item_id IS NOT NULL", q.all_args)[0]
    rows = store.rows(f"SELECT item_id, count(*) FROM resource_events WHERE {q.where} AND item_id "
                      "IS NOT NULL GROUP BY item_id ORDER BY count(*) DESC, item_id LIMIT ? OFFSET ?",
                      [*q.all_args, limit, offset])
    return {"kb_id": ctx.path["kb_id"], "total_items_cited": total,
            "items": [{"item_id": i, "count": n} for i, n in rows]}


def sparklines(kind: str) -> Callable[[Ctx], dict[str, Any]]:
    def handler(ctx: Ctx) -> dict[str, Any]:
        p = ctx.params
        days = p.integer("days", 14, ge=1, le=90)
        p.check()
        store = ctx.store
        first = store.anchor - timedelta(days=days - 1)
        dates = days_between(first, store.anchor)
        # from the first day's midnight: the anchor day may end before midnight (store.now)
        start = epoch(datetime.combine(first, datetime.min.time(), UTC))
        rows = store.rows(
            "SELECT ref, date(ts, 'unixepoch') d, count(*) FROM resource_events WHERE project_id = ? "
            "AND kind = ? AND ts >= ? AND ts < ? GROUP BY ref, d",
            (ctx.project(), kind, start, epoch(store.now)))
        per: dict[str, dict[str, int]] = {}
        for ref, day, n in rows:
            per.setdefault(ref, {})[day] = n
        return {ref: {"total": sum(counts.values()),
                      "series": [{"date": d, "count": counts.get(d, 0)} for d in dates]}
                for ref, counts in sorted(per.items())}

    return handler


ROUTES = routes(
    ("GET", "/projects/{pid}/analytics/api-tools", api_tool_analytics),
    ("GET", "/projects/{pid}/analytics/api-tools/sparklines", sparklines("api_tool")),
    ("GET", "/projects/{pid}/analytics/toolkits", toolkit_analytics),
    ("GET", "/projects/{pid}/analytics/toolkit-calls/sparklines", sparklines("toolkit")),
    ("GET", "/projects/{pid}/analytics/skills", skill_analytics),
    ("GET", "/projects/{pid}/analytics/skills/sparklines", sparklines("skill")),
    ("GET", "/projects/{pid}/analytics/kbs", kb_analytics),
    ("GET", "/projects/{pid}/analytics/kbs/sparklines", sparklines("kb_citation")),
    ("GET", "/projects/{pid}/analytics/kbs/{kb_id}/items", kb_items),
)
