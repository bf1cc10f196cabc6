"""Paging: concurrent offsets in order, de-duplication, drift reported; batch details."""
from __future__ import annotations

import asyncio

import pytest
from fake_api import FakeApi, conversation

from api.errors import AuthError, BadResponseError
from api.paging import (
    DetailReport,
    PagingReport,
    chunked,
    fetch_batch,
    iter_conversations,
    ordered_map,
)
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


async def test_items_key_and_server_page_cap(tmp_path):
    api = FakeApi(230, array_key="items")
    api.max_limit = 50  # server answers fewer than asked: follow its limit
    rows, report = await collect(api, tmp_path)
    assert len(rows) == 230 and not report.drift
    assert all(r.url.path.endswith("/conversations") for r in api.requests)


def _without_total(api):
    """Pages answered without ``total`` (the brief's paging: until a short page)."""
    original = api._page

    def no_total(request):
        resp = original(request)
        body = resp.json()
        del body["total"]
        return type(resp)(200, json=body)

    api._page = no_total
    return api


async def test_without_total_pages_until_a_short_page(tmp_path):
    api = _without_total(FakeApi(250))
    rows, report = await collect(api, tmp_path)
    assert len(rows) == 250 and report.expected_total is None
    assert api.pages_requested() == [0, 100, 200]


# ------------------------------------------------------------------------ speculation
@pytest.mark.parametrize("size, speculate", [(1234, 7), (700, 7), (800, 15), (100, 3), (0, 3)])
async def test_speculative_pages_give_the_same_rows(tmp_path, size, speculate):
    api = FakeApi(size)
    rows, report = await collect(api, tmp_path, concurrency=16, speculate=speculate)
    assert [r["conversation_id"] for r in rows] == [r["conversation_id"] for r in api.rows]
    assert report.received == size and not report.drift
    asked = api.pages_requested()
    assert sorted(set(asked)) == sorted(asked)  # no page asked twice
    planned = set(range(0, max(size, 1), 100))
    # every page asked, plus at most the speculative ones past the end
    assert planned <= set(asked) <= planned | set(range(100, 100 * (speculate + 1), 100))


@pytest.mark.parametrize("concurrency, speculate, asked", [
    (8, 3, [0, 100, 200, 300]),
    (3, 10, [0, 100, 200]),  # capped: concurrency - 1
])
async def test_speculative_pages_start_with_the_first_one(tmp_path, concurrency, speculate,
                                                         asked):
    api = FakeApi(2000)
    ids, _, before_first = await _collect_gated(api, tmp_path, {0}, concurrency=concurrency,
                                                speculate=speculate)
    assert len(ids) == 2000
    assert sorted(before_first) == asked


async def test_speculative_pages_past_a_short_first_page_are_cancelled(tmp_path):
    api = FakeApi(40)
    rows, report = await collect(api, tmp_path, concurrency=8, speculate=7)
    assert len(rows) == 40 and not report.drift
    assert not [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]


async def test_speculation_follows_a_server_page_cap(tmp_path):
    api = FakeApi(230, array_key="items")
    api.max_limit = 50  # speculative offsets 100, 200 were asked at the wrong page size
    rows, report = await collect(api, tmp_path, concurrency=8, speculate=4)
    assert [r["conversation_id"] for r in rows] == [r["conversation_id"] for r in api.rows]
    assert not report.drift


async def test_speculation_without_total_reads_until_a_short_page(tmp_path):
    api = _without_total(FakeApi(250))
    rows, report = await collect(api, tmp_path, concurrency=8, speculate=5)
    assert [r["conversation_id"] for r in rows] == [r["conversation_id"] for r in api.rows]
    assert report.expected_total is None


async def _collect_gated(api, tmp_path, late, **kw):
    """``collect`` with the pages at offsets in ``late`` answered after the others; also the
    offsets asked for by the time the first late page is answered."""
    report = PagingReport()
    started: list[int] = []
    before_late: list[int] = []

    async def gated_get(path, params=None, cache=True):
        started.append(int(params["offset"]))
        if int(params["offset"]) in late:
            for _ in range(30):  # the others get the chance to start and be answered
                await asyncio.sleep(0)
            before_late[:] = before_late or started
        return await original(path, params, cache=cache)

    async with api.client(tmp_path) as client:
        original = client.get
        client.get = gated_get
        rows = [r async for r in iter_conversations(client, ConversationQuery(), report=report,
                                                    **kw)]
    return [r["conversation_id"] for r in rows], report, before_late


async def test_speculative_pages_older_than_the_first_one_are_asked_again(tmp_path):
    """The speculative pages were answered before 50 rows arrived, the first page after: they
    come from another state of the data, so they are asked again and nothing is lost."""
    api = FakeApi(300)
    api.on_page = lambda offset: (api.rows.extend(conversation(9000 + i) for i in range(50))
                                  if offset == 0 else None)
    ids, report, _ = await _collect_gated(api, tmp_path, {0}, concurrency=8, speculate=5)
    assert ids == [r["conversation_id"] for r in api.rows] and len(ids) == 350
    assert report.expected_total == 350 and report.pages == 4
    assert sorted(api.pages_requested()) == [0, 100, 100, 200, 200, 300, 300, 400, 500]


async def test_rows_arriving_while_speculative_pages_answer_are_read_afresh(tmp_path):
    """The first page says 300; a speculative page answered after it saw 50 more: it is asked
    again, and the rows past the planned end are read (not taken from the stale empty
    speculative page)."""
    api = FakeApi(300)
    api.on_page = lambda offset: (api.rows.extend(conversation(9000 + i) for i in range(50))
                                  if offset == 200 and len(api.rows) == 300 else None)
    ids, report, _ = await _collect_gated(api, tmp_path, {200}, concurrency=8, speculate=5)
    assert ids == [r["conversation_id"] for r in api.rows] and len(ids) == 350
    assert report.drift and report.totals_seen == {300, 350} and report.extra_pages == 1


async def test_unused_speculative_pages_do_not_count_as_pages(tmp_path):
    api = FakeApi(250)
    rows, report = await collect(api, tmp_path, concurrency=8, speculate=7)
    assert len(rows) == 250 and not report.drift
    assert report.pages == 3  # 0, 100, 200: the ones past the end were not used


@pytest.mark.parametrize("stop_after", [1, 250, 990])
async def test_consumer_stopping_early_leaves_no_page_in_flight(tmp_path, stop_after):
    api = FakeApi(5000)
    async with api.client(tmp_path) as client:
        rows = iter_conversations(client, ConversationQuery(), concurrency=16, speculate=15)
        seen = 0
        async for _ in rows:
            seen += 1
            if seen == stop_after:
                break
        await rows.aclose()
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert not pending


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

    async def one(chunk):
        return await fetch_batch(client, chunk, retry_delay=0, report=report)

    async with api.client(tmp_path) as client:
        batches = [b async for b in ordered_map(chunked(ids, 50), one, 3)]
    for batch in batches:
        report.add(batch)
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
            await fetch_batch(client, ["c00001"], retry_delay=0)


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
