"""The demo app over HTTP: every endpoint's documented fields, auth, errors, envelopes, faults."""
from __future__ import annotations

import asyncio
import io
import json

import httpx
import pytest
from app_support import wait_until

from api.demo import demo_info, demo_transport
from api.demo.app import create_app
from api.demo.faults import Faults
from api.demo.server import export_lines, is_loopback, running_server, serve

WINDOW = {"start_date": "2026-05-16T00:00:00Z", "end_date": "2026-06-15T23:59:59Z"}
LIST_FIELDS = {
    "conversation_id", "inbox_name", "playbook_name", "playbook_version", "playbooks_info",
    "message_count", "first_message_at", "last_message_at", "first_user_message",
    "last_assistant_message", "has_handoff", "has_error", "tags", "skills",
    "avg_response_latency_ms", "sentiment_label", "sentiment_reason", "resources_label",
    "resources_reason", "summary", "user_intent", "sentiment_shift", "sentiment_shift_reason",
    "deflection_quality", "deflection_quality_reason", "handoff_reason", "handoff_reason_detail",
    "recontact_risk", "recontact_risk_reason", "model", "winback_sent_at", "context",
}
RESOURCE_TOTALS = {"total_calls", "successful_calls", "failed_calls", "time_series", "recent"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def clock():
    return Clock()


@pytest.fixture(scope="module")
def app(demo_db, clock):
    return create_app(demo_db, clock=clock)


@pytest.fixture(scope="module")
def info(demo_db):
    return demo_info(demo_db)


@pytest.fixture
async def client(app, info):
    app.state.faults = None
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=info.base_url,
                                 headers={"X-API-Key": info.api_key}) as c:
        yield c


@pytest.fixture(scope="module")
def ids(demo_db, info):
    """Real ids of the demo world, found through the API itself."""
    from starlette.testclient import TestClient

    with TestClient(create_app(demo_db), headers={"X-API-Key": info.api_key}) as c:
        pid = info.project_id
        pbs = c.get(f"/projects/{pid}/playbooks").json()
        base = pbs[0]["base_id"]
        kbs = c.get(f"/projects/{pid}/knowledgebases").json()
        intercom = next(k["id"] for k in kbs if k["kb_type"] == "INTERCOM")
        runs = c.get(f"/playbooks/{base}/eval-runs").json()["items"]
        results = c.get(f"/eval-runs/{runs[0]['id']}/results").json()
        convs = c.get(f"/projects/{pid}/conversations", params={"limit": 100}).json()["conversations"]
        return {
            "pid": pid, "pb": pbs[0]["id"], "base": base, "version": pbs[0]["version_number"],
            "kb": intercom,
            "item": c.get(f"/knowledgebases/{intercom}").json()["intercom_items"][0]["id"],
            "tool": c.get(f"/projects/{pid}/api-tools").json()[0]["id"],
            "case": c.get(f"/playbooks/{base}/eval-cases").json()[0]["id"],
            "run": runs[0]["id"], "result": results[0]["id"],
            "cid": next(x["conversation_id"] for x in convs if x["message_count"] >= 4),
            "slug": c.get(f"/projects/{pid}/conversion-metrics").json()[0]["slug"],
        }


