"""Latency of a page of 50 conversations from the demo app, at the demo's largest size.

How it measures: requests go through the real ASGI app in process (httpx.AsyncClient over
httpx.ASGITransport: auth, parameter validation, SQL, JSON encoding, the response) — no socket,
no network. For each query it prints

  cold    the first request (nothing cached: sqlite page cache warm-up + `total` count),
  warm    p50/p95 over N repeats of the same request (`total` from the app's count LRU),
  next    p50/p95 over the N following pages (offset += 50 each time, like an export),
  nocache p50/p95 over N repeats with the count LRU cleared before each request (the worst
          case: every request recounts),

then the peak RSS of this process (the app's memory: one page held, whatever the size).
"deep" is the last pages of the unfiltered list (`--deep` sets another offset).

Usage: .venv/bin/python bench/bench_demo_queries.py [--size 200000] [--repeats 50]
       [--anchor YYYY-MM-DD] [--db FILE] [--deep OFFSET]
(generates the database on first use; figures: bench/README.md).
"""
from __future__ import annotations

import argparse
import asyncio
import resource
import sqlite3
import statistics
import time
from pathlib import Path

import httpx

from api.demo import demo_info
from api.demo.app import create_app
from api.demo.generate import ensure_demo_db
from api.demo.store import LRU

PAGE = 50


def queries(db_path: Path, project_id: str, deep: int | None,
            repeats: int) -> dict[str, dict[str, str]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tags = [t for t, in conn.execute(
            "SELECT tag FROM conv_tags GROUP BY tag ORDER BY count(*) DESC LIMIT 2")]
        skill = conn.execute("SELECT skill_name FROM conv_skills GROUP BY skill_name "
                             "ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        total = conn.execute("SELECT count(*) FROM conversations WHERE project_id = ?",
                             (project_id,)).fetchone()[0]
    finally:
        conn.close()
    offset = deep if deep is not None else max(0, total - (repeats + 1) * PAGE)
    return {
        "no filter": {},
        "sentiment=negative&has_handoff=true": {"sentiment": "negative", "has_handoff": "true"},
        f"tags={','.join(tags)}": {"tags": ",".join(tags)},
        f"skill_name={skill}": {"skill_name": skill},
        f"deep: offset={offset}": {"offset": str(offset)},
        "sort_by=message_count&sort_order=asc": {"sort_by": "message_count", "sort_order": "asc"},
    }



def pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def timed(client: httpx.AsyncClient, path: str, params: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    r = await client.get(path, params={"limit": str(PAGE), **params})
    elapsed = (time.perf_counter() - start) * 1000
    r.raise_for_status()
    return elapsed, r.json()["total"]


async def run(size: int, repeats: int, db: str | None, anchor: str | None,
              deep: int | None) -> None:
    t0 = time.perf_counter()
    db_path = Path(db) if db else ensure_demo_db(size=size, anchor=anchor)
    print(f"database: {db_path} (ready in {time.perf_counter() - t0:.1f}s, "
          f"{db_path.stat().st_size / 1e6:.0f} MB)")
    app = create_app(db_path)
    info = demo_info(db_path)
    path = f"/projects/{info.project_id}/conversations"
    store = app.state.store
    print(f"{'query':<38} {'total':>7} {'cold':>7} {'warm p50':>9} {'warm p95':>9} "
          f"{'next p50':>9} {'next p95':>9} {'nocache p50':>12} {'nocache p95':>12}  (ms)")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=info.base_url,
                                 headers={"X-API-Key": info.api_key}) as client:
        for name, params in queries(db_path, info.project_id, deep, repeats).items():
            cold, total = await timed(client, path, params)
            warm = [(await timed(client, path, params))[0] for _ in range(repeats)]
            start = int(params.get("offset", 0))
            following = [(await timed(client, path, {**params, "offset": str(start + PAGE * i)}))[0]
                         for i in range(1, repeats + 1)]
            nocache = []
            for _ in range(repeats):
                store.counts = LRU()
                nocache.append((await timed(client, path, params))[0])
            print(f"{name:<38} {total:>7} {cold:>7.1f} {pct(warm, 50):>9.1f} {pct(warm, 95):>9.1f} "
                  f"{pct(following, 50):>9.1f} {pct(following, 95):>9.1f} "
                  f"{pct(nocache, 50):>12.1f} {pct(nocache, 95):>12.1f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--anchor", help="demo anchor YYYY-MM-DD (default: STUDIO_DEMO_ANCHOR or today)")
    ap.add_argument("--db", help="bench this database file instead of ensure_demo_db(size)")
    ap.add_argument("--deep", type=int, help="offset of the deep query (default: the last pages)")
    args = ap.parse_args()
    asyncio.run(run(args.size, args.repeats, args.db, args.anchor, args.deep))


if __name__ == "__main__":
    main()
