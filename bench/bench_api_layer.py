"""Cost of the API layer itself: client round trips, cache hits, model parsing, sanitize().

Usage: .venv/bin/python bench/bench_api_layer.py [ROUNDS]   (default 200)

Runs against the in-process demo (size 5,000, seed 7, anchor 2026-06-15) with a throw-away
cache directory, and prints p50/p95 per operation:

  page uncached   GET a page of 50 conversations (``api.endpoints.conversations.page``) through
                  StudioClient, cache off (client + demo app: auth, SQL, JSON both ways)
  page cache hit  the same GET answered from the disk cache (key hash + SQLite read + unpickle)
  batch 50        POST batch of 50 conversation details as the export asks for them
                  (``api.paging.fetch_batch``: raw dicts; messages stored by the demo)
  parse page      ConversationPage.model_validate of a 100-conversation page
  parse batch     ConversationDetail.model_validate of 50 details (messages, tool calls)
  sanitize 1 MB   api.text.sanitize of 1 MB of text with escape sequences every 100 bytes
"""
from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, samples: list[float]) -> None:
    print(f"{name:<16} p50 {pct(samples, 0.5) * 1000:8.2f} ms   "
          f"p95 {pct(samples, 0.95) * 1000:8.2f} ms   (n={len(samples)})")


async def timed(fn: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        await fn()
        out.append(time.perf_counter() - t)
    return out


def timed_sync(fn: Callable[[], object], rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


async def main(rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="studio-bench-"))
    os.environ.update(STUDIO_TUI_CONFIG_DIR=str(tmp / "config"),
                      STUDIO_DEMO_SIZE="5000", STUDIO_DEMO_SEED="7",
                      STUDIO_DEMO_ANCHOR="2026-06-15")
    for var in ("STUDIO_API_TOKEN", "STUDIO_PROJECT_ID", "STUDIO_API_URL"):
        os.environ.pop(var, None)
    from api import models as m
    from api.cache import ResponseCache
    from api.client import StudioClient
    from api.config import load_settings
    from api.endpoints import conversations
    from api.paging import fetch_batch
    from api.query import ConversationQuery
    from api.text import sanitize

    settings = load_settings()
    cache = ResponseCache(tmp / "responses-v1")
    async with StudioClient.from_settings(settings, cache=cache) as client:
        pid = client.project_id
        ep = conversations.page(pid, ConversationQuery.build(sort_by="last_message_at"), limit=50)
        await client.get(ep.path, ep.params)  # warm-up (demo DB open, caches filled)
        report("page uncached",
               await timed(lambda: client.get(ep.path, ep.params, cache=False), rounds))
        report("page cache hit", await timed(lambda: client.get(ep.path, ep.params), rounds))
        big = conversations.page(pid, ConversationQuery(), limit=100)
        page = await client.get(big.path, big.params, cache=False)
        ids = [c["conversation_id"] for c in page["conversations"][:50]]
        batch_rounds = max(5, rounds // 10)
        report("batch 50", await timed(lambda: fetch_batch(client, ids), batch_rounds))
        details = list((await fetch_batch(client, ids)).details.values())
    report("parse page", timed_sync(lambda: m.ConversationPage.model_validate(page), rounds))
    report("parse batch", timed_sync(
        lambda: [m.ConversationDetail.model_validate(d) for d in details], batch_rounds))
    text = ("x" * 90 + "\x1b[31mred\x1b[0m") * (1_000_000 // 100)
    report("sanitize 1 MB", timed_sync(lambda: sanitize(text), 20))
    messages = sum(len(d.get("messages", [])) for d in details)
    print(f"(batch of 50 carried {messages} messages)")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))
