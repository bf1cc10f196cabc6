"""The explorer's grid drawing a page: CPU to draw every line of a fresh 45-row, 8-column page
(a page flip) and to draw the two lines a cursor move changes on that page. Not part of the test suite.

    .venv/bin/python bench/bench_page_grid.py [--rev REV] [--rounds 4]

With --rev, the PageGrid of that commit (``git show REV:widgets/page_grid.py``) is measured
in turn with the working tree's, in the same process. Figures: bench/README.md.
"""
from __future__ import annotations

import argparse
import asyncio
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

from rich.text import Text
from textual.app import App, ComposeResult

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from widgets import page_grid  # noqa: E402

ROWS, COLUMNS, WIDTH = 45, 8, 16


def _module_at(rev: str) -> ModuleType:
    source = subprocess.run(["git", "show", f"{rev}:widgets/page_grid.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / f"page_grid_{rev}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"page_grid_{rev}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (dataclasses look their module up there)
    spec.loader.exec_module(module)
    return module


def _rows() -> list[list[Text]]:
    """Cells that fit their column, but the last (cut with an ellipsis), as in the explorer."""
    def cell(r: int, c: int) -> Text:
        text = f"intent of row {r}, longer than its column" if c == COLUMNS - 1 \
            else f"row {r} col {c}"
        return Text(text, style="bold" if c % 3 == 0 else "",
                    justify="right" if c == 2 else "left")
    return [[cell(r, c) for c in range(COLUMNS)] for r in range(ROWS)]


async def measure(module: ModuleType) -> tuple[float, float]:
    """(ms per page drawn, ms per cursor move drawn)."""
    class GridApp(App[None]):
        def compose(self) -> ComposeResult:
            yield module.PageGrid()

    app = GridApp()
    async with app.run_test(size=(160, 48)) as pilot:
        grid = app.query_one(module.PageGrid)
        for c in range(COLUMNS):
            grid.add_column(f"col{c}", width=WIDTH, key=f"c{c}")
        grid.focus()
        await pilot.pause()
        rows, flips = _rows(), 40
        page = move = 0.0
        for _ in range(flips):
            start = time.process_time()
            grid.clear()
            grid.add_rows(rows)
            for y in range(ROWS + 1):
                grid.render_line(y)
            page += time.process_time() - start
            start = time.process_time()
            for row in range(1, ROWS):  # each move draws the row left and the row reached
                grid.cursor_row = row
                grid.render_line(row)
                grid.render_line(row + 1)
            move += time.process_time() - start
        page, move = page / flips, move / (flips * (ROWS - 1))
    return page * 1000, move * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", help="also measure the PageGrid of this commit")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    modules = [("working tree", page_grid)]
    if args.rev:
        modules.insert(0, (args.rev, _module_at(args.rev)))
    for _ in range(args.rounds):
        for name, module in modules:
            page, move = asyncio.run(measure(module))
            print(f"{name:>14}: page of {ROWS} rows drawn {page:.2f} ms CPU, "
                  f"cursor move {move:.3f} ms CPU")


if __name__ == "__main__":
    main()
