"""Demo database generation benchmark: time and file size per size.

Usage: .venv/bin/python bench/bench_demo_generate.py [SIZE ...]   (default: 5000 50000 200000)
Builds into a fresh temporary directory each time (never the user's cache) and prints, per size:
wall time, CPU time, conversations/s, file size, bytes per conversation and the largest tables
(figures: bench/README.md). Sizes above the demo's cap (api.demo.generate.MAX_SIZE) are refused.
"""
from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from api.demo.generate import ensure_demo_db


def table_sizes(path: Path, top: int = 6) -> list[tuple[str, int]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name "
                            "ORDER BY 2 DESC LIMIT ?", (top,)).fetchall()
    except sqlite3.OperationalError:  # SQLite built without dbstat
        return []
    finally:
        conn.close()


def bench(size: int, seed: int = 7, anchor: str = "2026-06-15") -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-demo-"))
    try:
        last = [time.perf_counter()]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 10:
                print(f"  ... {done:,}/{total:,}", flush=True)
                last[0] = now

        t0, cpu0 = time.perf_counter(), time.process_time()
        path = ensure_demo_db(size=size, seed=seed, anchor=anchor, cache_dir=tmp,
                              progress=progress)
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        t1 = time.perf_counter()
        ensure_demo_db(size=size, seed=seed, anchor=anchor, cache_dir=tmp)
        reuse_ms = (time.perf_counter() - t1) * 1000
        nbytes = path.stat().st_size
        print(f"size={size:>9,}  time={elapsed:8.1f}s  cpu={cpu:8.1f}s  "
              f"rate={size / elapsed:9,.0f} conv/s  "
              f"file={nbytes / 2**20:9.1f} MiB  per-conv={nbytes / size:7.0f} B  "
              f"reuse={reuse_ms:.1f} ms", flush=True)
        for name, n in table_sizes(path):
            print(f"    {name:<36} {n / 2**20:9.1f} MiB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str]) -> None:
    sizes = [int(a.replace("_", "").replace("k", "000").replace("M", "000000"))
             for a in argv] or [5000, 50_000, 200_000]
    for size in sizes:
        bench(size)


if __name__ == "__main__":
    main(sys.argv[1:])
