"""Export benchmark: the brief's serial algorithm vs ``studio-tui export``, over loopback HTTP.

The demo backend runs as ``studio-tui demo-server`` (its own process) with 100 ms of latency
added to every request (a realistic round trip plus server time for the real API). Each export
runs in its own process so that its peak memory (``ru_maxrss`` from ``os.wait4``) is its own:

(a) baseline — the brief's export_conversations.py algorithm with the standard library: pages
    of 100 one after another, then batches of 50 one after another, everything held in memory,
    one ``json.dump`` at the end;
(b) ``studio-tui export --messages --concurrency C`` for each C of ``--concurrency`` (default
    16, the command's own default, and 32), interleaved run by run — concurrent, streaming.

Both write the same file (checked byte for byte, apart from ``exported_at``). Then ours runs
again on a 10x larger demo to show that its peak memory stays flat.

The demo server is a single Python process on the same two cores as the client. So the same
exports also run against a *replay* server (``--replay``, on by default): it answers with the
very bytes the demo gave (read back from the export file) after the same 100 ms, spending next
to no CPU — the client algorithms alone, as with the real API on its own machines.

    .venv/bin/python bench/bench_export.py [--size 5000] [--big 50000] [--latency-ms 100]
        [--concurrency 16,32] [--runs 3] [--skip-baseline] [--no-replay]

Both servers get one list page and one batch request first (warm, as a real API is). Ours
runs --runs times per concurrency (median, every run printed); the baseline, every round
trip in sequence, once. Nothing here asserts: it prints figures (recorded in bench/README.md).
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from _installed import compile_bytecode

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
START, END = "2000-01-01", "2100-01-01"

BASELINE = r'''
import json, os, sys, urllib.parse, urllib.request
from datetime import datetime, timezone
base, token, pid = (os.environ[k] for k in ("STUDIO_API_URL", "STUDIO_API_TOKEN", "STUDIO_PROJECT_ID"))
out, start, end = sys.argv[1:4]
def call(path, params=None, body=None):
    url = base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                 method="POST" if body is not None else "GET",
                                 headers={"X-API-Key": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as resp:
        return json.load(resp)
params = {"start_date": start + "T00:00:00Z", "end_date": end + "T00:00:00Z"}
conversations, offset = [], 0
while True:
    page = call(f"/projects/{pid}/conversations", {**params, "limit": 100, "offset": offset})
    conversations += page["conversations"]
    if len(page["conversations"]) < 100:
        break
    offset += 100
for i in range(0, len(conversations), 50):
    chunk = conversations[i:i + 50]
    details = {d["conversation_id"]: d for d in call(f"/projects/{pid}/conversations/batch",
               body={"conversation_ids": [c["conversation_id"] for c in chunk]})["conversations"]}
    for conv in chunk:
        d = details.get(conv["conversation_id"])
        if d:
            conv["messages"] = d.get("messages", [])
            conv["citations"] = d.get("citations", [])
result = {"exported_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
          "total_matched": page["total"], "total_exported": len(conversations),
          "conversations": conversations}
with open(out, "w") as f:
    json.dump(result, f, indent=2, ensure_ascii=False)
'''

REPLAY = r'''
import asyncio, json, socket, sys, urllib.parse
import uvicorn
path, latency = sys.argv[1], float(sys.argv[2]) / 1000
with open(path, encoding="utf-8") as f:
    convs = json.load(f)["conversations"]
rows = [{k: v for k, v in c.items() if k not in ("messages", "citations")} for c in convs]
details = {c["conversation_id"]: json.dumps(c, ensure_ascii=False) for c in convs}
del convs
pages = {}
def page(offset, limit):
    if (offset, limit) not in pages:
        pages[offset, limit] = json.dumps({"conversations": rows[offset:offset + limit],
            "total": len(rows), "limit": limit, "offset": offset}, ensure_ascii=False).encode()
    return pages[offset, limit]
for offset in range(0, len(rows) + 100, 100):  # both exports page by 100: answer at once
    page(offset, 100)
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    await asyncio.sleep(latency)
    if scope["method"] == "POST":
        ids = json.loads(body)["conversation_ids"]
        out = ('{"conversations": [' + ",".join(details[i] for i in ids if i in details)
               + "]}").encode()
    else:
        q = urllib.parse.parse_qs(scope["query_string"].decode())
        out = page(int(q.get("offset", ["0"])[0]), int(q.get("limit", ["20"])[0]))
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(out)).encode())]})
    await send({"type": "http.response.body", "body": out})
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
sock.listen(256)
print(f"export STUDIO_API_URL=http://127.0.0.1:{sock.getsockname()[1]}")
print("export STUDIO_API_TOKEN=sbs_replay")
print("export STUDIO_PROJECT_ID=replay", flush=True)
uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                              lifespan="off")).run(sockets=[sock])
'''


def start_replay(source: Path, latency_ms: float, env: dict) -> tuple[subprocess.Popen, dict]:
    return _start([PY, "-c", REPLAY, str(source), str(latency_ms)], env)


def start_server(size: int, latency_ms: float, env: dict) -> tuple[subprocess.Popen, dict]:
    return _start([PY, "-c", "from tui.cli import main; main()", "--demo-size", str(size),
                   "demo-server", "--port", "0", "--latency-ms", str(latency_ms)], env)


def bench_env() -> tuple[str, dict[str, str]]:
    """(cache dir, environment) of a benchmark's subprocesses: no STUDIO_ setting of the
    caller's, a cache of its own, the pinned demo (the tests' anchor and seed)."""
    cache = os.environ.get("STUDIO_TUI_CACHE_DIR") or str(
        Path(tempfile.gettempdir()) / "studio-tui-bench")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")}
    env.update(STUDIO_TUI_CACHE_DIR=cache, STUDIO_TUI_CONFIG_DIR=str(Path(cache) / "config"),
               STUDIO_DEMO_ANCHOR="2026-06-15", STUDIO_DEMO_SEED="7")
    return cache, env


@contextlib.contextmanager
def pinned_demo_server(size: int, latency_ms: float, prefix: str
                       ) -> Iterator[tuple[str, dict[str, str]]]:
    """The pinned demo (anchor 2026-06-15, seed 7) served with `latency_ms` per request, and
    this process's STUDIO_* variables pointed at it; yields (temp dir, the child env)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")}
        env.update(STUDIO_TUI_CACHE_DIR=tmp, STUDIO_TUI_CONFIG_DIR=str(Path(tmp) / "config"),
                   STUDIO_DEMO_ANCHOR="2026-06-15", STUDIO_DEMO_SEED="7")
        proc, server_env = start_server(size, latency_ms, env)
        try:
            child = {**env, **server_env}
            os.environ.update({k: v for k, v in child.items() if k.startswith("STUDIO_")})
            yield tmp, child
        finally:
            proc.terminate()
            proc.wait()


