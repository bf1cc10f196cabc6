"""The explorer timed in tmux, as a user runs it (issue 4). Not part of the test suite.

Starts the real console script (`.venv/bin/studio-tui`) in a detached tmux session of
--width x --height on the embedded demo backend, polls the screen with `capture-pane` about
every 5 ms, and times from just before `new-session` to:
  (a) first frame: the header line shows the app ("studio-tui" and the "DEMO" badge);
  (b) first page painted: the status line reads "page 1 / N" and conversation rows are on
      screen, and stay so (same page size, range and total) for STABLE_S: a page replaced
      right after its first paint is not the first page, the one that replaces it is (warm
      response cache: one cold run first, not counted, fills it);
and a bare one-widget Textual app ("hello-bare", same python, same tmux) the same way, for
the ratios. Then, in one session after the first page is painted, key press -> page painted
(the status line shows the new page number):
  cached    `n` pressed 0.6 s after the previous page settled (its prefetch has landed);
  uncached  `}` (last page) then `p` (previous page) repeatedly: pages never shown nor
            prefetched in this session nor in the response cache.
Medians of --runs (the bare app and ours interleaved, run by run, so that a machine whose speed
drifts moves both); flips: median and max. The app's peak RSS (VmHWM of the pane's process,
embedded demo backend included) is read before each session is killed.

    .venv/bin/python bench/bench_tmux.py [--sizes 5000,200000] [--runs 5]
        [--width 100 --height 30] [--spawn]

tmux runs on a private socket (-L) with no config file (-f /dev/null). Commands go through
one control-mode client (`tmux -C`, attached to its own idle session) so a poll is a socket
round trip, not a process start; --spawn runs `tmux capture-pane ...` as a new process per
poll instead (slower, more CPU taken from the app). The poll's cost is printed: a figure is
the time the matching capture returned, so it errs late by up to one poll interval plus one
capture call.

Figures: bench/README.md.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _installed import compile_bytecode

ROOT = Path(__file__).resolve().parent.parent
ANCHOR = "2026-06-15"
SEED = 7
POLL_S = 0.005
TIMEOUT_S = 180.0
STABLE_S = 0.4  # a first page unchanged this long is the one the user gets
SETTLE_S = 0.6  # before a "cached" flip: the next page's prefetch (PREFETCH_DELAY_S) has landed

BARE_APP = """
from textual.app import App
from textual.widgets import Static
class Bare(App):
    def compose(self):
        yield Static("hello-bare")
