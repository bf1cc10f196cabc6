"""Export: formats byte-compatible with the brief's script, atomic, owner-only, resumable."""
from __future__ import annotations

import asyncio
import csv
import json
import os
from pathlib import Path

import pytest
from fake_api import FakeApi, ReplayApi, clock, export, interrupted, mode
from hypothesis import given
from hypothesis import strategies as st

from api.errors import ServerError
from api.export import (
    CSV_COLUMNS,
    ExportError,
    ExportIncomplete,
    json_item,
    read_ids,
    run_export,
)
from api.query import ConversationQuery

EXPORTED_AT = "2026-06-15T12:00:00Z"


# ---------------------------------------------------------------- the brief's algorithm
def brief_json(path: Path, conversations: list, total: int | None) -> None:
    output = {
        "exported_at": EXPORTED_AT,
        "total_matched": total,
        "total_exported": len(conversations),
        "conversations": conversations,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(output, f, indent=2, ensure_ascii=False)


def brief_csv(path: Path, conversations: list) -> None:
    if not conversations:
        open(path, "w").close()
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for conv in conversations:
            row = {}
            for key in CSV_COLUMNS:
                value = conv.get(key)
                if isinstance(value, list):
                    value = ", ".join(str(v) for v in value)
                elif isinstance(value, bool):
                    value = str(value).lower()
                elif value is None:
                    value = ""
                row[key] = value
            writer.writerow(row)


def brief_jsonl(path: Path, conversations: list) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for conv in conversations:
            f.write(json.dumps(conv, ensure_ascii=False) + "\n")


BRIEF_WRITERS = {
    "json": brief_json,
    "csv": lambda path, convs, total: brief_csv(path, convs),
    "jsonl": lambda path, convs, total: brief_jsonl(path, convs),
}


def with_details(api: FakeApi, rows: list) -> list:
    out = []
    for row in rows:
        batch = api._batch({"conversation_ids": [row["conversation_id"]]}).json()
        detail = batch["conversations"][0]
        merged = dict(row)
        merged["messages"] = detail.get("messages", [])
        merged["citations"] = detail.get("citations", [])
        out.append(merged)
    return out


# ---------------------------------------------------------------- formats
@pytest.mark.parametrize("n", [0, 1, 237])
@pytest.mark.parametrize("messages", [False, True])
async def test_json_is_byte_identical_to_the_brief(tmp_path, n, messages):
    api = FakeApi(n)
    out = tmp_path / "out.json"
    report = await export(api, tmp_path, out, fmt="json", messages=messages, concurrency=3)
    expected = tmp_path / "expected.json"
    rows = with_details(api, api.rows) if messages else api.rows
    brief_json(expected, rows, n)
    assert out.read_bytes() == expected.read_bytes()
    assert report.complete and report.total_exported == n and report.total_matched == n
    assert mode(out) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == ["out.json"]


@pytest.mark.parametrize("n", [0, 1, 237])
async def test_csv_is_byte_identical_to_the_brief(tmp_path, n):
    api = FakeApi(n)
    out = tmp_path / "out.csv"
    await export(api, tmp_path, out, fmt="csv", messages=True, csv_raw=True)
    expected = tmp_path / "expected.csv"
    brief_csv(expected, api.rows)
    assert out.read_bytes() == expected.read_bytes()
    assert mode(out) == 0o600
    if n:
        first = out.read_text(encoding="utf-8").splitlines()[1]
        assert "{'id': 'pb-1', 'name': 'Helper ✨', 'version': 2}" in first


async def test_jsonl_one_conversation_per_line(tmp_path):
    api = FakeApi(120)
    out = tmp_path / "out.jsonl"
    await export(api, tmp_path, out, fmt="jsonl", messages=True)
    expected = tmp_path / "expected.jsonl"
    brief_jsonl(expected, with_details(api, api.rows))
    assert out.read_bytes() == expected.read_bytes()
    assert len(out.read_text(encoding="utf-8").splitlines()) == 120


async def test_query_reaches_the_server_and_progress_is_reported(tmp_path):
    api = FakeApi(250)
    seen = []
    q = ConversationQuery.build(start_date="2026-06-01", end_date="2026-06-15",
                                recontact_risk="high")
    await export(api, tmp_path, tmp_path / "o.json", query=q, progress=seen.append,
                 page_size=50)
    assert {r.url.params["recontact_risk"] for r in api.requests} == {"high"}
    assert {r.url.params["limit"] for r in api.requests} == {"50"}
    assert seen[-1].done == seen[-1].written == 250 and seen[-1].total == 250
    assert [p.done for p in seen] == sorted(p.done for p in seen)


# ---------------------------------------------------------------- failures
async def test_failure_midway_leaves_no_file(tmp_path):
    api = FakeApi(500)
    original = api._page

    def fail_late(request):
        if request.url.params["offset"] == "300":
            return type(original(request))(500, json={"detail": "db down"})
        return original(request)

    api._page = fail_late
    out = tmp_path / "out.json"
    with pytest.raises(ServerError, match="db down"):
        await export(api, tmp_path, out, concurrency=1)
    assert list(tmp_path.glob("out*")) == [] and list(tmp_path.glob(".out*")) == []


async def test_failed_batch_is_retried_then_listed(tmp_path):
    api = FakeApi(200)
    api.batch_failures["c00000"] = 1  # fails once, retried successfully
    api.batch_failures["c00100"] = 99  # fails every time
    out = tmp_path / "out.json"
    with pytest.raises(ExportIncomplete) as info:
        await export(api, tmp_path, out, messages=True, concurrency=2)
    assert info.value.failed_ids == [f"c{i:05d}" for i in range(100, 150)]
    assert "boom" in str(info.value) and "\n" not in str(info.value)
    assert info.value.report.details.retries == 1 + 2
    assert not out.exists() and list(tmp_path.glob("out*")) == []


async def test_allow_partial_skips_failed_conversations(tmp_path):
    api = FakeApi(200)
    api.batch_failures["c00100"] = 99
    out = tmp_path / "out.json"
    report = await export(api, tmp_path, out, messages=True, allow_partial=True)
    assert report.failed_ids == [f"c{i:05d}" for i in range(100, 150)]
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["total_matched"] == 200 and data["total_exported"] == 150
    ids = [c["conversation_id"] for c in data["conversations"]]
    assert "c00100" not in ids and ids[-1] == "c00199"
    assert all(c["messages"] for c in data["conversations"])


async def test_unwritable_target_fails_before_any_request(tmp_path):
    api = FakeApi(10)
    with pytest.raises(ExportError, match="does not exist"):
        await export(api, tmp_path, tmp_path / "nope" / "out.json")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # running as root: permissions are not enforced
        pytest.skip("root ignores directory permissions")
    with pytest.raises(ExportError, match="no permission"):
        await export(api, tmp_path, locked / "out.json")
    assert api.requests == []


async def test_cancellation_removes_the_partial(tmp_path):
    api = FakeApi(1000)
    out = tmp_path / "out.csv"

    async def run():
        async with api.client(tmp_path) as client:
            task = asyncio.current_task()
            await run_export(client, ConversationQuery(), out, fmt="csv",
                             progress=lambda p: task.cancel() if p.done >= 300 else None)

    with pytest.raises(asyncio.CancelledError):
        await run()
    assert list(tmp_path.glob("out*")) == []


# ---------------------------------------------------------------- resume
@pytest.mark.parametrize("fmt", ["json", "csv", "jsonl"])
async def test_resume_after_interruption_gives_the_same_file(tmp_path, fmt):
    api = FakeApi(730)
    out = tmp_path / f"out.{fmt}"
    await interrupted(api, tmp_path, out, 300, fmt=fmt, messages=True)
    assert not out.exists()
    partial = tmp_path / f"out.{fmt}.partial"
    state_file = tmp_path / f"out.{fmt}.state.json"
    assert mode(partial) == 0o600 and mode(state_file) == 0o600
    state = json.loads(state_file.read_text())
    assert 300 <= state["consumed"] < 730
    with open(partial, "a", encoding="utf-8") as f:
        f.write("half a row that was never checkpointed")
    api.requests.clear()
    report = await export(api, tmp_path, out, fmt=fmt, messages=True, resume=True,
                          keep_partial=True)
    assert report.resumed_from == state["consumed"]
    batches = [r for r in api.requests if r.method == "POST"]
    assert len(batches) == -(-(730 - state["consumed"]) // 50)  # only the rest was fetched
    reference = tmp_path / f"ref.{fmt}"
    await export(FakeApi(730), tmp_path, reference, fmt=fmt, messages=True)
    assert out.read_bytes() == reference.read_bytes()
    assert not partial.exists() and not state_file.exists()


async def test_resume_refuses_other_options(tmp_path):
    api = FakeApi(500)
    out = tmp_path / "out.jsonl"
    await interrupted(api, tmp_path, out, 200, fmt="jsonl")
    with pytest.raises(ExportError, match="other options"):
        await export(api, tmp_path, out, fmt="jsonl", messages=True, resume=True)


async def test_resume_without_state_starts_afresh(tmp_path):
    api = FakeApi(30)
    out = tmp_path / "out.json"
    report = await export(api, tmp_path, out, resume=True)
    assert report.complete and report.resumed_from == 0 and report.total_exported == 30


async def test_failed_batch_keeps_a_resumable_partial(tmp_path):
    api = FakeApi(300)
    api.batch_failures["c00150"] = 3  # 1 try + 2 retries fail; the next run succeeds
    out = tmp_path / "out.json"
    with pytest.raises(ExportIncomplete):
        await export(api, tmp_path, out, messages=True, keep_partial=True, concurrency=1)
    state = json.loads((tmp_path / "out.json.state.json").read_text())
    assert state["consumed"] == 150
    await export(api, tmp_path, out, messages=True, keep_partial=True, resume=True)
    reference = tmp_path / "ref.json"
    await export(FakeApi(300), tmp_path, reference, messages=True)
    assert out.read_bytes() == reference.read_bytes()


# ---------------------------------------------------------------- ids
async def test_ids_export_uses_the_batch_endpoint(tmp_path):
    api = FakeApi(120)
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("# wanted\nc00003\n\nc00100\nc00003\nghost\n", encoding="utf-8")
    ids = read_ids(ids_file)
    assert ids == ["c00003", "c00100", "ghost"]
    out = tmp_path / "out.json"
    with pytest.raises(ExportIncomplete) as info:  # an id the API does not know
        await export(api, tmp_path, out, ids=ids)
    assert info.value.failed_ids == ["ghost"] and not out.exists()
    report = await export(api, tmp_path, out, ids=ids, allow_partial=True)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [c["conversation_id"] for c in data["conversations"]] == ["c00003", "c00100"]
    assert "messages" not in data["conversations"][0]
    assert data["total_matched"] == 3 and report.missing_ids == ["ghost"]
    assert all(r.method == "POST" for r in api.requests)


def test_read_ids_from_json_and_errors(tmp_path):
    f = tmp_path / "a.json"
    f.write_text(json.dumps({"conversations": [{"conversation_id": "x"}, {"other": 1}]}))
    assert read_ids(f) == ["x"]
    f.write_text('["a", "b", "a"]')
    assert read_ids(f) == ["a", "b"]
    f.write_text("{oops")
    with pytest.raises(ExportError, match="malformed JSON"):
        read_ids(f)
    with pytest.raises(ExportError, match="cannot read ids"):
        read_ids(tmp_path / "missing.txt")


# ---------------------------------------------------------------- golden files (pinned demo)
GOLDEN = Path(__file__).parent / "golden"
GOLDEN_QUERY = {"start_date": "2026-06-14", "end_date": "2026-06-15", "max_messages": 4}


async def brief_fetch_all(client, params: dict, messages: bool) -> tuple[list, int]:
    """The brief's export algorithm: pages of 100 with ``offset += limit`` until a short
    page, then batches of 50 ids one after another, everything in memory."""
    path = f"/projects/{client.project_id}/conversations"
    conversations, offset = [], 0
    while True:
        page = await client.get(path, {**params, "limit": 100, "offset": offset}, cache=False)
        conversations += page["conversations"]
        if len(page["conversations"]) < 100:
            break
        offset += 100
    if messages:
        for i in range(0, len(conversations), 50):
            chunk = conversations[i:i + 50]
            answer = await client.post(f"{path}/batch", {
                "conversation_ids": [c["conversation_id"] for c in chunk]})
            details = {d["conversation_id"]: d for d in answer["conversations"]}
            for conv in chunk:
                detail = details.get(conv["conversation_id"])
                if detail:
                    conv["messages"] = detail.get("messages", [])
                    conv["citations"] = detail.get("citations", [])
    return conversations, page["total"]


@pytest.fixture
async def demo_client(demo_db):
    from api.client import StudioClient
    from api.config import load_settings

    async with StudioClient.from_settings(load_settings(), cache=False) as client:
        yield client


@pytest.mark.parametrize("fmt", ["json", "csv", "jsonl"])
async def test_pinned_demo_export_matches_the_brief(demo_client, tmp_path, fmt):
    query = ConversationQuery.build(**GOLDEN_QUERY)
    out = tmp_path / f"golden.{fmt}"
    report = await run_export(demo_client, query, out, fmt, messages=True, concurrency=4,
                              page_size=5, clock=clock, csv_raw=True)  # the brief's cells
    assert report.complete and not report.drift and report.total_exported > 10
    conversations, total = await brief_fetch_all(demo_client, query.to_params(), True)
    expected = tmp_path / f"brief.{fmt}"
    BRIEF_WRITERS[fmt](expected, conversations, total)
    assert out.read_bytes() == expected.read_bytes()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        (GOLDEN / "source.json").write_text(
            json.dumps(conversations, indent=1, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("fmt", ["json", "csv", "jsonl"])
async def test_golden_files(tmp_path, fmt):
    """Conversations recorded once from the pinned demo (tests/golden/source.json, refreshed
    with UPDATE_GOLDEN=1) exported through a replaying API: the bytes never change unless
    the writers do."""
    recorded = json.loads((GOLDEN / "source.json").read_text(encoding="utf-8"))
    api = ReplayApi(recorded)
    out = tmp_path / f"export.{fmt}"
    await export(api, tmp_path, out, fmt=fmt, messages=True, page_size=5, csv_raw=True)
    expected = tmp_path / f"brief.{fmt}"
    BRIEF_WRITERS[fmt](expected, recorded, len(recorded))
    assert out.read_bytes() == expected.read_bytes()
    golden = GOLDEN / f"export.{fmt}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_bytes(out.read_bytes())
    assert out.read_bytes() == golden.read_bytes(), f"{golden} differs from this export"


# ---------------------------------------------------------------- the fast JSON encoder
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=30,
)


@given(_json_values)
def test_json_item_matches_the_stdlib_indent_encoder(value):
    nested = json.dumps({"conversations": [value]}, indent=2, ensure_ascii=False)
    assert nested.split("\n", 2)[2].rsplit("\n", 2)[0] == json_item(value)


def test_json_item_keys_and_errors():
    value = {1: "a", 2.5: None, False: [], None: {}, "é\n\x1b": [1.0, -0.0, float("inf")]}
    nested = json.dumps({"conversations": [value]}, indent=2, ensure_ascii=False)
    assert nested.split("\n", 2)[2].rsplit("\n", 2)[0] == json_item(value)
    with pytest.raises(TypeError):
        json_item({"x": object()})
