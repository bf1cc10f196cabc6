"""The wheel users install (`pipx install` / `uv tool install` / pip): built by the
project's setuptools backend (`uv build --wheel`, isolated) from a copy of the source tree
(the build never writes `build/` or `*.egg-info` into the checkout), it holds every package
module and stylesheet and nothing of tests/ or bench/; installed into a fresh venv, `studio-tui --version` answers and the app
starts headless on the embedded demo, its screens styled from the installed `.tcss` files.

Needs the package index (build isolation fetches setuptools, uv the dependencies); their
caches make a second run faster. Timing: bench/README.md.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "tui", "screens", "widgets")  # pyproject: [tool.setuptools.packages.find]
# what a checkout holds besides the sources: never copied into the build's tree
NOT_SOURCES = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info",
                                     "__pycache__", ".mypy_cache", ".ruff_cache",
                                     ".hypothesis", ".pytest_cache", "*.pyc")
TIMEOUT = 600  # seconds per step: a cold pip cache downloads every dependency


def run(*args: str | Path, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            timeout=TIMEOUT, **kw)
    assert result.returncode == 0, f"{args}: {result.stderr[-3000:]}"
    return result


@dataclass
class Built:
    wheel: Path
    stylesheets: set[str]  # of the source tree, outside tests/ and bench/
    modules: set[str]  # the .py files of the packages


def build(base: Path) -> Built:
    """The wheel of a copy of this checkout, built in ``base``."""
    source = base / "src"
    shutil.copytree(ROOT, source, ignore=NOT_SOURCES)
    # listed before the build, which adds its own copies under build/
    stylesheets = {p.relative_to(source).as_posix() for p in source.rglob("*.tcss")
                   if p.relative_to(source).parts[0] not in ("tests", "bench")}
    modules = {p.relative_to(source).as_posix() for package in PACKAGES
               for p in (source / package).rglob("*.py")}
    run(sys.executable, "-m", "uv", "build", "--quiet", "--system-certs", "--wheel",
        "--out-dir", base / "dist", source, cwd=base)
    (wheel,) = (base / "dist").glob("studio_tui-*.whl")
    return Built(wheel, stylesheets, modules)


def check_contents(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        names = set(wheel.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "studio-tui = tui.entry:main" in wheel.read(entry_points).decode()
    assert built.stylesheets and built.stylesheets <= names, \
        sorted(built.stylesheets - names)
    assert {n for n in names if n.endswith(".py")} == built.modules
    assert not [n for n in names if n.split("/")[0] in ("tests", "bench")]


def install(wheel: Path, base: Path) -> Path:
    """A fresh venv with ``wheel`` installed, its dependencies resolved from the index. The
    venv has no pip of its own: uv (of the test extra) installs into it, without compiling
    bytecode the app would mostly not import."""
    venv = base / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    run(sys.executable, "-m", "uv", "pip", "install", "--quiet", "--system-certs", "--python",
        venv / "bin" / "python", wheel)
    return venv


# The app on a small demo, headless: the first page of conversations shown, then every
# screen of the app opened, each parsing its stylesheet from the installed package.
HEADLESS = textwrap.dedent("""
    import asyncio, sys, time
    from pathlib import Path

    import tui.app
    from api.config import load_settings
    from tui.app import StudioApp
    from widgets.conversation_table import ConversationTable

    assert Path(tui.app.__file__).is_relative_to(sys.prefix), tui.app.__file__

    async def main():
        app = StudioApp(load_settings())
        async with app.run_test(headless=True, size=(120, 40)) as pilot:
            table = app.screen.query_one(ConversationTable)
            deadline = time.monotonic() + 120
            while not table.rows:
                assert time.monotonic() < deadline, "no first page"
                await pilot.pause(0.05)
            for mode in StudioApp.MODES:
                await app.switch_mode(mode)
                await pilot.pause()
            print("started", len(table.rows), table.total, ",".join(StudioApp.MODES))

    asyncio.run(main())
""")


@pytest.mark.long
def test_the_wheel_installs_and_starts(tmp_path):
    """One test, so that test workers never build and install it twice."""
    built = build(tmp_path)
    check_contents(built)
    venv = install(built.wheel, tmp_path)

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = run(venv / "bin" / "studio-tui", "--version", env=_clean_env(venv), cwd=tmp_path)
    assert result.stdout.strip() == f"studio-tui, version {version}"

    env = {**_clean_env(venv), "STUDIO_DEMO_SIZE": "400", "STUDIO_DEMO_ANCHOR": "2026-06-15",
           "STUDIO_TUI_CACHE_DIR": str(tmp_path / "cache"),
           "STUDIO_TUI_CONFIG_DIR": str(tmp_path / "config"),
           "STUDIO_TUI_DATA_DIR": str(tmp_path / "data")}
    result = run(venv / "bin" / "python", "-c", HEADLESS, env=env, cwd=tmp_path)
    words = result.stdout.split()
    assert words[0] == "started" and int(words[1]) > 0 and int(words[2]) > 0, result.stdout
    assert "explorer" in words[3].split(","), result.stdout


def _clean_env(venv: Path) -> dict[str, str]:
    """The environment without this checkout: no PYTHONPATH, no settings of ours, the venv
    first on PATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("STUDIO_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env
