"""studio-tui command line against the in-process demo backend (click's CliRunner)."""
from __future__ import annotations

import json
import stat

import pytest
from click.testing import CliRunner

from api.client import Result, StudioClient
from api.errors import ServerError
from api.export import run_export
from tui.cli import main

START, END = "2026-05-16", "2026-06-16"


@pytest.fixture
def run(demo_db):
    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


@pytest.fixture
def sent(monkeypatch):
    """Every request the client sends: (method, path, params dict, body)."""
    calls = []
    original = StudioClient._send

    async def recording(self, method, path, params, body):
        calls.append((method, path, dict(params), body))
        return await original(self, method, path, params, body)

    monkeypatch.setattr(StudioClient, "_send", recording)
    return calls


# ---------------------------------------------------------------- fetch
def test_fetch_prints_pretty_json_like_the_brief(run, sent):
    result = run("fetch", "/projects/{pid}/conversations", "--params", "limit=3",
                 "sentiment=negative", "sort_by=message_count", "--no-cache")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert result.stdout == json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    assert len(data["conversations"]) == 3
    assert {c["sentiment_label"] for c in data["conversations"]} == {"negative"}
    method, path, params, _ = sent[-1]
    assert method == "GET" and path.endswith("/conversations")
    assert params == {"limit": "3", "sentiment": "negative", "sort_by": "message_count"}


def test_fetch_to_file_is_owner_only_and_keeps_non_ascii(run, tmp_path):
    out = tmp_path / "analytics.json"
    result = run("fetch", "/projects/{pid}/conversations/analytics", "--params",
                 f"start_date={START}T00:00:00Z", f"end_date={END}T00:00:00Z", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_fetch_lone_surrogate_written_as_its_escape(run, tmp_path, monkeypatch):
    """Valid JSON from the API may decode to a lone surrogate, which UTF-8 cannot hold: the
    output carries its escape (the same string once parsed) instead of a traceback."""
    async def get_result(self, path, params=None):
        return Result({"summary": "a\ud800b", "name": "é"})

    monkeypatch.setattr(StudioClient, "get_result", get_result)
    result = run("fetch", "/projects/{pid}/conversations")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout_bytes.decode("utf-8")) == {"summary": "a\ud800b",
                                                               "name": "é"}
    out = tmp_path / "x.json"
    assert run("fetch", "/projects/{pid}/conversations", "-o", out).exit_code == 0
    assert json.loads(out.read_bytes().decode("utf-8"))["summary"] == "a\ud800b"


def test_fetch_post_batch(run, sent):
    listing = json.loads(run("fetch", "/projects/{pid}/conversations",
                             "--params", "limit=2").stdout)
    ids = [c["conversation_id"] for c in listing["conversations"]]
    result = run("fetch", "/projects/{pid}/conversations/batch", "-X", "POST", "--body",
                 json.dumps({"conversation_ids": ids}))
    assert result.exit_code == 0, result.stderr
    got = json.loads(result.stdout)["conversations"]
    assert [c["conversation_id"] for c in got] == ids and got[0]["messages"]
    assert sent[-1][0] == "POST" and sent[-1][3] == {"conversation_ids": ids}


def test_fetch_http_error_format_and_exit_code(run):
    result = run("fetch", "/projects/{pid}/conversations/no-such-conversation")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1].startswith("HTTP 404: ")


def test_fetch_validation_error_is_http_422(run):
    result = run("fetch", "/projects/{pid}/conversations", "--params", "start_date=soon")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("HTTP 422: ")


