"""Time for each analytics screen to paint its figures, with a cold and a warm response cache.

Usage: .venv/bin/python bench/bench_analytics_screens.py [SIZE] [ROUNDS]   (default 5000, 3)

Runs StudioApp headless (``run_test``, 120x40) on the in-process demo (seed 7, anchor
2026-06-15, SIZE conversations). For every screen of ANALYTICS_SCREENS it presses the screen's
key and measures the time until the screen's first load has completed (every figure painted):

  cold   a fresh response cache: every answer comes from the demo API
  warm   a second app on the same cache: answers come from the disk cache (get_swr)

a baseline (pushing a screen holding one Static, same app, same moment) and the import time
of ``screens.analytics`` and of plotext (paid once, when the first chart
mounts). Prints the median of ROUNDS runs per screen.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def import_time(module: str) -> float:
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return float(out.stdout)


async def wait_loaded(pilot, screen_class, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        screen = pilot.app.screen
        if isinstance(screen, screen_class) and screen.load_count >= 1:
            return
        await asyncio.sleep(0.005)
    raise TimeoutError(screen_class.__name__)


async def one_session(cache_dir: Path, size: int) -> dict[str, float]:
    from app_support import make_app
    from textual.screen import Screen
    from textual.widgets import Static

    from screens.analytics import ANALYTICS_SCREENS

    class Baseline(Screen):
        def compose(self):
            yield Static("one line")

    app = make_app(cache_dir, size=size, seed=7, anchor="2026-06-15")
    times: dict[str, float] = {}
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.screen_keys:  # the app registers the analytics keys after its first frame
            await pilot.pause()
        start = time.perf_counter()
        await app.push_screen(Baseline())
        await pilot.pause()
        times["(one-Static screen)"] = time.perf_counter() - start
        app.pop_screen()
        await pilot.pause()
        for key, name, screen_class, _ in ANALYTICS_SCREENS:
            start = time.perf_counter()
            await pilot.press(key)
            await wait_loaded(pilot, screen_class)
            await pilot.pause()  # the paint itself
            times[name] = time.perf_counter() - start
    return times


async def main(size: int, rounds: int) -> None:
    from api.demo.generate import ensure_demo_db

    ensure_demo_db(size=size, seed=7, anchor="2026-06-15")
    cold: dict[str, list[float]] = {}
    warm: dict[str, list[float]] = {}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            for target in (cold, warm):
                for name, seconds in (await one_session(Path(tmp), size)).items():
                    target.setdefault(name, []).append(seconds)
    print(f"demo size {size:,}, median of {rounds} rounds, StudioApp headless 120x40")
    print(f"{'screen':<18} {'cold (ms)':>10} {'warm (ms)':>10}")
    for name in cold:
        print(
            f"{name:<18} {statistics.median(cold[name]) * 1000:>10.0f} "
            f"{statistics.median(warm[name]) * 1000:>10.0f}"
        )
    print(
        f"import screens.analytics: {import_time('screens.analytics') * 1000:.0f} ms "
        f"(plotext not loaded); import textual_plotext: "
        f"{import_time('textual_plotext') * 1000:.0f} ms"
    )


if __name__ == "__main__":
    os.environ.setdefault("STUDIO_TUI_CACHE_DIR", tempfile.mkdtemp(prefix="bench-analytics-"))
    args = [int(a) for a in sys.argv[1:3]]
    asyncio.run(main(*(args + [5000, 3][len(args) :])))
