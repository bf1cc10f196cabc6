"""Every CLI failure is one clear line naming what the user typed, never a traceback
(issue 10): exit 2 for bad input, 1 for API failures. Runs on the pinned in-process demo."""
from __future__ import annotations

import asyncio
import json
import unicodedata

import httpx
import pytest
from click.testing import CliRunner
from conftest import DEMO_ANCHOR, DEMO_SEED, DEMO_SIZE

from api.cache import CacheEntry, ResponseCache
from api.client import Result, StudioClient
from api.demo import demo_transport
from api.errors import AuthError, ServerError, UnreachableError
from tui import cli
from tui.cli import main

START, END = "2026-05-16", "2026-06-16"
DEMO_NOTE = "studio-tui: no API token set"
INT64_MAX = 2**63 - 1


@pytest.fixture
def run(demo_db):
    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def problem_lines(result) -> list[str]:
    """stderr without the demo backend's note."""
    return [line for line in result.stderr.splitlines() if not line.startswith(DEMO_NOTE)]


def one_error(result, code: int) -> str:
    assert result.exit_code == code, result.stderr
    lines = problem_lines(result)
    assert len(lines) == 1, lines
    assert "Traceback" not in result.stderr
    return lines[0]


# ---------------------------------------------------------------- 1. no tracebacks
@pytest.mark.parametrize("char", ["\x01", "\n", "\x7f", "\x9b"])
def test_fetch_control_character_in_path(run, char):
    line = one_error(run("fetch", f"/projects/{{pid}}/conv{char}"), 2)
    assert line.startswith("studio-tui: error: PATH") and "control character" in line
    assert f"U+{ord(char):04X}" in line
    assert "conv" in line and char not in line  # the path is shown, its control escaped


def test_fetch_huge_path(run):
    line = one_error(run("fetch", "/projects/{pid}/" + "a" * 65536), 2)
    assert line.startswith("studio-tui: error: PATH") and "too long" in line
    assert len(line) < 300


def test_fetch_url_too_long_from_params(run):
    line = one_error(run("fetch", "/projects/{pid}/conversations", "--params",
                         "search=" + "a" * 70000), 2)
    assert line.startswith("studio-tui: error: --params: ") and "too long" in line
    assert len(line) < 400


def test_export_huge_integer_is_bad_input(run, tmp_path):
    out = tmp_path / "x.json"
    line = one_error(run("export", "--start", "2026-06-01", "--end", "2026-06-15",
                         "--min-messages", "99999999999999999999999", "-o", out), 2)
    assert line.startswith("studio-tui: error: --min-messages: ")
    assert "99999999999999999999999" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("param", "value", "bound"), [
    ("min_messages", "99999999999999999999999", f"less than or equal to {INT64_MAX}"),
    ("offset", str(2**63), f"less than or equal to {INT64_MAX}"),
    ("max_messages", str(-2**70), "greater than or equal to 0"),
])
def test_demo_answers_422_for_integers_beyond_64_bits(run, param, value, bound):
    line = one_error(run("fetch", "/projects/{pid}/conversations", "--no-cache",
                         "--params", f"{param}={value}"), 1)
    assert line.startswith(f"HTTP 422: {param}: Input should be {bound}"), line


def test_demo_422_body_shape(demo_db):
    transport, info = demo_transport(size=DEMO_SIZE, seed=DEMO_SEED, anchor=DEMO_ANCHOR)

    async def get():
        async with httpx.AsyncClient(transport=transport, base_url=info.base_url,
                                     headers={"X-API-Key": info.api_key}) as http:
            return await http.get(f"/projects/{info.project_id}/conversations",
                                  params={"offset": "1" + "0" * 30})

    resp = asyncio.run(get())
    assert resp.status_code == 422
    assert resp.json() == {"detail": [{
        "type": "less_than_equal", "loc": ["query", "offset"],
        "msg": f"Input should be less than or equal to {INT64_MAX}", "input": "1" + "0" * 30}]}


# ---------------------------------------------------------------- 2. stale answers
@pytest.fixture
def stale_cache(monkeypatch):
    """A cached answer 3 minutes old and stale for every GET; the API down."""
    state = {"error": UnreachableError("cannot connect to GET http://x/p: refused", "connect")}

    def lookup(self, key, path):
        return CacheEntry({"cached": "yes"}, 0.0, 180.0, True)

    async def request(self, method, path, params=None, body=None, **kw):
        if self.settings.offline:
            raise UnreachableError(f"offline mode: {method} {path} not sent", "offline")
        raise state["error"]

    monkeypatch.setattr(ResponseCache, "lookup", lookup)
    monkeypatch.setattr(StudioClient, "request", request)
    return state


