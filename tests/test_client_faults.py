"""Each fault the demo backend can inject gives the right retry or a clear typed error."""
from __future__ import annotations

import pytest

from api import errors
from api.cache import ResponseCache
from api.client import StudioClient
from api.config import load_settings
from api.endpoints import analytics, configuration, conversations, resources
from api.query import ConversationQuery


class FakeSleep:
    def __init__(self):
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture(scope="module")
def demo(demo_db):
    from api.demo import demo_transport

    return demo_transport()


@pytest.fixture
def faults(demo):
    """Set faults on the shared demo app for one test; cleared afterwards."""
    from api.demo.faults import Faults

    transport, _ = demo

    def apply(**kw) -> Faults:
        f = Faults(**kw)
        transport.app.state.faults = f
        return f

    yield apply
    transport.app.state.faults = None


def make_client(demo, sleep=None, cache=None, **kw) -> StudioClient:
    transport, info = demo
    settings = load_settings(env={"STUDIO_TUI_CONFIG_DIR": "/nonexistent"})
    return StudioClient(settings, transport=transport, cache=cache, base_url=info.base_url,
                        project_id=info.project_id, token=info.api_key,
                        sleep=sleep or FakeSleep(), **kw)


async def first_page(client: StudioClient, limit: int):
    """The first ``limit`` conversations of the whole project."""
    return await client.load(conversations.page(client.project_id, ConversationQuery(),
                                                limit=limit))


def seed_giving(status: int) -> int:
    """A Faults seed whose first error_rate fault answers ``status`` (500 or 503)."""
    from api.demo.faults import Faults

    for seed in range(100):
        if Faults(error_rate=1.0, seed=seed).plan("/x").get("status") == status:
            return seed
    raise AssertionError("no seed found")


async def test_latency_is_just_slower(demo, faults):
    faults(latency_ms=30, jitter_ms=10)
    async with make_client(demo) as client:
        page = await first_page(client, 5)
    assert len(page.conversations) == 5


async def test_latency_beyond_the_deadline_is_a_timeout(demo, faults):
    faults(latency_ms=2000)
    sleep = FakeSleep()
    async with make_client(demo, sleep, total_timeout=0.05, max_tries=2) as client:
        with pytest.raises(errors.UnreachableError) as info:
            await first_page(client, 5)
    assert info.value.kind == "timeout" and "no answer within" in str(info.value)
    assert len(sleep.delays) == 1  # retried once


async def test_503_is_retried_then_succeeds(demo, faults):
    f = faults(error_rate=1.0, max_faults=1, seed=seed_giving(503))
    sleep = FakeSleep()
    async with make_client(demo, sleep) as client:
        page = await first_page(client, 3)
    assert len(page.conversations) == 3
    assert f.injected == 1 and len(sleep.delays) == 1


async def test_a_500_on_a_read_is_asked_again(demo, faults):
    f = faults(error_rate=1.0, max_faults=1, seed=seed_giving(500))
    sleep = FakeSleep()
    async with make_client(demo, sleep) as client:
        page = await first_page(client, 3)
    assert len(page.conversations) == 3
    assert f.injected == 1 and len(sleep.delays) == 1


async def test_a_500_is_final_for_a_write(demo, faults):
    f = faults(error_rate=1.0, max_faults=1, seed=seed_giving(500))
    sleep = FakeSleep()
    async with make_client(demo, sleep) as client:
        with pytest.raises(errors.ServerError) as info:
            await client.post(f"/projects/{client.project_id}/conversations/batch",
                              {"conversation_ids": ["x"]}, idempotent=False)
    assert str(info.value).startswith("HTTP 500: Internal server error (POST /projects/")
    assert f.injected == 1 and sleep.delays == []


async def test_persistent_5xx_ends_in_server_error(demo, faults):
    faults(error_rate=1.0, seed=seed_giving(503))
    async with make_client(demo, max_tries=5) as client:
        with pytest.raises(errors.ServerError) as info:
            await client.load(configuration.schedule(client.project_id))
    assert info.value.status in (500, 503)


async def test_429_honours_retry_after(demo, faults):
    faults(rate_limit_rate=1.0, retry_after_s=2, max_faults=2)
    sleep = FakeSleep()
    async with make_client(demo, sleep) as client:
        page = await first_page(client, 2)
    assert len(page.conversations) == 2
    assert sleep.delays == [2.0, 2.0]


