"""Programs some tests run that are not Python packages (Debian's chromium, zsh, fish).

`.ci/run` installs them in the background while the venv is made and the suite runs, and
names a file in ``STUDIO_TUI_TEST_TOOLS`` that it writes once that install has ended: a test
that needs one of them waits for that file. Under ``CI=true`` a missing program fails the
test (CI must not pass without it); elsewhere the test is skipped.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

PENDING = "STUDIO_TUI_TEST_TOOLS"
WAIT_S = 900.0


def wait_for_install() -> str:
    """Wait for `.ci/run`'s background install, if one is under way; what it wrote."""
    done = os.environ.get(PENDING)
    if not done:
        return ""
    deadline = time.monotonic() + WAIT_S
    while not os.path.exists(done):
        if time.monotonic() > deadline:
            pytest.fail(f"the install of the test programs did not end in {WAIT_S:.0f} s")
        time.sleep(0.5)
    return Path(done).read_text(encoding="utf-8", errors="replace").strip()


def require(program: str, install: str) -> str:
    """The path of `program` (a name on PATH or an absolute path), once installed."""
    status = wait_for_install()
    found = program if os.path.isabs(program) and os.access(program, os.X_OK) \
        else shutil.which(program)
    if found:
        return found
    message = f"needs {program} ({install})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; .ci/run installs it{': ' + status if status else ''}")
    pytest.skip(message)
