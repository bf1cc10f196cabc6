"""Issue 10: a damaged response cache never stops a command, and the API URL's credentials
(``http://user:pass@host``) are never shown.

A damaged cache (garbage, a truncated file, a regular file where the directory should be,
damage that only shows when a page is read) is moved aside to ``responses-v1.broken-<time>``
(owner-only) and replaced by an empty one; when it cannot be moved (a read-only directory) the
session runs without a cache. Either way one warning line says so.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from conftest import DEMO_ANCHOR, DEMO_SEED, DEMO_SIZE

from api.cache import ResponseCache
from api.client import StudioClient
from api.config import load_settings, public_url
from api.errors import ConfigError
from tui.cli import main

PATH = "/projects/p1/playbooks"  # a 4-hour TTL: stays fresh for the test


def fill(directory: Path, n: int = 1) -> None:
    with ResponseCache(directory) as store:
        for i in range(n):
            store.set(f"k{i}", PATH, {"i": i, "pad": "x" * 3000})


def garbage(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "cache.db").write_bytes(b"not a database, honest" * 500)


def truncated(directory: Path) -> None:
    fill(directory, 50)
    db = directory / "cache.db"
    os.truncate(db, db.stat().st_size // 3)


def regular_file(directory: Path) -> None:
    directory.parent.mkdir(parents=True, exist_ok=True)
    directory.write_text("a file where the cache directory should be")


def damaged_pages(directory: Path) -> None:
    """Opens fine (its settings pages are whole); reading an entry finds the damage."""
    fill(directory, 200)
    db = directory / "cache.db"
    size = db.stat().st_size
    with db.open("r+b") as fh:
        fh.seek(8 * 4096)
        fh.write(b"\xa5" * (size - 8 * 4096))


DAMAGE = {"garbage": garbage, "truncated": truncated, "regular file": regular_file,
          "damaged pages": damaged_pages}


def broken_copies(directory: Path) -> list[Path]:
    return sorted(directory.parent.glob(f"{directory.name}.broken-*"))


def refuse_rename(src, dst):
    raise PermissionError(13, "Permission denied")


# ------------------------------------------------------------------ the cache itself
@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_damaged_cache_is_moved_aside_and_replaced(tmp_path, damage):
    directory = tmp_path / "responses-v1"
    damage(directory)
    warnings: list[str] = []
    with ResponseCache(directory, warn=warnings.append) as store:
        assert store.lookup("k150", PATH) is None  # a miss, not an exception
        store.set("fresh", PATH, {"ok": True})
        assert store.get("fresh", PATH) == {"ok": True}
    assert len(warnings) == 1, warnings
    [copy] = broken_copies(directory)
    assert copy.name in warnings[0] and "response cache" in warnings[0]
    assert stat.S_IMODE(copy.stat().st_mode) & 0o077 == 0  # owner-only
    assert directory.is_dir() and stat.S_IMODE(directory.stat().st_mode) == 0o700
    with ResponseCache(directory, warn=warnings.append) as store:  # the next run: clean
        assert store.get("fresh", PATH) == {"ok": True}
    assert len(warnings) == 1


def test_damage_found_by_a_write_on_a_cache_thread(tmp_path):
    """The client's cache threads meet the damage: the GET is answered all the same."""
    directory = tmp_path / "responses-v1"
    damaged_pages(directory)
    warnings: list[str] = []
    store = ResponseCache(directory, warn=warnings.append)
    settings = load_settings(env={"STUDIO_TUI_CONFIG_DIR": str(tmp_path), "STUDIO_API_TOKEN": "t",
                                  "STUDIO_PROJECT_ID": "p1"})
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"n": 1}))

    async def go():
        async with StudioClient(settings, transport=transport, cache=store) as client:
            return [await client.get(PATH) for _ in range(3)]

    import asyncio

    assert asyncio.run(go()) == [{"n": 1}] * 3
    assert len(warnings) == 1 and len(broken_copies(directory)) == 1


def test_cannot_move_aside_runs_without_a_cache(tmp_path, monkeypatch):
    directory = tmp_path / "responses-v1"
    garbage(directory)
    monkeypatch.setattr(os, "rename", refuse_rename)
    warnings: list[str] = []
    with ResponseCache(directory, warn=warnings.append) as store:
        assert store.disabled
        store.set("k", PATH, {"ok": True})
        assert store.lookup("k", PATH) is None
        assert store.stats()["entries"] == 0
    assert len(warnings) == 1 and "without a cache" in warnings[0]
    assert (directory / "cache.db").read_bytes().startswith(b"not a database")  # left alone


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs POSIX permissions, which root ignores")
def test_read_only_directory_runs_without_a_cache(tmp_path):
    parent = tmp_path / "ro"
    directory = parent / "responses-v1"
    garbage(directory)
    parent.chmod(0o500)
    try:
        warnings: list[str] = []
        with ResponseCache(directory, warn=warnings.append) as store:
            assert store.disabled and store.lookup("k", PATH) is None
        assert len(warnings) == 1 and "without a cache" in warnings[0]
    finally:
        parent.chmod(0o700)


