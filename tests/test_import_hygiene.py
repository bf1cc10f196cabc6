"""The data layer knows no UI: importing every api/ module loads no Textual/UI package."""
from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import api

UI_PACKAGES = ("textual", "textual_plotext", "screens", "widgets", "tui")


def test_api_imports_no_ui_module():
    root = Path(api.__file__).parent
    modules = sorted(
        f"api.{m.name}" for m in pkgutil.walk_packages([str(root)]) if not m.ispkg
    ) + sorted(f"api.demo.{m.name}" for m in pkgutil.iter_modules([str(root / "demo")]))
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {UI_PACKAGES!r})\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=root.parent)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"api/ pulled in UI modules: {out.stdout.strip()}"
    assert "api.client" in modules and "api.cache" in modules
