"""``studio-tui serve``: the same app in a browser tab, served by textual-serve.

    studio-tui [global options] serve [--host 127.0.0.1] [--port 8766] [--allow-remote]

Each browser tab (one websocket) runs its own ``studio-tui`` process with the global options
given to ``serve`` (profile, token, project id, API URL, offline, demo size, ``--fresh``,
``--screen``); closing the tab ends that process. The options never go on its command line,
where ``ps`` would show a token or a URL's credentials, nor in its environment, which stays
readable in ``/proc/<pid>/environ`` for the life of the process. The server makes an
owner-only folder (0700) at start and writes one options file (0600) there for each websocket
it accepts, just before textual-serve starts the tab's app; the environment (``ARGS_ENV``)
holds only the folder's path. The app claims one file as it starts, reads it and deletes it:
every tab gets the same options, so any file will do, and the one whose delete succeeds is its
own (two apps starting at once never share one). The server removes the folder as it exits.

Access. The app holds the user's API credentials, so:

- the host must be loopback unless ``--allow-remote`` is given (then a warning: plain HTTP);
- every URL lives under ``/<secret>/``: the page, the websocket and the static files
  (textual-serve builds each URL from its router, so all carry the prefix). Any other request
  is 403, static files included, since a directory listing and asset URLs are nobody else's
  business. The secret is random (256 bits), compared with ``hmac.compare_digest`` against
  the raw (undecoded) first path segment, printed once (the URL, on stdout) and kept out of
  the logs: no access log, no request paths logged. A request for the websocket that is not
  an upgrade is a plain 400.
- Textual's file deliveries are refused like any other path without the secret (textual.js
  asks for them at the origin's root); the app saves its screenshots to disk instead.

Output. stdout carries the URL line alone. textual-serve copies the stderr of an app that
fails to whatever ``sys.stdout`` is when it writes, so once the URL is out the server runs
with ``sys.stdout`` pointing at stderr.

Shutdown. SIGINT or SIGTERM stop listening and ask every app process to quit (as a closed tab
does). Whatever has not ended after ``SESSION_END_S`` is ended: the apps still running are
killed and their websockets dropped (a browser that never answers the close frame would
otherwise hold the server for aiohttp's own 10 s), and every app's exit awaited, within
``END_GRACE_S`` more; plain requests still open get another ``END_GRACE_S``; then exit 0.
An app process also gets SIGTERM if the server dies without that (the Linux parent-death
signal).

Exit codes as in tui/cli.py: 0 stopped by Ctrl-C or SIGTERM, 1 cannot listen on the address,
2 bad input (a non-loopback host without ``--allow-remote``, a bad global option).

Imports other than click are made in the functions that need them: ``tui.cli`` imports this
module at start, and ``studio-tui --version`` should not pay for asyncio or aiohttp.

The one private call into textual-serve is ``_Server.build_app``: ``Server._make_app`` is the
only way to get the aiohttp app (routes, templates) textual-serve builds, which is mounted
under the secret; copying its route table instead would drift from the installed version.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import asyncio

    from aiohttp import web

    from tui.cli import GlobalOptions

ARGS_ENV = "STUDIO_TUI_SERVE_ARGS"  # the options folder's path
OPTIONS_SUFFIX = ".json"  # an options file: {"args": [...], "server_pid": N}
DEFAULT_PORT = 8766
SECRET_BYTES = 32
SESSION_END_S = 5.0  # at shutdown, how long the app processes get to quit
END_GRACE_S = 1.0  # then, how long killing the rest and dropping their websockets may take
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}
# The child's entry: only click and the standard library are imported before the GC pause
# (tui/entry.py), then the command line as the console script runs it.
CHILD_CODE = "from tui.cli_serve import child_main; child_main()"
FORBIDDEN = "403 Forbidden: open the URL that `studio-tui serve` printed, secret included.\n"
NOT_UPGRADE = "400 Bad Request: this URL takes a websocket connection.\n"


# ---------------------------------------------------------------- host policy
def host_problem(host: str, allow_remote: bool) -> str | None:
    """Why ``host`` may not be served on, or None: a non-loopback host needs the flag."""
    from api.demo.server import is_loopback

    if is_loopback(host) or allow_remote:
        return None
    return (f"--host {host!r} is not a loopback address: the app holds your API credentials; "
            "pass --allow-remote to serve it to the network anyway")


def public_base(host: str, port: int) -> str:
    """The origin a browser reaches the server at (the host's name for a wildcard address)."""
    import socket

    name = socket.gethostname() if host in WILDCARD_HOSTS else host
    return f"http://[{name}]:{port}" if ":" in name else f"http://{name}:{port}"


# ---------------------------------------------------------------- the app process of a tab
def child_args(opts: GlobalOptions, fresh: bool, screen: str = "explorer") -> list[str]:
    """The global options ``serve`` got, as the child's command line arguments."""
    args: list[str] = []
    for flag, value in (("--profile", opts.profile), ("--token", opts.token),
                        ("--project-id", opts.project_id), ("--api-url", opts.api_url)):
        if value is not None:
            args += [flag, value]
    if opts.offline:
        args.append("--offline")
    if opts.demo_size is not None:
        args += ["--demo-size", str(opts.demo_size)]
    if fresh:
        args.append("--fresh")
    if screen != "explorer":
        args += ["--screen", screen]
    return args


def child_command() -> str:
    """The shell command textual-serve runs per tab; ``exec`` makes the app the server's own
    child, so the parent-death signal and the shutdown reach it. ``-P``: the working directory
    cannot shadow our packages."""
    import shlex
    import sys

    return "exec " + shlex.join([sys.executable, "-P", "-c", CHILD_CODE])


def write_options(folder: str, options: str) -> None:
    """One options file for the next tab's app, owner-only. Written under a name apps skip,
    then renamed: an app never reads a half-written file."""
    import os
    import secrets

    name = secrets.token_hex(8)
    partial = os.path.join(folder, f".{name}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(options)
    os.replace(partial, os.path.join(folder, name + OPTIONS_SUFFIX))


def claim_options(folder: str) -> str | None:
    """Read and delete one options file of ``folder``; None when there is none. A file
    another app deletes first is its own: look further (again, if new ones came)."""
    import os

    while True:
        names = [name for name in os.listdir(folder) if name.endswith(OPTIONS_SUFFIX)]
        if not names:
            return None
        for name in names:
            path = os.path.join(folder, name)
            try:
                with open(path, encoding="utf-8") as options:
                    text = options.read()
                os.unlink(path)
            except FileNotFoundError:
                continue
            return text


def child_main() -> None:
    """Run the app of one tab: the command line of ``studio-tui`` with ``serve``'s options."""
    import gc
    import json
    import os
    import sys

    folder = os.environ.pop(ARGS_ENV, "")  # the app's own children need not know it
    try:
        spec = json.loads(claim_options(folder) or "")
        args = [str(arg) for arg in spec["args"]]
        server_pid = int(spec["server_pid"])
    except (OSError, ValueError, KeyError, TypeError):
        sys.exit(f"studio-tui: error: no options from `studio-tui serve` ({ARGS_ENV})")
    _die_with_parent(server_pid)
    gc.disable()  # as the console script does (tui/entry.py)
    from tui.cli import main

    main.main(args=args, prog_name="studio-tui")


def _die_with_parent(server_pid: int) -> None:
    """Ask Linux for SIGTERM when the server ends, so no app outlives it (a SIGKILLed
    server cannot tell its apps to quit)."""
    import os
    import signal
    import sys

    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        except (OSError, AttributeError):
            return
    if os.getppid() != server_pid:  # the server ended before the request took effect
        sys.exit(0)


def child_pids() -> set[int]:
    """The server's child processes, exited ones not yet reaped included: the apps. Linux
    only (/proc); elsewhere none are found, and an app ends as the server's exit closes its
    stdin."""
    from pathlib import Path

    children: set[int] = set()
    for task in Path("/proc/self/task").glob("*"):
        try:
            children |= {int(pid) for pid in (task / "children").read_text().split()}
        except (OSError, ValueError):
            pass
    return children


def kill_apps() -> None:
    """SIGKILL the server's children that run ``CHILD_CODE``: its apps, nothing else."""
    import os
    import signal
    from pathlib import Path

    code = CHILD_CODE.encode()
    for pid in child_pids():
        try:
            if code in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0"):
                os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


# ---------------------------------------------------------------- the server
def _server_class() -> type:
    import asyncio
    import sys

    from aiohttp import web
    from textual_serve.server import Server

    class _Server(Server):
        """textual-serve's server, with the sessions tracked so that shutdown can end them,
        an options file written for each tab's app, and its console logo, rich logging and
        access log left out."""

        def __init__(self, command: str, public_url: str, options_dir: str = "",
                     options: str = "") -> None:
            super().__init__(command, title="studio-tui", public_url=public_url)
            self.sessions: set[asyncio.Task[Any]] = set()
            self.options_dir = options_dir
            self.options = options

        def initialize_logging(self) -> None:
            import logging

            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logging.Formatter("studio-tui: serve: %(message)s"))
            logger = logging.getLogger("textual-serve")
            logger.addHandler(handler)
            logger.setLevel(logging.WARNING)
            logger.propagate = False

        async def on_startup(self, app: web.Application) -> None:
            """The command prints the URL itself."""

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            # textual-serve logs a plain GET's handshake error with two tracebacks
            if not web.WebSocketResponse().can_prepare(request).ok:
                raise web.HTTPBadRequest(text=NOT_UPGRADE)
            task = asyncio.current_task()
            assert task is not None
            self.sessions.add(task)
            try:
                if self.options_dir:
                    write_options(self.options_dir, self.options)
                return await super().handle_websocket(request)
            finally:
                self.sessions.discard(task)

        async def end_sessions(self, timeout: float) -> int:
            """Ask every app to quit, as a closed tab does (textual-serve turns the
            cancellation into a quit message and waits for the app to close its output).
            After ``timeout`` seconds, kill the apps left and cancel their sessions until they
            end (a session waits for the browser's answer to its close frame), then wait for
            every app to have exited: asyncio must see each exit while its loop runs, or a
            warning and a traceback follow the server's exit. All that for ``END_GRACE_S``
            at most, then the apps left are killed. Returns how many sessions had not ended
            in ``timeout``."""
            tasks = set(self.sessions)
            for task in tasks:
                task.cancel()
            pending: set[asyncio.Task[Any]] = set()
            if tasks:
                _done, pending = await asyncio.wait(tasks, timeout=timeout)
            late = len(pending)
            if pending:
                kill_apps()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + END_GRACE_S
            while pending and loop.time() < deadline:
                # each cancellation ends the await the session is in; its cleanup may start
                # another, so again until it is over
                for task in pending:
                    task.cancel()
                _done, pending = await asyncio.wait(pending, timeout=0.05)
            while child_pids():
                if loop.time() >= deadline:
                    kill_apps()
                    break
                await asyncio.sleep(0.02)
            await asyncio.sleep(0.02)  # the news of the last exit is on its way to the loop
            return late

        async def build_app(self) -> web.Application:
            return await self._make_app()  # the one private call: see the module docstring

    return _Server


async def build_root(server: Any, secret: str) -> web.Application:
    """textual-serve's app mounted under ``/<secret>``, behind a guard that answers 403 to
    every request without the secret."""
    import hmac

    from aiohttp import web

    expected = secret.encode()

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        _, _, rest = request.rel_url.raw_path.partition("/")
        segment, slash, _ = rest.partition("/")
        if not hmac.compare_digest(segment.encode("utf-8", "replace"), expected):
            return web.Response(status=403, text=FORBIDDEN)
        if not slash:  # /<secret> itself: the page is /<secret>/
            raise web.HTTPFound(request.rel_url.with_path(f"/{secret}/"))
        return await handler(request)

    async def no_referrer(request: web.Request, response: web.StreamResponse) -> None:
        # the page's URL holds the secret: never send it on, never keep it in a cache
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"

    async def end_sessions(app: web.Application) -> None:
        left = await server.end_sessions(SESSION_END_S)
        if left:
            click.echo(f"studio-tui: warning: {left} tab(s) did not end in {SESSION_END_S:g} s; "
                       "ended them (apps killed, connections dropped)", err=True)

    root = web.Application(middlewares=[guard])
    root.add_subapp(f"/{secret}", await server.build_app())
    root.on_response_prepare.append(no_referrer)
    root.on_shutdown.append(end_sessions)
    return root


async def _serve(server: Any, sock: Any, secret: str, describe: str) -> None:
    import asyncio
    import contextlib
    import signal
    import sys

    from aiohttp import web

    # the sessions are over before aiohttp's own shutdown starts (end_sessions): what is left
    # is plain requests
    runner = web.AppRunner(await build_root(server, secret), access_log=None,
                           handle_signals=False, shutdown_timeout=END_GRACE_S)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    with contextlib.ExitStack() as stack:
        try:
            await web.SockSite(runner, sock).start()
            click.echo(f"studio-tui: serving {describe} in the browser, one app per tab; "
                       "Ctrl-C stops it. Open (the URL holds an access secret):", err=True)
            click.echo(f"{server.public_url}/{secret}/")  # the one place the secret is shown
            sys.stdout.flush()
            # stdout carries the URL alone: textual-serve writes a failing app's stderr to
            # sys.stdout as it is when it writes
            stack.enter_context(contextlib.redirect_stdout(sys.stderr))
            await stop.wait()
        finally:
            await runner.cleanup()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; a non-loopback one needs --allow-remote.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True,
              help="0 picks a free port.")
