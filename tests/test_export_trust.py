"""Exports never lie: one export per output at a time, details an answer left out are asked
for again, rows that move while paging are recovered, damaged answers are asked again, and a
resumed export lists from where it stopped."""
from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, datetime

import httpx
import pytest
from app_support import wait_until
from fake_api import FakeApi, conversation

from api.errors import BadResponseError, ServerError
from api.export import ExportError, ExportIncomplete, run_export
from api.query import ConversationQuery

FROZEN = datetime(2026, 6, 15, 12, 0, 0, tzinfo=UTC)


async def export(api, tmp_path, out, **kw):
    kw.setdefault("clock", lambda: FROZEN)
    kw.setdefault("retry_delay", 0)
    max_tries = kw.pop("max_tries", 1)
    async with api.client(tmp_path, max_tries=max_tries, backoff_base=0) as client:
        return await run_export(client, kw.pop("query", ConversationQuery()), out, **kw)


async def reference(tmp_path, n, name, **kw):
    out = tmp_path / name
    await export(FakeApi(n), tmp_path, out, **kw)
    return out.read_bytes()


def ids_in(path):
    return [c["conversation_id"] for c in json.loads(path.read_text())["conversations"]]


# ---------------------------------------------------------------- one export per output
class SlowApi(FakeApi):
    """Pages answered after a pause, so that two exports overlap."""

    async def handle(self, request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        return self.handler(request)

    def client(self, tmp_path, **kw):
        client = super().client(tmp_path, **kw)
        client._http._transport = httpx.MockTransport(self.handle)
        return client


async def test_a_second_export_to_the_same_file_fails_at_once(tmp_path):
    api = SlowApi(600)
    out = tmp_path / "out.json"
    first = asyncio.create_task(export(api, tmp_path, out, messages=True, concurrency=2))
    await wait_until(lambda: api.requests)  # it asks once it holds the output's lock
    with pytest.raises(ExportError, match=r"another export is writing .*out\.json \(pid \d+"):
        await export(api, tmp_path, out, messages=True)
    report = await first
    data = json.loads(out.read_text())
    assert report.complete and data["total_exported"] == len(data["conversations"]) == 600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == [
        "out.json"]  # no lock, partial, ids or state file left behind
    # once the first has ended the output is free again
    assert (await export(api, tmp_path, out)).complete


async def test_the_lock_is_released_after_a_failure(tmp_path):
    api = FakeApi(300)
    api.batch_failures["c00000"] = 99
    out = tmp_path / "out.json"
    with pytest.raises(ExportIncomplete):
        await export(api, tmp_path, out, messages=True)
    api.batch_failures.clear()
    assert (await export(api, tmp_path, out, messages=True)).complete


# ---------------------------------------------------------------- details left out
class DroppingApi(FakeApi):
    """Batch answers leave out some ids: ``flaky`` ones on their first ask, ``never`` ones
    always."""

    def __init__(self, n, flaky=(), never=()):
        super().__init__(n)
        self.flaky = set(flaky)
        self.never = set(never)

    def _batch(self, body):
        resp = super()._batch(body)
        data = json.loads(resp.content)
        kept = []
        for item in data["conversations"]:
            cid = item["conversation_id"]
            if cid in self.never:
                continue
            if cid in self.flaky:
                self.flaky.discard(cid)
                del item["conversation_id"]  # as the demo's drop_field fault does
            kept.append(item)
        return httpx.Response(200, json={"conversations": kept})


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
async def test_details_left_out_are_asked_again(tmp_path, fmt):
    api = DroppingApi(260, flaky=["c00003", "c00120", "c00121", "c00259"])
    out = tmp_path / f"out.{fmt}"
    report = await export(api, tmp_path, out, fmt=fmt, messages=True)
    assert report.complete and not report.partial
    assert report.details.reasked == 4
    assert out.read_bytes() == await reference(tmp_path, 260, f"ref.{fmt}", fmt=fmt,
                                               messages=True)


async def test_details_never_returned_fail_the_export_naming_them(tmp_path):
    api = DroppingApi(120, never=["c00042"])
    out = tmp_path / "out.json"
    with pytest.raises(ExportIncomplete, match="did not return the messages of 1 ") as info:
        await export(api, tmp_path, out, messages=True, keep_partial=True)
    assert info.value.failed_ids == ["c00042"]
    assert not out.exists()


async def test_allow_partial_writes_them_without_messages_and_says_so(tmp_path):
    api = DroppingApi(120, never=["c00042", "c00100"])
    out = tmp_path / "out.json"
    report = await export(api, tmp_path, out, messages=True, allow_partial=True)
    assert report.complete and report.partial
    assert report.lacking_ids == ["c00042", "c00100"]
    assert "2 without their messages" in report.summary()
    convs = json.loads(out.read_text())["conversations"]
    assert len(convs) == 120
    lacking = [c for c in convs if "messages" not in c]
    assert [c["conversation_id"] for c in lacking] == ["c00042", "c00100"]
    assert all("citations" not in c for c in lacking)  # never an empty list posing as data


async def test_unknown_ids_fail_an_ids_export_unless_allowed(tmp_path):
    api = FakeApi(10)
    out = tmp_path / "out.json"
    with pytest.raises(ExportIncomplete, match="did not return 1 conversations") as info:
        await export(api, tmp_path, out, ids=["c00001", "nope"])
    assert info.value.failed_ids == ["nope"] and not out.exists()
    report = await export(api, tmp_path, out, ids=["c00001", "nope"], allow_partial=True)
    assert report.missing_ids == ["nope"] and ids_in(out) == ["c00001"]
    assert "1 ids not found" in report.summary()


# ---------------------------------------------------------------- rows that move
def move_to_front(api, cid, at_offset):
    """While paging: once the page at ``at_offset`` is asked for, ``cid`` gets a new message
    and moves to the front (sorted by last message, newest first)."""
    def on_page(offset):
        if offset == at_offset and api.rows[0]["conversation_id"] != cid:
            index = next(i for i, r in enumerate(api.rows) if r["conversation_id"] == cid)
            api.rows.insert(0, api.rows.pop(index))
    api.on_page = on_page


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_a_conversation_that_moves_while_paging_is_recovered(tmp_path, concurrency):
    api = FakeApi(450)
    move_to_front(api, "c00420", at_offset=200)
    out = tmp_path / "out.json"
    report = await export(api, tmp_path, out, concurrency=concurrency)
    exported = ids_in(out)
    assert sorted(exported) == [f"c{i:05d}" for i in range(450)]  # none lost, none twice
    assert report.verify_passes == 1 and report.recovered == 1
    assert "the data moved while paging" in report.summary()
    data = json.loads(out.read_text())
    assert data["total_exported"] == data["total_matched"] == 450


async def test_a_conversation_that_arrives_while_paging_is_recovered(tmp_path):
    api = FakeApi(300)

    def on_page(offset):
        if offset == 100 and len(api.rows) == 300:
            api.rows.insert(0, conversation(9999))
    api.on_page = on_page
    out = tmp_path / "out.jsonl"
    report = await export(api, tmp_path, out, fmt="jsonl", messages=True, concurrency=1)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(r["conversation_id"] for r in rows) == sorted(
        [f"c{i:05d}" for i in range(300)] + ["c09999"])
    assert all(r["messages"] for r in rows)  # the recovered one has its messages too
    assert report.total_matched == 301 and report.recovered == 1


async def test_data_that_keeps_moving_fails_without_publishing(tmp_path):
    api = FakeApi(300)
    turn = iter(range(10**6))

    def on_page(offset):
        if offset == 100:  # every listing: the last row jumps to the front
            next(turn)
            api.rows.insert(0, api.rows.pop())
    api.on_page = on_page
    out = tmp_path / "out.json"
    with pytest.raises(ExportError, match="kept changing while they were exported"):
        await export(api, tmp_path, out, concurrency=1)
    assert not out.exists()


# ---------------------------------------------------------------- damaged answers
async def test_malformed_list_page_is_asked_again(tmp_path):
    api = FakeApi(250)
    broken = {100}
    plain = api.handler

    def handler(request):
        offset = int(request.url.params.get("offset", -1))
        if request.method == "GET" and offset in broken:
            broken.discard(offset)
            return httpx.Response(200, content=b'{"conversations": [{"conv')
        return plain(request)
    api.handler = handler
    out = tmp_path / "out.json"
    report = await export(api, tmp_path, out, max_tries=3)
    assert report.complete
    assert out.read_bytes() == await reference(tmp_path, 250, "ref.json")


async def test_list_rows_without_their_id_are_asked_again(tmp_path):
    api = FakeApi(250)
    damaged = {100}
    plain = api._page

    def page(request):
        resp = plain(request)
        offset = int(request.url.params.get("offset", 0))
        if offset in damaged:
            damaged.discard(offset)
            body = json.loads(resp.content)
            for row in body["conversations"]:
                row.pop("conversation_id")
            return httpx.Response(200, json=body)
        return resp
    api._page = page
    out = tmp_path / "out.json"
    report = await export(api, tmp_path, out)
    assert report.complete and report.paging.reasked_pages == 1
    assert out.read_bytes() == await reference(tmp_path, 250, "ref.json")


# ---------------------------------------------------------------- resume
async def interrupted(api, tmp_path, out, after, **kw):
    async with api.client(tmp_path) as client:
        task = asyncio.create_task(run_export(
            client, ConversationQuery(), out, keep_partial=True, clock=lambda: FROZEN,
            retry_delay=0, progress=lambda p: task.cancel() if p.done >= after else None,
            **kw))
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_resume_lists_from_where_it_stopped(tmp_path):
    api = FakeApi(900)
    out = tmp_path / "out.json"
    await interrupted(api, tmp_path, out, 400, concurrency=1)
    consumed = json.loads((tmp_path / "out.json.state.json").read_text())["consumed"]
    api.requests.clear()
    report = await export(api, tmp_path, out, resume=True, concurrency=1)
    assert api.pages_requested()[0] == consumed - 1  # one row back, to check nothing moved
    assert min(api.pages_requested()) == consumed - 1
    assert report.complete and report.verify_passes == 0
    assert out.read_bytes() == await reference(tmp_path, 900, "ref.json")


@pytest.mark.parametrize("change", ["removed", "arrived"])
async def test_resume_after_the_data_changed_recovers(tmp_path, change):
    api = FakeApi(500)
    out = tmp_path / "out.jsonl"
    await interrupted(api, tmp_path, out, 200, fmt="jsonl", concurrency=1)
    expected = {r["conversation_id"] for r in api.rows}
    if change == "removed":  # already exported: the rows after it shift back by one
        api.rows.pop(5)
    else:  # a new one at the front: the rows shift on by one
        api.rows.insert(0, conversation(7777))
        expected.add("c07777")
    report = await export(api, tmp_path, out, fmt="jsonl", resume=True, keep_partial=True)
    exported = [json.loads(line)["conversation_id"] for line in out.read_text().splitlines()]
    assert len(exported) == len(set(exported))
    assert set(exported) == expected
    assert report.verify_passes == 1


async def test_a_page_damaged_every_time_stops_the_export_then_resume_finishes(tmp_path):
    api = FakeApi(350)
    plain = api._page
    api.damaged = True

    def page(request):
        resp = plain(request)
        if api.damaged and int(request.url.params.get("offset", 0)) == 200:
            body = json.loads(resp.content)
            body["conversations"][3] = {"no": "id"}
            return httpx.Response(200, json=body)
        return resp
    api._page = page
    out = tmp_path / "out.json"
    with pytest.raises(BadResponseError, match="without a conversation_id"):
        await export(api, tmp_path, out, keep_partial=True, concurrency=1)
    assert not out.exists()
    api.damaged = False
    report = await export(api, tmp_path, out, resume=True, keep_partial=True)
    assert report.complete and report.resumed_from == 200
    assert out.read_bytes() == await reference(tmp_path, 350, "ref.json")


# ---------------------------------------------------------------- review findings
async def test_resume_never_writes_the_last_row_twice_when_it_moved(tmp_path):
    """Sorted oldest first, the last row handled gets a new message while the export is
    stopped and moves to the end: it is not written a second time."""
    api = FakeApi(500)
    out = tmp_path / "out.jsonl"
    await interrupted(api, tmp_path, out, 200, fmt="jsonl", concurrency=1)
    consumed = json.loads((tmp_path / "out.jsonl.state.json").read_text())["consumed"]
    api.rows.append(api.rows.pop(consumed - 1))
    report = await export(api, tmp_path, out, fmt="jsonl", resume=True, keep_partial=True)
    exported = [json.loads(line)["conversation_id"] for line in out.read_text().splitlines()]
    assert len(exported) == len(set(exported)) == 500 == report.total_exported


def test_a_fresh_run_removes_an_old_state_before_writing(tmp_path):
    """Killed before its first checkpoint, a fresh run must not leave an older state file
    that a --resume would apply to the new partial (cutting it mid-row)."""
    from api.export import _Export, _State

    out = tmp_path / "out.json"
    (tmp_path / "out.json.state.json").write_text('{"version": 2, "done": "stale"}')
    export = _Export(out, "json", _State(options={}, exported_at="x"), resumed=False,
                     keep_partial=True)
    try:
        assert not (tmp_path / "out.json.state.json").exists()
    finally:
        export.fh.close()
        export.ids_fh.close()


async def test_a_fresh_run_does_not_throw_away_an_interrupted_export(tmp_path):
    api = FakeApi(300)
    out = tmp_path / "out.json"
    await interrupted(api, tmp_path, out, 150, concurrency=1)
    with pytest.raises(ExportError, match="interrupted export of .* is kept .*--resume"):
        await export(api, tmp_path, out)
    assert (tmp_path / "out.json.partial").exists()
    assert (await export(api, tmp_path, out, resume=True)).complete


async def test_lock_file_problems_are_one_line(tmp_path):
    (tmp_path / "out.json.lock").mkdir()
    with pytest.raises(ExportError, match=r"cannot write .*out\.json: cannot create out\.json\.lock"):
        await export(FakeApi(3), tmp_path, tmp_path / "out.json")


async def test_resuming_without_allow_partial_keeps_earlier_gaps_visible(tmp_path):
    api = DroppingApi(300, never=["c00010"])
    out = tmp_path / "out.json"
    async with api.client(tmp_path) as client:
        task = asyncio.create_task(run_export(
            client, ConversationQuery(), out, keep_partial=True, messages=True, concurrency=1,
            allow_partial=True, retry_delay=0,
            progress=lambda p: task.cancel() if p.done >= 100 else None))
        with pytest.raises(asyncio.CancelledError):
            await task
    with pytest.raises(ExportIncomplete, match="left 1 conversations incomplete") as info:
        await export(api, tmp_path, out, messages=True, resume=True, keep_partial=True)
    assert info.value.failed_ids == ["c00010"]
    report = await export(api, tmp_path, out, messages=True, resume=True, allow_partial=True)
    assert report.lacking_ids == ["c00010"]


async def test_a_cancel_during_publishing_reports_the_published_file(tmp_path, monkeypatch):
    import api.export as export_mod

    api = FakeApi(120)
    out = tmp_path / "out.json"
    started = asyncio.Event()
    cancelled = threading.Event()
    real = export_mod._Export.finish

    def slow_finish(self):
        loop.call_soon_threadsafe(started.set)
        cancelled.wait(10)  # publishing until the task has been cancelled
        return real(self)
    monkeypatch.setattr(export_mod._Export, "finish", slow_finish)
    loop = asyncio.get_running_loop()
    async with api.client(tmp_path) as client:
        task = asyncio.create_task(run_export(client, ConversationQuery(), out))
        await started.wait()
        task.cancel()
        cancelled.set()
        report = await task
    assert report.complete and out.exists() and len(ids_in(out)) == 120


def test_a_post_is_not_repeated_unless_it_is_a_read():
    from api.client import StudioClient
    from api.config import Settings

    sent = []

    def handler(request):
        sent.append(request)
        return httpx.Response(500, json={"detail": "boom"})
    settings = Settings(base_url="http://fake.test", project_id="p", token=None, profile=None,
                        demo=False, cache_dir=None, config_dir=None, data_dir=None)

    async def go():
        async with StudioClient(settings, transport=httpx.MockTransport(handler), max_tries=4,
                                backoff_base=0) as client:
            with pytest.raises(ServerError):
                await client.post("/projects/p/conversations/x/metrics/analyze")
    asyncio.run(go())
    assert len(sent) == 1
