"""Trending topics: the latest analysis, generating one, its job's progress, an analysis.

The status and the generation take the assistant (``playbook_base_ids``, plural) and the tags
of the shared filters, never dates: an analysis covers its own window.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api import models as m
from api.endpoints import Endpoint, endpoint, parse_model, project_path
from api.query import ConversationQuery

if TYPE_CHECKING:
    from api.client import StudioClient

BASE = "/conversations/insights/trending-topics"


def status_params(query: ConversationQuery) -> dict[str, str]:
    """The status's params: the assistant and the tags (comma-joined)."""
    params = {}
    if query.playbook_base_id:
        params["playbook_base_ids"] = query.playbook_base_id
    if query.tags:
        params["tags"] = ",".join(query.tags)
    return params


def status(project: str, query: ConversationQuery, *, cache: bool = True
           ) -> Endpoint[m.TrendingStatus]:
    """The latest analysis for the assistant and tags of ``query`` (``cache=False``: always
    asked, e.g. right after a generation was refused)."""
    return endpoint(m.TrendingStatus, project_path(project, BASE + "/status"),
                    status_params(query) or None, cache=cache)


async def generate(client: StudioClient, project: str, query: ConversationQuery
                   ) -> m.TrendingJob:
    """Start an analysis for the assistant and tags of ``query``: its job (never retried
    where the server may have acted; a 409 means one was already generated today)."""
    body: dict[str, Any] = {}
    if query.playbook_base_id:
        body["playbook_base_ids"] = [query.playbook_base_id]
    if query.tags:
        body["tags"] = list(query.tags)
    where = project_path(project, BASE + "/generate")
    data = await client.post(where, body, idempotent=False)
    return parse_model(m.TrendingJob, f"POST {where}")(data)


def job(project: str, job_id: str) -> Endpoint[m.TrendingJob]:
    """A generation job's progress: never cached."""
    return endpoint(m.TrendingJob, project_path(project, BASE + "/job/{}", job_id), cache=False)


def analysis(project: str, analysis_id: str) -> Endpoint[m.TrendingAnalysis]:
    return endpoint(m.TrendingAnalysis, project_path(project, BASE + "/analysis/{}", analysis_id))
