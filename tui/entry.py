"""The `studio-tui` console script: the command line with the cyclic GC paused for start-up.

Start-up allocates a great many objects that live as long as the process (modules, classes,
styles, widgets); collecting them again and again delays the first frame and page
(bench/README.md). The command line turns the GC back on before any command runs; the
terminal UI does once its first frame is on screen, with the start-up heap frozen
(`tui.app.StudioApp._after_first_frame`). Importing `tui.cli` (tests do) changes nothing.
"""
from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    from tui.cli import main as cli

    cli()