# (path, params, fields the answer must carry; for lists: fields of the first item)
ENDPOINTS = [
    ("/projects/{pid}/conversations", {}, {"conversations", "total", "limit", "offset"}),
    ("/projects/{pid}/conversations/summaries", {}, {"summaries", "total", "limit", "offset"}),
    ("/projects/{pid}/conversations/{cid}", {}, LIST_FIELDS | {"messages", "citations"}),
    ("/projects/{pid}/conversations/{cid}/messages", {}, {"messages", "citations"}),
    ("/projects/{pid}/conversations/{cid}/metrics", {}, {
        "sentiment_label", "sentiment_reason", "resources_label", "resources_reason", "summary",
        "user_intent", "sentiment_shift", "sentiment_shift_reason", "deflection_quality",
        "deflection_quality_reason", "handoff_reason", "handoff_reason_detail", "recontact_risk",
        "recontact_risk_reason", "scored_at", "message_count_at_scoring"}),
    ("/projects/{pid}/conversations/analytics", WINDOW, {
        "total_conversations", "total_messages", "conversations_with_handoff",
        "conversations_without_handoff", "deflection_rate", "avg_messages_per_conversation",
        "avg_response_latency_ms", "winback_sent_count", "winback_answered_count",
        "winback_conversion_rate", "by_playbook", "by_tag", "time_series", "time_granularity"}),
    ("/account/conversations/analytics", WINDOW, {
        "total_conversations", "total_messages", "total_ai_messages", "conversations_with_handoff",
        "conversations_without_handoff", "deflection_rate", "avg_messages_per_conversation",
        "by_assistant", "time_series"}),
    ("/projects/{pid}/conversations/metrics/aggregate", WINDOW, {
        "total_conversations", "total_scored_conversations", "coverage_percentage",
        "sentiment_distribution", "resources_distribution", "sentiment_shift_distribution",
        "deflection_quality_distribution", "handoff_reason_distribution",
        "recontact_risk_distribution"}),
    ("/projects/{pid}/conversations/insights/trending-topics/status", {}, {"status", "analysis"}),
    ("/projects/{pid}/playbooks", {"include_versions": "true", "include_deleted": "true"}, {
        "id", "base_id", "name", "version_number", "content", "kb_ids", "model", "is_deleted",
        "inboxes"}),
    ("/playbooks/{pb}", {}, {"id", "base_id", "content", "kb_ids", "model", "version_number"}),
    ("/playbooks/{pb}/history", {}, {"id", "version_number", "name", "created_at", "updated_at"}),
    ("/playbooks/{pb}/versions/{version}", {}, {"id", "version_number", "content"}),
    ("/playbooks/{base}/active", {}, {"base_id", "version_number", "playbook"}),
    ("/playbooks/{base}/active/history", {}, {"items"}),
    ("/playbooks/{pb}/settings", {}, {"is_disabled", "url_shortener", "winback"}),
    ("/projects/{pid}/knowledgebases", {"include_playbook_usage": "true"}, {
        "id", "title", "kb_type", "status", "used_by_playbooks"}),
    ("/knowledgebases/{kb}", {}, {"id", "title", "kb_type", "status", "intercom_items"}),
    ("/knowledgebases/{kb}/items/{item}", {}, {"item_id", "item_type", "title", "url"}),
    ("/playbooks/{base}/eval-cases", {}, {"id", "input", "expected_output", "tags", "enabled"}),
    ("/eval-cases/{case}", {}, {"id", "input", "expected_output"}),
    ("/playbooks/{base}/eval-cases/export-yaml", {}, {"yaml_content"}),
    ("/playbooks/{base}/eval-runs", {"page": "1", "page_size": "2"}, {
        "items", "total", "page", "page_size", "total_pages"}),
    ("/eval-runs/{run}", {}, {"id", "playbook_name", "playbook_version", "status"}),
    ("/eval-runs/{run}/results", {}, {
        "id", "case_id", "case_name", "status", "total_assertions", "passed_assertions",
        "failed_assertions", "assertion_results"}),
    ("/eval-results/{result}", {}, {"id", "case_id", "status", "assertion_results"}),
    ("/projects", {}, {"id", "name", "account_id", "needs_retraining"}),
    ("/projects/{pid}", {}, {"id", "name", "account_id", "needs_retraining"}),
    ("/projects/{pid}/settings", {}, {"project_id", "settings"}),
    ("/projects/{pid}/schedule", {}, {"id", "enabled", "timezone", "weekly_schedule", "overrides"}),
    ("/projects/{pid}/api-tools", {"include_playbook_usage": "true"}, {"id", "name", "used_by_playbooks"}),
    ("/projects/{pid}/api-tools/{tool}", {}, {"id", "name", "method", "url"}),
    ("/projects/{pid}/analytics/api-tools", {"api_tool_id": "{tool}"},
     RESOURCE_TOTALS | {"avg_duration_ms", "tool_config"}),
    ("/projects/{pid}/analytics/toolkits", {"param_filter": "channel:"},
     RESOURCE_TOTALS | {"avg_duration_ms", "by_action", "by_param"}),
    ("/projects/{pid}/analytics/skills", {}, RESOURCE_TOTALS),
    ("/projects/{pid}/analytics/kbs", {}, {"total_citations", "by_source", "by_kb", "time_series", "recent"}),
    ("/projects/{pid}/analytics/kbs/{kb}/items", {}, {"total_items_cited", "items"}),
    ("/projects/{pid}/csat/analytics", WINDOW, {
        "is_configured", "total_rated", "csat_score_pct", "dsat_score_pct", "eligible_deflected",
        "response_rate_pct", "rating_distribution", "positive_count", "neutral_count",
        "negative_count", "time_series", "time_granularity", "ratings", "ratings_offset"}),
    ("/projects/{pid}/conversion-metrics", {}, {
        "id", "project_id", "slug", "name", "description", "value_label", "enabled", "created_at",
        "updated_at", "ingest_url_path", "last_event_at"}),
    ("/projects/{pid}/conversion-metrics/{slug}", {}, {"id", "slug", "name", "value_label"}),
    ("/projects/{pid}/conversion-metrics/{slug}/analytics", WINDOW, {
        "is_configured", "definition", "total_events", "total_value", "avg_value",
        "converting_conversations", "eligible_conversations", "conversion_rate_pct",
        "avg_value_per_conversation", "time_granularity", "time_series", "events", "events_offset",
        "total_events_filtered"}),
    ("/analyst/conversations", {}, {"conversations", "total"}),
]