def _start(cmd: list[str], env: dict) -> tuple[subprocess.Popen, dict]:
    """Start a server that prints ``export STUDIO_...=...`` lines; return it and that env."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    server_env = {}
    assert proc.stdout is not None
    while len(server_env) < 3:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"server exited early (code {proc.wait()})")
        match = re.match(r"export (\w+)=(.*)", line.strip())
        if match:
            server_env[match.group(1)] = match.group(2).strip("'")
    return proc, server_env


def run_measured(cmd: list[str], env: dict) -> tuple[float, int]:
    """(seconds, peak RSS in MB) of one child process; fails loudly on a non-zero exit."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode:
        raise SystemExit(f"{cmd[:4]}... failed ({proc.returncode}):\n{err[-2000:]}")
    return seconds, usage.ru_maxrss // 1024


def ours_cmd(out: Path, concurrency: int) -> list[str]:
    return [PY, "-c", "from tui.cli import main; main()", "export", "--start", START, "--end",
            END, "--messages", "--concurrency", str(concurrency), "-o", str(out)]


def same_export(a: Path, b: Path) -> bool:
    """Equal bytes apart from the exported_at line. Compared in blocks: this process must
    stay small, since a child's ru_maxrss starts from its parent's peak at fork/exec."""
    with open(a, "rb") as fa, open(b, "rb") as fb:
        for fh in (fa, fb):
            head = fh.readline() + fh.readline()  # "{\n" + the exported_at line
            assert b'"exported_at"' in head
        while True:
            block_a, block_b = fa.read(1 << 20), fb.read(1 << 20)
            if block_a != block_b:
                return False
            if not block_a:
                return True


def warm_up(client_env: dict) -> None:
    """One list page and one batch, so that no export pays the server's first requests (a
    real API is warm; the baseline would otherwise profit from running second)."""
    base = client_env["STUDIO_API_URL"]
    pid = client_env["STUDIO_PROJECT_ID"]
    headers = {"X-API-Key": client_env["STUDIO_API_TOKEN"], "Content-Type": "application/json"}
    query = urllib.parse.urlencode({"start_date": START + "T00:00:00Z",
                                    "end_date": END + "T00:00:00Z", "limit": 1})
    with urllib.request.urlopen(urllib.request.Request(
            f"{base}/projects/{pid}/conversations?{query}", headers=headers), timeout=60) as r:
        ids = [c["conversation_id"] for c in json.load(r)["conversations"]]
    body = json.dumps({"conversation_ids": ids}).encode()
    with urllib.request.urlopen(urllib.request.Request(
            f"{base}/projects/{pid}/conversations/batch", data=body, headers=headers,
            method="POST"), timeout=60) as r:
        r.read()


