"""`studio-tui serve` without a browser: the host policy, the access secret (403 on every
route without it, path tricks included), one app process per websocket that ends with it,
the credentials kept off the app's command line and environment, stdout carrying the URL
alone, and a clean, bounded shutdown on SIGTERM and SIGINT."""
from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import socket
import stat
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import httpx
import pytest
from click.testing import CliRunner
from serve_support import WAIT_S, Served, alive, served, wait_for

from api.text import sanitize
from tui.cli import main
from tui.cli_serve import ARGS_ENV, host_problem


@pytest.fixture
def server(demo_db, tmp_path):
    with served(tmp_path) as running:
        yield running


class Tab:
    """A browser tab as textual-serve sees it: one websocket, the app's output on it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.raw = bytearray()

    @property
    def text(self) -> str:
        return sanitize(self.raw.decode("utf-8", "replace"))

    async def read_until(self, needle: str) -> None:
        async with asyncio.timeout(WAIT_S):
            while needle not in self.text:
                message = await self.ws.receive()
                assert message.type == aiohttp.WSMsgType.BINARY, message
                self.raw += message.data


async def _wait_async(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _raw_request(server: Served, method: str, target: str, headers: str = "") -> bytes:
    """The server's answer to a request line sent byte for byte (an HTTP client would
    normalise ``//``, ``..`` or ``%2F`` away first)."""
    host = server.base.removeprefix("http://")
    name, port = host.rsplit(":", 1)
    with socket.create_connection((name, int(port)), timeout=WAIT_S) as conn:
        conn.sendall(f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{headers}"
                     "Connection: close\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer


def _status(answer: bytes) -> int:
    assert answer, "the server dropped the connection without an answer"
    return int(answer.split(b" ", 2)[1])


# ---------------------------------------------------------------- host policy
@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_loopback_hosts_are_served(host):
    assert host_problem(host, allow_remote=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "192.168.1.10", "example.com",
                                  "localhost.example.com"])
def test_a_non_loopback_host_needs_allow_remote(host):
    assert host_problem(host, allow_remote=True) is None
    result = CliRunner().invoke(main, ["serve", "--host", host, "--port", "0"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and repr(host) in lines[0] and "--allow-remote" in lines[0], lines
    assert result.stdout == ""


def test_a_busy_port_is_one_line_exit_1():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"studio-tui: error: cannot serve on 127.0.0.1:{port}: Address already in use"]


def test_a_bad_global_option_is_refused_before_serving():
    result = CliRunner().invoke(main, ["--profile", "nope", "serve", "--port", "0"])
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) == 1 and "nope" in result.stderr


# ---------------------------------------------------------------- the secret
def test_every_route_needs_the_secret(server):
    secret = server.secret
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", secret), "at least 256 random bits, URL-safe"
    wrong = ("A" if secret[0] != "A" else "B") + secret[1:]  # same length, one character off
    with httpx.Client(base_url=server.base, follow_redirects=False) as client:
        for path in ["/", "/ws", "/static/js/textual.js", "/static/", "/download/x",
                     "/favicon.ico", f"/{wrong}/", f"/{wrong}/ws", f"/{secret[:-1]}/",
                     f"/{secret}x/", f"/{secret.swapcase()}/", f"/x/{secret}/",
                     f"/{wrong}/static/js/textual.js"]:
            assert client.get(path).status_code == 403, path
        page = client.get(f"/{secret}/")
        assert page.status_code == 200
        assert f'data-session-websocket-url="ws://{server.base[7:]}/{secret}/ws"' in page.text
        assert page.headers["Referrer-Policy"] == "no-referrer"
        assert client.get(f"/{secret}/static/js/textual.js").status_code == 200
        bare = client.get(f"/{secret}")
        assert bare.status_code == 302 and bare.headers["Location"] == f"/{secret}/"

    async def websocket_status(url: str) -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(url):
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert asyncio.run(websocket_status(server.base.replace("http", "ws") + "/ws")) == 403
    assert asyncio.run(websocket_status(
        server.ws_url.replace(secret, wrong))) == 403
    assert not server.children(), "a refused websocket started an app"
    # the URL printed once on stdout is the only place the secret went, 403s included
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=WAIT_S) == 0
    assert server.output().count(secret) == 1
    assert server.out.read_text() == server.url + "\n"


