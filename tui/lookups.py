"""Cached choices for filter widgets and labels: assistants, inboxes, tags, skills, KBs.

Loaded once per app (in a worker) through the app's StudioClient; every part is optional, a
failed endpoint leaves its list empty instead of failing the whole load. No Textual import.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from api.text import sanitize
from tui.dates import ISO, stable_end

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Assistant:
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

    def assistant_name(self, base_id: str | None) -> str:
        for assistant in self.assistants:
            if assistant.base_id == base_id:
                return assistant.name
        return base_id or ""

    def version_label(self, version_id: str | None) -> str:
        for assistant in self.assistants:
            for vid, number in assistant.versions:
                if vid == version_id:
                    return f"{assistant.name} v{number}"
        return version_id or ""

    def inbox_name(self, inbox_id: str | None) -> str:
        return dict(self.inboxes).get(inbox_id or "", inbox_id or "")

    def kb_title(self, kb_id: str | None) -> str:
        return self.kbs.get(kb_id or "", kb_id or "")


def api_path(template: str, *ids: Any) -> str:
    """`api.client.StudioClient.path`: each `{}` of `template` replaced by the next id quoted
    as ONE path segment (`/`, `?`, `#` percent-encoded: an id never reaches another endpoint);
    a missing/blank id or `.`/`..` raises `InvalidIdError` (a ValueError), nothing is sent.
    Imported when first called (the client exists by then): no httpx on the first-frame path."""
    from api.client import StudioClient

    return StudioClient.path(template, *ids)


def _text(value: Any) -> str:
    return sanitize(str(value)) if value is not None else ""


def _assistants(playbooks: Any) -> tuple[list[Assistant], list[tuple[str, str]]]:
    by_base: dict[str, dict[str, Any]] = {}
    inboxes: dict[str, str] = {}
    for pb in playbooks if isinstance(playbooks, list) else []:
        if not isinstance(pb, dict) or not pb.get("base_id"):
            continue
        entry = by_base.setdefault(str(pb["base_id"]), {"name": "", "versions": []})
        number = pb.get("version_number")
        entry["versions"].append((str(pb.get("id", "")), number if isinstance(number, int) else 0))
        if not entry["name"] or number == max(v for _, v in entry["versions"]):
            entry["name"] = _text(pb.get("name")) or str(pb["base_id"])
        for inbox in pb.get("inboxes") or []:
            if isinstance(inbox, dict) and inbox.get("id"):
                inboxes[str(inbox["id"])] = _text(inbox.get("name")) or str(inbox["id"])
    assistants = [
        Assistant(base, data["name"], tuple(sorted(data["versions"], key=lambda v: -v[1])))
        for base, data in by_base.items()
    ]
    assistants.sort(key=lambda a: a.name.lower())
    return assistants, sorted(inboxes.items(), key=lambda kv: kv[1].lower())


async def _safe(coro: Any) -> Any:
    try:
        return await coro
    except Exception as exc:  # noqa: BLE001 - a lookup is optional; the UI degrades to ids
        log.info("lookup failed: %s", type(exc).__name__)
        return None


async def load_lookups(client: Any, now: datetime) -> Lookups:
    """Fetch every lookup concurrently; missing parts stay empty."""
    project = api_path("/projects/{}", client.project_id)
    end = stable_end(now, timedelta(days=1))  # the same window (cache key) all day
    window = {
        "start_date": (end - timedelta(days=365)).strftime(ISO),
        "end_date": end.strftime(ISO),
    }
    playbooks, analytics, skills, kbs, info = await asyncio.gather(
        _safe(client.get(f"{project}/playbooks", {"include_versions": "true"})),
        _safe(client.get(f"{project}/conversations/analytics", window)),
        _safe(client.get(f"{project}/analytics/skills/sparklines", {"days": "90"})),
        _safe(client.get(f"{project}/knowledgebases")),
        _safe(client.get(project)),
    )
    lookups = Lookups(loaded=True)
    lookups.assistants, lookups.inboxes = _assistants(playbooks)
    by_tag = analytics.get("by_tag") if isinstance(analytics, dict) else None
    lookups.tags = sorted(
        {_text(row.get("tag")) for row in by_tag or [] if isinstance(row, dict) and row.get("tag")}
    )
    lookups.skills = sorted(_text(name) for name in skills) if isinstance(skills, dict) else []
    for kb in kbs if isinstance(kbs, list) else []:
        if isinstance(kb, dict) and kb.get("id"):
            lookups.kbs[str(kb["id"])] = _text(kb.get("title")) or str(kb["id"])
    if isinstance(info, dict):
        lookups.project_name = _text(info.get("name"))
    return lookups


async def resolve_kb_items(client: Any, lookups: Lookups, pairs: set[tuple[str, str]]) -> None:
    """Fill `lookups.kb_items` for the (kb id, item id) pairs not known yet."""
    missing = [p for p in pairs if p not in lookups.kb_items and all(p)]

    async def one(kb_id: str, item_id: str) -> None:
        try:
            path = api_path("/knowledgebases/{}/items/{}", kb_id, item_id)
        except ValueError:
            return
        item = await _safe(client.get(path))
        if isinstance(item, dict) and item.get("title"):
            lookups.kb_items[(kb_id, item_id)] = _text(item["title"])

    await asyncio.gather(*(one(kb, item) for kb, item in missing[:50]))
