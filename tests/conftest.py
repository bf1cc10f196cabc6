"""Shared test fixtures.

Every test run is isolated from the user's real cache/config directories and credentials, and the
demo backend is pinned (anchor date, seed) so that data and snapshots are stable.
"""
from __future__ import annotations

import gc
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# six workers share two cores: a property example held up by the scheduler is no failure
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")

DEMO_ANCHOR = "2026-06-15"
DEMO_SEED = 7
DEMO_SIZE = 5000


def pytest_configure(config: pytest.Config) -> None:
    # Isolation must happen before any test module imports api/ code that reads the environment.
    isolate_environment()
    if _is_xdist_controller(config):
        _compile_once(config)


def isolate_environment() -> None:
    """The process's own cache and config dirs, the shared pinned demo, no credentials."""
    base = os.path.join(
        os.environ.get("TMPDIR", "/tmp"), f"studio-tui-tests-{os.getuid()}"
    )
    # A cache and config dir per xdist worker, so that one worker's CLI test clearing the
    # response cache never meets another's; the demo database is shared (built under a lock).
    own = os.path.join(base, os.environ.get("PYTEST_XDIST_WORKER", "main"))
    os.environ["STUDIO_TUI_CACHE_DIR"] = os.path.join(own, "cache")
    os.environ["STUDIO_TUI_CONFIG_DIR"] = os.path.join(own, "config")
    _share_demo_dir(os.path.join(base, "demo"), os.path.join(own, "cache"))
    os.environ["STUDIO_DEMO_ANCHOR"] = DEMO_ANCHOR
    os.environ["STUDIO_DEMO_SEED"] = str(DEMO_SEED)
    os.environ["STUDIO_DEMO_SIZE"] = str(DEMO_SIZE)
    for var in ("STUDIO_API_TOKEN", "STUDIO_PROJECT_ID", "STUDIO_API_URL", "NO_COLOR"):
        os.environ.pop(var, None)


def _is_xdist_controller(config: pytest.Config) -> bool:
    return (not hasattr(config, "workerinput") and not config.option.collectonly
            and bool(getattr(config.option, "numprocesses", 0)))


def _compile_once(config: pytest.Config) -> None:
    """Collect what was asked for once, in children that write bytecode (also under
    PYTHONDONTWRITEBYTECODE), before the workers start: otherwise every worker compiles the
    sources and rewrites the test modules itself, all at the same moment (see
    bench/README.md). Two children, each with half of the test files, keep both cores busy.
    A failure here is left for the workers to report."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0",
             "-p", "no:cacheprovider", *args],
            cwd=config.invocation_params.dir, env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        for args in _halves(config.args, config.invocation_params.dir) if args]
    try:
        for child in children:
            child.wait()
    finally:  # interrupted (ctrl+c): no child left compiling behind the run
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def _halves(args: list[str], cwd: Path) -> tuple[list[str], list[str]]:
    """``args`` in two groups: the test files of each folder named, one each in turn (the
    file names sorted); anything else in the first."""
    first: list[str] = []
    files: list[str] = []
    for arg in args:
        folder = cwd / arg
        if folder.is_dir():
            files += sorted(str(path) for path in folder.rglob("test_*.py"))
        else:
            first.append(arg)
    return first + files[::2], files[1::2]


@pytest.hookimpl(trylast=True)  # after deselection: the shares are of what runs
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Spread the tests marked ``long`` over the first halves of the workers' shares: one left
    for the end of the run would end it alone, with a core idle, and all of them at once
    (they mostly wait) would leave the cores idle at the start. xdist's worksteal hands
    each worker a contiguous share of this order (what is left, split evenly, worker by
    worker) and steals from the ends of shares."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    long = [item for item in items if item.get_closest_marker("long")]
    if workers < 2 or not long:
        return
    rest = iter([item for item in items if not item.get_closest_marker("long")])
    ordered: list[pytest.Item] = []
    left = len(items)
    for worker in range(workers):
        share, mine = left // (workers - worker), long[worker::workers]
        others = list(itertools.islice(rest, max(0, share - len(mine))))
        n = len(others)
        for i, item in reversed(list(enumerate(mine))):  # the later places first
            others.insert((2 * i + 1) * n // (4 * len(mine)), item)
        ordered += others
        left -= share
    items[:] = ordered + list(rest)


def pytest_collection_finish(session: pytest.Session) -> None:
    tune_gc()


def tune_gc() -> None:
    """Each pilot test holds a whole app while it runs, so under the default thresholds it
    sets off full collections that walk every object of the test process, also the line
    caches of up to 1,024 widgets Textual keeps after their app has ended (an `lru_cache` on
    a method, Textualize/textual#6665): what collection imported is frozen out of them, and
    they come less often (see bench/README.md)."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 1000)


def _share_demo_dir(shared: str, cache_dir: str) -> None:
    """Make ``<cache_dir>/demo`` (where api.demo looks) a link to the shared demo folder."""
    os.makedirs(shared, mode=0o700, exist_ok=True)
    os.makedirs(cache_dir, mode=0o700, exist_ok=True)
    link = os.path.join(cache_dir, "demo")
    if not os.path.islink(link):
        os.symlink(shared, link)


@pytest.fixture(autouse=True)
def own_user_dirs(tmp_path_factory, monkeypatch):
    """A config and data dir per test: saved views, reviews and the last session never leak
    from one test into another (the response cache stays per worker)."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("STUDIO_TUI_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("STUDIO_TUI_DATA_DIR", str(base / "data"))
    return base


@pytest.fixture(scope="session")
def demo_db():
    """Path of the pinned demo database (generated once, reused across runs)."""
    from api.demo.generate import ensure_demo_db

    return ensure_demo_db(size=DEMO_SIZE, seed=DEMO_SEED, anchor=DEMO_ANCHOR)


@pytest.fixture
def studio_app(demo_db, tmp_path):
    """Factory of StudioApp on the pinned demo backend (recording transport, temp cache).

    `studio_app(**kwargs)` -> app with `app.test_transport.requests` (every request made),
    `app.test_faults` (api.demo.faults.Faults, settable at run time) and `app.test_info`.
    """
    from app_support import make_app

    def factory(**kwargs):
        return make_app(tmp_path / "cache", size=DEMO_SIZE, seed=DEMO_SEED, anchor=DEMO_ANCHOR,
                        **kwargs)

    return factory