def test_path_tricks_and_other_methods_need_the_secret_too(server):
    secret = server.secret
    assert secret.upper() != secret and secret.lower() != secret, "a secret with letters"
    upgrade = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n")
    refused = [("GET", f"//{secret}/", ""), ("GET", f"/{secret}%2F", ""),
               ("GET", f"/{secret}%2Fws", ""), ("GET", f"/{secret.upper()}/", ""),
               ("GET", f"/{secret.lower()}/", ""), ("GET", f"/x/../{secret}/", ""),
               ("GET", f"/./{secret}/", ""), ("GET", f"/x/%2e%2e/{secret}/", ""),
               ("GET", "/ws", upgrade), ("GET", f"//{secret}/ws", upgrade)]
    for method in ("HEAD", "OPTIONS"):
        refused += [(method, "/", ""), (method, "/static/js/textual.js", ""),
                    (method, "/ws", "")]
    for method, target, headers in refused:
        status = _status(_raw_request(server, method, target, headers))
        assert status == 403, (method, target, status)
    assert _status(_raw_request(server, "HEAD", f"/{secret}/static/js/textual.js")) == 200
    assert not server.children(), "a refused request started an app"


def test_the_websocket_url_without_an_upgrade_is_a_plain_400(server):
    answer = _raw_request(server, "GET", f"/{server.secret}/ws")
    assert _status(answer) == 400
    assert b"websocket" in answer.split(b"\r\n\r\n", 1)[1]
    assert not server.children()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=WAIT_S) == 0
    assert "Traceback" not in server.output()
    assert server.output().count(server.secret) == 1


# ---------------------------------------------------------------- one app per tab
def test_each_tab_runs_its_own_app_which_ends_with_the_tab(server):
    async def scenario() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(server.ws_url) as ws1, \
                    session.ws_connect(server.ws_url) as ws2:
                first, second = Tab(ws1), Tab(ws2)
                await first.read_until("DEMO")
                await second.read_until("DEMO")
                apps = server.children()
                assert len(apps) == 2
                await ws1.close()
                await _wait_async(lambda: len(server.children()) == 1, "the closed tab's app")
                assert server.children() < apps  # the other tab's app goes on
            await _wait_async(lambda: not server.children(), "the last app to end")

    asyncio.run(scenario())


def test_credentials_reach_the_app_in_an_owner_only_file_not_its_command_line(
        demo_db, tmp_path):
    from api.demo.server import running_server

    with running_server(db_path=demo_db) as api:
        token = api.info.api_key
        password = "pw-" + os.urandom(8).hex()
        api_url = api.url.replace("://", f"://user:{password}@", 1)
        assert f"user:{password}@" in api_url
        with served(tmp_path, "--token", token, "--project-id", api.info.project_id,
                    "--api-url", api_url) as server:

            async def scenario() -> str:
                async with aiohttp.ClientSession() as session:
                    async with session.ws_connect(server.ws_url) as ws:
                        tab = Tab(ws)
                        # the project's name: the app got through with the token
                        await tab.read_until("Demo Shop")
                        await tab.read_until("online")
                        assert "DEMO" not in tab.text and token not in tab.text
                        assert password not in tab.text
                        (app,) = server.children()
                        cmdline = Path(f"/proc/{app}/cmdline").read_bytes()
                        environ = Path(f"/proc/{app}/environ").read_bytes()
                        for secret in (token, password):
                            assert secret.encode() not in cmdline
                            assert secret.encode() not in environ
                        (folder,) = [entry.split(b"=", 1)[1].decode()
                                     for entry in environ.split(b"\0")
                                     if entry.startswith(f"{ARGS_ENV}=".encode())]
                        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
                        assert os.listdir(folder) == [], "the app left its options file"
                        return folder

            folder = asyncio.run(scenario())
            assert os.path.isdir(folder)
            server.proc.send_signal(signal.SIGTERM)
            assert server.proc.wait(timeout=WAIT_S) == 0
        assert not os.path.exists(folder), "the server left its options folder"
        for secret in (token, password):
            assert secret not in server.output()


def test_the_options_file_is_owner_only_and_each_claimed_once(tmp_path):
    from tui.cli_serve import claim_options, write_options

    folder = tmp_path / "options"
    folder.mkdir(mode=0o700)
    write_options(str(folder), "one")
    write_options(str(folder), "two")
    (path, other) = sorted(folder.iterdir())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    claimed = sorted([claim_options(str(folder)), claim_options(str(folder))])
    assert claimed == ["one", "two"]
    assert claim_options(str(folder)) is None and not list(folder.iterdir())


