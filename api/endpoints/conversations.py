"""Conversations: pages of the list, one conversation's detail."""
from __future__ import annotations

from api import models as m
from api.endpoints import Endpoint, endpoint, project_path
from api.query import ConversationQuery


def page(project: str, query: ConversationQuery, *, limit: int = 50, offset: int = 0
         ) -> Endpoint[m.ConversationPage]:
    """One page of the conversations matching ``query`` (its sort included)."""
    params = {**query.to_params(), "limit": str(limit), "offset": str(offset)}
    return endpoint(m.ConversationPage, project_path(project, "/conversations"), params)


def detail(project: str, conversation_id: str) -> Endpoint[m.ConversationDetail]:
    return endpoint(m.ConversationDetail,
                    project_path(project, "/conversations/{}", conversation_id))
