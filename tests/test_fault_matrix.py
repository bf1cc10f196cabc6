"""The injected-fault matrix: exports over loopback against the demo server, each fault in
turn. Every export either is byte-identical to the fault-free one (apart from
``exported_at``) or fails naming what is missing — never a file that looks complete and is
not."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from api.client import StudioClient
from api.config import Secret, load_settings
from api.demo import demo_info
from api.demo.faults import Faults
from api.demo.server import running_server
from api.export import ExportError, ExportIncomplete, run_export
from api.query import ConversationQuery

QUERY = {"start_date": "2026-05-27", "end_date": "2026-06-15"}
FROZEN = datetime(2026, 6, 15, 12, 0, 0, tzinfo=UTC)

MATRIX = {
    "none": {},
    "latency": {"latency_ms": 20, "jitter_ms": 30},
    "errors 10%": {"error_rate": 0.1},
    "errors 30%": {"error_rate": 0.3},
    "429 + Retry-After": {"rate_limit_rate": 0.1, "retry_after_s": 1},
    "hang": {"hang_rate": 0.1, "hang_s": 3},
    "malformed JSON": {"malformed_rate": 0.1},
    "id dropped from batch answers": {"drop_field": "conversation_id",
                                      "path_contains": "/batch", "drop_rate": 0.3},
    "id dropped from list and batch answers": {"drop_field": "conversation_id",
                                               "path_contains": "/conversations",
                                               "drop_rate": 0.2},
    "messages dropped from batch answers": {"drop_field": "messages",
                                            "path_contains": "/batch", "drop_rate": 0.3},
    "all at once": {"error_rate": 0.1, "rate_limit_rate": 0.05, "retry_after_s": 1,
                    "malformed_rate": 0.05, "drop_field": "conversation_id",
                    "drop_rate": 0.1, "latency_ms": 10},
}


@pytest.fixture(scope="module")
def server(demo_db):
    with running_server(db_path=demo_db) as running:
        yield running


def client_for(server, demo_db) -> StudioClient:
    info = demo_info(demo_db, server.url)
    settings = load_settings(env={"STUDIO_TUI_CONFIG_DIR": "/nonexistent"})
    # a short read timeout: a hung request is abandoned and asked again
    return StudioClient(settings, base_url=server.url, project_id=info.project_id,
                        token=Secret(info.api_key), max_tries=6, backoff_base=0.02,
                        read_timeout=0.5, concurrency=8)


async def export(server, demo_db, out, fmt, resume=False):
    async with client_for(server, demo_db) as client:
        return await run_export(client, ConversationQuery.build(**QUERY), out, fmt,
                                messages=True, concurrency=8, clock=lambda: FROZEN,
                                retry_delay=0.02, keep_partial=True, resume=resume)


@pytest.fixture(scope="module")
def references(server, demo_db, tmp_path_factory):
    import asyncio

    server.app.state.faults = None
    folder = tmp_path_factory.mktemp("reference")
    files = {}
    for fmt in ("json", "jsonl", "csv"):
        asyncio.run(export(server, demo_db, folder / f"ref.{fmt}", fmt))
        files[fmt] = (folder / f"ref.{fmt}").read_bytes()
    return files


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
@pytest.mark.parametrize("name", list(MATRIX))
async def test_fault_matrix(server, demo_db, references, tmp_path, name, fmt):
    server.app.state.faults = Faults(seed=11, **MATRIX[name])
    out = tmp_path / f"out.{fmt}"
    runs, outcome = 0, None
    try:
        while runs < 4:  # one export, then up to three --resume runs
            runs += 1
            try:
                report = await export(server, demo_db, out, fmt, resume=runs > 1)
            except (ExportError, ExportIncomplete) as exc:
                outcome = exc
                continue
            except Exception as exc:  # the API gave up (retries spent): resume
                outcome = exc
                continue
            outcome = report
            break
    finally:
        injected = server.app.state.faults.injected
        server.app.state.faults = None
    assert outcome is not None and not isinstance(outcome, BaseException), (
        f"{name}: not complete after {runs} runs: {outcome}")
    assert outcome.complete and not outcome.partial
    assert out.read_bytes() == references[fmt], name
    if name != "none" and "latency" not in name:
        assert injected > 0
    if name in ("errors 10%", "429 + Retry-After", "malformed JSON"):
        assert runs == 1, f"{name}: a single export should ride it out"


async def test_details_that_never_come_back_fail_naming_them(server, demo_db, tmp_path):
    server.app.state.faults = Faults(drop_field="messages", path_contains="/batch",
                                     drop_rate=1.0)
    out = tmp_path / "out.json"
    try:
        with pytest.raises(ExportIncomplete) as info:
            await export(server, demo_db, out, "json")
    finally:
        server.app.state.faults = None
    assert len(info.value.failed_ids) == 50 and not out.exists()
    # the first chunk failed: nothing to resume, so nothing is kept
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    report = await export(server, demo_db, out, "json", resume=True)
    assert report.complete and not report.partial


def test_two_processes_exporting_to_the_same_file(server, demo_db, tmp_path):
    """The second export to the same -o fails at once naming the first, touches none of
    its files, and the first publishes a complete file that agrees with its header."""
    import os
    import subprocess
    import sys
    import time

    info = demo_info(demo_db, server.url)
    env = {**os.environ, "STUDIO_API_URL": server.url, "STUDIO_API_TOKEN": info.api_key,
           "STUDIO_PROJECT_ID": info.project_id}
    out = tmp_path / "same.json"
    cmd = [sys.executable, "-c", "from tui.cli import main; main()", "export", "--start",
           QUERY["start_date"], "--end", QUERY["end_date"], "--messages", "--concurrency", "2",
           "-o", str(out)]
    server.app.state.faults = Faults(latency_ms=150)
    try:
        first = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not (tmp_path / "same.json.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        _, first_err = first.communicate(timeout=120)
    finally:
        server.app.state.faults = None
    assert second.returncode == 1
    lines = [line for line in second.stderr.splitlines() if "demo" not in line]
    assert len(lines) == 1 and "another export is writing" in lines[0]
    assert f"pid {first.pid}" in lines[0] and "--resume" not in lines[0]
    assert first.returncode == 0, first_err
    data = json.loads(out.read_text())
    assert data["total_exported"] == len(data["conversations"]) == data["total_matched"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.json"]
