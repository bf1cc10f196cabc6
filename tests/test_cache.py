"""ResponseCache and the client's cached GETs: hits, expiry, SWR, offline, permissions, keys."""
from __future__ import annotations

import asyncio
import os
import stat
import threading

import httpx
import pytest

from api import errors
from api.cache import ResponseCache, normalise_params, ttl_for
from api.client import StudioClient
from api.config import load_settings

TOKEN = "sbs_cache_secret_token_987"
PATH = "/projects/proj-1/conversations/analytics"  # 5-minute TTL


class Clock:
    def __init__(self, t: float = 1_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


class Server:
    """MockTransport handler: counts calls, answers with a counter, can go down."""

    def __init__(self):
        self.calls = 0
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused")
        self.calls += 1
        return httpx.Response(200, json={"n": self.calls, "path": request.url.path})


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def cache(tmp_path, clock):
    c = ResponseCache(tmp_path / "responses-v1", clock=clock)
    yield c
    c.close()


async def _noop_sleep(_):
    return None


def client_for(cache, server, offline=False, project="proj-1", url="https://api.example.test"):
    env = {"STUDIO_API_TOKEN": TOKEN, "STUDIO_PROJECT_ID": project, "STUDIO_API_URL": url,
           "STUDIO_TUI_CONFIG_DIR": "/nonexistent"}
    settings = load_settings(env=env, offline=offline)
    return StudioClient(settings, transport=httpx.MockTransport(server), cache=cache,
                        sleep=_noop_sleep, max_tries=2)


def test_ttl_families():
    assert ttl_for("/projects/p/conversations") == 60
    assert ttl_for("/projects/p/conversations/summaries") == 60
    assert ttl_for("/projects/p/conversations/abc") == 600
    assert ttl_for("/projects/p/conversations/abc/messages") == 600
    assert ttl_for("/projects/p/conversations/analytics") == 300
    assert ttl_for("/account/conversations/analytics") == 300
    assert ttl_for("/projects/p/analytics/kbs/sparklines") == 300
    assert ttl_for("/projects/p/csat/analytics") == 300
    assert ttl_for("/projects/p/conversations/insights/trending-topics/job/j") == 0
    assert ttl_for("/projects/p/playbooks") >= 3600
    assert ttl_for("/knowledgebases/k") >= 3600


def test_key_normalises_params_and_ignores_order():
    k1 = ResponseCache.key("https://a/", "p", "get", "/x", {"b": True, "a": ["1", "2"]})
    k2 = ResponseCache.key("https://a", "p", "GET", "/x", [("a", "1,2"), ("b", "true")])
    assert k1 == k2
    assert k1 != ResponseCache.key("https://a", "other", "GET", "/x", {"b": True, "a": "1,2"})
    assert k1 != ResponseCache.key("https://b", "p", "GET", "/x", {"b": True, "a": "1,2"})
    assert normalise_params({"z": None, "y": 1}) == [("y", "1")]


async def test_hit_then_expiry(cache, clock):
    server = Server()
    async with client_for(cache, server) as client:
        first = await client.get_result(PATH, {"start_date": "2026-06-01"})
        second = await client.get_result(PATH, {"start_date": "2026-06-01"})
        assert (first.from_cache, second.from_cache) == (False, True)
        assert second.data == first.data and server.calls == 1
        clock.t += 299
        assert (await client.get_result(PATH, {"start_date": "2026-06-01"})).from_cache
        clock.t += 2  # past the 5-minute TTL
        third = await client.get_result(PATH, {"start_date": "2026-06-01"})
        assert not third.from_cache and third.data["n"] == 2
        # other params: another entry
        await client.get_result(PATH, {"start_date": "2026-06-02"})
        assert server.calls == 3
    assert cache.stats()["hits"] == 2


async def test_cache_false_bypasses(cache):
    server = Server()
    async with client_for(cache, server) as client:
        await client.get(PATH)
        await client.get(PATH, cache=False)
    assert server.calls == 2


async def test_trending_job_never_cached(cache):
    server = Server()
    path = "/projects/proj-1/conversations/insights/trending-topics/job/j1"
    async with client_for(cache, server) as client:
        await client.get(path)
        await client.get(path)
    assert server.calls == 2


async def test_swr_yields_cached_then_fresh(cache, clock):
    server = Server()
    async with client_for(cache, server) as client:
        results = [r async for r in client.get_swr(PATH)]
        assert [(r.from_cache, r.data["n"]) for r in results] == [(False, 1)]
        results = [r async for r in client.get_swr(PATH)]  # fresh entry: no refetch
        assert [(r.from_cache, r.stale) for r in results] == [(True, False)]
        clock.t += 600
        results = [r async for r in client.get_swr(PATH)]
        assert [(r.from_cache, r.stale, r.data["n"]) for r in results] == [
            (True, True, 1), (False, False, 2)]
        assert results[0].age_s == pytest.approx(600)
        results = [r async for r in client.get_swr(PATH, revalidate=True)]
        assert [r.data["n"] for r in results] == [2, 3]


async def test_network_failure_serves_stale_with_age(cache, clock):
    server = Server()
    async with client_for(cache, server) as client:
        await client.get(PATH)
        clock.t += 3600
        server.down = True
        result = await client.get_result(PATH)
        assert result.stale and result.offline and result.from_cache
        assert result.age_s == pytest.approx(3600)
        assert "cannot connect" in result.error
        swr = [r async for r in client.get_swr(PATH)]
        assert [(r.stale, r.offline) for r in swr] == [(True, False), (True, True)]
        with pytest.raises(errors.UnreachableError):
            await client.get_result(PATH, {"other": 1})  # nothing cached for this one


async def test_offline_mode_never_touches_the_network(cache, clock):
    server = Server()
    async with client_for(cache, server) as client:
        await client.get(PATH)
    clock.t += 10_000
    async with client_for(cache, server, offline=True) as client:
        result = await client.get_result(PATH)
        assert result.offline and result.stale and result.data["n"] == 1
        with pytest.raises(errors.UnreachableError, match="offline"):
            await client.get("/projects/proj-1/playbooks")
        with pytest.raises(errors.UnreachableError, match="offline"):
            await client.get(PATH, cache=False)
        with pytest.raises(errors.UnreachableError, match="offline") as info:
            await client.post("/projects/proj-1/conversations/batch", {"conversation_ids": []})
        assert info.value.kind == "offline"
    assert server.calls == 1


async def test_entries_keyed_by_project_and_base_url(cache):
    server = Server()
    async with client_for(cache, server) as client:
        await client.get(PATH)
    async with client_for(cache, server, project="proj-2") as client:
        await client.get(PATH)
    async with client_for(cache, server, url="https://other.example.test") as client:
        await client.get(PATH)
    assert server.calls == 3


async def test_permissions_owner_only(tmp_path, clock):
    old = os.umask(0o022)
    try:
        cache = ResponseCache(tmp_path / "deep" / "responses-v1", clock=clock)
        server = Server()
        async with client_for(cache, server) as client:
            await client.get(PATH)
            big = "x" * (5 * 1024 * 1024)  # above the in-database limit: a value file
            cache.set(cache.key("u", "p", "GET", "/big"), "/projects/p/playbooks", {"big": big})
        mode = stat.S_IMODE((tmp_path / "deep" / "responses-v1").stat().st_mode)
        assert mode == 0o700
        files = [p for p in (tmp_path / "deep" / "responses-v1").rglob("*")]
        assert any(p.is_file() and p.suffix == ".val" for p in files)
        for p in files:
            expected = 0o700 if p.is_dir() else 0o600
            assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, (p, oct(p.stat().st_mode))
            assert stat.S_IMODE(p.stat().st_mode) & expected
        assert os.umask(0o022) == 0o022  # restored
    finally:
        os.umask(old)


async def test_token_never_reaches_the_cache_files(tmp_path, clock):
    cache = ResponseCache(tmp_path / "responses-v1", clock=clock)
    server = Server()
    async with client_for(cache, server) as client:
        await client.get(PATH, {"q": "1"})
        await client.get("/projects/proj-1/playbooks")
    blobs = b"".join(p.read_bytes() for p in (tmp_path / "responses-v1").rglob("*") if p.is_file())
    assert blobs  # something was written
    assert TOKEN.encode() not in blobs


def test_stats_and_clear(cache):
    for i in range(5):
        cache.set(cache.key("u", "p", "GET", f"/x/{i}"), "/projects/p/playbooks", {"i": i})
    stats = cache.stats()
    assert stats["entries"] == 5 and stats["bytes"] > 0
    assert stats["path"].endswith("responses-v1")
    assert cache.clear() == 5
    assert cache.stats()["entries"] == 0


def test_size_bound_evicts(tmp_path, clock):
    cache = ResponseCache(tmp_path / "small", size_limit=200_000, clock=clock)
    blob = "y" * 20_000
    keys = [cache.key("u", "p", "GET", f"/x/{i}") for i in range(40)]
    for key in keys:
        cache.set(key, "/projects/p/playbooks", {"blob": blob})
    cache._cache.cull()
    assert cache._cache.volume() <= 200_000 + 100_000
    assert cache.lookup(keys[0], "/projects/p/playbooks") is None  # oldest evicted
    assert cache.lookup(keys[-1], "/projects/p/playbooks") is not None
    cache.close()


def test_corrupt_entry_is_a_miss(cache):
    key = cache.key("u", "p", "GET", "/x")
    cache._cache.set(key, "not a tuple")
    assert cache.lookup(key, "/projects/p/playbooks") is None


class GatedCache(ResponseCache):
    """Records the thread of each operation; the first ``set`` waits for ``release`` (a slow
    disk or a lock held by another process)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.threads: list[tuple[str, int]] = []
        self.writing = threading.Event()
        self.release = threading.Event()

    def lookup(self, key, path):
        self.threads.append(("lookup", threading.get_ident()))
        return super().lookup(key, path)

    def set(self, key, path, data):
        self.threads.append(("set", threading.get_ident()))
        if not self.writing.is_set():
            self.writing.set()
            self.release.wait(10)
        super().set(key, path, data)


async def test_cache_io_runs_off_the_event_loop_and_cancel_leaves_a_whole_entry(tmp_path, clock):
    cache = GatedCache(tmp_path / "responses-v1", clock=clock)
    loop_thread = threading.get_ident()
    async with client_for(cache, Server()) as client:
        task = asyncio.create_task(client.get_result(PATH))
        assert await asyncio.to_thread(cache.writing.wait, 10)
        # the loop is free while the write waits: other work (a swr read) proceeds meanwhile
        assert [r.data for r in [r async for r in client.get_swr("/projects/proj-1/schedule")]]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        cache.release.set()
    assert cache.threads and all(t != loop_thread for _, t in cache.threads)
    with ResponseCache(tmp_path / "responses-v1", clock=clock) as reopened:
        key = reopened.key(client.cache_scope, "proj-1", "GET", PATH, [])
        assert reopened.lookup(key, PATH).data == {"n": 1, "path": PATH}