def test_fetch_fails_instead_of_serving_a_stale_answer(run, stale_cache):
    result = run("fetch", "/projects/{pid}/conversations/analytics")
    line = one_error(result, 1)
    assert result.stdout == ""
    assert line.startswith("studio-tui: error: ") and "cannot connect" in line
    assert "3 min" in line and "--stale-ok" in line


def test_fetch_server_error_names_the_status(run, stale_cache):
    stale_cache["error"] = ServerError("HTTP 503: busy (GET /p)", 503)
    line = one_error(run("fetch", "/projects/{pid}/conversations/analytics"), 1)
    assert "HTTP 503: busy" in line and "--stale-ok" in line


@pytest.mark.parametrize(("args", "reason"), [
    (["fetch", "/projects/{pid}/conversations/analytics", "--stale-ok"], "API unreachable"),
    (["--offline", "fetch", "/projects/{pid}/conversations/analytics"], "offline mode"),
])
def test_stale_answer_with_a_warning(run, stale_cache, args, reason):
    result = run(*args)
    line = one_error(result, 0)
    assert json.loads(result.stdout) == {"cached": "yes"}
    assert line.startswith(f"studio-tui: warning: {reason}")
    assert line.endswith("showing the cached answer from 3 min ago")


def test_stale_ok_still_fails_with_nothing_cached(run, monkeypatch):
    async def request(self, method, path, params=None, body=None, **kw):
        raise UnreachableError("cannot connect to GET http://x/p: refused", "connect")

    monkeypatch.setattr(StudioClient, "request", request)
    line = one_error(run("fetch", "/projects/{pid}/no-such-thing-cached", "--stale-ok"), 1)
    assert "cannot connect" in line


@pytest.mark.parametrize(("seconds", "text"), [
    (0.4, "0 s"), (45, "45 s"), (180, "3 min"), (7200, "2 h"), (3 * 86400, "3 days"),
    (86400, "1 day"),
])
def test_age_text(seconds, text):
    assert cli._age(seconds) == text


# ---------------------------------------------------------------- 3. messages
@pytest.mark.parametrize(("args", "expected"), [
    (["--min-messages", "5", "--max-messages", "2"],
     "error: --min-messages: must not exceed --max-messages"),
    (["--start", END, "--end", START], "error: --end: must be after --start"),
    # a value that happens to be a field name is shown as typed
    (["--sort-by", "has_handoff"], "error: --sort-by: unknown value 'has_handoff'"),
    (["--sentiment", "start_date"], "error: --sentiment: unknown value 'start_date'"),
])
def test_export_messages_name_the_flags(run, tmp_path, args, expected):
    dates = [] if "--start" in args else ["--start", START, "--end", END]
    line = one_error(run("export", *dates, *args, "-o", tmp_path / "o.json"), 2)
    assert expected in line, line
    assert "max_messages" not in line and "start_date'" not in line.replace(expected, "")


@pytest.mark.parametrize(("dates", "expected"), [
    ([], "error: --start and --end are required (YYYY-MM-DD or ISO 8601)"),
    (["--start", START], "error: --end is required (YYYY-MM-DD or ISO 8601)"),
    (["--end", END], "error: --start is required (YYYY-MM-DD or ISO 8601)"),
])
def test_export_names_every_missing_date_at_once(run, tmp_path, dates, expected):
    """One run tells what is missing: not --start first, then --end on the next try."""
    out = tmp_path / "o.json"
    assert one_error(run("export", *dates, "-o", out), 2) == f"studio-tui: {expected}"
    assert not out.exists()


def test_demo_server_non_loopback_host(run):
    line = one_error(run("demo-server", "--host", "0.0.0.0"), 2)
    assert "force" not in line and "loopback" in line
    assert "0.0.0.0" in line


def test_fetch_body_on_get_is_an_error(run, sent_nothing):
    line = one_error(run("fetch", "/projects/{pid}/conversations", "--body", "{}"), 2)
    assert line.startswith("studio-tui: error: --body") and "POST" in line
    assert sent_nothing == []


@pytest.fixture
def sent_nothing(monkeypatch):
    calls = []
    original = StudioClient._send

    async def recording(self, method, path, params, body):
        calls.append((method, path))
        return await original(self, method, path, params, body)

    monkeypatch.setattr(StudioClient, "_send", recording)
    return calls