Bare().run()
"""

STATUS = re.compile(r"^\s*page (\d+) / (\d+) ·")
ROW = re.compile(r"^\s+\d\d-\d\d \d\d:\d\d\s+\S+\s+\d+")  # "  06-15 23:59  21014874   20"


class Tmux:
    """tmux commands on a private server: one control-mode client, or a process each."""

    def __init__(self, socket: str, env: dict[str, str], spawn: bool) -> None:
        self.base = ["tmux", "-L", socket, "-f", "/dev/null"]
        self.env, self.spawn = env, spawn
        # the control client's own idle session keeps the server up between runs
        self.proc = subprocess.Popen(
            [*self.base, "-C", "new-session", "-s", "bench-ctl", "-x", "80", "-y", "24",
             "sleep 86400"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        self._block()  # the reply to new-session itself

    def _block(self) -> list[str]:
        """Lines of the next %begin ... %end reply (notifications in between skipped)."""
        out: list[str] | None = None
        while True:
            raw = self.proc.stdout.readline()
            if not raw:
                raise RuntimeError("tmux control client exited")
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if out is None:
                if line.startswith("%begin "):
                    out = []
                continue
            if line.startswith(("%end ", "%error ")):
                if line.startswith("%error "):
                    raise RuntimeError("tmux: " + "\n".join(out))
                return out
            out.append(line)

    def __call__(self, *argv: str) -> list[str]:
        if self.spawn:
            proc = subprocess.run([*self.base, *argv], env=self.env, capture_output=True,
                                  text=True)
            if proc.returncode:
                raise RuntimeError(f"tmux {argv[0]}: {proc.stderr.strip()}")
            return proc.stdout.splitlines()
        self.proc.stdin.write((" ".join(quote(a) for a in argv) + "\n").encode())
        self.proc.stdin.flush()
        return self._block()

    def capture(self, name: str) -> list[str]:
        return self("capture-pane", "-p", "-t", name)

    def server_pid(self) -> int:
        return int(self("display-message", "-p", "-t", "bench-ctl", "#{pid}")[0])

    def close(self) -> None:
        socket = Path(self("display-message", "-p", "-t", "bench-ctl", "#{socket_path}")[0])
        try:
            self("kill-server")
        except RuntimeError:
            pass
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        socket.unlink(missing_ok=True)  # tmux leaves it behind


def quote(arg: str) -> str:
    """tmux command-language quoting (single quotes, as in sh; args contain none)."""
    if re.fullmatch(r"[\w@%+=:,./-]+", arg):
        return arg
    assert "'" not in arg, arg
    return f"'{arg}'"


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (0 when gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class Session:
    """One program in a detached tmux session, and its screen."""

    counter = 0

    def __init__(self, tmux: Tmux, command: str, cwd: str, width: int, height: int) -> None:
        Session.counter += 1
        self.tmux, self.name = tmux, f"bench{Session.counter}"
        self.t0 = time.perf_counter()
        tmux("new-session", "-d", "-s", self.name, "-x", str(width), "-y", str(height),
             "-c", cwd, command)
        self.pid = int(tmux("list-panes", "-t", self.name, "-F", "#{pane_pid}")[0])
        self.screen: list[str] = []

    def wait_for(self, done, since: float | None = None) -> float:
        """Seconds from `since` (default: just before new-session) until `done(screen)`,
        taken when the matching capture returned; polled about every POLL_S."""
        since = self.t0 if since is None else since
        deadline = time.perf_counter() + TIMEOUT_S
        next_poll = time.perf_counter()
        while True:
            self.screen = self.tmux.capture(self.name)
            now = time.perf_counter()
            if done(self.screen):
                return now - since
            if now > deadline:
                raise TimeoutError(f"{self.name}: screen never matched:\n"
                                   + "\n".join(self.screen))
            next_poll += POLL_S
            time.sleep(max(0.0, next_poll - time.perf_counter()))

    def settled(self, shown: float) -> float:
        """`shown` (seconds since start, the page just matched), or later: the time the
        page on screen last changed (another page size, range or total), once it has not
        for STABLE_S. A page that is replaced right after its first paint does not count."""
        last = page_shown(self.screen)
        quiet_until = time.perf_counter() + STABLE_S
        while time.perf_counter() < quiet_until:
            time.sleep(POLL_S)
            self.screen = self.tmux.capture(self.name)
            now = page_shown(self.screen)
            if now != last:
                last, shown = now, time.perf_counter() - self.t0
                quiet_until = time.perf_counter() + STABLE_S
        return shown

    def press(self, key: str, done) -> float:
        started = time.perf_counter()
        self.tmux("send-keys", "-t", self.name, "-l", key)
        return self.wait_for(done, since=started)

    def kill(self) -> float | None:
        """Kill the session; the app's peak RSS (MB) read just before."""
        rss = peak_rss_mb(self.pid)
        self.tmux("kill-session", "-t", self.name)
        for _ in range(500):  # until the process is gone: the next run starts on a quiet CPU
            if not Path(f"/proc/{self.pid}").exists():
                break
            time.sleep(0.01)
        else:
            os.kill(self.pid, 9)
        return rss


def status(screen: list[str]) -> tuple[int, int, bool] | None:
    """(page, pages, rows visible) from the table's status line, if shown."""
    for i, line in enumerate(screen):
        if m := STATUS.match(line):
            rows = any(ROW.match(row) for row in screen[:i])
            return int(m[1]), int(m[2]), rows
    return None


def page_shown(screen: list[str]) -> tuple[str, int]:
    """The status line's page, range and total, and how many rows are on screen."""
    for line in screen:
        if STATUS.match(line):
            return " · ".join(part.strip() for part in line.split("·")[:2]), sum(
                bool(ROW.match(row)) for row in screen)
    return "", 0