def _fill(text: str, ids: dict) -> str:
    return text.format(**ids)


@pytest.mark.parametrize("path, params, fields", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
async def test_endpoint_answers_documented_fields(client, ids, path, params, fields):
    r = await client.get(_fill(path, ids), params={k: _fill(v, ids) for k, v in params.items()})
    assert r.status_code == 200, r.text[:300]
    data = r.json()
    item = data[0] if isinstance(data, list) else data
    assert fields <= set(item), sorted(fields - set(item))


@pytest.mark.parametrize("kind", ["api-tools", "toolkit-calls", "skills", "kbs"])
async def test_sparklines_shape(client, ids, kind):
    r = await client.get(f"/projects/{ids['pid']}/analytics/{kind}/sparklines", params={"days": 7})
    data = r.json()
    assert r.status_code == 200 and data
    for item in data.values():
        assert [p["date"] for p in item["series"]][-1] == "2026-06-15"
        assert len(item["series"]) == 7
        assert item["total"] == sum(p["count"] for p in item["series"])


async def test_detail_has_messages_and_citations(client, ids):
    detail = (await client.get(f"/projects/{ids['pid']}/conversations/{ids['cid']}")).json()
    assert detail["messages"] and {"role", "content", "created_at"} <= set(detail["messages"][0])
    legacy = (await client.get(f"/projects/{ids['pid']}/conversations/{ids['cid']}/messages")).json()
    assert [m["content"] for m in legacy["messages"]] == [m["content"] for m in detail["messages"]]


# --- auth ---------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "sbs_wrong"}, {"Authorization": "Basic abc"},
                                     {"Authorization": "Bearer nope"}])
async def test_bad_or_missing_credentials_are_401(app, info, headers):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=info.base_url) as c:
        r = await c.get(f"/projects/{info.project_id}/conversations", headers=headers)
    assert r.status_code == 401
    assert isinstance(r.json()["detail"], str)
    assert info.api_key not in r.text


async def test_bearer_is_accepted_and_keys_are_bound_to_their_project(app, info):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=info.base_url) as c:
        bearer = await c.get(f"/projects/{info.project_id}/conversations",
                             headers={"Authorization": f"Bearer {info.api_key}"})
        other = await c.get(f"/projects/{info.project_id}/conversations",
                            headers={"X-API-Key": info.other_api_key})
        own = await c.get(f"/projects/{info.other_project_id}/conversations",
                          headers={"X-API-Key": info.other_api_key})
    assert bearer.status_code == 200
    assert other.status_code == 404 and other.json() == {"detail": "Project not found"}
    assert own.status_code == 200 and own.json()["total"] > 0


