"""Every endpoint function the app calls, against the in-process demo backend: each answer
parses into its model, losslessly.

"Losslessly" matters because the models are lenient: a field whose declared type disagrees with
what the server sends would silently become None. ``assert_lossless`` walks the raw JSON next to
the parsed model and fails on any value that went missing or changed.
"""
from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from api.client import StudioClient
from api.config import load_settings
from api.endpoints import (
    analytics,
    configuration,
    conversations,
    conversions,
    evals,
    resources,
    trending,
)
from api.errors import ConflictError
from api.query import ConversationQuery

RANGE = ConversationQuery.build(start_date="2026-05-16T00:00:00Z",
                                end_date="2026-06-15T23:59:59Z")


class RecordingTransport(httpx.AsyncBaseTransport):
    """Wraps the demo transport and keeps the last raw JSON answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport):
        self.inner = inner
        self.last: Any = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        resp = await self.inner.handle_async_request(request)
        body = await resp.aread()
        if resp.status_code == 200 and body:
            self.last = json.loads(body)
        return httpx.Response(resp.status_code, headers=resp.headers, content=body,
                              request=request)


def _scalar_equal(value: Any, raw: Any) -> bool:
    if isinstance(raw, bool) or isinstance(value, bool):
        return value == raw
    if isinstance(raw, (int, float)) and isinstance(value, (int, float)):
        return math.isclose(value, raw, rel_tol=1e-9)
    if isinstance(value, str) and isinstance(raw, (dict, list)):
        return json.loads(value) == raw  # structured value kept as JSON text
    return value == raw


def assert_lossless(value: Any, raw: Any, where: str = "$") -> None:
    """Every non-null raw value is present and equal in the parsed model."""
    if raw is None:
        return
    if isinstance(value, BaseModel):
        assert isinstance(raw, dict), where
        fields = type(value).model_fields
        for key, item in raw.items():
            got = getattr(value, key) if key in fields else (value.model_extra or {}).get(key)
            assert_lossless(got, item, f"{where}.{key}")
        return
    assert value is not None, f"{where}: lost (raw {raw!r:.80})"
    if isinstance(raw, list) and isinstance(value, list):
        assert len(value) == len(raw), f"{where}: {len(value)} items, raw {len(raw)}"
        for i, (v, r) in enumerate(zip(value, raw, strict=True)):
            assert_lossless(v, r, f"{where}[{i}]")
    elif isinstance(raw, dict) and isinstance(value, dict):
        assert set(value) == set(raw), where
        for key in raw:
            assert_lossless(value[key], raw[key], f"{where}.{key}")
    else:
        assert _scalar_equal(value, raw), f"{where}: {value!r:.80} != raw {raw!r:.80}"


@pytest.fixture(scope="module")
def demo(demo_db):
    """(transport, info) of the pinned demo, shared by the module's tests."""
    from api.demo import demo_transport

    return demo_transport()


@pytest.fixture
async def client(demo):
    transport, info = demo
    recorder = RecordingTransport(transport)
    settings = load_settings(env={"STUDIO_TUI_CONFIG_DIR": "/nonexistent"})
    async with StudioClient(settings, transport=recorder, cache=None, base_url=info.base_url,
                            project_id=info.project_id, token=info.api_key) as c:
        c.recorder = recorder
        yield c


async def check(client: StudioClient, result: Any) -> Any:
    """The raw answer of the last request, compared to ``result`` (model, list or dict)."""
    raw = client.recorder.last
    if isinstance(result, dict):  # sparklines: name -> Sparkline
        assert set(result) == set(raw)
        for key in raw:
            assert_lossless(result[key], raw[key], key)
    elif isinstance(result, list):
        items = raw if isinstance(raw, list) else next(v for v in raw.values() if isinstance(v, list))
        assert_lossless(result, items)
    else:
        assert_lossless(result, raw)
    return raw


async def test_conversation_family(client):
    pid = client.project_id
    page = await client.load(conversations.page(pid, RANGE, limit=100))
    await check(client, page)
    assert page.total and len(page.conversations) == 100
    rows = await client.load(conversations.rows(pid, RANGE, limit=100))
    assert [r.conversation() for r in rows.rows] == page.conversations
    handoff = await client.load(
        conversations.page(pid, RANGE.replace(has_handoff=True), limit=5))
    await check(client, handoff)
    ids = [c.conversation_id for c in page.conversations]
    for cid in ids[:3] + [handoff.conversations[0].conversation_id]:
        await check(client, await client.load(conversations.detail(pid, cid)))
    details = await conversations.batch(client, pid, ids[:50])
    await check(client, details)
    assert [d.conversation_id for d in details] == ids[:50]
    assert sum(len(d.messages) for d in details) > 50
    assert any(call for d in details for msg in d.messages for call in msg.tool_calls)
    assert any(d.citations for d in details)