async def test_429_forever_is_rate_limited_error(demo, faults):
    faults(rate_limit_rate=1.0, retry_after_s=3)
    sleep = FakeSleep()
    async with make_client(demo, sleep, max_tries=3) as client:
        with pytest.raises(errors.RateLimitedError) as info:
            await first_page(client, 2)
    assert info.value.retry_after == 3.0 and "HTTP 429" in str(info.value)
    assert sleep.delays == [3.0, 3.0]


async def test_hang_times_out_and_is_retried(demo, faults):
    f = faults(hang_rate=1.0, max_faults=1)
    sleep = FakeSleep()
    async with make_client(demo, sleep, total_timeout=0.2) as client:
        page = await first_page(client, 2)
    assert len(page.conversations) == 2 and f.injected == 1 and len(sleep.delays) == 1


async def test_hang_forever_is_a_clear_timeout(demo, faults):
    faults(hang_rate=1.0)
    async with make_client(demo, total_timeout=0.1, max_tries=2) as client:
        with pytest.raises(errors.UnreachableError) as info:
            await client.load(conversations.detail(client.project_id, "whatever"))
    assert info.value.kind == "timeout"
    assert "no answer within 0.1s" in str(info.value)


async def test_malformed_json_is_asked_again_then_bad_response(demo, faults):
    faults(malformed_rate=1.0)
    sleep = FakeSleep()
    async with make_client(demo, sleep, max_tries=3) as client:
        with pytest.raises(errors.BadResponseError) as info:
            await first_page(client, 20)
    assert "malformed JSON" in str(info.value) and len(sleep.delays) == 2


async def test_a_body_cut_short_once_is_read_again(demo, faults):
    faults(malformed_rate=1.0, max_faults=1)
    async with make_client(demo, FakeSleep(), max_tries=3) as client:
        page = await first_page(client, 20)
    assert len(page.conversations) == 20


async def test_a_malformed_answer_to_a_post_that_is_not_idempotent_is_not_repeated(demo, faults):
    faults(malformed_rate=1.0, max_faults=1)
    sleep = FakeSleep()
    async with make_client(demo, sleep, max_tries=3) as client:
        with pytest.raises(errors.BadResponseError):
            await client.post(f"/projects/{client.project_id}/conversations/batch",
                              {"conversation_ids": ["x"]}, idempotent=False)
    assert sleep.delays == []


@pytest.mark.parametrize("field", ["summary", "total", "conversations", "messages", "*"])
async def test_dropped_fields_never_crash(demo, faults, field):
    faults(drop_field=field, seed=3)
    async with make_client(demo) as client:
        page = await first_page(client, 10)
        ids = [c.conversation_id for c in page.conversations if c.conversation_id]
        if ids:
            detail = await client.load(conversations.detail(client.project_id, ids[0]))
            assert detail.conversation_id in (ids[0], None)
        window = ConversationQuery.build(start_date="2026-05-01T00:00:00Z",
                                         end_date="2026-06-15T00:00:00Z")
        pid = client.project_id
        await client.load(analytics.conversation_analytics(pid, window))
        await client.load(resources.sparklines(pid, "skills", 14))
        await client.load(configuration.playbooks(pid))
    if field == "total":
        assert page.total is None and len(page.conversations) == 10
    if field == "conversations":
        assert page.conversations == []


async def test_outage_after_cache_serves_stale_marked_offline(demo, faults, tmp_path):
    clock = [1000.0]
    cache = ResponseCache(tmp_path / "responses-v1", clock=lambda: clock[0])
    async with make_client(demo, cache=cache, max_tries=2) as client:
        fresh = await client.get_result(f"/projects/{client.project_id}/conversations/analytics",
                                        {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-06-15T00:00:00Z"})
        clock[0] += 3600
        faults(error_rate=1.0, seed=seed_giving(503))
        stale = await client.get_result(f"/projects/{client.project_id}/conversations/analytics",
                                        {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-06-15T00:00:00Z"})
    assert stale.offline and stale.stale and stale.data == fresh.data
    assert stale.age_s == pytest.approx(3600) and "HTTP 50" in stale.error
