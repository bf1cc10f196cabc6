"""Signals (issue 10): ``studio-tui export`` killed (SIGKILL) or stopped (SIGTERM, SIGHUP) at
any point leaves no process behind and no file that poses as complete, and ``--resume`` then
finishes it byte-identical to an uninterrupted export; a killed JSON assembly's temp file is
cleaned up; ``studio-tui demo-server`` stops on SIGTERM even while a request hangs.

Real processes over loopback against a demo server subprocess with added latency. A marker in
the export's environment finds every process it started (the encoding worker, the
multiprocessing resource tracker) even after they were re-parented."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc (Linux)")

START, END = "2026-06-01", "2026-06-16"  # two weeks of the pinned demo: a short export
MARK = "STUDIO_TUI_SIGNALS_TEST"
# Checkpoints every 0.2 s (not 1 s) so that a resumable state exists early in a short export.
RUN = ("import api.export; api.export.CHECKPOINT_S = 0.2; "
       "from tui.cli import main; main()")
# The JSON assembly made slow (after its temp file is created), to signal the export there.
SLOW_ASSEMBLY = ("import shutil, time; copy = shutil.copyfileobj; "
                 "shutil.copyfileobj = lambda *a, **k: (time.sleep({s}), copy(*a, **k))[1]; "
                 + RUN)
ARGS = ["export", "--start", START, "--end", END, "--messages", "--format", "json",
        "--concurrency", "1"]
TEMP = re.compile(r"\.out\.json\.(state\.json\.)?[a-z0-9_]{8}\.tmp")


def _wait_for(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        assert time.monotonic() < deadline, f"{what} not met in {timeout} s"
        time.sleep(0.01)
    return result


def _marked(mark: str) -> list[tuple[int, str]]:
    """Live processes (pid, command line) whose environment holds ``MARK=mark``."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:  # empty for a zombie
                if needle not in fh.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                cmdline = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours
            continue
        found.append((int(entry), cmdline))
    return found


def _kill_marked(mark: str) -> None:
    for pid, _ in _marked(mark):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _lines_but_exported_at(path: Path) -> list[bytes]:
    return [line for line in path.read_bytes().split(b"\n") if b'"exported_at"' not in line]


def _exported(proc: subprocess.Popen) -> dict[str, str]:
    """The three ``export STUDIO_...=...`` lines a demo server prints first."""
    env: dict[str, str] = {}
    while len(env) < 3:
        line = proc.stdout.readline()
        assert line, "demo server exited early"
        name, _, value = line.strip().removeprefix("export ").partition("=")
        env[name] = value.strip("'")
    return env


