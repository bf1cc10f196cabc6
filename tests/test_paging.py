"""Paging: concurrent offsets in order, de-duplication, drift reported; batch details."""
from __future__ import annotations

import asyncio

import pytest
from fake_api import FakeApi, conversation

from api.errors import AuthError, BadResponseError
from api.paging import DetailReport, PagingReport, iter_conversations, iter_details, ordered_map
from api.query import ConversationQuery


async def collect(api, tmp_path, query=None, **kw):
    report = PagingReport()
    async with api.client(tmp_path) as client:
        rows = [r async for r in iter_conversations(client, query or ConversationQuery(),
                                                    report=report, **kw)]
    return rows, report


async def test_all_pages_in_order_without_drift(tmp_path):
    api = FakeApi(1234)
    rows, report = await collect(api, tmp_path, page_size=100, concurrency=4)
    assert [r["conversation_id"] for r in rows] == [r["conversation_id"] for r in api.rows]
    assert report.expected_total == 1234 and report.received == 1234
    assert not report.drift and report.pages == 13
    assert sorted(api.pages_requested()) == list(range(0, 1300, 100))  # no extra page


async def test_query_params_reach_every_page(tmp_path):
    api = FakeApi(250)
    q = ConversationQuery.build(sentiment="negative", has_handoff=True, tags="billing")
    await collect(api, tmp_path, query=q)
    for request in api.requests:
        assert request.url.params["sentiment"] == "negative"
        assert request.url.params["has_handoff"] == "true"
        assert request.url.params["tags"] == "billing"


async def test_pages_are_fetched_concurrently(tmp_path):
    api = FakeApi(1000)
    in_flight = peak = 0

    async def slow_get(path, params=None, cache=True):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)  # let the other requests start
        try:
            return await original(path, params, cache=cache)
        finally:
            in_flight -= 1

    async with api.client(tmp_path) as client:
        original = client.get
        client.get = slow_get
        rows = [r async for r in iter_conversations(client, ConversationQuery(), concurrency=5)]
    assert len(rows) == 1000
    assert peak == 5


async def test_rows_shifting_while_paging_are_deduplicated_and_reported(tmp_path):
    api = FakeApi(300)

    def insert_new(offset):
        if offset == 200 and len(api.rows) == 300:
            # two new conversations arrive at the top: the rest shift by two
            api.rows[0:0] = [conversation(9001), conversation(9002)]

    api.on_page = insert_new
    rows, report = await collect(api, tmp_path, concurrency=1)
    ids = [r["conversation_id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert report.duplicates == 2
    assert report.totals_seen == {300, 302}
    assert report.drift
    assert "duplicates" in report.describe()
    # the total grew: pages past the planned end were read, nothing of the tail was lost
    assert set(ids) >= {f"c{i:05d}" for i in range(300)}
    assert report.extra_pages == 1


async def test_rows_vanishing_is_drift(tmp_path):
    api = FakeApi(300)
    api.on_page = lambda offset: api.rows.pop() if offset == 100 else None
    rows, report = await collect(api, tmp_path, concurrency=1)
    assert len(rows) == 299 and report.expected_total == 300
    assert report.drift and "299 of 300" in report.describe()


async def test_summaries_items_key_and_server_page_cap(tmp_path):
    api = FakeApi(230, array_key="items")
    api.max_limit = 50  # server answers fewer than asked: follow its limit
    rows, report = await collect(api, tmp_path, endpoint="summaries")
    assert len(rows) == 230 and not report.drift
    assert all(r.url.path.endswith("/summaries") for r in api.requests)


async def test_without_total_pages_until_a_short_page(tmp_path):
    api = FakeApi(250)
    original = api._page

    def no_total(request):
        resp = original(request)
        body = resp.json()
        del body["total"]
        return type(resp)(200, json=body)

    api._page = no_total
    rows, report = await collect(api, tmp_path)
    assert len(rows) == 250 and report.expected_total is None
    assert api.pages_requested() == [0, 100, 200]


async def test_malformed_page_is_a_clear_error(tmp_path):
    api = FakeApi(10)
    api._page = lambda request: __import__("httpx").Response(200, json={"total": 3})
    with pytest.raises(BadResponseError, match="no list of conversations"):
        await collect(api, tmp_path)


async def test_details_in_order_with_retry_and_failed_ids(tmp_path):
    api = FakeApi(260)
    ids = [r["conversation_id"] for r in api.rows] + ["unknown-1"]
    api.batch_failures["c00050"] = 1  # second batch fails once, then works
    api.batch_failures["c00100"] = 99  # third batch always fails
    report = DetailReport()
    async with api.client(tmp_path) as client:
        batches = [b async for b in iter_details(client, ids, concurrency=3, retry_delay=0,
                                                 report=report)]
    assert [b.ids[0] for b in batches] == ["c00000", "c00050", "c00100", "c00150",
                                          "c00200", "c00250"]
    assert report.failed_ids == [f"c{i:05d}" for i in range(100, 150)]
    assert report.missing_ids == ["unknown-1"]
    assert report.retries == 1 + 2
    assert report.received == 260 - 50
    assert batches[0].details["c00000"]["messages"][0]["content"] == "hi from c00000 — ü"


async def test_details_auth_error_is_fatal(tmp_path):
    api = FakeApi(10)
    api._batch = lambda body: __import__("httpx").Response(401, json={"detail": "bad key"})
    async with api.client(tmp_path) as client:
        with pytest.raises(AuthError):
            [b async for b in iter_details(client, ["c00001"], retry_delay=0)]


async def test_ordered_map_cancels_in_flight_work_on_error():
    started, cancelled = [], []

    async def work(i):
        started.append(i)
        if i == 1:
            raise ValueError("bad item")
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.append(i)
            raise

    async def run():
        return [r async for r in ordered_map(range(1, 10), work, 3)]

    with pytest.raises(ValueError):
        await run()
    assert started == [1, 2, 3]
    assert cancelled == [2, 3]
