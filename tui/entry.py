"""The `studio-tui` console script: the command line with the cyclic GC paused for start-up.

Start-up allocates a great many objects that live as long as the process (modules, classes,
styles, widgets); collecting them again and again delays the first frame and page
(bench/README.md). The command line turns the GC back on before any command runs; the
terminal UI does once its first frame is on screen, with the start-up heap frozen
(`tui.app.StudioApp._after_first_frame`). Importing `tui.cli` (tests do) changes nothing.

The bare command, the one users run most, opens the terminal UI without the command line's
parser: click and every command's module are not needed to read no arguments.
"""
from __future__ import annotations

import gc
import os
import sys

#: set by the shell completion scripts (tui/cli_completion.py), which run the bare command
COMPLETE_VAR = "_STUDIO_TUI_COMPLETE"


def main() -> None:
    gc.disable()
    if len(sys.argv) == 1 and COMPLETE_VAR not in os.environ:
        from api.config import load_settings
        from api.errors import ConfigError

        try:
            settings = load_settings()
        except ConfigError:
            pass  # said by the command line below, as for any command
        else:
            from tui.app import run_app

            run_app(settings)
            return
    from tui.cli import main as cli

    cli()