@pytest.fixture(scope="module")
def server(demo_db):
    """``studio-tui demo-server`` with 50 ms per request: the environment pointing at it."""
    proc = subprocess.Popen([sys.executable, "-c", "from tui.cli import main; main()",
                             "demo-server", "--port", "0", "--latency-ms", "50"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        yield {**os.environ, **_exported(proc)}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def reference(server, tmp_path_factory):
    """An uninterrupted export of the same query."""
    out = tmp_path_factory.mktemp("reference") / "out.json"
    done = subprocess.run([sys.executable, "-c", RUN, *ARGS, "-o", str(out)], env=server,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out


def _at_point(point: str, out: Path, mark: str):
    """A condition true once the export reached ``point``."""
    def listing():  # the worker process is being started: before the first answers
        return any("spawn_main" in cmd for _, cmd in _marked(mark))

    def batches():  # a checkpoint recorded conversations written
        try:
            return json.loads(out.with_name("out.json.state.json").read_text())["consumed"] > 0
        except (OSError, ValueError):
            return False

    def assembly():  # the final file is being assembled in a temp file
        return any(TEMP.fullmatch(name) and "state.json" not in name
                   for name in os.listdir(out.parent))

    return {"listing": listing, "batches": batches, "assembly": assembly}[point]


CASES = [
    (signal.SIGKILL, "listing"), (signal.SIGTERM, "listing"),
    (signal.SIGKILL, "batches"), (signal.SIGTERM, "batches"), (signal.SIGHUP, "batches"),
    (signal.SIGKILL, "assembly"), (signal.SIGTERM, "assembly"),
]


@pytest.mark.long
@pytest.mark.parametrize(("signum", "point"), CASES,
                         ids=[f"{s.name}-{p}" for s, p in CASES])
def test_signalled_export_leaves_no_process_and_resumes(server, reference, tmp_path, signum,
                                                        point):
    out = tmp_path / "out.json"
    mark = uuid.uuid4().hex
    env = {**server, MARK: mark}
    code = SLOW_ASSEMBLY.format(s=1.0) if point == "assembly" else RUN
    err = tmp_path.parent / f"{tmp_path.name}.stderr"  # a pipe would stay open in survivors
    with open(err, "w") as err_fh:
        proc = subprocess.Popen([sys.executable, "-c", code, *ARGS, "-o", str(out)], env=env,
                                stderr=err_fh)
    try:
        _wait_for(lambda: _at_point(point, out, mark)() or proc.poll() is not None,
                  what=point)
        assert proc.poll() is None, f"the export ended before {point}: {err.read_text()}"
        if point == "batches":  # the worker is up: its death is part of what is tested
            assert any("spawn_main" in cmd for _, cmd in _marked(mark))
        proc.send_signal(signum)
        proc.wait(timeout=30)
        # no child of the export outlives it (worker, resource tracker)
        _wait_for(lambda: not _marked(mark), timeout=10, what="children gone")
    finally:
        proc.kill()
        proc.wait()
        _kill_marked(mark)
    stderr = err.read_text()

    if signum == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    elif point == "assembly":  # publishing had begun: it completes, and says so
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr and "leaked" not in stderr, stderr
        assert stderr.strip().splitlines()[-1].startswith("studio-tui: exported "), stderr
    else:  # stopped like Ctrl-C: one line, the shell's 128 + signal number
        assert proc.returncode == 128 + signum, stderr
        assert "Traceback" not in stderr and "leaked" not in stderr, stderr
        last = stderr.strip().splitlines()[-1]
        assert last.startswith(f"studio-tui: interrupted by {signum.name}"), stderr

    names = set(os.listdir(tmp_path))
    if signum == signal.SIGTERM and point == "assembly":
        # only the output is left
        assert names == {"out.json"}
        assert _lines_but_exported_at(out) == _lines_but_exported_at(reference)
        return
    # nothing poses as complete: no output, only the resumable files (and a killed temp)
    assert "out.json" not in names
    kept = {"out.json.partial", "out.json.state.json", "out.json.ids", "out.json.lock"}
    assert {n for n in names if not TEMP.fullmatch(n)} <= kept, names
    if signum != signal.SIGKILL:
        assert not any(TEMP.fullmatch(n) for n in names), names
    if point == "assembly":
        assert any(TEMP.fullmatch(n) for n in names), names  # what the resume must clean

    resumed = subprocess.run([sys.executable, "-c", RUN, *ARGS, "-o", str(out), "--resume"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    if point != "listing":
        assert "resumed after" in resumed.stderr
    assert _lines_but_exported_at(out) == _lines_but_exported_at(reference)
    assert set(os.listdir(tmp_path)) == {"out.json"}  # no stale temp, partial or state
    assert not _marked(mark)


def _death_signal() -> int:
    """This process's ``PR_GET_PDEATHSIG`` (run in the worker)."""
    import ctypes

    value = ctypes.c_int()
    ctypes.CDLL(None).prctl(2, ctypes.byref(value), ctypes.c_ulong(0), ctypes.c_ulong(0),
                            ctypes.c_ulong(0))
    return value.value


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_worker_is_killed_by_the_kernel_when_its_parent_ends():
    import api.export as export_mod

    pool = export_mod._start_worker(True)
    assert pool is not None
    try:
        assert pool.submit(_death_signal).result(timeout=60) == signal.SIGKILL
    finally:
        pool.shutdown(wait=True)


def test_worker_watchdog_ends_an_orphan():
    """Where the kernel cannot kill the worker with its parent (not Linux), the watchdog does:
    a process watching its parent (run alone, no death signal) ends once that is killed."""
    mark = uuid.uuid4().hex
    child = ("import sys; from api.export import _watch_parent; "
             "_watch_parent(int(sys.argv[1]))")
    parent = ("import subprocess, sys, os, time; "
              f"subprocess.Popen([sys.executable, '-c', {child!r}, str(os.getpid())]); "
              "time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", parent], env={**os.environ, MARK: mark})
    try:
        _wait_for(lambda: any("_watch_parent" in cmd for _, cmd in _marked(mark)),
                  what="watcher started")
        proc.kill()
        proc.wait()
        _wait_for(lambda: not _marked(mark), timeout=10, what="watcher gone")
    finally:
        proc.kill()
        proc.wait()
        _kill_marked(mark)


def test_clean_stale_temps_removes_only_this_outputs_temps(tmp_path):
    from api.export import _clean_stale_temps

    ours = [".out.json.ab_c1234.tmp", ".out.json.state.json.x9y8z7w6.tmp"]
    others = [".out.json.x.ab_c1234.tmp", ".other.json.ab_c1234.tmp", "out.json.partial",
              "out.json.state.json", ".out.json.ab_c12345.tmp", ".out.json.ABCDEFGH.tmp",
              "out.json.ab_c1234.tmp"]
    for name in ours + others:
        (tmp_path / name).write_text("x")
    (tmp_path / ".out.json.dir12345.tmp").mkdir()
    _clean_stale_temps(tmp_path / "out.json")
    assert sorted(os.listdir(tmp_path)) == sorted(others + [".out.json.dir12345.tmp"])
    _clean_stale_temps(tmp_path / "missing-dir" / "out.json")  # nothing to do, no error


def test_demo_server_stops_on_sigterm_while_a_request_hangs(demo_db):
    proc = subprocess.Popen([sys.executable, "-c", "from tui.cli import main; main()",
                             "demo-server", "--port", "0", "--faults", "hang_rate=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        env = _exported(proc)
        request = urllib.request.Request(
            f"{env['STUDIO_API_URL']}/projects/{env['STUDIO_PROJECT_ID']}/conversations",
            headers={"X-API-Key": env["STUDIO_API_TOKEN"]})
        answered = threading.Event()

        def ask():
            try:
                urllib.request.urlopen(request, timeout=60).read()
            except OSError:
                pass
            answered.set()

        threading.Thread(target=ask, daemon=True).start()
        assert not answered.wait(0.5)  # the request hangs
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert time.monotonic() - started < 5
        assert answered.wait(5)  # the hanging request was ended, not left open
        stderr = proc.stderr.read()
        assert "Traceback" not in stderr, stderr
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
