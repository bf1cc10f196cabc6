"""Resource analytics (API tools, toolkits, skills, knowledge-base citations and items, daily
sparklines) and a knowledge base with its items.

Resource analytics take whole UTC days (``YYYY-MM-DD``, both included) and no assistant or
tag filter: only the date range of a query applies (``resource_dates``).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from api import models as m
from api.dates import parse_ts
from api.endpoints import Endpoint, endpoint, path, project_path
from api.errors import BadResponseError
from api.query import ConversationQuery

SparklineKind = Literal["api-tools", "toolkits", "skills", "kbs"]
SPARKLINE_PATHS: dict[SparklineKind, str] = {
    "api-tools": "/analytics/api-tools/sparklines",
    "toolkits": "/analytics/toolkit-calls/sparklines",
    "skills": "/analytics/skills/sparklines",
    "kbs": "/analytics/kbs/sparklines",
}


def resource_dates(query: ConversationQuery) -> dict[str, str]:
    """The UTC days the query's window touches, as resource analytics take them.

    Their end is inclusive, so an end at midnight means the day before.
    """
    params: dict[str, str] = {}
    start = parse_ts(query.start_date)
    end = parse_ts(query.end_date)
    if start is not None:
        params["start_date"] = start.astimezone(UTC).date().isoformat()
    if end is not None:
        end = end.astimezone(UTC)
        last = end.date()
        if end.time() == datetime.min.time():
            last -= timedelta(days=1)
        params["end_date"] = last.isoformat()
    return params


def _usage(project: str, rest: str, query: ConversationQuery, limit: int,
           **extra: str) -> Endpoint[m.ResourceAnalytics]:
    params = {**resource_dates(query), "limit": str(limit), **extra}
    return endpoint(m.ResourceAnalytics, project_path(project, rest), params)


def api_tools(project: str, query: ConversationQuery, *, limit: int
              ) -> Endpoint[m.ResourceAnalytics]:
    """API tool calls in the query's days: totals, per day, the ``limit`` most recent."""
    return _usage(project, "/analytics/api-tools", query, limit)


def toolkits(project: str, query: ConversationQuery, *, limit: int, param_filter: str = ""
             ) -> Endpoint[m.ResourceAnalytics]:
    """Toolkit calls; ``param_filter`` (``key:value``) adds a breakdown by that parameter."""
    extra = {"param_filter": param_filter} if param_filter else {}
    return _usage(project, "/analytics/toolkits", query, limit, **extra)


def skills(project: str, query: ConversationQuery, *, limit: int
           ) -> Endpoint[m.ResourceAnalytics]:
    return _usage(project, "/analytics/skills", query, limit)


def kbs(project: str, query: ConversationQuery) -> Endpoint[m.KBAnalytics]:
    """Knowledge-base citations in the query's days: by source, by KB, per day."""
    return endpoint(m.KBAnalytics, project_path(project, "/analytics/kbs"),
                    resource_dates(query))


def kb_items(project: str, kb_id: str, query: ConversationQuery, *, limit: int
             ) -> Endpoint[m.KBItemsAnalytics]:
    """The ``limit`` most cited items of one knowledge base in the query's days."""
    return endpoint(m.KBItemsAnalytics, project_path(project, "/analytics/kbs/{}/items", kb_id),
                    {**resource_dates(query), "limit": str(limit)})


def _sparkline_answer(data: Any, what: str) -> Any:
    if data is not None and not isinstance(data, dict):
        raise BadResponseError(f"expected an object for {what}, got {type(data).__name__}")
    return data


def _parse_sparklines(what: str) -> Callable[[Any], dict[str, m.Sparkline]]:
    def parse(data: Any) -> dict[str, m.Sparkline]:
        # entries that are not objects are skipped
        return m.parse_sparklines(_sparkline_answer(data, what))

    return parse


def _parse_sparkline_names(what: str) -> Callable[[Any], list[str]]:
    def parse(data: Any) -> list[str]:
        # the entries parse_sparklines keeps, their series not read
        return [str(name) for name, value in (_sparkline_answer(data, what) or {}).items()
                if isinstance(value, dict)]

    return parse


def sparklines(project: str, kind: SparklineKind, days: int
               ) -> Endpoint[dict[str, m.Sparkline]]:
    """Daily counts of each resource of ``kind`` over the trailing ``days`` (not dated):
    resource id -> its total and series."""
    where = project_path(project, SPARKLINE_PATHS[kind])
    return Endpoint(where, {"days": str(days)}, _parse_sparklines(f"GET {where}"))


def sparkline_names(project: str, kind: SparklineKind, days: int) -> Endpoint[list[str]]:
    """The resources of ``kind`` that ``sparklines`` lists (same request), without reading
    their series: what a filter offers."""
    where = project_path(project, SPARKLINE_PATHS[kind])
    return Endpoint(where, {"days": str(days)}, _parse_sparkline_names(f"GET {where}"))


def knowledgebase(kb_id: str) -> Endpoint[m.KnowledgeBase]:
    """One knowledge base with its item lists (the path is not under the project)."""
    return endpoint(m.KnowledgeBase, path("/knowledgebases/{}", kb_id))


def kb_item(kb_id: str, item_id: str) -> Endpoint[m.KBItem]:
    """One item's metadata (title, URL) in a knowledge base."""
    return endpoint(m.KBItem, path("/knowledgebases/{}/items/{}", kb_id, item_id))


class _ItemRef(m.Model):
    id: m.Str = None
    item_id: m.Str = None
    title: m.Str = None


def item_titles(kb: m.KnowledgeBase) -> dict[str, str]:
    """Item id -> title from every item list of a knowledge base (``intercom_items`` and the
    like, declared by the model or not); items without an id or a title are left out."""
    titles: dict[str, str] = {}
    for name, value in kb.model_dump().items():
        if not (name.endswith("_items") and isinstance(value, list)):
            continue
        for raw in value:
            if isinstance(raw, dict):
                item = _ItemRef.model_validate(raw)
                key = item.id or item.item_id
                if key and item.title:
                    titles[key] = item.title
    return titles
