"""Where the demo database lives and which one is asked for: size, seed and anchor resolved
from arguments or the environment, its directory and file name.

Light on purpose (no generator import): the response-cache peek at start-up needs the file
name of the demo database before anything else is loaded.
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from api.demo.anchor import resolve_anchor
from api.demo.schema import GENERATOR_VERSION

DEFAULT_SIZE = 5000
DEFAULT_SEED = 7
# The demo shows the app at scale (one page held, paging at depth) at this size; more adds
# build time and disk, not evidence (bench/README.md).
MAX_SIZE = 200_000
# --------------------------------------------------------------------------------------------
# parameters and paths


def resolve_params(size: int | None = None, seed: int | None = None, anchor: str | None = None,
                   env: Mapping[str, Any] | None = None,
                   now: dt.datetime | None = None) -> tuple[int, int, str]:
    """Explicit values, else STUDIO_DEMO_SIZE / _SEED / _ANCHOR, else defaults; validated.

    The anchor comes back canonical (``api.demo.resolve_anchor``): today's date, or a later
    one, gets the current hour of ``now`` (default: the wall clock), so that no data is
    dated after the moment it was generated."""
    env = os.environ if env is None else env
    size = _int_param("STUDIO_DEMO_SIZE", size, env, DEFAULT_SIZE)
    seed = _int_param("STUDIO_DEMO_SEED", seed, env, DEFAULT_SEED)
    if size < 1:
        raise ValueError(f"demo size must be a positive integer, got {size}")
    if size > MAX_SIZE:
        raise ValueError(f"demo size must be at most {MAX_SIZE}, got {size}")
    if seed < 0 or seed >= 2**31:
        raise ValueError(f"demo seed must be between 0 and 2147483647, got {seed}")
    if anchor is None:
        anchor = env.get("STUDIO_DEMO_ANCHOR") or None
    anchor = resolve_anchor(anchor, now or dt.datetime.now(dt.UTC))
    return size, seed, anchor


def _int_param(name: str, value: int | None, env: Mapping[str, Any], default: int) -> int:
    if value is not None:
        return int(value)
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def demo_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<cache dir>/demo`` (cache dir: STUDIO_TUI_CACHE_DIR else platformdirs), 0700."""
    if cache_dir is None:
        cache_dir = os.environ.get("STUDIO_TUI_CACHE_DIR")
    if not cache_dir:
        import platformdirs

        cache_dir = platformdirs.user_cache_dir("studio-tui")
    base = Path(cache_dir)
    created = not base.exists()
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    if created:
        os.chmod(base, 0o700)
    path = base / "demo"
    path.mkdir(exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def db_filename(size: int, seed: int, anchor: str) -> str:
    return f"demo-v{GENERATOR_VERSION}-s{seed}-n{size}-a{anchor}.sqlite3"
