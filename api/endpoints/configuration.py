"""Project configuration: assistants (playbooks), knowledge bases, the project, API tools."""
from __future__ import annotations

from api import models as m
from api.endpoints import Endpoint, endpoint, list_endpoint, project_path


def _flag(value: bool) -> str:
    return "true" if value else "false"


def playbooks(project: str, *, versions: bool = False, deleted: bool = False
              ) -> Endpoint[list[m.Playbook]]:
    """The project's assistants (every version with ``versions``; deleted ones too with
    ``deleted``)."""
    params = {"include_versions": _flag(versions)} if versions else {}
    if deleted:
        params["include_deleted"] = "true"
    return list_endpoint(m.Playbook, project_path(project, "/playbooks"), params or None,
                         "items", "playbooks")


def knowledgebases(project: str, *, usage: bool = False) -> Endpoint[list[m.KnowledgeBase]]:
    params = {"include_playbook_usage": "true"} if usage else None
    return list_endpoint(m.KnowledgeBase, project_path(project, "/knowledgebases"), params,
                         "items", "knowledgebases")


def project_info(project: str) -> Endpoint[m.Project]:
    return endpoint(m.Project, project_path(project))


def project_settings(project: str) -> Endpoint[m.ProjectSettings]:
    return endpoint(m.ProjectSettings, project_path(project, "/settings"))


def api_tools(project: str, *, usage: bool = False) -> Endpoint[list[m.ApiTool]]:
    params = {"include_playbook_usage": "true"} if usage else None
    return list_endpoint(m.ApiTool, project_path(project, "/api-tools"), params,
                         "items", "api_tools")
