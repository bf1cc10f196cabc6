"""Project configuration: assistants (playbooks, their active version, deployments and
settings), knowledge bases, office hours, the project, API tools."""
from __future__ import annotations

from api import models as m
from api.endpoints import Endpoint, endpoint, list_endpoint, path, project_path


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


def schedule(project: str) -> Endpoint[m.Schedule]:
    """Office hours: the weekly schedule and its overrides."""
    return endpoint(m.Schedule, project_path(project, "/schedule"))


def playbook_active(base_id: str) -> Endpoint[m.ActiveVersion]:
    """The version of an assistant (by base id) that is deployed now."""
    return endpoint(m.ActiveVersion, path("/playbooks/{}/active", base_id))


def playbook_active_history(base_id: str) -> Endpoint[m.ActiveHistory]:
    """Which version was deployed when, newest first."""
    return endpoint(m.ActiveHistory, path("/playbooks/{}/active/history", base_id))


def playbook_settings(playbook_id: str) -> Endpoint[m.PlaybookSettings]:
    """A version's settings (kill switch, winback, URL shortener); a null answer reads as
    no settings."""
    return endpoint(m.PlaybookSettings, path("/playbooks/{}/settings", playbook_id))


def versions_by_assistant(playbooks: list[m.Playbook]) -> dict[str, list[m.Playbook]]:
    """Base id -> that assistant's versions, newest first: the playbook list has one row per
    version (with ``versions``), grouped by ``base_id`` (``id`` when it has none)."""
    groups: dict[str, list[m.Playbook]] = {}
    for pb in playbooks:
        base = pb.base_id or pb.id
        if base:
            groups.setdefault(base, []).append(pb)
    for versions in groups.values():
        versions.sort(key=lambda v: v.version_number or 0, reverse=True)
    return groups


def latest_versions(playbooks: list[m.Playbook]) -> dict[str, m.Playbook]:
    """Base id -> the newest version of each assistant (its name is the assistant's)."""
    return {base: versions[0] for base, versions in versions_by_assistant(playbooks).items()}
