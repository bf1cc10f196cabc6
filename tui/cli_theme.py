"""``studio-tui theme [NAME]``: list the terminal UI's themes, or pick one.

    studio-tui theme [--format text|json]       the themes, the current one marked
    studio-tui theme NAME [--format text|json]  write ``theme = "NAME"`` to config.toml

The UI reads that key at start and writes it when a theme is picked in its command palette
(Theme). ``ansi-dark`` and ``ansi-light`` draw with the terminal's own colours. Exit codes as
in tui/cli.py: 2 for an unknown theme or a config file that cannot be read, 1 when it cannot
be written. Registered by tui/cli.py, whose helpers it uses.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from tui import cli_completion as complete
from tui.cli import EXIT_FAILURE, EXIT_USAGE, _fail, _shown, _warn
from tui.cli_views import _config_file

FALLBACK_THEME = "textual-dark"


def theme_darkness() -> dict[str, bool]:
    """Every theme the UI offers (name -> dark), sorted by name: Textual's built-in ones,
    which are the app's `available_themes` (it registers none of its own)."""
    from textual.theme import BUILTIN_THEMES

    return {name: BUILTIN_THEMES[name].dark for name in sorted(BUILTIN_THEMES)}


def default_theme(known: dict[str, bool]) -> str:
    """The theme without a config: Textual's default (`TEXTUAL_THEME`, else textual-dark)."""
    from textual.constants import DEFAULT_THEME

    return DEFAULT_THEME if DEFAULT_THEME in known else FALLBACK_THEME


def _current(config_file: Path, known: dict[str, bool]) -> str:
    """The theme the UI would start with."""
    from api.config import read_theme
    from api.errors import ConfigError

    try:
        name = read_theme(config_file)
    except ConfigError as exc:
        _fail(f"error: {exc}", EXIT_USAGE)
    if name is not None and name not in known:
        _warn(f"unknown theme {_shown(name)} in {config_file}; "
              f"the UI uses {default_theme(known)}")
        return default_theme(known)
    return name or default_theme(known)


def _echo_list(known: dict[str, bool], current: str, fmt: str) -> None:
    rows: list[dict[str, Any]] = [{"name": name, "dark": dark, "current": name == current}
                                  for name, dark in known.items()]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        mark = "*" if row["current"] else " "
        click.echo(f"{mark} {row['name']:<22}{'dark' if row['dark'] else 'light'}")


@click.command("theme")
@click.argument("name", required=False, shell_complete=complete.THEMES)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help='json: the themes after any change, [{"name", "dark", "current"}], sorted '
                   "by name.")
def theme_cmd(name: str | None, fmt: str) -> None:
    """List the UI's themes (* marks the current one), or make NAME the theme (config.toml,
    top-level `theme`). ansi-dark and ansi-light use the terminal's own colours."""
    known = theme_darkness()
    config_file = _config_file()
    if name is None:
        _echo_list(known, _current(config_file, known), fmt)
        return
    if name not in known:
        _fail(f"error: unknown theme {_shown(name)} (known: {', '.join(known)})", EXIT_USAGE)
    from api.config import THEME_KEY
    from api.errors import ConfigError
    from api.views import WriteError, save_setting

    try:
        save_setting(config_file, THEME_KEY, name)
    except WriteError as exc:
        _fail(f"error: {exc}", EXIT_FAILURE)
    except ConfigError as exc:
        _fail(f"error: {exc}", EXIT_USAGE)
    if fmt == "json":
        _echo_list(known, name, fmt)
    else:
        click.echo(f"theme {name} saved in {config_file}")