def on_page(page: int):
    def done(screen: list[str]) -> bool:
        s = status(screen)
        return s is not None and s[0] == page and s[2]
    return done


def first_frame(screen: list[str]) -> bool:
    return bool(screen) and "studio-tui" in screen[0] and "DEMO" in screen[0]


def refreshing(screen: list[str]) -> bool:
    return any(STATUS.match(line) and "refreshing" in line for line in screen)


def app_command(env: dict[str, str]) -> str:
    exports = " ".join(f"{k}={v}" for k, v in env.items())
    return f"exec env {exports} {ROOT / '.venv' / 'bin' / 'studio-tui'}"


def start_app(tmux: Tmux, args, cwd: str, app_env: dict[str, str]) -> tuple[Session, float,
                                                                            float]:
    s = Session(tmux, app_command(app_env), cwd, args.width, args.height)
    frame = s.wait_for(first_frame)
    page = s.settled(s.wait_for(on_page(1)))
    return s, frame, page


def bare_once(tmux: Tmux, args, cwd: str) -> float:
    """First frame of the bare app (its script written in ``cwd`` by ``main``)."""
    s = Session(tmux, f"exec {sys.executable} {Path(cwd) / 'bare_app.py'}", cwd, args.width,
                args.height)
    frame = s.wait_for(lambda screen: any("hello-bare" in line for line in screen))
    s.kill()
    return frame


def poll_cost(tmux: Tmux, name: str) -> tuple[float, float]:
    """Median seconds of one capture-pane call, and the CPU share (of one core) that polling
    every POLL_S takes (this process + the tmux server; with --spawn the tmux client
    processes' CPU is in neither), over 2 s of polling."""
    server = tmux.server_pid()
    calls = []
    cpu0, srv0, t0 = time.process_time(), cpu_s(server), time.perf_counter()
    next_poll = t0
    while time.perf_counter() - t0 < 2.0:
        started = time.perf_counter()
        tmux.capture(name)
        calls.append(time.perf_counter() - started)
        next_poll += POLL_S
        time.sleep(max(0.0, next_poll - time.perf_counter()))
    wall = time.perf_counter() - t0
    cpu = time.process_time() - cpu0 + cpu_s(server) - srv0
    return statistics.median(calls), cpu / wall


def flips(tmux: Tmux, args, cwd: str, app_env: dict[str, str]) -> dict:
    s, _, _ = start_app(tmux, args, cwd, app_env)
    out: dict = {"cached": [], "uncached": []}
    try:
        s.wait_for(lambda screen: not refreshing(screen))
        page, pages, _ = status(s.screen)
        for _ in range(10):
            time.sleep(SETTLE_S)
            out["cached"].append(s.press("n", on_page(page + 1)))
            page += 1
            s.wait_for(lambda screen: not refreshing(screen))
        shown = set(range(1, page + 2))  # pages shown, and the one prefetched after them
        targets = [pages] + [pages - i for i in range(1, 8)]
        if shown & set(targets):
            raise RuntimeError(f"too few pages ({pages}) for uncached flips")
        for target in targets:
            time.sleep(SETTLE_S)
            key = "}" if target == pages else "p"
            out["uncached"].append(s.press(key, on_page(target)))
            s.wait_for(lambda screen: not refreshing(screen))
        out["pages"] = pages
        out["cost"] = poll_cost(tmux, s.name)
    finally:
        out["rss"] = s.kill()
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:6.0f} ms"


