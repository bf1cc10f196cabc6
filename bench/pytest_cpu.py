"""Where the suite's time goes, per test: a pytest plugin that writes one JSON line per test
(its end time, wall time, the worker's CPU, its waited-for children's CPU, and each Textual app it
started: size, class, whether the explorer's filter sidebar was mounted); then a summary.

    PYTHONPATH=bench .venv/bin/python -m pytest -q -n 2 -p pytest_cpu   # writes /tmp/pytest_cpu
    .venv/bin/python bench/pytest_cpu.py                                 # sums it up

"Idle" is a worker's wall time that is neither its CPU nor its children's: pauses, debounces,
sockets, and time the scheduler gave to the other processes. See bench/README.md.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import resource
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

OUT = Path(os.environ.get("PYTEST_CPU_DIR", "/tmp/pytest_cpu"))

_starts: list[dict[str, Any]] = []


def pytest_configure(config: Any) -> None:
    from textual.app import App

    own_run_test = App.run_test

    @contextlib.asynccontextmanager
    async def run_test(self: App[Any], *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        size = kwargs.get("size")
        async with own_run_test(self, *args, **kwargs) as pilot:
            try:
                yield pilot
            finally:
                sidebar = bool(self.is_running and self.screen.query("FilterSidebar"))
                _starts.append({"size": list(size) if size else None,
                                "app": type(self).__name__, "sidebar": sidebar})

    App.run_test = run_test  # type: ignore[method-assign]
    OUT.mkdir(parents=True, exist_ok=True)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> Iterator[None]:
    _starts.clear()
    wall, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    yield
    line = {"id": item.nodeid, "end": time.time(), "wall": time.perf_counter() - wall,
            "cpu": time.process_time() - cpu, "children": _children_cpu() - children,
            "starts": list(_starts)}
    with open(OUT / f"{os.getpid()}.jsonl", "a") as out:
        out.write(json.dumps(line) + "\n")


def summary(rows: list[dict[str, Any]], top: int = 25) -> None:
    wall = sum(r["wall"] for r in rows)
    cpu = sum(r["cpu"] for r in rows)
    children = sum(r["children"] for r in rows)
    starts = [s for r in rows for s in r["starts"]]
    print(f"{len(rows)} tests: wall {wall:.1f} s, CPU {cpu:.1f} s, children {children:.1f} s, "
          f"idle {wall - cpu - children:.1f} s; {len(starts)} app starts, "
          f"{sum(s['sidebar'] for s in starts)} with the filter sidebar")
    files: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for r in rows:
        f = files[r["id"].split("::")[0]]
        f[0] += 1
        f[1] += r["cpu"]
        f[2] += r["children"]
        f[3] += r["wall"] - r["cpu"] - r["children"]
    print(f"\n{'file':44s} tests    CPU  child   idle")
    for name, (n, c, ch, idle) in sorted(files.items(), key=lambda x: -x[1][1])[:top]:
        print(f"{name:44s} {n:5.0f} {c:6.1f} {ch:6.1f} {idle:6.1f}")
    print(f"\n{'app start (size, class, sidebar)':44s} tests    CPU   avg   (tests with one start)")
    kinds: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        if len(r["starts"]) == 1:
            s = r["starts"][0]
            k = kinds[f"{s['size']} {s['app']} {'sidebar' if s['sidebar'] else ''}"]
            k[0] += 1
            k[1] += r["cpu"]
    for name, (n, c) in sorted(kinds.items(), key=lambda x: -x[1][1])[:top]:
        print(f"{name:44s} {n:5.0f} {c:6.1f} {c / n:5.2f}")


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else OUT
    summary([json.loads(line) for path in sorted(folder.glob("*.jsonl"))
             for line in path.read_text().splitlines()])
