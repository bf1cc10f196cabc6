"""A small, scriptable Studio Chat API for paging/export tests (httpx.MockTransport).

It serves the list endpoint (limit/offset/total envelope) and the batch endpoint over an
in-memory list of conversations, records every request, and lets a test change the data
while paging (drift) or make batch calls fail a number of times.
"""
from __future__ import annotations

import json
import stat
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx

from api.client import StudioClient
from api.config import Settings

PROJECT = "proj-1"
FROZEN = datetime(2026, 6, 15, 12, 0, 0, tzinfo=UTC)  # the exports' clock in tests


def clock() -> datetime:
    return FROZEN


async def export(api, tmp_path, out, **kw):
    """``run_export`` against ``api`` (a FakeApi) with the frozen clock and no retry delay."""
    from api.export import run_export
    from api.query import ConversationQuery

    kw.setdefault("clock", clock)
    kw.setdefault("retry_delay", 0)
    async with api.client(tmp_path) as client:
        return await run_export(client, kw.pop("query", ConversationQuery()), out, **kw)


async def interrupted(api, tmp_path, out, after, **kw):
    """An export kept for resume (``keep_partial``), cancelled once ``after`` rows are
    consumed."""
    import asyncio

    from api.export import run_export
    from api.query import ConversationQuery

    async with api.client(tmp_path) as client:
        task = asyncio.create_task(run_export(
            client, ConversationQuery(), out, keep_partial=True, clock=clock, retry_delay=0,
            progress=lambda p: task.cancel() if p.done >= after else None, **kw))
        try:
            await task
        except asyncio.CancelledError:
            return
        raise AssertionError(f"the export ended before {after} rows")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def conversation(i: int) -> dict:
    return {
        "conversation_id": f"c{i:05d}",
        "inbox_name": "Website Chat",
        "playbook_name": "Helper ✨",
        "playbook_version": 2,
        "playbooks_info": [{"id": "pb-1", "name": "Helper ✨", "version": 2}],
        "message_count": i % 9 + 1,
        "has_handoff": i % 3 == 0,
        "tags": ["billing", "refund"][: i % 3],
        "skills": None,
        "sentiment_label": None if i % 4 == 0 else "negative",
    }


class FakeApi:
    def __init__(self, n: int, *, array_key: str = "conversations") -> None:
        self.rows = [conversation(i) for i in range(n)]
        self.array_key = array_key
        self.requests: list[httpx.Request] = []
        self.batch_failures: Counter[str] = Counter()  # first id of a batch -> failures left
        self.on_page = None  # callable(offset) run before a page is served
        self.total_override: int | None = None
        self.max_limit = 100

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == f"/projects/{PROJECT}/conversations/batch" and request.method == "POST":
            return self._batch(json.loads(request.content))
        if path.startswith(f"/projects/{PROJECT}/conversations"):
            return self._page(request)
        return httpx.Response(404, json={"detail": "Not Found"})

    def _page(self, request: httpx.Request) -> httpx.Response:
        limit = min(int(request.url.params.get("limit", 20)), self.max_limit)
        offset = int(request.url.params.get("offset", 0))
        if self.on_page:
            self.on_page(offset)
        total = len(self.rows) if self.total_override is None else self.total_override
        body = {self.array_key: self.rows[offset:offset + limit], "total": total,
                "limit": limit, "offset": offset}
        return httpx.Response(200, json=body)

    def _batch(self, body: dict) -> httpx.Response:
        ids = body["conversation_ids"]
        if len(ids) > 50:
            return httpx.Response(422, json={"detail": "at most 50 ids"})
        if self.batch_failures[ids[0]] > 0:
            self.batch_failures[ids[0]] -= 1
            return httpx.Response(500, json={"detail": "boom"})
        by_id = {r["conversation_id"]: r for r in self.rows}
        out = [{**by_id[i], "messages": [{"role": "user", "content": f"hi from {i} — ü"}],
                "citations": []} for i in ids if i in by_id]
        return httpx.Response(200, json={"conversations": out})

    def pages_requested(self) -> list[int]:
        return [int(r.url.params["offset"]) for r in self.requests if r.method == "GET"]

    def client(self, tmp_path: Path, **kw) -> StudioClient:
        settings = Settings(base_url="http://fake.test", project_id=PROJECT, token=None,
                            profile=None, demo=False, cache_dir=tmp_path / "cache",
                            config_dir=tmp_path / "config", data_dir=tmp_path / "data")
        kw.setdefault("max_tries", 1)
        return StudioClient(settings, transport=httpx.MockTransport(self.handler), **kw)


class ReplayApi(FakeApi):
    """Serves recorded conversations (with their messages and citations) as the real API
    would: list pages without them, batch details with them."""

    def __init__(self, recorded: list[dict]) -> None:
        super().__init__(0)
        self.details = {c["conversation_id"]: c for c in recorded}
        self.rows = [{k: v for k, v in c.items() if k not in ("messages", "citations")}
                     for c in recorded]

    def _batch(self, body: dict) -> httpx.Response:
        ids = body["conversation_ids"]
        return httpx.Response(200, json={"conversations": [self.details[i] for i in ids
                                                           if i in self.details]})
