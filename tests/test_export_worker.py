"""Export with a worker process (``run_export(worker=True)``, the command line's way): the
batch answers are decoded, merged and encoded in a second process; same bytes, same failures."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from fake_api import ReplayApi

import api.export as export_mod
from api.export import encode_batch, json_item, run_export
from api.query import ConversationQuery

QUERY = {"start_date": "2026-06-01", "end_date": "2026-06-08"}


def clock():
    return datetime(2026, 6, 15, 12, 0, 0, tzinfo=UTC)


async def _client(faults=None):
    from api.client import StudioClient
    from api.config import load_settings

    return StudioClient.from_settings(load_settings(), cache=False, demo_faults=faults,
                                      max_tries=1)


@pytest.fixture
def pools(monkeypatch):
    """The pools the exports started (to check the worker really ran)."""
    started = []
    real = export_mod._start_worker

    def spy(wanted):
        pool = real(wanted)
        if pool is not None:
            started.append(pool)
        return pool

    monkeypatch.setattr(export_mod, "_start_worker", spy)
    return started


async def test_worker_export_is_byte_identical(demo_db, tmp_path, pools):
    query = ConversationQuery.build(**QUERY)
    async with await _client() as client:
        here = await run_export(client, query, tmp_path / "here.json", "json", messages=True,
                                concurrency=4, clock=clock)
        assert not pools
        there = await run_export(client, query, tmp_path / "there.json", "json",
                                 messages=True, concurrency=4, clock=clock, worker=True)
    assert len(pools) == 1
    assert here.complete and there.complete and there.total_exported > 50
    assert (tmp_path / "there.json").read_bytes() == (tmp_path / "here.json").read_bytes()


async def test_worker_not_used_where_it_cannot_help(demo_db, tmp_path, pools):
    query = ConversationQuery.build(**QUERY)
    async with await _client() as client:
        await run_export(client, query, tmp_path / "a.csv", "csv", messages=True, worker=True)
        await run_export(client, query, tmp_path / "a.json", "json", worker=True)
    assert not pools


async def test_malformed_batch_answers_fail_those_ids_not_the_export(demo_db, tmp_path):
    from api.demo.faults import Faults

    faults = Faults(malformed_rate=1.0, path_contains="/batch", seed=3)
    query = ConversationQuery.build(**QUERY)
    async with await _client(faults) as client:
        report = await run_export(client, query, tmp_path / "x.json", "json", messages=True,
                                  allow_partial=True, retries=1, retry_delay=0.01,
                                  worker=True)
    assert report.complete and report.total_exported == 0
    assert len(report.failed_ids) == report.total_matched > 0
    assert "malformed JSON" in report.details.errors[0]
    assert json.loads((tmp_path / "x.json").read_text())["conversations"] == []


def test_encode_batch_merges_as_the_brief_and_rejects_bad_answers():
    rows = [{"conversation_id": "a", "x": 1.5}, {"conversation_id": "b", "x": None}]
    answer = {"conversations": [{"conversation_id": "a", "messages": [{"content": "é"}],
                                 "citations": [], "extra": True}, {"no_id": 1}]}
    ok, texts = encode_batch(json.dumps(answer).encode(), rows)
    assert ok and list(texts) == ["a"]
    assert texts["a"] == json_item({"conversation_id": "a", "x": 1.5,
                                    "messages": [{"content": "é"}], "citations": []}
                                   ).encode("utf-8")
    assert encode_batch(b'{"conversations": [', rows)[0] is False
    ok, reason = encode_batch(b'{"detail": "nope"}', rows)
    assert not ok and "no list of conversations" in reason



class _SurrogateApi(ReplayApi):
    """Answers sent with ``ensure_ascii`` (a lone surrogate as its ``\\ud800`` escape, which
    httpx's own encoder cannot send); the list rows carry the details' summaries."""

    def _page(self, request: httpx.Request) -> httpx.Response:
        limit = int(request.url.params.get("limit", 20))
        offset = int(request.url.params.get("offset", 0))
        rows = [{**row, "summary": self.details[row["conversation_id"]]["summary"]}
                for row in self.rows[offset:offset + limit]]
        return _ascii({"conversations": rows, "total": len(self.rows), "limit": limit,
                       "offset": offset})

    def _batch(self, body: dict) -> httpx.Response:
        ids = body["conversation_ids"]
        return _ascii({"conversations": [self.details[i] for i in ids if i in self.details]})


def _ascii(data: dict) -> httpx.Response:
    return httpx.Response(200, content=json.dumps(data).encode(),
                          headers={"content-type": "application/json"})


@pytest.mark.parametrize(("fmt", "worker"), [("json", False), ("json", True),
                                             ("jsonl", False), ("csv", False)])
async def test_lone_surrogate_is_written_as_its_escape(tmp_path, fmt, worker):
    """A lone surrogate escape is valid JSON but cannot be UTF-8 (the brief's script crashes
    on it): the export writes the escape back, so a JSON file reads as the same string."""
    text = "bad \ud800 end"
    recorded = [{"conversation_id": f"c{i}", "summary": "ok",
                 "messages": [{"role": "user", "content": text}], "citations": []}
                for i in range(3)]
    api = _SurrogateApi(recorded)
    api.details["c1"]["summary"] = text  # on the list page too
    out = tmp_path / f"x.{fmt}"
    async with api.client(tmp_path) as client:
        report = await run_export(client, ConversationQuery.build(**QUERY), out, fmt,
                                  messages=True, worker=worker, clock=clock)
    assert report.complete and report.total_exported == 3
    written = out.read_bytes().decode("utf-8")  # valid UTF-8
    if fmt == "json":
        convs = json.loads(written)["conversations"]
        assert [c["messages"][0]["content"] for c in convs] == [text] * 3
        assert convs[1]["summary"] == text
    elif fmt == "jsonl":
        assert [json.loads(line)["messages"][0]["content"]
                for line in written.splitlines()] == [text] * 3
    else:  # a safe CSV cell holds no lone surrogate (api.text.sanitize); --csv-raw keeps it
        assert "bad \ufffd end" in written


async def test_answer_missing_an_id_worker_or_not_same_file(tmp_path):
    """With --allow-partial, a row whose details never came back is written without them:
    with the worker, the batch then mixes encoded items and a row to encode here."""
    recorded = [{"conversation_id": f"c{i}", "summary": "ok é",
                 "messages": [{"role": "user", "content": "hi"}], "citations": []}
                for i in range(3)]
    api = ReplayApi(recorded)
    del api.details["c1"]
    files = {}
    for worker in (False, True):
        out = tmp_path / f"x-{worker}.json"
        async with api.client(tmp_path) as client:
            report = await run_export(client, ConversationQuery.build(**QUERY), out, "json",
                                      messages=True, worker=worker, clock=clock,
                                      allow_partial=True, retry_delay=0)
        assert report.complete and report.lacking_ids == ["c1"]
        files[worker] = out.read_bytes()
    assert files[True] == files[False]
    convs = json.loads(files[True])["conversations"]
    assert [c["conversation_id"] for c in convs] == ["c0", "c1", "c2"]
    assert "messages" not in convs[1] and convs[0]["messages"][0]["content"] == "hi"


def test_worker_runs_at_a_lower_priority():
    import os

    pool = export_mod._start_worker(True)
    assert pool is not None
    try:
        assert pool.submit(os.nice, 0).result(timeout=60) == os.nice(0) + 10
    finally:
        pool.shutdown(wait=True)
