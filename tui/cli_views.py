"""``studio-tui views``: the saved views of ``config.toml`` (api/views.py).

    studio-tui views list [--format table|json]
    studio-tui views show NAME [--format table|json]
    studio-tui views save NAME [export's filter flags] [--window 7d] [--columns a,b,c]
                          [--description TEXT] [--force]
    studio-tui views delete NAME

``studio-tui export --view NAME`` runs one (``resolved_view``). Exit codes as in tui/cli.py:
2 for bad input (a flag, a name, an unknown view, a view that exists without ``--force``, a
built-in to delete, a config file or view that cannot be read), 1 when the file cannot be
written. Registered by tui/cli.py, whose helpers it uses.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from api.columns import TABLE_COLUMNS
from tui import cli_completion as complete
from tui.cli import (
    EXIT_FAILURE,
    EXIT_USAGE,
    GlobalOptions,
    _build_query,
    _fail,
    _load_settings,
    _stdout_is_tty,
    _warn,
    json_for_terminal,
    query_options,
)

QUERY_CHARS = 120  # of a view's query in `views list`


def _config_file() -> Path:
    """The config.toml of the CLI's user settings (views, theme, review verdicts): only the
    config dir matters, not the profile or credentials. tui/cli_completion.py imports it
    lazily: tui/cli.py imports that module before this one."""
    from api.config import CONFIG_FILE_NAME, config_dir

    return config_dir() / CONFIG_FILE_NAME


def _now(opts: GlobalOptions) -> datetime:
    """What a window ends at: on the demo backend its clock (where its data ends), as in
    the app."""
    settings = _load_settings(opts)
    if not settings.demo:
        return datetime.now(UTC)
    from api.demo.anchor import demo_now

    try:
        return demo_now(settings.demo_anchor)
    except ValueError as exc:
        _fail(f"error: STUDIO_DEMO_ANCHOR: {exc}", EXIT_USAGE)


def _view(name: str, flag: str) -> Any:
    from api.errors import ConfigError
    from api.views import ViewError, get_view

    try:
        return get_view(_config_file(), name)
    except (ViewError, ConfigError) as exc:
        _fail(f"error: {flag}{exc}", EXIT_USAGE)


def resolved_view(opts: GlobalOptions, name: str) -> Any:
    """The query of view ``name`` now (for ``export --view``); exit 2 naming the flag."""
    return _view(name, "--view: ").resolve(_now(opts))


def _echo_json(data: Any) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    click.echo(json_for_terminal(text) if _stdout_is_tty() else text)


def _kind(view: Any) -> str:
    from api.views import builtin_view

    if view.builtin:
        return "built-in"
    return "override" if builtin_view(view.name) else "user"


def _span(view: Any) -> str:
    if view.window:
        return view.window
    return "dates" if view.query.start_date or view.query.end_date else "-"


@click.group()
def views() -> None:
    """Saved views: named queries with a window or dates and the table's columns."""


@views.command("list")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True,
              help='json: [{"name", "builtin", "description", "query", "window", "columns", '
                   '"filters"}], the built-in views first.')
def list_views(fmt: str) -> None:
    """Every view: the built-in ones, then yours (config.toml, [views.NAME])."""
    from api.errors import ConfigError
    from api.text import one_line
    from api.views import read_views

    try:
        found = read_views(_config_file())
    except ConfigError as exc:
        _fail(f"error: {exc}", EXIT_USAGE)
    for problem in found.broken.values():
        _warn(f"{problem} (left out)")
    if fmt == "json":
        _echo_json([view.to_json() for view in found.views.values()])
        return
    rows = [("NAME", "KIND", "WINDOW", "DESCRIPTION", "QUERY")]
    rows += [(v.name, _kind(v), _span(v), one_line(v.description, 40),
              one_line(v.query.to_text(), QUERY_CHARS) or "(everything)")
             for v in found.views.values()]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[4]]).rstrip())


@views.command("show")
@click.argument("name", shell_complete=complete.VIEWS)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True,
              help='json: {"name", "builtin", "description", "query", "window", "columns", '
                   '"filters", "kind", "start_date", "end_date"} (the dates its window '
                   'covers now).')
