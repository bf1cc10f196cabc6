"""Does the export's encoding worker process pay for itself? A/B of ``studio-tui export
--messages`` (JSON) with the worker (the command's default on a multi-core machine) and
without it (``api.export._start_worker`` patched to start none: everything in one process).

Same set-up as bench_export.py (whose helpers it uses): the demo server with 100 ms per
request, or ``--replay`` the replay server (the same answers, ~no server CPU: as a remote
API); each export in its own process; runs interleaved, alternating which goes first;
medians printed, and both files checked identical apart from ``exported_at``.

    .venv/bin/python bench/bench_export_worker.py [--size 5000] [--runs 9]
        [--concurrency 16] [--latency-ms 100] [--replay]

Figures: bench/README.md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import bench_export as b
from _installed import compile_bytecode

NO_WORKER = ("import api.export; api.export._start_worker = lambda wanted: None; "
             "from tui.cli import main; main()")


def export_cmd(out: Path, concurrency: int, worker: bool) -> list[str]:
    cmd = b.ours_cmd(out, concurrency)
    if not worker:
        cmd[2] = NO_WORKER
    return cmd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=9, help="exports each way (median)")
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--latency-ms", type=float, default=100.0)
    ap.add_argument("--replay", action="store_true",
                    help="against the replay server (first records its answers from the demo)")
    args = ap.parse_args()
    compile_bytecode()
    cache = os.environ.get("STUDIO_TUI_CACHE_DIR") or str(
        Path(tempfile.gettempdir()) / "studio-tui-bench")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")}
    env.update(STUDIO_TUI_CACHE_DIR=cache, STUDIO_TUI_CONFIG_DIR=str(Path(cache) / "config"),
               STUDIO_DEMO_ANCHOR="2026-06-15", STUDIO_DEMO_SEED="7")
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        work = Path(tmp)
        proc, server_env = b.start_server(args.size, args.latency_ms, env)
        if args.replay:
            recorded = work / "recorded.json"
            b.warm_up({**env, **server_env})
            b.run_measured(export_cmd(recorded, args.concurrency, True), {**env, **server_env})
            proc.terminate()
            proc.wait(timeout=30)
            proc, server_env = b.start_replay(recorded, args.latency_ms, env)
        try:
            client_env = {**env, **server_env}
            b.warm_up(client_env)
            files = {w: work / f"out-{w}.json" for w in (True, False)}
            measured: dict[bool, list[tuple[float, int]]] = {True: [], False: []}
            for i in range(args.runs):
                for worker in ((True, False) if i % 2 == 0 else (False, True)):
                    measured[worker].append(b.run_measured(
                        export_cmd(files[worker], args.concurrency, worker), client_env))
            identical = b.same_export(files[True], files[False])
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    server = "replay" if args.replay else "demo"
    print(f"{server} server, {args.size:,} conversations with messages, "
          f"--concurrency {args.concurrency}, {args.latency_ms:.0f} ms per request")
    for worker in (True, False):
        seconds = [s for s, _ in measured[worker]]
        print(f"  {'with worker   ' if worker else 'without worker'}: "
              f"{statistics.median(seconds):6.3f} s median, peak RSS "
              f"{max(mb for _, mb in measured[worker])} MB "
              f"({', '.join(f'{s:.2f}' for s in seconds)})")
    with_w = statistics.median(s for s, _ in measured[True])
    without = statistics.median(s for s, _ in measured[False])
    print(f"  the worker saves {(without - with_w) / without * 100:+.1f}% of the time; "
          f"files identical apart from exported_at: {identical}")


if __name__ == "__main__":
    main()
