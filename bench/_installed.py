"""Make this checkout start like an installed copy before timing it.

`pipx install` / `uv tool install` (and pip) compile every module to bytecode at install time,
and a plain editable checkout writes `__pycache__` on first import. Where
PYTHONDONTWRITEBYTECODE is set (as on our development machines) nothing is ever written, and
every start would compile all our modules from source, a start-up cost the bare Textual app
(whose site-packages are compiled) does not pay: that is not what users run.
"""
from __future__ import annotations

import compileall
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "tui", "screens", "widgets")


def compile_bytecode() -> None:
    """Write `__pycache__` for the project's packages (py_compile ignores the env var)."""
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
