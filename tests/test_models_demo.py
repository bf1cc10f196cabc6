"""Every typed helper against the in-process demo backend: each answer parses, losslessly.

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
from api.errors import ConflictError

RANGE = {"start_date": "2026-05-16T00:00:00Z", "end_date": "2026-06-15T23:59:59Z"}
SHORT_RANGE = {"start_date": "2026-05-16", "end_date": "2026-06-15"}


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
    page = await client.list_conversations(RANGE, limit=100)
    await check(client, page)
    assert page.total and len(page.conversations) == 100
    handoff = await client.list_conversations({**RANGE, "has_handoff": "true"}, limit=5)
    await check(client, handoff)
    summaries = await client.summaries(RANGE, limit=20)
    await check(client, summaries)
    assert len(summaries.summaries) == 20
    ids = [c.conversation_id for c in page.conversations]
    for cid in ids[:3] + [handoff.conversations[0].conversation_id]:
        await check(client, await client.conversation(cid))
        await check(client, await client.messages(cid))
        await check(client, await client.conversation_metrics(cid))
    details = await client.batch(ids[:60])
    assert len(details) == 60
    assert sum(len(d.messages) for d in details) > 60
    assert any(call for d in details for msg in d.messages for call in msg.tool_calls)
    assert any(d.citations for d in details)


async def test_analytics_family(client):
    await check(client, await client.analytics(RANGE))
    await check(client, await client.account_analytics(RANGE))
    agg = await client.aggregate_metrics(RANGE)
    await check(client, agg)
    assert agg.total_scored_conversations and agg.sentiment_distribution
    csat = await client.csat({**RANGE, "ratings_limit": 50})
    await check(client, csat)
    metrics = await client.conversion_metrics()
    await check(client, metrics)
    assert metrics
    await check(client, await client.conversion_metric(metrics[0].slug))
    conv = await client.conversion_analytics(metrics[0].slug, RANGE)
    await check(client, conv)
    unknown = await client.conversion_analytics("no-such-metric", RANGE)
    assert unknown.is_configured is False


async def test_resource_family(client):
    await check(client, await client.api_tool_analytics(SHORT_RANGE))
    await check(client, await client.toolkit_analytics(SHORT_RANGE))
    await check(client, await client.skill_analytics(SHORT_RANGE))
    kbs = await client.kb_analytics(SHORT_RANGE)
    await check(client, kbs)
    assert kbs.by_kb
    await check(client, await client.kb_items_analytics(kbs.by_kb[0].kb_id, SHORT_RANGE))
    for kind in ("api-tools", "toolkits", "skills", "kbs"):
        spark = await client.sparklines(kind, days=14)
        await check(client, spark)
        assert spark and all(len(s.series) == 14 for s in spark.values())


async def test_configuration_family(client):
    projects = await client.projects()
    await check(client, projects)
    await check(client, await client.project())
    await check(client, await client.project_settings())
    await check(client, await client.schedule())
    playbooks = await client.playbooks(include_versions=True)
    await check(client, playbooks)
    pb = playbooks[0]
    await check(client, await client.playbook(pb.id))
    await check(client, await client.history(pb.id))
    await check(client, await client.version(pb.id, pb.version_number))
    await check(client, await client.active(pb.base_id))
    await check(client, await client.active_history(pb.base_id))
    pb_settings = await client.playbook_settings(pb.id)
    if pb_settings is not None:
        await check(client, pb_settings)
    kbs = await client.knowledgebases(include_playbook_usage=True)
    await check(client, kbs)
    for kb in kbs:
        full = await client.kb(kb.id)
        await check(client, full)
    items = [(kb.id, it.id) for kb in kbs for it in kb.intercom_items][:1] + [
        (kb.id, f.get("id")) for kb in kbs for f in kb.faq_items if f.get("id")][:1]
    for kb_id, item_id in items:
        await check(client, await client.kb_item(kb_id, item_id))
    tools = await client.api_tools(include_playbook_usage=True)
    await check(client, tools)
    await check(client, await client.api_tool(tools[0].id))


async def test_eval_family(client):
    playbooks = await client.playbooks()
    found_runs = False
    for pb in playbooks:
        cases = await client.eval_cases(pb.base_id)
        await check(client, cases)
        runs = await client.eval_runs(pb.base_id, page_size=5)
        await check(client, runs)
        for case in cases[:1]:
            await check(client, await client.eval_case(case.id))
        assert "\n" in await client.eval_cases_yaml(pb.base_id) or not cases
        for run in runs.items[:1]:
            found_runs = True
            await check(client, await client.eval_run(run.id))
            results = await client.eval_results(run.id)
            await check(client, results)
            if results:
                await check(client, await client.eval_result(results[0].id))
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
        status = await client.trending_status()
        await check(client, status)
        if status.analysis is not None:
            analysis = await client.trending_analysis(status.analysis.id)
            await check(client, analysis)
            assert analysis.topics
        job = await client.trending_generate({"tags": ["billing"]})
        await check(client, job)
        assert job.key
        seen = []
        for _ in range(8):
            now[0] += 0.5
            polled = await client.trending_job(job.key)
            await check(client, polled)
            seen.append(polled.status)
        assert "running" in seen and seen[-1] == "completed"
        await check(client, await client.trending_analysis(polled.analysis_id))
        with pytest.raises(ConflictError, match="HTTP 409"):
            await client.trending_generate()


async def test_analyze_returns_metrics(client):
    page = await client.list_conversations(RANGE, limit=1)
    metrics = await client.analyze(page.conversations[0].conversation_id)
    await check(client, metrics)
