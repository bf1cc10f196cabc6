"""mypy over the packages that type-check clean, with the config of pyproject.toml.

api/ is checked strictly, the UI packages normally (see ``[tool.mypy]``). mypy's cache is
kept beside the tests' shared demo, outside the checkout: a run re-checks what changed since
the last one on this machine (mypy compares each file's hash), not every module and stub.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLEAN = ("api", "tui", "screens", "widgets")


def test_clean_packages_pass_mypy() -> None:
    if importlib.util.find_spec("mypy") is None:
        pytest.skip("mypy is not installed (it comes with the test extra: pip install -e '.[test]')")
    cache = Path(os.environ.get("TMPDIR", "/tmp")) / f"studio-tui-tests-{os.getuid()}" / "mypy"
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"),
               "--cache-dir", str(cache), "--no-color-output"]
    for package in CLEAN:
        command += ["-p", package]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"mypy found errors:\n{result.stdout}{result.stderr}"