@click.pass_obj
def show_view(opts: GlobalOptions, name: str, fmt: str) -> None:
    """One view, with the dates its window covers now."""
    from api.columns import DEFAULT_COLUMNS
    from api.text import one_line

    view = _view(name, "")
    resolved = view.resolve(_now(opts))
    if fmt == "json":
        _echo_json({**view.to_json(), "kind": _kind(view),
                    "start_date": resolved.start_date, "end_date": resolved.end_date})
        return
    columns = view.columns or DEFAULT_COLUMNS
    lines = [
        ("name", view.name),
        ("kind", _kind(view)),
        ("description", one_line(view.description) or "-"),
        ("query", one_line(view.query.to_text(), 2000) or "(everything)"),
        ("window", view.window or "-"),
        ("dates", f"{resolved.start_date or '…'} .. {resolved.end_date or '…'}"
         if resolved.start_date or resolved.end_date else "any"),
        ("columns", ", ".join(columns) + ("" if view.columns else " (default)")),
    ]
    for key, value in lines:
        click.echo(f"{key + ':':<13}{value}")


@views.command("save")
@click.argument("name")
@query_options
@click.option("--window", metavar="Nh|Nd|Nw", shell_complete=complete.WINDOW,
              help="Relative window (24h, 7d, 30d, 90d, 2w...), moving with time; "
                   "instead of --start/--end, which save fixed dates.")
@click.option("--columns", metavar="A,B,C", shell_complete=complete.COLUMNS,
              help=f"The table's columns, in order (keys: {', '.join(TABLE_COLUMNS)}).")
@click.option("--description", help="One line saying what the view is for.")
@click.option("--force", is_flag=True, help="Replace your view of that name.")
@click.pass_obj
def save_view_cmd(opts: GlobalOptions, name: str, window: str | None, columns: str | None,
                  description: str | None, force: bool, **kw: Any) -> None:
    """Save the filters as view NAME (a built-in's name makes yours replace it)."""
    from api.columns import check_columns
    from api.dates import parse_window
    from api.errors import ConfigError
    from api.views import View, ViewError, ViewExists, WriteError, check_view_name, save_view

    try:
        check_view_name(name)
    except ViewError as exc:
        _fail(f"error: NAME: {exc}", EXIT_USAGE)
    if window is not None:
        if kw["start"] or kw["end"]:
            flag = "--start" if kw["start"] else "--end"
            _fail(f"error: --window: not with {flag} (a view has a window or fixed dates)",
                  EXIT_USAGE)
        try:
            parse_window(window)
        except ValueError as exc:
            _fail(f"error: --window: {exc}", EXIT_USAGE)
    keys = None
    if columns is not None:
        try:
            keys = check_columns([key.strip() for key in columns.split(",") if key.strip()])
        except ValueError as exc:
            _fail(f"error: --columns: {exc}", EXIT_USAGE)
    query = _build_query(kw)
    config_file = _config_file()
    try:
        view = View(name, query, window=window, columns=keys, description=description or "")
        save_view(config_file, view, overwrite=force)
    except ViewExists:
        _fail(f"error: view {name} exists in {config_file} (--force replaces it)", EXIT_USAGE)
    except WriteError as exc:
        _fail(f"error: {exc}", EXIT_FAILURE)
    except (ViewError, ConfigError) as exc:
        _fail(f"error: {exc}", EXIT_USAGE)
    click.echo(f"saved view {name} in {config_file}: {view.text() or '(everything)'}")


@views.command("delete")
@click.argument("name", shell_complete=complete.OWN_VIEWS)
def delete_view_cmd(name: str) -> None:
    """Delete your view NAME (a built-in one cannot be deleted)."""
    from api.errors import ConfigError
    from api.views import ViewError, WriteError, builtin_view, delete_view

    config_file = _config_file()
    try:
        delete_view(config_file, name)
    except WriteError as exc:
        _fail(f"error: {exc}", EXIT_FAILURE)
    except (ViewError, ConfigError) as exc:
        _fail(f"error: {exc}", EXIT_USAGE)
    back = f" (the built-in view {name} is back)" if builtin_view(name) else ""
    click.echo(f"deleted view {name} from {config_file}{back}")
