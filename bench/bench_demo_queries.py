"""Latency of a page of 50 conversations from the demo app at 1,000,000 conversations.

How it measures: requests go through the real ASGI app in process (httpx.AsyncClient over
httpx.ASGITransport: auth, parameter validation, SQL, JSON encoding, the response) — no socket,
no network. For each query it prints

  cold    the first request (nothing cached: sqlite page cache warm-up + `total` count),
  warm    p50/p95 over N repeats of the same request (`total` from the app's count LRU; the
          page query runs, resuming from its keyset checkpoint),
  next    p50/p95 over the N following pages (offset += 50 each time, like an export),
  nocache p50/p95 over N repeats with the count LRU and checkpoints cleared before each
          request (the worst case: every request recounts and scans from the start).

Usage: .venv/bin/python bench/bench_demo_queries.py [--size 1000000] [--repeats 50]
       [--anchor YYYY-MM-DD] [--db FILE]
(generates the database on first use, which takes minutes at 1M).
"""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
import statistics
import time
from pathlib import Path

import httpx

from api.demo import demo_info
from api.demo.app import create_app
from api.demo.generate import ensure_demo_db
from api.demo.store import LRU, Checkpoints

DEEP_OFFSET = 200_000


def queries(db_path) -> dict[str, dict[str, str]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    tags = [t for t, in conn.execute(
        "SELECT tag FROM conv_tags GROUP BY tag ORDER BY count(*) DESC LIMIT 2")]
    skill = conn.execute(
        "SELECT skill_name FROM conv_skills GROUP BY skill_name ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    conn.close()
    return {
        "no filter": {},
        "sentiment=negative&has_handoff=true": {"sentiment": "negative", "has_handoff": "true"},
        f"tags={','.join(tags)}": {"tags": ",".join(tags)},
        f"skill_name={skill}": {"skill_name": skill},
        f"offset={DEEP_OFFSET}": {"offset": str(DEEP_OFFSET)},
        # not one of the five target queries: the explorer's sort by message count
        "sort_by=message_count&sort_order=asc": {"sort_by": "message_count", "sort_order": "asc"},
    }


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


async def timed(client: httpx.AsyncClient, path: str, params: dict) -> tuple[float, int]:
    start = time.perf_counter()
    r = await client.get(path, params={"limit": "50", **params})
    elapsed = (time.perf_counter() - start) * 1000
    r.raise_for_status()
    return elapsed, r.json()["total"]


async def run(size: int, repeats: int, db: str | None, anchor: str | None) -> None:
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
        for name, params in queries(db_path).items():
            cold, total = await timed(client, path, params)
            warm = [(await timed(client, path, params))[0] for _ in range(repeats)]
            start = int(params.get("offset", 0))
            following = [(await timed(client, path, {**params, "offset": str(start + 50 * i)}))[0]
                         for i in range(1, repeats + 1)]
            nocache = []
            for _ in range(repeats):
                store.counts, store.checkpoints = LRU(), Checkpoints()
                nocache.append((await timed(client, path, params))[0])
            print(f"{name:<38} {total:>7} {cold:>7.1f} {pct(warm, 50):>9.1f} {pct(warm, 95):>9.1f} "
                  f"{pct(following, 50):>9.1f} {pct(following, 95):>9.1f} "
                  f"{pct(nocache, 50):>12.1f} {pct(nocache, 95):>12.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--anchor", help="demo anchor YYYY-MM-DD (default: STUDIO_DEMO_ANCHOR or today)")
    ap.add_argument("--db", help="bench this database file instead of ensure_demo_db(size)")
    args = ap.parse_args()
    asyncio.run(run(args.size, args.repeats, args.db, args.anchor))


if __name__ == "__main__":
    main()
