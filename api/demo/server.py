"""Serve the demo backend over HTTP on loopback (`studio-tui demo-server`).

`serve()` blocks; `running_server()` runs the same server in a background thread (tests,
benchmarks). Both print nothing but the `export STUDIO_*=...` lines on stdout, so that
`eval "$(...)"`-style set-ups work; uvicorn logs go to stderr.
"""
from __future__ import annotations

import ipaddress
import shlex
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from api.demo import DemoInfo, demo_info

# Requests still in flight this long after a shutdown began are cancelled (faults add latency).
GRACEFUL_SHUTDOWN_S = 3
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                            "stream": "ext://sys.stderr"}},
    "loggers": {"uvicorn": {"handlers": ["stderr"], "level": "WARNING"},
                "uvicorn.access": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
                "api.demo": {"handlers": ["stderr"], "level": "WARNING"}},
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int, force: bool = False) -> socket.socket:
    """A listening socket on (host, port); non-loopback hosts need `force`."""
    if not force and not is_loopback(host):
        # (``force`` is for callers in code; the command line has no such option)
        raise ValueError(f"refusing to serve the demo on non-loopback host {host!r}: only "
                         "loopback hosts (127.0.0.1, ::1, localhost) are allowed")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def export_lines(info: DemoInfo) -> str:
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in (
        ("STUDIO_API_URL", info.base_url), ("STUDIO_API_TOKEN", info.api_key),
        ("STUDIO_PROJECT_ID", info.project_id)))


@dataclass
class Running:
    url: str
    info: DemoInfo
    app: Any
    server: Any
    sock: Any = None
    thread: threading.Thread | None = None

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)


def _server_class() -> Any:
    import uvicorn

    from api.demo.faults import release_hangs

    class DemoServer(uvicorn.Server):
        """Shutting down (SIGTERM, Ctrl-C, ``Running.stop``) ends the requests that hang on
        purpose (faults ``hang_rate``) at once: uvicorn waits for requests in flight."""

        async def shutdown(self, sockets: Any = None) -> None:
            release_hangs(self.config.app)
            await super().shutdown(sockets=sockets)

    return DemoServer


def _prepare(host: str, port: int, size: int | None, seed: int | None, anchor: Any,
             latency_ms: float, faults: Any, force: bool, db_path: str | Path | None) -> Running:
    import uvicorn

    from api.demo.app import create_app
    from api.demo.faults import Faults

    if db_path is None:
        from api.demo.generate import ensure_demo_db
        db_path = ensure_demo_db(size=size, seed=seed, anchor=anchor)
    if faults is None and latency_ms:
        faults = Faults(latency_ms=latency_ms)
    sock = bind(host, port, force)
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{bound_port}"
    app = create_app(db_path, faults)
    config = uvicorn.Config(app, log_config=LOG_CONFIG, log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
    server = _server_class()(config)
    running = Running(url=url, info=demo_info(db_path, url), app=app, server=server, sock=sock)
    return running


def serve(host: str = "127.0.0.1", port: int = 0, size: int | None = None,
          latency_ms: float = 0.0, seed: int | None = None, anchor: Any = None, *,
          faults: Any = None, force: bool = False, db_path: str | Path | None = None,
          out: TextIO | None = None) -> None:
    """Run the demo API with uvicorn until interrupted; print the `export` lines first."""
    running = _prepare(host, port, size, seed, anchor, latency_ms, faults, force, db_path)
    stream = out or sys.stdout
    stream.write(export_lines(running.info))
    stream.flush()
    running.server.run(sockets=[running.sock])


@contextmanager
def running_server(host: str = "127.0.0.1", port: int = 0, *, db_path: str | Path | None = None,
                   size: int | None = None, seed: int | None = None, anchor: Any = None,
                   latency_ms: float = 0.0, faults: Any = None) -> Iterator[Running]:
    """The demo server in a background thread for the duration of the block."""
    running = _prepare(host, port, size, seed, anchor, latency_ms, faults, False, db_path)
    thread = threading.Thread(target=running.server.run,
                              kwargs={"sockets": [running.sock]},
                              name="demo-server", daemon=True)
    running.thread = thread
    thread.start()
    try:
        started = threading.Event()
        while not running.server.started and thread.is_alive():
            started.wait(0.01)
        yield running
    finally:
        running.stop()
