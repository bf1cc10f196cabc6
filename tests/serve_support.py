"""A real `studio-tui serve` process for the serve and browser tests.

`served(tmp_path, *global_args)` starts it on a free port, waits for the URL it prints and
yields a `Served` (the URL, the secret, the server's output files, its child processes); the
server gets SIGTERM at the end if it is still running.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

WAIT_S = 60  # generous: each tab starts a whole app process


def wait_for(condition: Callable[[], object], what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Running, not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


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
        return {pid for pid in found if alive(pid)}

    def output(self) -> str:
        return self.out.read_text() + self.err.read_text()


@contextmanager
def served(tmp_path: Path, *global_args: str) -> Iterator[Served]:
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from tui.entry import main; main()", *global_args,
             "serve", "--port", "0"], stdout=stdout, stderr=stderr,
            env={**os.environ, "TMPDIR": str(tmp_path)})  # its options folder goes there
    try:
        wait_for(lambda: out.read_text().endswith("\n") or proc.poll() is not None, "the URL")
        assert proc.poll() is None, err.read_text()
        yield Served(proc, out.read_text().strip(), out, err)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=WAIT_S)