def test_client_from_settings_survives_a_damaged_cache(tmp_path):
    env = {"STUDIO_TUI_CONFIG_DIR": str(tmp_path), "STUDIO_TUI_CACHE_DIR": str(tmp_path / "c"),
           "STUDIO_API_TOKEN": "t", "STUDIO_PROJECT_ID": "p1"}
    settings = load_settings(env=env)
    garbage(settings.response_cache_dir)
    warnings: list[str] = []
    client = StudioClient.from_settings(settings, cache_warn=warnings.append)
    assert client.cache is not None and not client.cache.disabled
    assert len(warnings) == 1
    client.cache.close()


def test_start_up_peek_leaves_a_damaged_cache_to_the_client(tmp_path):
    """The TUI's first-paint reader only misses; the client then moves it and says so."""
    from tui.cache_peek import open_peek

    env = {"STUDIO_TUI_CONFIG_DIR": str(tmp_path), "STUDIO_TUI_CACHE_DIR": str(tmp_path / "c"),
           "STUDIO_API_TOKEN": "t", "STUDIO_PROJECT_ID": "p1"}
    settings = load_settings(env=env)
    garbage(settings.response_cache_dir)
    assert open_peek(settings) is None
    assert broken_copies(settings.response_cache_dir) == []


# ------------------------------------------------------------------ the command line
@pytest.fixture
def cli(demo_db, tmp_path):
    """Runs studio-tui on the demo with a cache dir of its own (the demo database linked in)."""
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "demo").symlink_to(Path(demo_db).parent)
    env = {"STUDIO_TUI_CACHE_DIR": str(cache_dir)}

    def invoke(*args, **more_env):
        return CliRunner().invoke(main, [str(a) for a in args], env={**env, **more_env},
                                  catch_exceptions=False)

    invoke.cache = cache_dir / "responses-v1"
    return invoke


def warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "response cache" in line]


@pytest.mark.parametrize("damage", [garbage, truncated, regular_file],
                         ids=["garbage", "truncated", "regular file"])
@pytest.mark.parametrize("command", [("cache", "stats"), ("fetch", "/projects/{pid}/playbooks")],
                         ids=["stats", "fetch"])
def test_commands_work_on_a_damaged_cache(cli, damage, command):
    damage(cli.cache)
    result = cli(*command)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    [line] = warning_lines(result.stderr)
    assert line.startswith("studio-tui: warning: ") and "moved to" in line
    again = cli(*command)  # the next run finds a clean cache and says nothing
    assert again.exit_code == 0 and warning_lines(again.stderr) == []


def test_cache_clear_on_a_damaged_cache_moves_it_aside_and_removes_it(cli):
    cli("fetch", "/projects/{pid}/playbooks")
    garbage(cli.cache)
    result = cli("cache", "clear")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert len(warning_lines(result.stderr)) == 1
    assert "removed 0 cached answers" in result.stdout
    assert "1 damaged copy" in result.stdout
    assert broken_copies(cli.cache) == []  # clear means gone, the damaged copy too
    stats = cli("cache", "stats")
    assert "entries: 0" in stats.stdout and warning_lines(stats.stderr) == []


def test_cache_clear_that_cannot_work_says_so_in_one_line(cli, monkeypatch):
    garbage(cli.cache)
    monkeypatch.setattr(os, "rename", refuse_rename)
    result = cli("cache", "clear")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("studio-tui: error: ")
    assert "Permission denied" in lines[0] and result.stdout == ""


def test_fetch_runs_without_a_cache_it_cannot_move(cli, monkeypatch):
    garbage(cli.cache)
    monkeypatch.setattr(os, "rename", refuse_rename)
    result = cli("fetch", "/projects/{pid}/playbooks")
    assert result.exit_code == 0 and result.stdout.startswith("[")
    [line] = warning_lines(result.stderr)
    assert "without a cache" in line


# ------------------------------------------------------------------ the terminal UI
async def test_tui_starts_on_a_damaged_cache_with_one_warning(demo_db, tmp_path):
    from app_support import record_notifications, wait_until
    from test_explorer_states import settle

    from tui.app import StudioApp

    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "demo").symlink_to(Path(demo_db).parent)
    settings = load_settings().replace(cache_dir=cache_dir, demo_anchor=DEMO_ANCHOR,
                                       demo_size=DEMO_SIZE, demo_seed=DEMO_SEED)
    garbage(settings.response_cache_dir)
    app = StudioApp(settings)
    seen = record_notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        # the client's threads report the damage
        await wait_until(lambda: any("response cache" in n.message for n in seen), pilot=pilot)
        await settle(pilot)
        messages = [(n.severity, n.message) for n in seen]
        cache_notes = [m for m in messages if "response cache" in m[1]]
        assert len(cache_notes) == 1 and cache_notes[0][0] == "warning", messages
        assert not [m for m in messages if m[0] == "error"], messages
        assert app.client.cache.stats()["entries"] >= 1  # a working cache, freshly made