def report(tmux: Tmux, args, size: int, cwd: str, app_env: dict[str, str],
           bare_dir: str) -> None:
    s, frame, page = start_app(tmux, args, cwd, app_env)  # cold: fills the response cache
    s.kill()
    print(f"   cold response cache (not counted): first frame {ms(frame)}, first page "
          f"{ms(page)}")
    bares, frames, pages, rss = [], [], [], []
    for _ in range(args.runs):  # interleaved with the bare app: a drifting machine moves both
        bares.append(bare_once(tmux, args, bare_dir))
        s, frame, page = start_app(tmux, args, cwd, app_env)
        frames.append(frame)
        pages.append(page)
        rss.append(s.kill())
    bare_s, frame, page = (statistics.median(bares), statistics.median(frames),
                           statistics.median(pages))
    f = flips(tmux, args, cwd, app_env)
    print(f"(a) bare one-widget app, first frame: {ms(bare_s)}   runs: "
          f"{', '.join(f'{t * 1000:.0f}' for t in bares)}")
    print(f"(b) studio-tui first frame:           {ms(frame)}  ({frame / bare_s:.2f}x bare; "
          f"target <= 1.3x)   runs: {', '.join(f'{t * 1000:.0f}' for t in frames)}")
    print(f"(c) first page painted, warm cache:   {ms(page)}  ({page / bare_s:.2f}x bare; "
          f"target <= 1.5x)   runs: {', '.join(f'{t * 1000:.0f}' for t in pages)}")
    cached, uncached = f["cached"], f["uncached"]
    print(f"(d) key -> page painted, cached (n):    median {ms(statistics.median(cached))}  "
          f"max {ms(max(cached))}  (target < 50 ms)")
    print(f"    key -> page painted, uncached (}}, p): median {ms(statistics.median(uncached))}"
          f"  max {ms(max(uncached))}   (`}}` to page {f['pages']:,}: {ms(uncached[0])})")
    print(f"    all flips (ms): cached {[round(t * 1000) for t in cached]}, "
          f"uncached {[round(t * 1000) for t in uncached]}")
    rss_ok = [r for r in rss if r is not None]
    if rss_ok and f["rss"] is not None:
        print(f"    peak RSS (VmHWM): {statistics.median(rss_ok):.0f} MB at the first page, "
              f"{f['rss']:.0f} MB after {len(cached) + len(uncached)} flips")
    call, cpu = f["cost"]
    share = "" if tmux.spawn else f", {cpu:.0%} of a core (poller + tmux server)"
    print(f"    polling: one capture-pane {call * 1000:.2f} ms (median), every "
          f"{POLL_S * 1000:.0f} ms{share}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="5000,200000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--width", type=int, default=100)
    parser.add_argument("--height", type=int, default=30)
    parser.add_argument("--spawn", action="store_true",
                        help="one tmux process per command instead of a control-mode client")
    args = parser.parse_args()
    compile_bytecode()  # start like an installed copy (see _installed.py)
    from api.config import cache_dir
    from api.demo.generate import ensure_demo_db

    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}
    for var in ("STUDIO_API_TOKEN", "STUDIO_PROJECT_ID", "STUDIO_API_URL"):
        env.pop(var, None)
    tmux = Tmux(f"bench-tmux-{os.getpid()}", env, args.spawn)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "bare_app.py").write_text(BARE_APP)
            bare_once(tmux, args, tmp)  # not counted: warms the OS file cache
            for size in (int(s) for s in args.sizes.split(",")):
                db = ensure_demo_db(size=size, seed=SEED, anchor=ANCHOR, cache_dir=cache_dir())
                print(f"\n== {size:,} conversations ({db.name}), {args.width}x{args.height}")
                with tempfile.TemporaryDirectory() as home:
                    # a fresh cache dir (empty response cache) whose demo/ points at the
                    # databases: without it the app would generate a new database
                    (Path(home) / "cache").mkdir(mode=0o700)
                    (Path(home) / "cache" / "demo").symlink_to(db.parent)
                    app_env = {"STUDIO_TUI_CACHE_DIR": str(Path(home) / "cache"),
                               "STUDIO_TUI_DATA_DIR": str(Path(home) / "data"),
                               "STUDIO_TUI_CONFIG_DIR": home, "STUDIO_DEMO_SIZE": str(size),
                               "STUDIO_DEMO_SEED": str(SEED), "STUDIO_DEMO_ANCHOR": ANCHOR}
                    report(tmux, args, size, home, app_env, tmp)
    finally:
        tmux.close()
    print(f"\nuptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
