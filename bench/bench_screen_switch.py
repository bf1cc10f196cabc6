"""CPU of moving between screens in a pilot-driven app on the pinned test demo: a mode
switch (explorer <-> Overview, both open already), a conversation opened and closed, and the
first opening of every analytics screen (see bench/README.md, "Screens shown again").

    .venv/bin/python bench/bench_screen_switch.py --size 160x48 --runs 3
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]


async def measure(size: tuple[int, int], rounds: int) -> dict[str, float]:
    """CPU seconds per step, each step settled."""
    from app_support import make_app, settle
    from conftest import DEMO_ANCHOR, DEMO_SEED, DEMO_SIZE

    cpu: dict[str, float] = {}

    async def step(pilot, name: str, *keys: str) -> None:
        began = time.process_time()
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        cpu[name] = cpu.get(name, 0.0) + time.process_time() - began

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp) / "cache", size=DEMO_SIZE, seed=DEMO_SEED, anchor=DEMO_ANCHOR)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await step(pilot, "first opening of the 8 analytics screens", *"oscvrtil")
            await step(pilot, "back to the explorer", "e")
            for _ in range(rounds):
                await step(pilot, "explorer -> Overview -> explorer", "o", "e")
                await step(pilot, "conversation opened and closed", "enter", "escape")
    per = {"first opening of the 8 analytics screens": 1, "back to the explorer": 1}
    return {name: value / per.get(name, rounds) for name, value in cpu.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="160x48")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import conftest  # the tests' isolated dirs and pinned demo

    conftest.isolate_environment()
    width, height = (int(n) for n in args.size.split("x"))
    asyncio.run(measure((width, height), 1))  # imports, the demo database
    runs = [asyncio.run(measure((width, height), args.rounds)) for _ in range(args.runs)]
    for name in runs[0]:
        print(f"{args.size} {name}: {min(r[name] for r in runs) * 1000:.0f} ms CPU (best run)")


if __name__ == "__main__":
    main()