# ------------------------------------------------------------------ credentials in the URL
@pytest.mark.parametrize(("url", "shown"), [
    ("http://user:pass@host:8080/base", "http://host:8080/base"),
    ("https://tok@api.example.test", "https://api.example.test"),
    ("https://a:b@c@host/x?y=@z#@", "https://host/x?y=@z#@"),
    ("https://api.studiochat.io", "https://api.studiochat.io"),
    ("http://host/path/@me", "http://host/path/@me"),
    ("user:pw@host", "host"),
    ("", ""),
])
def test_public_url_drops_only_the_userinfo(url, shown):
    assert public_url(url) == shown


CRED_ENV = {"STUDIO_API_TOKEN": "sbs_tok", "STUDIO_PROJECT_ID": "p1"}


def test_locate_never_prints_url_credentials(cli):
    result = cli("locate", **CRED_ENV, STUDIO_API_URL="http://alice:hunter2@api.example.test")
    assert result.exit_code == 0
    assert "hunter2" not in result.output and "alice" not in result.output
    assert "http://api.example.test" in result.stdout


def test_settings_repr_and_describe_never_show_url_credentials(tmp_path):
    env = {**CRED_ENV, "STUDIO_TUI_CONFIG_DIR": str(tmp_path),
           "STUDIO_API_URL": "https://alice:hunter2@api.example.test"}
    settings = load_settings(env=env)
    for text in (repr(settings), settings.describe()):
        assert "hunter2" not in text and "alice" not in text
    assert settings.base_url == "https://alice:hunter2@api.example.test"  # still used to connect


def test_connection_error_never_prints_url_credentials(cli):
    result = cli("fetch", "/projects/p1/conversations", **CRED_ENV,
                 STUDIO_API_URL="http://alice:hunter2@127.0.0.1:9")
    assert result.exit_code == 1
    assert "hunter2" not in result.output and "alice" not in result.output
    assert "cannot connect to GET http://127.0.0.1:9/projects/p1/conversations" in result.stderr


def test_client_repr_errors_and_cache_keys_never_hold_url_credentials(tmp_path):
    env = {**CRED_ENV, "STUDIO_TUI_CONFIG_DIR": str(tmp_path)}
    plain = load_settings(env={**env, "STUDIO_API_URL": "http://127.0.0.1:9"})
    secret = load_settings(env={**env, "STUDIO_API_URL": "http://alice:hunter2@127.0.0.1:9"})
    a = StudioClient(plain, max_tries=1)
    b = StudioClient(secret, max_tries=1)
    assert "hunter2" not in repr(b) and b.cache_scope == a.cache_scope == "http://127.0.0.1:9"
    err = b._unreachable(httpx.ConnectTimeout("t"), "GET", "/x")
    assert str(err) == "timed out connecting to GET http://127.0.0.1:9/x"


def test_status_header_never_shows_url_credentials(tmp_path):
    from unittest.mock import PropertyMock, patch

    from widgets.status_header import StatusHeader

    settings = load_settings(env={**CRED_ENV, "STUDIO_TUI_CONFIG_DIR": str(tmp_path),
                                  "STUDIO_API_URL": "http://alice:hunter2@api.example.test"})

    class FakeApp:
        pass

    fake = FakeApp()
    fake.settings = settings
    with patch.object(StatusHeader, "app", new_callable=PropertyMock, return_value=fake):
        text = StatusHeader().render()
    assert "hunter2" not in text.plain and "api.example.test" in text.plain


@pytest.mark.parametrize(("url", "problem"), [
    ("http://127.0.0.1:99999", "invalid port"),
    ("http://alice:hunter2@127.0.0.1:99999", "invalid port"),
    ("http://127.0.0.1:http", "invalid port"),
    ("http://:8080", "no host"),
    ("http://[::1", "invalid"),
])
def test_invalid_api_url_is_one_line_exit_2(cli, url, problem):
    result = cli("fetch", "/projects/{pid}/conversations", **CRED_ENV, STUDIO_API_URL=url)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("studio-tui: error: STUDIO_API_URL ") and problem in lines[0]
    assert public_url(url) in lines[0] and "hunter2" not in result.output


def test_invalid_url_names_the_flag_or_profile(tmp_path):
    (tmp_path / "config.toml").write_text(
        '[profiles.stage]\ntoken = "t"\nproject_id = "p"\napi_url = "http://u:pw@h:0"\n')
    env = {"STUDIO_TUI_CONFIG_DIR": str(tmp_path)}
    with pytest.raises(ConfigError, match=r"api_url of profile 'stage' 'http://h:0': invalid port"):
        load_settings("stage", env=env)
    with pytest.raises(ConfigError, match=r"--api-url 'http://h:123456': invalid port"):
        load_settings("stage", base_url="http://x:y@h:123456", env=env)
    with pytest.raises(ConfigError) as info:
        load_settings("stage", base_url="ftp://x:secretpw@h", env=env)
    assert "secretpw" not in str(info.value)


@pytest.mark.parametrize("url", ["http://user:se#cret@example.com",
                                 "http://user:se?cret@example.com/v1"])
def test_public_url_hides_passwords_with_reserved_characters(url):
    from api.config import public_url

    assert "cret" not in public_url(url) and "user" not in public_url(url)
