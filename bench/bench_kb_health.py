"""KB article health benchmark (issue 14): ``kb-health`` over 30 days of the 5,000-conversation
demo against ``studio-tui demo-server --latency-ms 100`` over loopback; the target is at most
5 s.

Two figures: ``api.kb_health.kb_health`` in process (the response cache off: every request
reaches the server) and the whole command, ``studio-tui kb-health --format json`` in a child
process with an empty response cache each run (start-up included).

    .venv/bin/python bench/bench_kb_health.py [--size 5000] [--latency-ms 100] [--runs 3]
        [--start 2026-05-17] [--end 2026-06-16] [--cap 5000]

Nothing here asserts: it prints figures (recorded in bench/README.md).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from bench_export import PY, pinned_demo_server, run_measured

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


async def measure(start: str, end: str, cap: int, runs: int) -> dict:
    from api.client import StudioClient
    from api.config import load_settings
    from api.kb_health import kb_health
    from tui.cli import main as _  # noqa: F401 (tui.cli registers tui.cli_kb_health: first)
    from tui.cli_kb_health import CONCURRENCY

    client = StudioClient.from_settings(load_settings(), cache=False, concurrency=CONCURRENCY)
    walls, result = [], None
    async with client:
        for _ in range(runs):
            started = time.perf_counter()
            result = await kb_health(client, client.project_id, start, end, cap=cap)
            walls.append(time.perf_counter() - started)
    assert result is not None
    return {"walls": walls, "citations": result.citations_read, "items": len(result.items),
            "conversations": result.conversations, "labels_from": result.labels_from}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--latency-ms", type=float, default=100.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--start", default="2026-05-17")
    ap.add_argument("--end", default="2026-06-16")
    ap.add_argument("--cap", type=int, default=5000)
    args = ap.parse_args()
    with pinned_demo_server(args.size, args.latency_ms, "bench-kb-health-") as (tmp, env):
        result = asyncio.run(measure(args.start, args.end, args.cap, args.runs))
        cli = []
        for i in range(args.runs):
            child = {**env, "STUDIO_TUI_CACHE_DIR": str(Path(tmp) / f"cli-cache-{i}")}
            seconds, _ = run_measured(
                [PY, "-c", "from tui.cli import main; main()", "kb-health", "--start",
                 args.start, "--end", args.end, "--cap", str(args.cap), "--format", "json"],
                child)
            cli.append(seconds)
    walls = result["walls"]
    print(f"kb-health {args.start} .. {args.end}: {result['citations']:,} citations, "
          f"{result['items']} items, {result['conversations']:,} conversations in the window "
          f"(labels from {result['labels_from']}); demo server {args.size:,} conversations, "
          f"{args.latency_ms:.0f} ms per request")
    print(f"in process: median {statistics.median(walls):.2f} s "
          f"(runs: {', '.join(f'{w:.2f}' for w in walls)} s)")
    print(f"command (cold cache, start-up included): median {statistics.median(cli):.2f} s "
          f"(runs: {', '.join(f'{w:.2f}' for w in cli)} s)")


if __name__ == "__main__":
    main()
