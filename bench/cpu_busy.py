"""How busy the machine's cores are while a command runs: samples /proc/stat every half
second and prints, after the command, the seconds where less than 90 % of the cores were busy
and the core-seconds left idle (the samples under 95 %). Used on `.ci/run` to see where a CI
run leaves a core waiting (install, bytecode, the run's last tests). Linux only.

    .venv/bin/python bench/cpu_busy.py -- bash .ci/run
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time

STEP = 0.5


def _times() -> tuple[int, int]:
    """(idle, total) jiffies of all cores."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:9]]
    return fields[3] + fields[4], sum(fields)


def sample(stop: threading.Event, out: list[tuple[float, float]]) -> None:
    start, (idle0, total0) = time.monotonic(), _times()
    while not stop.wait(STEP):
        idle, total = _times()
        if total > total0:
            out.append((time.monotonic() - start, 1 - (idle - idle0) / (total - total0)))
        idle0, total0 = idle, total


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1:] if "--" in argv else argv
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    sampler = threading.Thread(target=sample, args=(stop, samples), daemon=True)
    sampler.start()
    code = subprocess.call(command)
    stop.set()
    sampler.join()
    low = " ".join(f"{t:.0f}:{busy:.2f}" for t, busy in samples if busy < 0.9)
    idle = sum((1 - busy) * STEP * _cores() for _, busy in samples if busy < 0.95)
    print(f"cores under 90 % busy (second:share): {low or 'none'}", file=sys.stderr)
    print(f"{len(samples) * STEP:.0f} s sampled, {idle:.1f} core-seconds idle", file=sys.stderr)
    return code


def _cores() -> int:
    with open("/proc/stat") as stat:
        return sum(1 for line in stat if line.startswith("cpu") and line[3].isdigit())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