async def test_account_analytics_spans_both_projects(app, info, client):
    account = (await client.get("/account/conversations/analytics", params=WINDOW)).json()
    mine = (await client.get(f"/projects/{info.project_id}/conversations/analytics", params=WINDOW)).json()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=info.base_url,
                                 headers={"X-API-Key": info.other_api_key}) as other:
        theirs = (await other.get(f"/projects/{info.other_project_id}/conversations/analytics",
                                  params=WINDOW)).json()
    assert account["total_conversations"] == mine["total_conversations"] + theirs["total_conversations"]
    assert account["total_conversations"] > mine["total_conversations"] > 0


# --- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", [
    "/projects/{pid}/conversations/no-such-conversation", "/projects/not-a-project/conversations",
    "/playbooks/no-such-playbook", "/knowledgebases/no-such-kb", "/eval-runs/nope",
    "/projects/{pid}/conversion-metrics/no-such-slug", "/no/such/route",
])
async def test_unknown_things_are_404_with_detail(client, ids, path):
    r = await client.get(_fill(path, ids))
    assert r.status_code == 404
    assert isinstance(r.json()["detail"], str)


async def test_unknown_conversion_slug_analytics_is_200_not_configured(client, ids):
    r = await client.get(f"/projects/{ids['pid']}/conversion-metrics/no-such-slug/analytics")
    assert r.status_code == 200
    assert r.json()["is_configured"] is False and r.json()["total_events"] == 0


async def test_csat_not_configured_on_the_other_project(app, info):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=info.base_url,
                                 headers={"X-API-Key": info.other_api_key}) as c:
        data = (await c.get(f"/projects/{info.other_project_id}/csat/analytics", params=WINDOW)).json()
    assert data["is_configured"] is False
    assert data["total_rated"] == 0 and data["ratings"] == [] and data["csat_score_pct"] == 0
    assert data["rating_distribution"] == {str(r): 0 for r in range(1, 6)}


async def test_analytics_need_dates_and_order(client, ids):
    missing = await client.get(f"/projects/{ids['pid']}/conversations/analytics")
    assert missing.status_code == 422
    assert {tuple(d["loc"]) for d in missing.json()["detail"]} == {("query", "start_date"),
                                                                  ("query", "end_date")}
    reversed_ = await client.get(f"/projects/{ids['pid']}/csat/analytics",
                                 params={"start_date": "2026-06-10", "end_date": "2026-06-01"})
    assert reversed_.status_code == 400
    bad_expr = await client.get(f"/projects/{ids['pid']}/csat/analytics", params={"tag_filter": "{oops"})
    assert bad_expr.status_code == 400


# --- envelopes, batch ---------------------------------------------------------------------
async def test_list_and_summaries_paging_envelopes(client, ids):
    first = (await client.get(f"/projects/{ids['pid']}/conversations")).json()
    assert (first["limit"], first["offset"], len(first["conversations"])) == (20, 0, 20)
    second = (await client.get(f"/projects/{ids['pid']}/conversations", params={"offset": 20})).json()
    both = (await client.get(f"/projects/{ids['pid']}/conversations", params={"limit": 40})).json()
    ids_of = [c["conversation_id"] for c in first["conversations"] + second["conversations"]]
    assert ids_of == [c["conversation_id"] for c in both["conversations"]]
    summaries = (await client.get(f"/projects/{ids['pid']}/conversations/summaries")).json()
    assert summaries["limit"] == 50 and len(summaries["summaries"]) == 50
    assert summaries["total"] == first["total"]
    beyond = (await client.get(f"/projects/{ids['pid']}/conversations",
                               params={"offset": first["total"]})).json()
    assert beyond["conversations"] == [] and beyond["total"] == first["total"]


