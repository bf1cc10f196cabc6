"""CPU of one bare pilot-test app start (tests/app_support.make_app, run_test, settle) by
terminal size: what each pilot test pays before its own steps (see bench/README.md,
"Test suite CPU"); with --presses N, also the CPU of each `down` in the explorer's table.

    .venv/bin/python bench/bench_test_app_start.py --sizes 160x48,120x40,100x30,80x24
    .venv/bin/python bench/bench_test_app_start.py --sizes 100x40,80x24 --presses 20
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


async def start(size: tuple[int, int], presses: int = 0) -> float:
    """Start, settle; then CPU per `down` press (each one settled), 0.0 without presses."""
    from app_support import make_app, settle
    from conftest import DEMO_ANCHOR, DEMO_SEED, DEMO_SIZE

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(Path(tmp) / "cache", size=DEMO_SIZE, seed=DEMO_SEED, anchor=DEMO_ANCHOR)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            began = time.process_time()
            for _ in range(presses):
                await pilot.press("down")
            await settle(pilot)
            return (time.process_time() - began) / presses if presses else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="160x48,120x40,100x30,80x24")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--presses", type=int, default=0)
    args = parser.parse_args()
    import conftest  # the tests' isolated dirs and pinned demo

    conftest.isolate_environment()
    from textual.css.stylesheet import Stylesheet

    parse_cpu = [0.0]
    parse = Stylesheet.parse

    def timed_parse(self: Stylesheet) -> None:
        began = time.process_time()
        try:
            parse(self)
        finally:
            parse_cpu[0] += time.process_time() - began

    Stylesheet.parse = timed_parse  # type: ignore[method-assign]
    for text in args.sizes.split(","):
        width, height = (int(n) for n in text.split("x"))
        asyncio.run(start((width, height)))  # the first start pays imports and the demo db
        parse_cpu[0] = 0.0
        began = time.process_time()
        per_press = [asyncio.run(start((width, height), args.presses)) for _ in range(args.runs)]
        cpu = (time.process_time() - began) / args.runs
        print(f"{width}x{height}: {cpu:.3f} s CPU per start "
              f"(stylesheet parse {parse_cpu[0] / args.runs:.3f} s)"
              + (f", {min(per_press) * 1000:.1f} ms per press (best run)" if args.presses else ""))


if __name__ == "__main__":
    main()
