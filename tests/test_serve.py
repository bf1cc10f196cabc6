"""`studio-tui serve` without a browser: the host policy, the access secret (403 on every
route without it), one app process per websocket that ends with it, the credentials kept off
the app's command line, and a clean shutdown on SIGTERM and SIGINT."""
from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import httpx
import pytest
from click.testing import CliRunner

from api.text import sanitize
from tui.cli import main
from tui.cli_serve import host_problem

WAIT_S = 60  # generous: each tab starts a whole app process


def _wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str
    out: Path
    err: Path

    @property
    def base(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[0]

    @property
    def secret(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[1]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "ws?width=100&height=30"

    def children(self) -> set[int]:
        """The server's live child processes (the apps of the open tabs)."""
        found: set[int] = set()
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*"):
            try:
                found |= {int(pid) for pid in (task / "children").read_text().split()}
            except OSError:
                pass
        return {pid for pid in found if _alive(pid)}

    def output(self) -> str:
        return self.out.read_text() + self.err.read_text()


def _alive(pid: int) -> bool:
    """Running, not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@contextmanager
def served(tmp_path: Path, *global_args: str) -> Iterator[Served]:
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from tui.entry import main; main()", *global_args,
             "serve", "--port", "0"], stdout=stdout, stderr=stderr)
    try:
        _wait_for(lambda: out.read_text().endswith("\n") or proc.poll() is not None,
                  "the URL")
        assert proc.poll() is None, err.read_text()
        yield Served(proc, out.read_text().strip(), out, err)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=WAIT_S)


@pytest.fixture
def server(demo_db, tmp_path) -> Iterator[Served]:
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


def test_credentials_reach_the_app_in_its_environment_not_its_command_line(demo_db, tmp_path):
    from api.demo.server import running_server

    with running_server(db_path=demo_db) as api:
        token = api.info.api_key
        with served(tmp_path, "--token", token, "--project-id", api.info.project_id,
                    "--api-url", api.url) as server:

            async def scenario() -> None:
                async with aiohttp.ClientSession() as session:
                    async with session.ws_connect(server.ws_url) as ws:
                        tab = Tab(ws)
                        # the project's name: the app got through with the token
                        await tab.read_until("Demo Shop")
                        await tab.read_until("online")
                        assert "DEMO" not in tab.text and token not in tab.text
                        (app,) = server.children()
                        cmdline = Path(f"/proc/{app}/cmdline").read_bytes()
                        assert token.encode() not in cmdline
                        assert api.url.encode() not in cmdline

            asyncio.run(scenario())


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
    assert not [pid for pid in apps if _alive(pid)]
    assert "Traceback" not in server.output()
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url)


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
    _wait_for(lambda: not [pid for pid in apps if _alive(pid)], "the orphaned app to end")
