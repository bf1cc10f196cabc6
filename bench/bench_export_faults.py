"""Exports under injected faults: `studio-tui export` against `studio-tui demo-server --faults
SPEC`, one fault at a time, `--resume` until it completes (at most --max-runs runs). Prints a
row per fault: runs needed, wall time of all runs, exit code, and whether the file equals the
fault-free export (apart from `exported_at`).

    .venv/bin/python bench/bench_export_faults.py [--start D --end D] [--format json]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPECS = [
    "",
    "latency_ms=20,jitter_ms=30",
    "error_rate=0.1",
    "error_rate=0.3",
    "rate_limit_rate=0.1,retry_after_s=1",
    "hang_rate=0.02,hang_s=3600",
    "malformed_rate=0.1",
    "drop_field=conversation_id,path_contains=batch,drop_rate=0.1",
    "drop_field=conversation_id,drop_rate=0.1",
    "drop_field=messages,path_contains=batch,drop_rate=0.1",
    "error_rate=0.1,rate_limit_rate=0.05,malformed_rate=0.05,drop_field=conversation_id,"
    "drop_rate=0.1,latency_ms=10",
]
CLI = [sys.executable, "-c", "from tui.cli import main; main()"]


def serve(spec: str, folder: Path) -> tuple[subprocess.Popen, dict]:
    args = [*CLI, "demo-server", "--port", "0"] + (["--faults", spec] if spec else [])
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    env = dict(os.environ)
    for _ in range(3):
        line = proc.stdout.readline()
        name, value = re.match(r"export (\w+)=(.*)", line.strip()).groups()
        env[name] = value.strip("'")
    return proc, env


def body(path: Path) -> bytes:
    return b"\n".join(path.read_bytes().split(b"\n")[2:])  # past "exported_at"


def run(spec: str, args: argparse.Namespace, folder: Path, reference: bytes | None):
    server, env = serve(spec, folder)
    out = folder / f"out-{abs(hash(spec))}.{args.format}"
    cmd = [*CLI, "export", "--start", args.start, "--end", args.end, "--messages",
           "--format", args.format, "-o", str(out)]
    started, code, runs = time.monotonic(), None, 0
    try:
        while runs < args.max_runs:
            runs += 1
            done = subprocess.run(cmd + (["--resume"] if runs > 1 else []), env=env,
                                  capture_output=True, text=True)
            code = done.returncode
            if code == 0:
                break
    finally:
        server.terminate()
        server.wait(10)
    seconds = time.monotonic() - started
    same = code == 0 and (reference is None or body(out) == reference)
    return runs, seconds, code, same, (body(out) if code == 0 else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2026-09-01")
    parser.add_argument("--end", default="2026-12-06")
    parser.add_argument("--format", default="json", choices=["json", "jsonl", "csv"])
    parser.add_argument("--max-runs", type=int, default=4)
    args = parser.parse_args()
    print(f"{'faults':<75} runs  seconds  exit  same")
    with tempfile.TemporaryDirectory() as tmp:
        reference = None
        for spec in SPECS:
            runs, seconds, code, same, data = run(spec, args, Path(tmp), reference)
            if not spec:
                reference = data
            print(f"{spec or '(none)':<75} {runs:>4} {seconds:>8.1f} {code:>5}  {same}")


if __name__ == "__main__":
    main()