def test_stdout_carries_the_url_alone_when_an_app_fails(demo_db, tmp_path):
    """textual-serve copies a failing app's stderr to sys.stdout: it must land on stderr."""
    token = "sk-" + os.urandom(12).hex()
    with served(tmp_path, "--token", token, "--project-id", "p1",
                "--api-url", "http://127.0.0.1:9") as server:
        config = Path(os.environ["STUDIO_TUI_CONFIG_DIR"]) / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("this is [not toml\n")  # the tab's app reads it as it starts

        async def scenario() -> None:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(server.ws_url):
                    await _wait_async(lambda: "config.toml" in server.output(),
                                      "the app's error")

        asyncio.run(scenario())
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=WAIT_S) == 0
    assert server.out.read_text() == server.url + "\n"
    assert "studio-tui: error:" in server.err.read_text()
    assert token not in server.output()


# ---------------------------------------------------------------- shutdown
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_server_and_its_apps(server, signum):
    async def scenario() -> list[int]:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(server.ws_url) as ws:
                await Tab(ws).read_until("DEMO")
                apps = sorted(server.children())
                assert len(apps) == 1
                server.proc.send_signal(signum)
                closing = await asyncio.wait_for(ws.receive(), WAIT_S)
                while closing.type == aiohttp.WSMsgType.BINARY:  # the app's last frames
                    closing = await asyncio.wait_for(ws.receive(), WAIT_S)
                assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
                return apps

    apps = asyncio.run(scenario())
    assert server.proc.wait(timeout=WAIT_S) == 0, server.err.read_text()
    assert not [pid for pid in apps if alive(pid)]
    # the "serving" line alone: no warning, no traceback, not asyncio's late news of an exit
    assert len(server.err.read_text().splitlines()) == 1, server.err.read_text()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url)


def test_sigterm_ends_a_tab_whose_browser_never_answers_the_close(server):
    """A client that never replies to the close frame (nor reads at all) is dropped."""
    host = server.base.removeprefix("http://")
    name, port = host.rsplit(":", 1)
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection((name, int(port)), timeout=WAIT_S) as conn:
        conn.sendall(f"GET /{server.secret}/ws?width=80&height=24 HTTP/1.1\r\nHost: {host}\r\n"
                     "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     f"Sec-WebSocket-Key: {key}\r\n\r\n".encode())
        seen = b""
        while b"DEMO" not in seen:
            seen += conn.recv(65536)
        apps = server.children()
        assert len(apps) == 1
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=WAIT_S) == 0, server.err.read_text()
    assert not [pid for pid in apps if alive(pid)]
    assert "Traceback" not in server.output()
    assert "1 tab(s) did not end" in server.err.read_text()


def test_shutdown_ends_sessions_that_ignore_the_first_cancellation(monkeypatch):
    """Past the wait, the apps left are killed and their sessions cancelled until done."""
    from tui import cli_serve

    killed: list[bool] = []
    monkeypatch.setattr(cli_serve, "kill_apps", lambda: killed.append(True))
    monkeypatch.setattr(cli_serve, "child_pids", set)  # the test process's are not apps

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()  # the tab's messages
        except asyncio.CancelledError:
            await asyncio.Event().wait()  # the close frame the browser never answers

    async def scenario() -> tuple[int, list[bool]]:
        server = cli_serve._server_class()("true", public_url="http://127.0.0.1:1")
        tasks = [asyncio.create_task(asyncio.Event().wait()), asyncio.create_task(stubborn())]
        server.sessions |= set(tasks)
        await asyncio.sleep(0)  # both sessions under way
        late = await server.end_sessions(0.05)
        return late, [task.done() for task in tasks]  # before asyncio.run cancels the rest

    late, done = asyncio.run(scenario())
    assert late == 1 and killed == [True]
    assert done == [True, True]


def test_apps_end_when_the_server_is_killed(server):
    """No app outlives a server that could not tell it to quit (parent-death signal)."""
    async def scenario() -> list[int]:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(server.ws_url) as ws:
                await Tab(ws).read_until("DEMO")
                apps = sorted(server.children())
                server.proc.kill()
                return apps

    apps = asyncio.run(scenario())
    server.proc.wait(timeout=WAIT_S)
    assert apps
    wait_for(lambda: not [pid for pid in apps if alive(pid)], "the orphaned app to end")