def compare(server: tuple[subprocess.Popen, dict], tag: str, concurrencies: list[int],
            workdir: Path, env: dict, baseline: bool, keep: bool = False,
            runs: int = 1) -> dict:
    """Run ours ``runs`` times at each concurrency (interleaved run by run: a drifting
    machine moves them alike; median reported) and the baseline once against a started
    server; stop the server. ``result["file"]``: an export of ours (kept with ``keep``)."""
    proc, server_env = server
    try:
        client_env = {**env, **server_env}
        warm_up(client_env)
        files = {c: workdir / f"ours-{tag}-c{c}.json" for c in concurrencies}
        measured: dict[int, list[tuple[float, int]]] = {c: [] for c in concurrencies}
        for _ in range(runs):
            for c in concurrencies:
                measured[c].append(run_measured(ours_cmd(files[c], c), client_env))
        result: dict = {"file": files[concurrencies[0]], "ours": {}}
        for c in concurrencies:
            seconds = [s for s, _ in measured[c]]
            result["ours"][c] = {"runs": seconds, "s": statistics.median(seconds),
                                 "mb": max(mb for _, mb in measured[c])}
        result["bytes"] = result["file"].stat().st_size
        if baseline:
            base = workdir / f"baseline-{tag}.json"
            result["base_s"], result["base_mb"] = run_measured(
                [PY, "-c", BASELINE, str(base), START, END], client_env)
            result["identical"] = all(same_export(base, f) for f in files.values())
            base.unlink()
        for f in files.values():
            if not (keep and f == result["file"]):
                f.unlink()
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def report(title: str, r: dict) -> None:
    print(title)
    if "base_s" in r:
        print(f"  baseline (brief's serial algorithm): {r['base_s']:7.1f} s, "
              f"peak RSS {r['base_mb']:5d} MB")
    for c, ours in r["ours"].items():
        runs = ", ".join(f"{x:.2f}" for x in ours["runs"])
        line = (f"  studio-tui export --concurrency {c:<3d}: {ours['s']:6.2f} s, "
                f"peak RSS {ours['mb']:5d} MB")
        if "base_s" in r:
            line += f", {r['base_s'] / ours['s']:5.1f}x"
        print(line + (f"  (median of {runs})" if len(ours["runs"]) > 1 else ""))
    if "identical" in r:
        print(f"  files identical apart from exported_at: {r['identical']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--big", type=int, default=50000, help="0 to skip the memory scale run")
    ap.add_argument("--latency-ms", type=float, default=100.0)
    ap.add_argument("--concurrency", default="16,32",
                    help="comma-separated --concurrency values for studio-tui export")
    ap.add_argument("--runs", type=int, default=3,
                    help="exports by studio-tui per comparison (median; the baseline runs once)")
    ap.add_argument("--skip-baseline", action="store_true")
    ap.add_argument("--no-replay", dest="replay", action="store_false",
                    help="skip the runs against the replay server")
    args = ap.parse_args()
    concs = [int(c) for c in args.concurrency.split(",") if c.strip()]
    compile_bytecode()  # start like an installed copy (see _installed.py)

    cache, env = bench_env()
    base = not args.skip_baseline
    lat = args.latency_ms
    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        work = Path(tmp)
        small = compare(start_server(args.size, lat, env), "demo", concs, work, env, base,
                        keep=args.replay, runs=args.runs)
        report(f"demo server, {args.size:,} conversations with messages, {lat:.0f} ms per "
               f"request, file {small['bytes'] / 1e6:.1f} MB", small)
        if args.replay:
            replay = compare(start_replay(small["file"], lat, env), "replay", concs, work, env,
                             base, runs=args.runs)
            report(f"replay server (same answers, same {lat:.0f} ms, ~no server CPU)", replay)
        if args.big:
            big = compare(start_server(args.big, lat, env), "big", concs, work, env, False,
                          keep=args.replay)
            report(f"demo server, {args.big:,} conversations "
                   f"(file {big['bytes'] / 1e6:.1f} MB)", big)
            if args.replay:
                big_replay = compare(start_replay(big["file"], lat, env), "big-replay", concs,
                                     work, env, False)
                report(f"replay server, {args.big:,} conversations", big_replay)
            for c in concs:
                print(f"peak RSS of studio-tui export --concurrency {c}: "
                      f"{small['ours'][c]['mb']} MB at {args.size:,} vs "
                      f"{big['ours'][c]['mb']} MB at {args.big:,} conversations")


if __name__ == "__main__":
    main()
