"""``studio-tui serve``: the same app in a browser tab, served by textual-serve.

    studio-tui [global options] serve [--host 127.0.0.1] [--port 8766] [--allow-remote]

Each browser tab (one websocket) runs its own ``studio-tui`` process with the global options
given to ``serve`` (profile, token, project id, API URL, offline, demo size, ``--fresh``);
closing the tab ends that process. The options reach it in the environment (``ARGS_ENV``,
removed by the child as it starts), never on its command line, where ``ps`` would show a token
or a URL's credentials.

Access. The app holds the user's API credentials, so:

- the host must be loopback unless ``--allow-remote`` is given (then a warning: plain HTTP);
- every URL lives under ``/<secret>/``: the page, the websocket and the static files
  (textual-serve builds each URL from its router, so all carry the prefix). Any other request
  is 403, static files included, since a directory listing and asset URLs are nobody else's
  business. The secret is random (256 bits), compared with ``hmac.compare_digest``, printed
  once (the URL, on stdout) and kept out of the logs: no access log, no request paths logged.
- Textual's file deliveries are refused like any other path without the secret (textual.js
  asks for them at the origin's root); the app saves its screenshots to disk instead.

Shutdown. SIGINT or SIGTERM stop listening, ask every app process to quit (as a closed tab
does), wait for them (``SESSION_END_S``) and exit 0. An app process also gets SIGTERM if the
server dies without that (the Linux parent-death signal).

Exit codes as in tui/cli.py: 0 stopped by Ctrl-C or SIGTERM, 1 cannot listen on the address,
2 bad input (a non-loopback host without ``--allow-remote``, a bad global option).

The one private call into textual-serve is ``_Server.build_app``: ``Server._make_app`` is the
only way to get the aiohttp app (routes, templates) textual-serve builds, which is mounted
under the secret; copying its route table instead would drift from the installed version.
"""
from __future__ import annotations

import asyncio
import gc
import hmac
import json
import os
import secrets
import shlex
import signal
import sys
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from aiohttp import web

    from tui.cli import GlobalOptions

ARGS_ENV = "STUDIO_TUI_SERVE_ARGS"  # {"args": [...], "server_pid": N}, JSON
DEFAULT_PORT = 8766
SECRET_BYTES = 32
SESSION_END_S = 5.0  # at shutdown, how long the app processes get to quit
WILDCARD_HOSTS = {"", "0.0.0.0", "::"}
# The child's entry: only click and the standard library are imported before the GC pause
# (tui/entry.py), then the command line as the console script runs it.
CHILD_CODE = "from tui.cli_serve import child_main; child_main()"
FORBIDDEN = "403 Forbidden: open the URL that `studio-tui serve` printed, secret included.\n"


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
def child_args(opts: GlobalOptions, fresh: bool) -> list[str]:
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
    return args


def child_command() -> str:
    """The shell command textual-serve runs per tab; ``exec`` makes the app the server's own
    child, so the parent-death signal and the shutdown reach it. ``-P``: the working directory
    cannot shadow our packages."""
    return "exec " + shlex.join([sys.executable, "-P", "-c", CHILD_CODE])


def child_main() -> None:
    """Run the app of one tab: the command line of ``studio-tui`` with ``serve``'s options."""
    raw = os.environ.pop(ARGS_ENV, "")
    try:
        spec = json.loads(raw)
        args = [str(arg) for arg in spec["args"]]
        server_pid = int(spec["server_pid"])
    except (ValueError, KeyError, TypeError):
        sys.exit(f"studio-tui: error: {ARGS_ENV} is missing or malformed")
    _die_with_parent(server_pid)
    gc.disable()  # as the console script does (tui/entry.py)
    from tui.cli import main

    main.main(args=args, prog_name="studio-tui")


def _die_with_parent(server_pid: int) -> None:
    """Ask Linux for SIGTERM when the server ends, so no app outlives it (a SIGKILLed
    server cannot tell its apps to quit)."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
        except (OSError, AttributeError):
            return
    if os.getppid() != server_pid:  # the server ended before the request took effect
        sys.exit(0)


# ---------------------------------------------------------------- the server
def _server_class() -> type:
    from textual_serve.server import Server

    class _Server(Server):
        """textual-serve's server, with the sessions tracked so that shutdown can end them,
        and its console logo, rich logging and access log left out."""

        def __init__(self, command: str, public_url: str) -> None:
            super().__init__(command, title="studio-tui", public_url=public_url)
            self.sessions: set[asyncio.Task[Any]] = set()

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
            task = asyncio.current_task()
            assert task is not None
            self.sessions.add(task)
            try:
                return await super().handle_websocket(request)
            finally:
                self.sessions.discard(task)

        async def end_sessions(self, timeout: float) -> int:
            """Ask every app to quit, as a closed tab does (textual-serve turns the
            cancellation into a quit message and waits for the process); returns how many
            did not end in ``timeout`` seconds."""
            tasks = set(self.sessions)
            for task in tasks:
                task.cancel()
            if not tasks:
                return 0
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            return len(pending)

        async def build_app(self) -> web.Application:
            return await self._make_app()  # the one private call: see the module docstring

    return _Server


async def build_root(server: Any, secret: str) -> web.Application:
    """textual-serve's app mounted under ``/<secret>``, behind a guard that answers 403 to
    every request without the secret."""
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
            click.echo(f"studio-tui: warning: {left} app process(es) did not quit in "
                       f"{SESSION_END_S:g} s; they get SIGTERM as the server exits", err=True)

    root = web.Application(middlewares=[guard])
    root.add_subapp(f"/{secret}", await server.build_app())
    root.on_response_prepare.append(no_referrer)
    root.on_shutdown.append(end_sessions)
    return root


async def _serve(server: Any, sock: Any, secret: str, describe: str) -> None:
    from aiohttp import web

    runner = web.AppRunner(await build_root(server, secret), access_log=None,
                           handle_signals=False, shutdown_timeout=SESSION_END_S)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await web.SockSite(runner, sock).start()
        click.echo(f"studio-tui: serving {describe} in the browser, one app per tab; "
                   "Ctrl-C stops it. Open (the URL holds an access secret):", err=True)
        click.echo(f"{server.public_url}/{secret}/")  # the one place the secret is shown
        sys.stdout.flush()
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
    fresh = bool(ctx.find_root().params.get("fresh"))
    os.environ[ARGS_ENV] = json.dumps({"args": child_args(opts, fresh),
                                       "server_pid": os.getpid()})
    base = public_base(host, sock.getsockname()[1])
    server = _server_class()(child_command(), public_url=base)
    server.initialize_logging()
    asyncio.run(_serve(server, sock, secrets.token_urlsafe(SECRET_BYTES), settings.describe()))