async def test_table_paging_of_outcomes_and_runs(client, ids):
    runs = (await client.get(f"/playbooks/{ids['base']}/eval-runs", params={"page_size": 1})).json()
    assert runs["total_pages"] == runs["total"] and len(runs["items"]) == 1
    csat = (await client.get(f"/projects/{ids['pid']}/csat/analytics",
                             params={**WINDOW, "ratings_limit": 5, "ratings_offset": 5,
                                     "max_rating": 2})).json()
    assert len(csat["ratings"]) == 5 and csat["ratings_offset"] == 5
    assert all(r["rating"] <= 2 for r in csat["ratings"])
    conv = (await client.get(f"/projects/{ids['pid']}/conversion-metrics/{ids['slug']}/analytics",
                             params={**WINDOW, "events_limit": 3})).json()
    assert len(conv["events"]) == 3 and conv["total_events_filtered"] == conv["total_events"] > 3


async def test_batch_keeps_order_skips_unknown_and_caps_at_50(client, ids):
    listed = (await client.get(f"/projects/{ids['pid']}/conversations", params={"limit": 3})).json()
    wanted = [c["conversation_id"] for c in listed["conversations"]][::-1]
    r = await client.post(f"/projects/{ids['pid']}/conversations/batch",
                          json={"conversation_ids": [wanted[0], "nope", *wanted[1:]]})
    assert r.status_code == 200
    got = r.json()["conversations"]
    assert [c["conversation_id"] for c in got] == wanted
    assert all("messages" in c and "citations" in c for c in got)
    too_many = await client.post(f"/projects/{ids['pid']}/conversations/batch",
                                 json={"conversation_ids": [f"x{i}" for i in range(51)]})
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["body", "conversation_ids"]
    garbage = await client.post(f"/projects/{ids['pid']}/conversations/batch", content=b"{not json")
    assert garbage.status_code == 422


async def test_stored_messages_answer_like_the_plan(client, ids, demo_db):
    """Batches (stored JSON text spliced), details and legacy messages answer the list row
    plus the messages and citations built from the conversation's plan, hostile texts too."""
    import sqlite3

    from api.demo import world as W
    from api.demo.content import build_messages
    from api.demo.generate import hostile_conversation_ids
    from api.demo.plan import plan_conversation
    from api.demo.routes_conversations import LEGACY_CITATION_FIELDS, LEGACY_MESSAGE_FIELDS

    listed = (await client.get(f"/projects/{ids['pid']}/conversations",
                               params={"limit": 100, "offset": 1000})).json()["conversations"]
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:  # every kind of hostile text (markup, escapes, 50 KB, empty, missing keys), too
        hostile = set(hostile_conversation_ids(conn))
        hostile_here = [cid for (cid,) in conn.execute(
            "SELECT conversation_id FROM conversations WHERE project_id=? ORDER BY seq DESC",
            (ids["pid"],)) if cid in hostile][:50]
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        seq_of = dict(conn.execute("SELECT conversation_id, seq FROM conversations").fetchall())
    finally:
        conn.close()
    assert len(hostile_here) == 50
    for cid in hostile_here:
        found = (await client.get(f"/projects/{ids['pid']}/conversations",
                                  params={"search": cid, "limit": 100})).json()["conversations"]
        listed += [c for c in found if c["conversation_id"] == cid]
    world = W.build_world(int(meta["seed"]), meta["anchor"], int(meta["size"]))
    by_id = {c["conversation_id"]: c for c in listed}

    def built(cid: str) -> dict:
        return build_messages(world, plan_conversation(world, seq_of[cid]))

    wanted = [c["conversation_id"] for c in listed]
    path = f"/projects/{ids['pid']}/conversations/batch"
    for chunk in (wanted[:50], wanted[50:100], wanted[100:], [wanted[7], "unknown", wanted[3]]):
        answer = await client.post(path, json={"conversation_ids": chunk})
        assert answer.status_code == 200
        got = answer.json()["conversations"]
        assert [c["conversation_id"] for c in got] == [c for c in chunk if c in by_id]
        for item in got:  # the list row, then the two keys
            assert list(item)[-2:] == ["messages", "citations"]
            assert item == {**by_id[item["conversation_id"]], **built(item["conversation_id"])}
    cid = wanted[11]
    detail = (await client.get(f"/projects/{ids['pid']}/conversations/{cid}")).json()
    assert detail == {**by_id[cid], **built(cid)}
    legacy = (await client.get(f"/projects/{ids['pid']}/conversations/{cid}/messages")).json()
    assert legacy == {
        "messages": [{k: m.get(k) for k in LEGACY_MESSAGE_FIELDS} for m in built(cid)["messages"]],
        "citations": [{k: c.get(k) for k in LEGACY_CITATION_FIELDS}
                      for c in built(cid)["citations"]]}