@click.option("--allow-remote", is_flag=True,
              help="Allow a non-loopback --host: the app, holding your API credentials, is then "
                   "reachable over plain HTTP by whoever has the printed URL.")
@click.pass_context
def serve_cmd(ctx: click.Context, host: str, port: int, allow_remote: bool) -> None:
    """Serve the app in a browser (textual-serve): prints the URL to open.

    The URL holds a random access secret; any request without it gets 403. Each tab runs its
    own app with the global options given before `serve`; closing the tab ends it. Ctrl-C or
    SIGTERM stops the server and its apps.
    """
    import asyncio
    import json
    import os
    import secrets
    import shutil
    import tempfile

    from tui.cli import EXIT_USAGE, _fail, _load_settings

    opts: GlobalOptions = ctx.obj
    problem = host_problem(host, allow_remote)
    if problem:
        _fail(f"error: {problem}", EXIT_USAGE)
    settings = _load_settings(opts)  # a bad option is one line now, not an error in each tab
    from api.demo.server import bind

    try:
        sock = bind(host, port, force=True)
    except OSError as exc:
        _fail(f"error: cannot serve on {host}:{port}: {exc.strerror or exc}")
    if host_problem(host, False):  # allowed by --allow-remote
        click.echo("studio-tui: warning: serving on a non-loopback host over plain HTTP: "
                   "the access secret and everything shown cross the network unencrypted",
                   err=True)
    root = ctx.find_root().params
    screen = root.get("screen") or "explorer"  # click gives the listed name, whatever the case
    options = json.dumps({"args": child_args(opts, bool(root.get("fresh")), screen),
                          "server_pid": os.getpid()})
    options_dir = tempfile.mkdtemp(prefix="studio-tui-serve-")  # 0700
    try:
        os.environ[ARGS_ENV] = options_dir
        base = public_base(host, sock.getsockname()[1])
        server = _server_class()(child_command(), public_url=base, options_dir=options_dir,
                                 options=options)
        server.initialize_logging()
        asyncio.run(_serve(server, sock, secrets.token_urlsafe(SECRET_BYTES),
                           settings.describe()))
    finally:
        shutil.rmtree(options_dir, ignore_errors=True)