def test_unusable_token_is_one_line_without_the_token(tmp_path):
    env = {"STUDIO_API_TOKEN": "sbs_SECRET\u00e9123", "STUDIO_PROJECT_ID": "p1",
           "STUDIO_TUI_CONFIG_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["fetch", "/projects/p1"], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "API token" in lines[0] and "SECRET" not in lines[0]


@pytest.mark.parametrize(("args", "flag"), [
    (["--body", "{nope"], "--body"),
    (["--params", "novalue"], "--params"),
])
def test_fetch_bad_input_exit_2(run, args, flag):
    result = run("fetch", "/projects/{pid}/conversations", "-X", "POST", *args)
    assert result.exit_code == 2
    assert flag in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_fetch_connection_error_is_clear(run, monkeypatch):
    result = run("--token", "sbs_wrong", "--project-id", "p", "--api-url",
                 "http://127.0.0.1:9", "fetch", "/projects/p/conversations")
    assert result.exit_code == 1
    line = result.stderr.strip().splitlines()[-1]
    assert "cannot connect" in line and "sbs_wrong" not in result.stderr


# ---------------------------------------------------------------- export
FLAG_CASES = [
    (["--playbook-id", "pv-1"], "playbook_id", "pv-1"),
    (["--playbook-base-id", "pb-1"], "playbook_base_id", "pb-1"),
    (["--inbox-id", "in-1"], "inbox_id", "in-1"),
    (["--tags", "billing,refund"], "tags", "billing,refund"),
    (["--handoff", "true"], "has_handoff", "true"),
    (["--winback", "false"], "has_winback", "false"),
    (["--search", "12"], "search", "12"),
    (["--sentiment", "negative,neutral"], "sentiment", "negative,neutral"),
    (["--resources", "irrelevant"], "resources", "irrelevant"),
    (["--sentiment-shift", "degraded"], "sentiment_shift", "degraded"),
    (["--deflection-quality", "actioned,no_response"], "deflection_quality",
     "actioned,no_response"),
    (["--handoff-reason", "frustration"], "handoff_reason", "frustration"),
    (["--recontact-risk", "high"], "recontact_risk", "high"),
    (["--skill-name", "refund-process"], "skill_name", "refund-process"),
    (["--min-messages", "5"], "min_messages", "5"),
    (["--max-messages", "7"], "max_messages", "7"),
    (["--sort-by", "message_count"], "sort_by", "message_count"),
    (["--sort-order", "asc"], "sort_order", "asc"),
    (["--batch-size", "25"], "limit", "25"),
]


@pytest.mark.parametrize(("args", "param", "value"), FLAG_CASES)
def test_export_flags_reach_the_server(run, sent, tmp_path, args, param, value):
    out = tmp_path / "o.json"
    result = run("export", "--start", START, "--end", END, *args, "-o", out)
    assert result.exit_code == 0, result.stderr
    lists = [p for m, path, p, _ in sent if m == "GET" and path.endswith("/conversations")]
    assert lists and all(p[param] == value for p in lists)
    assert all(p["start_date"] == f"{START}T00:00:00Z" for p in lists)
    assert all(p["end_date"] == f"{END}T00:00:00Z" for p in lists)
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["total_exported"] == len(data["conversations"]) == data["total_matched"]


def test_export_filters_apply(run, tmp_path):
    out = tmp_path / "o.json"
    result = run("export", "--start", START, "--end", END, "--handoff", "true",
                 "--sentiment", "negative", "--min-messages", "4", "-o", out)
    assert result.exit_code == 0, result.stderr
    convs = json.loads(out.read_text(encoding="utf-8"))["conversations"]
    assert convs
    assert all(c["has_handoff"] and c["sentiment_label"] == "negative"
               and c["message_count"] >= 4 for c in convs)


@pytest.mark.parametrize(("args", "flag"), [
    (["--end", END], "--start"),
    (["--start", START], "--end"),
    (["--start", "2026-99-01", "--end", END], "--start"),
    (["--start", END, "--end", START], "--end"),
    (["--start", START, "--end", END, "--sentiment", "furious"], "--sentiment"),
    (["--start", START, "--end", END, "--handoff", "perhaps"], "--handoff"),
    (["--start", START, "--end", END, "--min-messages", "9", "--max-messages", "2"],
     "--min-messages"),
    (["--start", START, "--end", END, "--sort-by", "cost"], "--sort-by"),
    (["--start", START, "--end", END, "--batch-size", "500"], "Invalid value for '--batch-size'"),
    (["--start", START, "--end", END, "--format", "xml"], "Invalid value for '--format'"),
    (["--start", START, "--end", END, "--no-such-flag"], "No such option '--no-such-flag'"),
])
def test_export_bad_input_names_the_flag(run, tmp_path, args, flag):
    result = run("export", *args, "-o", tmp_path / "o.json")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"error: {flag}" in lines[0], lines
    assert not (tmp_path / "o.json").exists()


def test_export_formats_and_messages(run, tmp_path):
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"o.{fmt}"
        result = run("export", "--start", "2026-06-10", "--end", END, "--format", fmt,
                     "--messages", "-o", out)
        assert result.exit_code == 0, result.stderr
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    lines = (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines and all("messages" in json.loads(line) for line in lines)
    header = (tmp_path / "o.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("conversation_id,inbox_name,playbook_name")


def test_export_ids_from(run, tmp_path, sent):
    listing = json.loads(run("fetch", "/projects/{pid}/conversations",
                             "--params", "limit=3").stdout)
    ids = [c["conversation_id"] for c in listing["conversations"]]
    ids_file = tmp_path / "ids.txt"
    ids_file.write_text("\n".join(ids + ["ghost"]) + "\n", encoding="utf-8")
    out = tmp_path / "o.json"
    result = run("export", "--ids-from", ids_file, "--messages", "-o", out)
    assert result.exit_code == 1 and not out.exists()  # an id the API does not know
    assert "did not return 1 conversations" in result.stderr
    assert "missing conversation ids:\n  ghost" in result.stderr
    result = run("export", "--ids-from", ids_file, "--messages", "--allow-partial", "-o", out)
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [c["conversation_id"] for c in data["conversations"]] == ids
    assert data["total_matched"] == 4 and "1 ids not found" in result.stderr
    assert "not found by the API (--allow-partial):\n  ghost" in result.stderr


class FlakyBatches:
    """Batch calls whose first id is ``first_id`` fail with 503 ``budget`` times."""

    def __init__(self) -> None:
        self.first_id: str | None = None
        self.budget = 0


@pytest.fixture
def flaky(monkeypatch):
    state = FlakyBatches()
    original = StudioClient.post

    async def post(self, path, body=None, **kw):
        if path.endswith("/batch") and state.budget > 0 \
                and body["conversation_ids"][0] == state.first_id:
            state.budget -= 1
            raise ServerError("HTTP 503: busy", 503)
        return await original(self, path, body, **kw)

    monkeypatch.setattr(StudioClient, "post", post)
    monkeypatch.setitem(run_export.__kwdefaults__, "retry_delay", 0.0)
    return state


def _export_args(out, *extra):
    return ["export", "--start", "2026-06-01", "--end", END, "--messages", "--concurrency",
            "1", "-o", out, *extra]


def _without_stamp(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["exported_at"]
    return data


def test_failed_batch_lists_ids_then_resume_finishes(run, tmp_path, flaky):
    reference = tmp_path / "ref.json"
    assert run(*_export_args(reference)).exit_code == 0
    ids = [c["conversation_id"] for c in _without_stamp(reference)["conversations"]]
    assert len(ids) > 100
    flaky.first_id, flaky.budget = ids[50], 3  # one try + two retries: all fail
    out = tmp_path / "out.json"
    result = run(*_export_args(out))
    assert result.exit_code == 1
    assert "export incomplete" in result.stderr and "HTTP 503: busy" in result.stderr
    listed = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert listed == ids[50:100]
    assert not out.exists() and (tmp_path / "out.json.partial").exists()
    assert "--resume" in result.stderr
    result = run(*_export_args(out, "--resume"))
    assert result.exit_code == 0, result.stderr
    assert "resumed after 50" in result.stderr
    assert _without_stamp(out) == _without_stamp(reference)
    assert not (tmp_path / "out.json.partial").exists()


def test_allow_partial_exits_zero_and_lists_ids(run, tmp_path, flaky):
    out = tmp_path / "out.json"
    assert run(*_export_args(out, "--format", "jsonl")).exit_code == 0
    ids = [json.loads(line)["conversation_id"] for line in
           out.read_text(encoding="utf-8").splitlines()]
    flaky.first_id, flaky.budget = ids[0], 99
    result = run(*_export_args(out, "--allow-partial"))
    assert result.exit_code == 0, result.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["total_exported"] == len(ids) - 50 and data["total_matched"] == len(ids)
    listed = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert listed == ids[:50]


def test_cache_stats_clear_and_locate(run, tmp_path):
    run("fetch", "/projects/{pid}/playbooks")
    stats = run("cache", "stats")
    assert stats.exit_code == 0 and "entries:" in stats.stdout
    entries = int(stats.stdout.split("entries:")[1].split()[0])
    assert entries >= 1
    cleared = run("cache", "clear")
    assert cleared.exit_code == 0 and f"removed {entries} " in cleared.stdout
    assert "entries: 0" in run("cache", "stats").stdout
    located = run("locate")
    assert located.exit_code == 0
    assert "config file:" in located.stdout and "cache dir:" in located.stdout
    assert "DEMO" in located.stdout
    assert "demo database dir:" in located.stdout


def test_help_is_fast_to_import():
    import subprocess
    import sys

    code = ("import sys, tui.cli; heavy = [m for m in ('textual', 'httpx', 'api.client', "
            "'pydantic', 'starlette', 'asyncio', 'aiohttp', 'textual_serve') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


def _wait_for(condition, timeout=60.0):
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _default_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.long
@pytest.mark.parametrize(("fmt", "concurrency", "start"),
                         [("jsonl", "1", "2026-06-08"), ("json", "2", "2026-04-01")])
def test_ctrl_c_keeps_a_resumable_export(demo_db, tmp_path, fmt, concurrency, start):
    """A real process over loopback: SIGINT mid-export exits 130 with one line (no
    traceback of the generators it was paging with) and keeps the partial; --resume
    finishes it; the result equals an uninterrupted export."""
    import os
    import signal
    import subprocess
    import sys

    from api.demo.server import running_server

    out, ref = tmp_path / f"out.{fmt}", tmp_path / f"ref.{fmt}"
    args = ["export", "--start", start, "--end", END, "--messages", "--format",
            fmt, "--concurrency", concurrency]
    cmd = [sys.executable, "-c", "from tui.cli import main; main()", *args]
    with running_server(db_path=demo_db, latency_ms=100) as server:
        env = {**os.environ, "STUDIO_API_URL": server.url,
               "STUDIO_API_TOKEN": server.info.api_key,
               "STUDIO_PROJECT_ID": server.info.project_id}
        # a suite started as a background job passes SIGINT ignored to its children
        proc = subprocess.Popen([*cmd, "-o", str(out)], env=env, stderr=subprocess.PIPE,
                                text=True, preexec_fn=_default_sigint)
        state_file = tmp_path / f"out.{fmt}.state.json"
        _wait_for(lambda: state_file.exists() or proc.poll() is not None)
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 130, stderr
        assert "interrupted" in stderr and "--resume" in stderr
        assert "Traceback" not in stderr and "asynchronous generator" not in stderr, stderr
        assert not out.exists() and (tmp_path / f"out.{fmt}.partial").exists()
        state = json.loads(state_file.read_text())
        assert state["consumed"] > 0
        resumed = subprocess.run([*cmd, "-o", str(out), "--resume"], env=env,
                                 capture_output=True, text=True, timeout=300)
        assert resumed.returncode == 0, resumed.stderr
        assert f"resumed after {state['consumed']}" in resumed.stderr
        fresh = subprocess.run([*cmd, "-o", str(ref)], env=env, capture_output=True, text=True,
                               timeout=300)
        assert fresh.returncode == 0, fresh.stderr
    if fmt == "json":  # exported_at differs
        assert json.loads(out.read_text())["conversations"] == json.loads(
            ref.read_text())["conversations"]
    else:
        assert out.read_bytes() == ref.read_bytes()
    assert not (tmp_path / f"out.{fmt}.partial").exists()


def test_listed_ids_are_sanitized(capsys):
    from tui.cli import _echo_ids

    _echo_ids(["ok-1", "evil\x1b]0;pwned\x07\x1b[31mred\nline"])
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert err.splitlines() == ["  ok-1", "  evilred line"]