async def test_list_pages_run_one_at_a_time_in_their_own_lane(demo_db, info, ids, monkeypatch):
    """List pages share one lane (threads only fought over the GIL); a slow page never holds
    up a batch, which has a lane of its own."""
    import threading
    import time

    from api.demo import routes_conversations

    app = create_app(demo_db)
    inside = peak = 0
    lock = threading.Lock()
    original = routes_conversations.cf.page_seqs
    finished: list[str] = []
    paging = threading.Event()

    def slow_page_seqs(*args, **kwargs):
        nonlocal inside, peak
        with lock:
            inside += 1
            peak = max(peak, inside)
        paging.set()
        time.sleep(0.05)  # a slow page
        with lock:
            inside -= 1
        return original(*args, **kwargs)

    monkeypatch.setattr(routes_conversations.cf, "page_seqs", slow_page_seqs)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=info.base_url,
                                 headers={"X-API-Key": info.api_key}) as c:
        wanted = [x["conversation_id"] for x in (await c.get(
            f"/projects/{ids['pid']}/conversations", params={"limit": 5})).json()["conversations"]]

        async def page(offset):
            r = await c.get(f"/projects/{ids['pid']}/conversations", params={"offset": offset})
            finished.append("page")
            return r

        async def batch():
            await wait_until(paging.is_set)  # asked while the pages are in their lane
            r = await c.post(f"/projects/{ids['pid']}/conversations/batch",
                             json={"conversation_ids": wanted})
            finished.append("batch")
            return r

        answers = await asyncio.gather(*(page(o) for o in range(0, 120, 20)), batch())
    assert all(r.status_code == 200 for r in answers)
    assert peak == 1
    assert finished.index("batch") < len(finished) - 1  # not behind the six slow pages


async def test_a_slow_count_holds_up_no_other_page(demo_db, info, ids, monkeypatch):
    """A new filter's count (slow on the largest demo) runs in the thread pool before the pages
    lane: the pages of other filters go by meanwhile."""
    import threading

    from api.demo import routes_conversations

    app = create_app(demo_db)
    original = routes_conversations.cf.count
    finished: list[str] = []
    counting, release = threading.Event(), threading.Event()

    def count(store, f):  # the first count of this filter lasts until the others are answered
        if f.search == "slow-count" and not counting.is_set():
            counting.set()
            release.wait(10)
        return original(store, f)

    monkeypatch.setattr(routes_conversations.cf, "count", count)
    path = f"/projects/{ids['pid']}/conversations"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=info.base_url,
                                 headers={"X-API-Key": info.api_key}) as c:
        async def page(name, params):
            r = await c.get(path, params=params)
            finished.append(name)
            return r

        async def later(name, params):
            await wait_until(counting.is_set)  # asked while the slow count runs
            return await page(name, params)

        async def others():
            try:
                return await asyncio.gather(later("fast", {"limit": 5}),
                                            later("bad", {"limit": 0}))
            finally:
                release.set()

        slow, (fast, bad) = await asyncio.gather(page("slow", {"search": "slow-count"}),
                                                 others())
        answers = [slow, fast, bad]
    assert [r.status_code for r in answers] == [200, 200, 422]
    assert finished.index("fast") < finished.index("slow")