async def test_analytics_family(client):
    pid = client.project_id
    await check(client, await client.load(analytics.conversation_analytics(pid, RANGE)))
    await check(client, await client.load(analytics.account_analytics(RANGE)))
    agg = await client.load(analytics.aggregate_metrics(pid, RANGE))
    await check(client, agg)
    assert agg.total_scored_conversations and agg.sentiment_distribution
    csat = await client.load(analytics.csat(pid, RANGE, ratings_limit=50))
    await check(client, csat)
    low = await client.load(analytics.csat(pid, RANGE, ratings_limit=10, max_rating=2))
    await check(client, low)
    assert all(r.rating is not None and r.rating <= 2 for r in low.ratings)
    metrics = await client.load(conversions.metrics(pid))
    await check(client, metrics)
    assert metrics
    conv = await client.load(conversions.analytics(pid, metrics[0].slug, RANGE,
                                                   events_limit=20))
    await check(client, conv)
    unknown = await client.load(conversions.analytics(pid, "no-such-metric", RANGE))
    assert unknown.is_configured is False


async def test_resource_family(client):
    pid = client.project_id
    await check(client, await client.load(resources.api_tools(pid, RANGE, limit=50)))
    await check(client, await client.load(resources.toolkits(pid, RANGE, limit=50)))
    await check(client, await client.load(resources.skills(pid, RANGE, limit=50)))
    kbs = await client.load(resources.kbs(pid, RANGE))
    await check(client, kbs)
    assert kbs.by_kb
    await check(client, await client.load(resources.kb_items(pid, kbs.by_kb[0].kb_id, RANGE,
                                                             limit=10)))
    for kind in ("api-tools", "toolkits", "skills", "kbs"):
        spark = await client.load(resources.sparklines(pid, kind, 14))
        await check(client, spark)
        assert spark and all(len(s.series) == 14 for s in spark.values())


async def test_configuration_family(client):
    pid = client.project_id
    await check(client, await client.load(configuration.project_info(pid)))
    await check(client, await client.load(configuration.project_settings(pid)))
    await check(client, await client.load(configuration.schedule(pid)))
    playbooks = await client.load(configuration.playbooks(pid, versions=True))
    await check(client, playbooks)
    pb = playbooks[0]
    await check(client, await client.load(configuration.playbook_active(pb.base_id)))
    await check(client, await client.load(configuration.playbook_active_history(pb.base_id)))
    await check(client, await client.load(configuration.playbook_settings(pb.id)))
    kbs = await client.load(configuration.knowledgebases(pid, usage=True))
    await check(client, kbs)
    for kb in kbs:
        await check(client, await client.load(resources.knowledgebase(kb.id)))
    items = [(kb.id, it.id) for kb in kbs for it in kb.intercom_items][:1] + [
        (kb.id, f.get("id")) for kb in kbs for f in kb.faq_items if f.get("id")][:1]
    for kb_id, item_id in items:
        await check(client, await client.load(resources.kb_item(kb_id, item_id)))
    await check(client, await client.load(configuration.api_tools(pid, usage=True)))


async def test_eval_family(client):
    playbooks = await client.load(configuration.playbooks(client.project_id))
    found_runs = False
    for pb in playbooks:
        await check(client, await client.load(evals.eval_cases(pb.base_id)))
        runs = await client.load(evals.eval_runs(pb.base_id, page_size=5))
        await check(client, runs)
        for run in runs.items[:1]:
            found_runs = True
            await check(client, await client.load(evals.eval_results(run.id)))
    assert found_runs


async def test_trending_family(demo_db):
    from api.demo import demo_transport

    transport, info = demo_transport()  # own app: generating changes its state
    now = [1000.0]
    transport.app.state.clock = lambda: now[0]
    recorder = RecordingTransport(transport)
    settings = load_settings(env={"STUDIO_TUI_CONFIG_DIR": "/nonexistent"})
    async with StudioClient(settings, transport=recorder, cache=None, base_url=info.base_url,
                            project_id=info.project_id, token=info.api_key) as client:
        client.recorder = recorder
        pid, everything = client.project_id, ConversationQuery()
        status = await client.load(trending.status(pid, everything))
        await check(client, status)
        if status.analysis is not None:
            analysis = await client.load(trending.analysis(pid, status.analysis.id))
            await check(client, analysis)
            assert analysis.topics
        job = await trending.generate(client, pid, ConversationQuery.build(tags="billing"))
        await check(client, job)
        assert job.key
        seen = []
        for _ in range(8):
            now[0] += 0.5
            polled = await client.load(trending.job(pid, job.key))
            await check(client, polled)
            seen.append(polled.status)
        assert "running" in seen and seen[-1] == "completed"
        await check(client, await client.load(trending.analysis(pid, polled.analysis_id)))
        with pytest.raises(ConflictError, match="HTTP 409"):
            await trending.generate(client, pid, everything)
