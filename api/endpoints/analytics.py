"""Analytics: the project's and the account's conversation figures, the signals aggregate, CSAT.

Each endpoint takes its own subset of the shared filters (``ConversationQuery.*_params``):
conversation analytics the plural ``playbook_base_ids``, aggregate metrics and CSAT the
singular ``playbook_base_id``, account analytics the date range only.
"""
from __future__ import annotations

from api import models as m
from api.endpoints import Endpoint, endpoint, path, project_path
from api.query import ConversationQuery


def conversation_analytics(project: str, query: ConversationQuery
                           ) -> Endpoint[m.ConversationAnalytics]:
    """Totals, deflection, latency, winbacks, by assistant and tag, and their time series."""
    return endpoint(m.ConversationAnalytics, project_path(project, "/conversations/analytics"),
                    query.analytics_params())


def account_analytics(query: ConversationQuery) -> Endpoint[m.AccountAnalytics]:
    """Account-wide figures across every project (the date range of ``query`` only)."""
    return endpoint(m.AccountAnalytics, path("/account/conversations/analytics"),
                    query.account_params())


def aggregate_metrics(project: str, query: ConversationQuery) -> Endpoint[m.AggregateMetrics]:
    """Scoring coverage and the six signal distributions."""
    return endpoint(m.AggregateMetrics,
                    project_path(project, "/conversations/metrics/aggregate"),
                    query.aggregate_params())


def csat(project: str, query: ConversationQuery, *, ratings_limit: int | None = None,
         ratings_offset: int | None = None, max_rating: int | None = None
         ) -> Endpoint[m.CsatAnalytics]:
    """CSAT figures and one page of the ratings (``max_rating``: those up to that score)."""
    params = query.csat_params()
    for name, value in (("ratings_limit", ratings_limit), ("ratings_offset", ratings_offset),
                        ("max_rating", max_rating)):
        if value is not None:
            params[name] = str(value)
    return endpoint(m.CsatAnalytics, project_path(project, "/csat/analytics"), params)
