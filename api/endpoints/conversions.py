"""Conversions: the project's metric definitions and one metric's analytics."""
from __future__ import annotations

from api import models as m
from api.endpoints import Endpoint, endpoint, list_endpoint, project_path
from api.query import ConversationQuery


def metrics(project: str) -> Endpoint[list[m.ConversionMetric]]:
    """The conversion metric definitions (``last_event_at``: the ingest heartbeat)."""
    return list_endpoint(m.ConversionMetric, project_path(project, "/conversion-metrics"), None,
                         "items", "metrics")


def analytics(project: str, slug: str, query: ConversationQuery, *,
              events_limit: int | None = None, events_offset: int | None = None,
              playbook_base_id: str | None = None) -> Endpoint[m.ConversionAnalytics]:
    """One metric's topline, trend and a page of its events over the shared filters (dates,
    tags, singular ``playbook_base_id``); ``playbook_base_id`` replaces the query's assistant
    (one row of the funnel by assistant)."""
    params = query.conversion_params()
    if playbook_base_id is not None:
        params["playbook_base_id"] = playbook_base_id
    for name, value in (("events_limit", events_limit), ("events_offset", events_offset)):
        if value is not None:
            params[name] = str(value)
    return endpoint(m.ConversionAnalytics,
                    project_path(project, "/conversion-metrics/{}/analytics", slug), params)
