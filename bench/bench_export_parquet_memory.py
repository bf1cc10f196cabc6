"""Peak memory of ``studio-tui export --format parquet`` as the export grows (5,000 to 200,000).

A Parquet export converts each chunk to Arrow as it arrives, keeps it in ``<output>.partial``
and streams it into the file's row groups at the end (``api/export_parquet.py``): its peak
memory should not grow with the number of conversations. This runs the pinned demo (anchor
2026-06-15, seed 7) as ``studio-tui demo-server`` in its own process for each size, then
``studio-tui export --messages --format F`` for each format in its own child process, whose
peak RSS (``ru_maxrss`` from ``os.wait4``) is the figure. JSONL, which streams row by row, is
the reference for "flat". Also measured: a child that only imports pyarrow (the format's
fixed cost). ``ARROW_DEFAULT_MEMORY_POOL=mimalloc`` in the environment measures the export
with pyarrow's default pool instead of the C library's malloc the export chooses.

    .venv/bin/python bench/bench_export_parquet_memory.py [--sizes 5000,200000]
        [--formats parquet,jsonl] [--latency-ms 0] [--concurrency 16] [--no-messages]

``--segments FILE.jsonl`` instead times the partial file's segment encodings on the rows of a
JSONL export (``export --messages --format jsonl``), 50 rows a segment as with messages:
small Parquet files, Arrow IPC compressed buffer by buffer, and IPC compressed whole (ours).

A demo of 200,000 conversations is built on first use (about a minute, 0.7 GB) in the cache
dir (``STUDIO_TUI_CACHE_DIR``, default a temp dir that is kept). Nothing here asserts: it
prints figures (recorded in bench/README.md).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _installed import compile_bytecode
from bench_export import END, PY, ROOT, START, bench_env, start_server, warm_up


def measured(cmd: list[str], env: dict) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB, last stderr line) of one child; fails loudly on an error.
    This process stays small: a child's ru_maxrss starts from its parent's at fork."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"{cmd[:6]}... failed ({code}):\n{err[-2000:]}")
    lines = err.strip().splitlines()
    return seconds, usage.ru_maxrss // 1024, lines[-1] if lines else ""


def export_cmd(out: Path, fmt: str, messages: bool, concurrency: int) -> list[str]:
    return [PY, "-c", "from tui.cli import main; main()", "export", "--start", START,
            "--end", END, "--format", fmt, "--concurrency", str(concurrency), "-o", str(out),
            *(["--messages"] if messages else [])]


def segments(jsonl: Path, messages: bool) -> None:
    """Write and read back ``jsonl``'s rows as 50-row segments in each encoding."""
    import json

    sys.path.insert(0, str(ROOT))
    import pyarrow as pa
    import pyarrow.parquet as pq

    from api.export_parquet import _row_kind, schema

    options = {"messages": messages}
    fit, storage = _row_kind(options).fit, schema(pa, options, storage=True)
    rows = [json.loads(line) for line in jsonl.open(encoding="utf-8")]
    tables = [pa.Table.from_pylist([fit(r) for r in rows[i:i + 50]], schema=storage)
              for i in range(0, len(rows), 50)]

    def ipc(table: pa.Table, compression: str | None = None) -> pa.Buffer:
        sink = pa.BufferOutputStream()
        options = pa.ipc.IpcWriteOptions(compression=compression)
        with pa.ipc.new_stream(sink, storage, options=options) as stream:
            stream.write_table(table)
        return sink.getvalue()

    def parquet(table: pa.Table) -> pa.Buffer:
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, compression="zstd")
        return sink.getvalue()

    def whole(table: pa.Table) -> tuple[pa.Buffer, int]:
        raw = ipc(table)
        return pa.compress(raw, codec="zstd"), raw.size

    encodings = {
        "Parquet (zstd)": (parquet, lambda b: pq.read_table(pa.BufferReader(b))),
        "IPC, zstd per buffer": (lambda t: ipc(t, "zstd"),
                                 lambda b: pa.ipc.open_stream(b).read_all()),
        "IPC, zstd whole (ours)": (whole, lambda b: pa.ipc.open_stream(pa.decompress(
            b[0], decompressed_size=b[1], codec="zstd")).read_all()),
    }
    print(f"{len(rows):,} rows in {len(tables)} segments of 50 "
          f"({sum(t.nbytes for t in tables) / 1e6:.1f} MB of Arrow data)")
    for name, (write, read) in encodings.items():
        started = time.perf_counter()
        written = [write(t) for t in tables]
        wrote = time.perf_counter() - started
        started = time.perf_counter()
        for item in written:
            read(item)
        size = sum((w[0] if isinstance(w, tuple) else w).size for w in written)
        print(f"  {name:24} write {wrote:6.3f} s, read {time.perf_counter() - started:6.3f} s,"
              f" {size / 1e6:6.1f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="5000,200000")
    ap.add_argument("--formats", default="parquet,jsonl")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--no-messages", dest="messages", action="store_false")
    ap.add_argument("--segments", type=Path, metavar="FILE.jsonl",
                    help="time the segment encodings on these rows instead")
    args = ap.parse_args()
    if args.segments:
        segments(args.segments, args.messages)
        return
    compile_bytecode()  # start like an installed copy (see _installed.py)
    cache, env = bench_env()
    formats = [f for f in args.formats.split(",") if f]
    _, mb, _ = measured([PY, "-c", "import pyarrow.parquet"], env)
    print(f"a process that imports pyarrow.parquet: peak RSS {mb} MB")
    print(f"{'size':>8} {'format':8} {'seconds':>8} {'peak RSS':>9} {'file':>10}  summary")
    with tempfile.TemporaryDirectory(prefix="bench-parquet-") as tmp:
        for size in (int(s) for s in args.sizes.split(",") if s):
            proc, server_env = start_server(size, args.latency_ms, env)
            try:
                child = {**env, **server_env}
                warm_up(child)
                for fmt in formats:
                    out = Path(tmp) / f"out-{size}.{fmt}"
                    seconds, mb, summary = measured(
                        export_cmd(out, fmt, args.messages, args.concurrency), child)
                    print(f"{size:>8,} {fmt:8} {seconds:8.1f} {mb:>6} MB "
                          f"{out.stat().st_size / 1e6:>7.1f} MB  {summary}", flush=True)
                    out.unlink()
            finally:
                proc.terminate()
                proc.wait(timeout=30)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