async def test_analyze_scores_unscored_and_refuses_short(client, ids, demo_db):
    import sqlite3

    conn = sqlite3.connect(demo_db)
    short = conn.execute("SELECT conversation_id FROM conversations WHERE project_id=? AND "
                         "message_count < 2 LIMIT 1", (ids["pid"],)).fetchone()
    unscored = conn.execute("SELECT conversation_id FROM conversations WHERE project_id=? AND "
                            "scored = 0 AND message_count >= 2 LIMIT 1", (ids["pid"],)).fetchone()
    conn.close()
    base = f"/projects/{ids['pid']}/conversations"
    if short:
        assert (await client.post(f"{base}/{short[0]}/metrics/analyze")).status_code == 400
    assert unscored, "the demo should contain unscored conversations"
    before = (await client.get(f"{base}/{unscored[0]}/metrics")).json()
    assert before["sentiment_label"] is None
    scored = (await client.post(f"{base}/{unscored[0]}/metrics/analyze")).json()
    assert scored["sentiment_label"] in ("negative", "neutral", "positive")
    assert (await client.get(f"{base}/{unscored[0]}/metrics")).json() == scored


# --- trending topics ----------------------------------------------------------------------
async def test_trending_job_lifecycle_and_409(client, ids, clock):
    base = f"/projects/{ids['pid']}/conversations/insights/trending-topics"
    started = await client.post(f"{base}/generate", json={"tags": []})
    assert started.status_code == 200 and started.json()["status"] == "pending"
    job_id = started.json()["job_id"]
    assert (await client.get(f"{base}/job/{job_id}")).json()["status"] == "pending"
    assert (await client.get(f"{base}/status")).json()["status"] == "pending"
    clock.now += 1.5
    running = (await client.get(f"{base}/job/{job_id}")).json()
    assert running["status"] == "running" and 0 < running["progress"] < 100 and running["step"]
    assert running["completed_at"] is None
    clock.now += 2.0
    done = (await client.get(f"{base}/job/{job_id}")).json()
    assert done["status"] == "completed" and done["progress"] == 100 and done["completed_at"]
    analysis = (await client.get(f"{base}/analysis/{done['analysis_id']}")).json()
    assert analysis["topics"] and analysis["conversations_analyzed"] > 0
    assert sum(t["conversation_count"] for t in analysis["topics"]) == analysis["conversations_analyzed"]
    assert all(len(t["conversation_ids"]) > 0 for t in analysis["topics"])
    status = (await client.get(f"{base}/status")).json()
    assert status["status"] == "completed" and status["analysis"]["id"] == analysis["id"]
    other_scope = (await client.get(f"{base}/status", params={"tags": "no-such-tag"})).json()
    assert other_scope == {"status": "none", "analysis": None}
    again = await client.post(f"{base}/generate")
    assert again.status_code == 409 and again.json() == {"detail": "Analysis already generated today"}


# --- faults -------------------------------------------------------------------------------
async def test_fault_errors_are_seeded_and_switchable(app, client, ids):
    path = f"/projects/{ids['pid']}/playbooks"

    async def statuses(seed: int) -> list[int]:
        app.state.faults = Faults(error_rate=0.5, seed=seed)
        return [(await client.get(path)).status_code for _ in range(20)]

    first, again = await statuses(3), await statuses(3)
    assert first == again and set(first) - {200} and 200 in first
    assert set(first) <= {200, 500, 503}
    app.state.faults = None
    assert (await client.get(path)).status_code == 200


async def test_fault_429_has_retry_after_and_max_faults(app, client, ids):
    app.state.faults = Faults(rate_limit_rate=1.0, retry_after_s=7, max_faults=2)
    codes = []
    for _ in range(3):
        r = await client.get(f"/projects/{ids['pid']}")
        codes.append(r.status_code)
        if r.status_code == 429:
            assert r.headers["retry-after"] == "7" and r.json()["detail"]
    assert codes == [429, 429, 200]


async def test_fault_malformed_json_and_dropped_field(app, client, ids):
    path = f"/projects/{ids['pid']}/conversations"
    app.state.faults = Faults(malformed_rate=1.0)
    r = await client.get(path)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        json.loads(r.content)
    app.state.faults = Faults(drop_field="summary")
    data = (await client.get(path)).json()
    assert data["conversations"] and all("summary" not in c for c in data["conversations"])
    assert all("conversation_id" in c for c in data["conversations"])
    assert int(r.headers["content-length"]) == len(r.content)


