"""The console script (`tui.entry`): the bare command opens the terminal UI without loading the
command line's parser, and says a configuration error exactly as every command does."""
from __future__ import annotations

import os
import subprocess
import sys

# the app itself is replaced: what it would be started with, and whether click was loaded
PROBE = ("import sys; sys.argv = ['studio-tui', *sys.argv[1:]]; import tui.app; "
         "tui.app.run_app = lambda settings, **kw: print('app', settings.demo, kw, "
         "'click' in sys.modules); "
         "from tui.entry import main; main()")


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, **env})


def test_the_bare_command_opens_the_app_without_the_parser():
    result = _run()
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["app", "True", "{}", "False"]


def test_a_command_line_still_goes_through_the_parser():
    result = _run("--fresh")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["app", "True", "{'fresh':", "True,", "'screen':",
                                     "'explorer'}", "True"]


def test_a_bad_setting_is_one_line_naming_it():
    result = _run(STUDIO_API_TOKEN="t", STUDIO_PROJECT_ID="p",
                  STUDIO_API_URL="ftp://x:secretpw@h")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("studio-tui: error: STUDIO_API_URL "), lines
    assert "secretpw" not in result.stderr and not result.stdout