def _export(run, out, *extra):
    return run(*extra, "export", "--start", START, "--end", END, "--concurrency", "1",
               "--batch-size", "10", "-o", out)


def test_no_resume_hint_after_a_401_on_the_first_request(run, tmp_path, monkeypatch):
    async def request(self, method, path, params=None, body=None, **kw):
        raise AuthError("HTTP 401: not authenticated: check the API token (GET /p)", 401)

    monkeypatch.setattr(StudioClient, "request", request)
    out = tmp_path / "o.json"
    line = one_error(_export(run, out), 1)
    assert "HTTP 401" in line and "--resume" not in line
    assert list(tmp_path.iterdir()) == []  # nothing written: no partial kept


def test_no_resume_hint_offline(run, tmp_path):
    out = tmp_path / "o.json"
    line = one_error(_export(run, out, "--offline"), 1)
    assert "offline" in line and "--resume" not in line
    assert list(tmp_path.iterdir()) == []


def test_resume_hint_when_rows_were_written(run, tmp_path, monkeypatch):
    original = StudioClient.request
    calls = {"n": 0}

    async def request(self, method, path, params=None, body=None, **kw):
        calls["n"] += 1
        if calls["n"] > 1:
            raise AuthError("HTTP 401: not authenticated (GET /p)", 401)
        return await original(self, method, path, params, body, **kw)

    monkeypatch.setattr(StudioClient, "request", request)
    out = tmp_path / "o.json"
    result = _export(run, out)
    assert result.exit_code == 1
    line = problem_lines(result)[-1]  # after the progress lines
    assert "HTTP 401" in line and "continue with --resume" in line
    assert (tmp_path / "o.json.partial").stat().st_size > 0


# ---------------------------------------------------------------- 4. terminal output
def test_terminal_escapes_keep_json_meaning():
    value = {"k\u202e": "a\x9b31mb\u202ec\u2066d\u200fe\u200df\x7fg\u2028h\U000e0041 é 日本"}
    text = json.dumps(value, indent=2, ensure_ascii=False)
    shown = cli.json_for_terminal(text)
    assert json.loads(shown) == value
    for escape in ("\\u009b", "\\u202e", "\\u2066", "\\u200f", "\\u007f", "\\u2028",
                   "\\udb40\\udc41"):
        assert escape in shown
    assert "\u200d" in shown and "é 日本" in shown  # joiners and letters stay as they are
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp") or ch in "\n\u200d"
               for ch in shown)


def test_terminal_escape_class_covers_every_format_character():
    unsafe = {chr(c) for c in range(0x110000)
              if unicodedata.category(chr(c)) in ("Cf", "Zl", "Zp") or 0x7F <= c <= 0x9F}
    unsafe -= {"\u200c", "\u200d"}
    covered = {chr(c) for c in range(0x110000) if cli._TERMINAL_UNSAFE.match(chr(c))}
    assert unsafe <= covered
    # beyond them, only code points unassigned in this Python's Unicode (newer Cf ranges)
    assert all(unicodedata.category(ch) == "Cn" for ch in covered - unsafe)


@pytest.fixture
def hostile_answer(monkeypatch):
    value = {"summary": "x\x9b2Jy\u202ez", "name": "é"}

    async def get_result(self, path, params=None):
        return Result(value)

    monkeypatch.setattr(StudioClient, "get_result", get_result)
    return value


def test_fetch_to_a_terminal_escapes_controls(run, hostile_answer, monkeypatch):
    monkeypatch.setattr(cli, "_stdout_is_tty", lambda: True)
    result = run("fetch", "/projects/{pid}/conversations")
    assert result.exit_code == 0, result.stderr
    assert "\x9b" not in result.stdout and "\u202e" not in result.stdout
    assert "\\u009b" in result.stdout and "\\u202e" in result.stdout and "é" in result.stdout
    assert json.loads(result.stdout) == hostile_answer


def test_fetch_to_a_pipe_keeps_the_bytes(run, hostile_answer, tmp_path):
    result = run("fetch", "/projects/{pid}/conversations")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == json.dumps(hostile_answer, indent=2, ensure_ascii=False) + "\n"
    out = tmp_path / "o.json"
    assert run("fetch", "/projects/{pid}/conversations", "-o", out).exit_code == 0
    assert out.read_text(encoding="utf-8") == json.dumps(hostile_answer, indent=2,
                                                         ensure_ascii=False)