async def test_fault_latency_and_hang(app, client, ids):
    loop = asyncio.get_running_loop()
    app.state.faults = Faults(latency_ms=120, jitter_ms=30)
    start = loop.time()
    assert (await client.get(f"/projects/{ids['pid']}")).status_code == 200
    assert loop.time() - start >= 0.12
    app.state.faults = Faults(hang_rate=1.0)
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(client.get(f"/projects/{ids['pid']}"), timeout=0.3)


def test_faults_parse_from_spec():
    f = Faults.parse("latency_ms=50, error_rate=0.25,drop_field=summary,max_faults=3")
    assert (f.latency_ms, f.error_rate, f.drop_field, f.max_faults) == (50.0, 0.25, "summary", 3)
    with pytest.raises(ValueError):
        Faults.parse("explode=1")


# --- transport and server -----------------------------------------------------------------
async def test_demo_transport_serves_the_pinned_demo(demo_db):
    transport, info = demo_transport(faults=Faults(latency_ms=1))
    assert info.api_key.startswith("sbs_") and info.api_key not in repr(info)
    assert info.project_id != info.other_project_id
    assert isinstance(transport.app.state.faults, Faults)
    async with httpx.AsyncClient(transport=transport, base_url=info.base_url,
                                 headers={"X-API-Key": info.api_key}) as c:
        assert (await c.get(f"/projects/{info.project_id}")).json()["id"] == info.project_id


def test_server_refuses_non_loopback_and_prints_exports(demo_db, info):
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    with pytest.raises(ValueError, match="non-loopback"):
        serve(host="0.0.0.0", db_path=demo_db, out=io.StringIO())
    lines = export_lines(info).splitlines()
    assert lines == [f"export STUDIO_API_URL={info.base_url}",
                     f"export STUDIO_API_TOKEN={info.api_key}",
                     f"export STUDIO_PROJECT_ID={info.project_id}"]


def test_running_server_answers_over_loopback(demo_db):
    with running_server(db_path=demo_db) as server:
        assert server.url.startswith("http://127.0.0.1:")
        r = httpx.get(f"{server.url}/projects/{server.info.project_id}",
                      headers={"X-API-Key": server.info.api_key}, timeout=10)
    assert r.status_code == 200 and r.json()["id"] == server.info.project_id


def test_importing_api_demo_stays_light():
    import subprocess
    import sys

    code = ("import sys, api.demo; heavy = [m for m in ('starlette', 'uvicorn', 'httpx', "
            "'api.demo.app', 'api.demo.generate') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_p99_in_python_equals_sqlites_window_function(demo_db):
    """routes_analytics.p99_by_bucket (a sort per bucket) gives the rank-ceil(0.99 n) value the
    former SQL window query gave, for every bucket, filtered or not, hourly or daily."""
    from api.demo import convfilter as cf
    from api.demo import demo_info
    from api.demo import routes_analytics as ra
    from api.demo.params import Params
    from api.demo.store import Store

    store = Store(demo_db)
    project = demo_info(demo_db).project_id
    cases = [{"start_date": "2026-05-17T00:00:00Z", "end_date": "2026-06-16T00:00:00Z"},
             {"start_date": "2026-06-14T00:00:00Z", "end_date": "2026-06-16T00:00:00Z"},
             {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-06-16T00:00:00Z",
              "sentiment": "negative"}]
    for params in cases:
        f = cf.parse_filter(Params(params), (project,), list_filters=False, dates_required=True)
        _, step = ra.granularity(f)
        where, args = f.where()
        bucket = f"(c.last_ts / {step}) * {step}"
        window = dict(store.rows(
            "SELECT b, l FROM (SELECT b, l, row_number() OVER (PARTITION BY b ORDER BY l) rn, "
            "count(*) OVER (PARTITION BY b) n FROM (SELECT "
            f"{bucket} b, c.avg_latency_ms l FROM conversations c WHERE {where} "
            "AND c.avg_latency_ms IS NOT NULL)) WHERE rn = (99 * n + 99) / 100", args))
        ours = ra.p99_by_bucket(store.rows(
            f"SELECT {bucket}, c.avg_latency_ms FROM conversations c WHERE {where} "
            "AND c.avg_latency_ms IS NOT NULL", args))
        assert window and ours == window
