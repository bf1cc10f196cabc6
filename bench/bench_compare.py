"""Compare benchmark (issue 14): ``compare`` of two cohorts against ``studio-tui demo-server
--latency-ms 100`` over loopback, in round trips of wall time.

Every count of ``compare`` is one ``limit=1`` list request, all sent at once (the client's
concurrency as ``studio-tui compare`` sets it), so its wall time should be about one round
trip; the target is at most 3. A round trip is measured as the median of single ``limit=1``
list requests one after another on the same server. The response cache is off: every run asks
the server.

    .venv/bin/python bench/bench_compare.py [--size 5000] [--latency-ms 100] [--runs 5]
        [--a frustration] [--b "handoff:yes tags:billing"]

Nothing here asserts: it prints figures (recorded in bench/README.md).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from bench_export import pinned_demo_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def measure(a_text: str, b_text: str, runs: int) -> dict:
    from datetime import UTC, datetime

    from api.client import StudioClient
    from api.compare import cohort_from, compare, count_queries, same_window
    from api.config import load_settings
    from api.endpoints import conversations
    from api.query import ConversationQuery
    from tui.cli import main as _  # noqa: F401 (tui.cli registers tui.cli_compare: first)
    from tui.cli_compare import MAX_CONCURRENCY

    settings = load_settings()
    now = datetime(2026, 6, 15, 12, tzinfo=UTC)
    config = settings.config_file
    a, b = same_window(cohort_from(a_text, config, now), cohort_from(b_text, config, now))
    requests = len({*count_queries(a), *count_queries(b)})
    client = StudioClient.from_settings(settings, cache=False,
                                        concurrency=min(MAX_CONCURRENCY, requests + 2))
    async with client:
        one = conversations.rows(client.project_id, ConversationQuery(), limit=1)
        await client.load(one)  # warm: a connection open, the server's first query done
        trips = []
        for _ in range(max(5, runs)):
            started = time.perf_counter()
            await client.load(one)
            trips.append(time.perf_counter() - started)
        walls = []
        for _ in range(runs):
            started = time.perf_counter()
            await compare(client, client.project_id, a, b)
            walls.append(time.perf_counter() - started)
    return {"requests": requests, "trip": statistics.median(trips), "walls": walls}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--latency-ms", type=float, default=100.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--a", default="frustration", help="cohort A (a view or a query)")
    ap.add_argument("--b", default="handoff:yes tags:billing", help="cohort B")
    args = ap.parse_args()
    with pinned_demo_server(args.size, args.latency_ms, "bench-compare-"):
        result = asyncio.run(measure(args.a, args.b, args.runs))
    trip, walls = result["trip"], result["walls"]
    median = statistics.median(walls)
    print(f"compare {args.a!r} vs {args.b!r}: {result['requests']} count requests (limit=1), "
          f"demo server {args.size:,} conversations, {args.latency_ms:.0f} ms per request")
    print(f"round trip (one limit=1 list request): {trip * 1000:.0f} ms")
    print(f"compare wall time: median {median * 1000:.0f} ms = {median / trip:.2f} round trips "
          f"(runs: {', '.join(f'{w * 1000:.0f}' for w in walls)} ms)")


if __name__ == "__main__":
    main()
