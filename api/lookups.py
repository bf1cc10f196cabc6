"""Names and choices for filters and labels: assistants, inboxes, tags, skills, knowledge bases.

Loaded once per app through the endpoint functions; every part is optional, a failed endpoint
leaves its list empty instead of failing the whole load.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple, TypeVar

from api.dates import ISO, stable_end
from api.text import sanitize

if TYPE_CHECKING:
    from api import models as m
    from api.client import StudioClient
    from api.endpoints import Endpoint
    from api.query import ConversationQuery

log = logging.getLogger(__name__)
T = TypeVar("T")
KB_ITEMS_AT_ONCE = 50  # titles asked for one conversation's citations


class Assistant(NamedTuple):
    base_id: str
    name: str
    versions: tuple[tuple[str, int], ...] = ()  # (version id, version number), newest first


@dataclass
class Lookups:
    assistants: list[Assistant] = field(default_factory=list)
    inboxes: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    tags: list[str] = field(default_factory=list)
    skills: list[str] = field(default_factory=list)
    kbs: dict[str, str] = field(default_factory=dict)  # kb id -> title
    kb_items: dict[tuple[str, str], str] = field(default_factory=dict)  # (kb, item) -> title
    project_name: str = ""
    loaded: bool = False
    # id -> name known before the lookups load (those a restored session's filters showed)
    labels: dict[str, str] = field(default_factory=dict)

    def assistant_name(self, base_id: str | None) -> str:
        for assistant in self.assistants:
            if assistant.base_id == base_id:
                return assistant.name
        return self._label(base_id)

    def version_label(self, version_id: str | None) -> str:
        for assistant in self.assistants:
            for vid, number in assistant.versions:
                if vid == version_id:
                    return f"{assistant.name} v{number}"
        return self._label(version_id)

    def inbox_name(self, inbox_id: str | None) -> str:
        return dict(self.inboxes).get(inbox_id or "") or self._label(inbox_id)

    def _label(self, some_id: str | None) -> str:
        return self.labels.get(some_id or "", some_id or "")

    def labels_of(self, query: ConversationQuery) -> tuple[tuple[str, str], ...]:
        """(id, name) of the ids `query` filters on that have a name here."""
        named = ((query.playbook_base_id, self.assistant_name(query.playbook_base_id)),
                 (query.playbook_id, self.version_label(query.playbook_id)),
                 (query.inbox_id, self.inbox_name(query.inbox_id)))
        return tuple((some_id, name) for some_id, name in named if some_id and name != some_id)

    def kb_title(self, kb_id: str | None) -> str:
        return self.kbs.get(kb_id or "", kb_id or "")


def _text(value: str | None) -> str:
    return sanitize(value) if value is not None else ""


def assistants_of(playbooks: list[m.Playbook]) -> tuple[list[Assistant], list[tuple[str, str]]]:
    names: dict[str, str] = {}
    versions: dict[str, list[tuple[str, int]]] = {}
    inboxes: dict[str, str] = {}
    for pb in playbooks:
        if not pb.base_id:
            continue
        number = pb.version_number or 0
        listed = versions.setdefault(pb.base_id, [])
        listed.append((pb.id or "", number))
        if not names.get(pb.base_id) or number == max(n for _, n in listed):
            names[pb.base_id] = _text(pb.name) or pb.base_id  # the newest version's name
        for inbox in pb.inboxes:
            if inbox.id:
                inboxes[inbox.id] = _text(inbox.name) or inbox.id
    assistants = [Assistant(base, names[base], tuple(sorted(found, key=lambda v: -v[1])))
                  for base, found in versions.items()]
    assistants.sort(key=lambda a: a.name.lower())
    return assistants, sorted(inboxes.items(), key=lambda kv: kv[1].lower())


async def _safe(client: StudioClient, endpoint: Endpoint[T]) -> T | None:
    try:
        return await client.load(endpoint)
    except Exception as exc:  # noqa: BLE001 - a lookup is optional; the UI degrades to ids
        log.info("lookup failed: %s", type(exc).__name__)
        return None


async def load_lookups(client: StudioClient, now: datetime) -> Lookups:
    """Fetch every lookup concurrently; missing parts stay empty."""
    from api.endpoints import load_models

    await load_models()  # in a thread: the UI keeps running meanwhile
    from api.endpoints import analytics, configuration, resources
    from api.query import ConversationQuery

    project = client.project_id
    end = stable_end(now, timedelta(days=1))  # the same window (cache key) all day
    window = ConversationQuery.build(start_date=(end - timedelta(days=365)).strftime(ISO),
                                     end_date=end.strftime(ISO))
    # every request built first: an unusable project id fails before any is sent
    asked = (configuration.playbooks(project, versions=True),
             analytics.conversation_analytics(project, window),
             resources.sparkline_names(project, "skills", 90),
             configuration.knowledgebases(project), configuration.project_info(project))
    # (each job typed on its own: mypy infers T | None for T inside gather's arguments)
    playbooks_job, figures_job = _safe(client, asked[0]), _safe(client, asked[1])
    skills_job, kbs_job, info_job = (_safe(client, asked[2]), _safe(client, asked[3]),
                                     _safe(client, asked[4]))
    playbooks, figures, skills, kbs, info = await asyncio.gather(
        playbooks_job, figures_job, skills_job, kbs_job, info_job)
    lookups = Lookups(loaded=True)
    lookups.assistants, lookups.inboxes = assistants_of(playbooks or [])
    lookups.tags = sorted({_text(row.tag) for row in (figures.by_tag if figures else [])
                           if row.tag})
    lookups.skills = sorted(_text(name) for name in skills or {})
    for kb in kbs or []:
        if kb.id:
            lookups.kbs[kb.id] = _text(kb.title) or kb.id
    if info is not None:
        lookups.project_name = _text(info.name)
    return lookups


async def resolve_kb_items(client: StudioClient, lookups: Lookups,
                           pairs: set[tuple[str, str]]) -> None:
    """Fill `lookups.kb_items` for the (kb id, item id) pairs not known yet."""
    from api.endpoints import resources
    from api.errors import InvalidIdError

    missing = [p for p in pairs if p not in lookups.kb_items and all(p)]

    async def one(kb_id: str, item_id: str) -> None:
        try:
            endpoint = resources.kb_item(kb_id, item_id)
        except InvalidIdError:
            return
        item = await _safe(client, endpoint)
        if item is not None and item.title:
            lookups.kb_items[(kb_id, item_id)] = _text(item.title)

    await asyncio.gather(*(one(kb, item) for kb, item in missing[:KB_ITEMS_AT_ONCE]))
