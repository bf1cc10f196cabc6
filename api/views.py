"""Saved views: a name, a conversation query, a relative window or absolute dates, and the
table's columns. The six triage presets of the explorer ship as built-in views.

A view lives in ``config.toml`` (``Settings.config_file``), in a form meant to be read,
edited and shared by hand::

    [views.billing-escalations]
    description = "billing handoffs"        # optional
    query = "handoff:yes tags:billing sort:message_count"
    window = "7d"                           # optional: <N>h, <N>d or <N>w
    columns = ["sel", "last", "id", "tags"] # optional: the table's default otherwise

``query`` is ``ConversationQuery``'s text form; it holds dates (``since:``/``until:``) only
when the view has absolute dates, never together with a ``window``. A window is resolved
against "now" on the stable boundaries of ``api.dates.preset_range``, so a view's query (and
its cache key) repeats for a whole hour or day. Columns are keys of ``api.columns``.

Reading (``read_views``): the built-ins first, then the user's views in file order; a user
view of a built-in's name takes the built-in's place. A ``[views.NAME]`` table that cannot be
read is left out of ``views`` and reported in ``broken`` (name -> one-line ``ConfigError``
naming the file and the view); ``get_view`` of that name raises it, the other views load. A
file that does not parse, or a ``views`` key that is not a table, raises ``ConfigError``.

Writing (``save_view``, ``delete_view``; ``save_setting`` for a top-level key such as
``theme``) edits the file with tomlkit under an exclusive lock
(``flock`` on ``config.toml.lock``, kept next to it), so that two processes saving at once
lose nothing, then replaces it atomically (0600; the directory 0700). Everything else in the
file is kept as written: profiles, ``[keymap]``, comments, order. Comment lines just above a
table header stay above that header when the view before it is added, rewritten or deleted.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

from api.columns import check_columns
from api.dates import parse_window, window_range
from api.errors import ConfigError
from api.query import ConversationQuery, QueryError
from api.text import one_line

if TYPE_CHECKING:  # tomlkit is imported by the writers only
    from tomlkit.container import Container
    from tomlkit.items import Table
    from tomlkit.toml_document import TOMLDocument

__all__ = [
    "View",
    "ViewSet",
    "ViewError",
    "UnknownView",
    "ViewExists",
    "WriteError",
    "TriagePreset",
    "TRIAGE_PRESETS",
    "BUILTIN_VIEWS",
    "builtin_view",
    "check_view_name",
    "read_views",
    "load_views",
    "get_view",
    "save_view",
    "delete_view",
    "save_setting",
]

NAME_CHARS = "1-64 letters, digits, '_', '.' or '-'"
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
VIEW_KEYS = ("description", "query", "window", "columns")  # the order they are written in
BUILTIN_WINDOW = "30d"


class ViewError(ValueError):
    """A view that cannot be made, saved or deleted; ``str()`` is one line."""


class UnknownView(ViewError):
    """No view of that name; the message lists the known ones."""


class ViewExists(ViewError):
    """Saving would replace a user view, and overwriting was not asked for."""


class WriteError(ConfigError):
    """config.toml could not be written (or its directory or lock made): nothing changed."""


def _shown(name: str) -> str:
    return one_line(repr(name), 80)


def check_view_name(name: str) -> str:
    """``name`` when it is usable as a view name (and a TOML key, and a shell word)."""
    if not _NAME.fullmatch(name):
        raise ViewError(f"view name {_shown(name)}: use {NAME_CHARS}")
    return name


@dataclass(frozen=True)
class View:
    name: str
    query: ConversationQuery = ConversationQuery()
    # relative window ("7d"); None: the query's own dates, or no date filter
    window: str | None = None
    columns: tuple[str, ...] | None = None  # None: the table's default columns
    builtin: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        check_view_name(self.name)
        if self.window is not None:
            try:
                parse_window(self.window)
            except ValueError as exc:
                raise ViewError(str(exc)) from None
            object.__setattr__(self, "window", self.window.strip().lower())
            if self.query.start_date or self.query.end_date:
                raise ViewError(f"a window ({self.window}) and dates (since:/until:) cannot "
                                "both be given")
        if self.columns is not None:
            try:
                columns = check_columns(self.columns)
            except ValueError as exc:
                raise ViewError(f"columns: {exc}") from None
            if not columns:
                raise ViewError("columns: at least one column")
            object.__setattr__(self, "columns", columns)
        # from a shared file or a command line: shown in lists and titles
        object.__setattr__(self, "description", one_line(self.description, 200))

    def resolve(self, now: datetime) -> ConversationQuery:
        """The query to run at ``now``: the window turned into dates (stable boundaries)."""
        if self.window is None:
            return self.query
        start, end = window_range(self.window, now)
        return self.query.replace(start_date=start, end_date=end)

    def text(self) -> str:
        """The query's text form, the window first: ``window:7d sentiment:negative``."""
        return " ".join(part for part in (
            f"window:{self.window}" if self.window else "", self.query.to_text()) if part)

    def to_json(self) -> dict[str, Any]:
        """Stable keys; ``query`` is the text form as stored in config.toml (no window)."""
        return {
            "name": self.name,
            "builtin": self.builtin,
            "description": self.description,
            "query": self.query.to_text(),
            "window": self.window,
            "columns": list(self.columns) if self.columns is not None else None,
            "filters": query_filters(self.query),
        }


def query_filters(query: ConversationQuery) -> dict[str, Any]:
    """The fields a query sets, by name (lists for the multi-valued ones)."""
    out: dict[str, Any] = {}
    for name, value in query._asdict().items():
        if value is not None and value != ():
            out[name] = list(value) if isinstance(value, tuple) else value
    return out


# ------------------------------------------------------------------------ built-ins
@dataclass(frozen=True)
class TriagePreset:
    key: str  # the explorer's key
    name: str  # what the explorer, its help and the palette call it
    changes: dict[str, Any]  # the query fields it sets
    view: str  # its built-in view


TRIAGE_PRESETS: tuple[TriagePreset, ...] = (
    TriagePreset("S", "negative sentiment", {"sentiment": ("negative",)}, "negative"),
    TriagePreset("H", "handoffs", {"has_handoff": True}, "handoffs"),
    TriagePreset("F", "frustration handoffs",
                 {"has_handoff": True, "handoff_reason": ("frustration",)}, "frustration"),
    TriagePreset("R", "high recontact risk", {"recontact_risk": ("high",)}, "recontact"),
    TriagePreset("D", "degraded sentiment", {"sentiment_shift": ("degraded",)}, "degraded"),
    TriagePreset("I", "irrelevant resources", {"resources": ("irrelevant",)}, "irrelevant"),
)

BUILTIN_VIEWS: tuple[View, ...] = tuple(
    View(p.view, ConversationQuery.build(**p.changes), window=BUILTIN_WINDOW, builtin=True,
         description=p.name)
    for p in TRIAGE_PRESETS
)
_BUILTINS: Mapping[str, View] = MappingProxyType({view.name: view for view in BUILTIN_VIEWS})


def builtin_view(name: str) -> View | None:
    """The built-in view ``name``, if there is one."""
    return _BUILTINS.get(name)


# ------------------------------------------------------------------------ reading
class ViewSet(NamedTuple):
    views: dict[str, View]  # the built-ins, then the user's views, in file order
    broken: dict[str, ConfigError]  # user views that could not be read, by name


def read_views(config_file: Path) -> ViewSet:
    """Every view, and the user's views that could not be read (see the module docstring)."""
    from api.config import read_config  # the settings' own reader: same errors, same file

    tables = read_config(config_file).get("views", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{config_file}: views must be [views.NAME] tables")
    views = dict(_BUILTINS)
    broken: dict[str, ConfigError] = {}
    for name, table in tables.items():
        try:
            views[name] = _view_from_table(name, table)
        except (ViewError, QueryError) as exc:
            views.pop(name, None)  # never the built-in in its place: the user meant theirs
            broken[name] = ConfigError(f"{config_file}: [views.{_key(name)}]: {exc}")
    return ViewSet(views, broken)


def load_views(config_file: Path) -> dict[str, View]:
    """The views that can be used: built-ins first, then the user's (see ``read_views``)."""
    return read_views(config_file).views


def get_view(config_file: Path, name: str) -> View:
    """The view ``name``; ``UnknownView`` (listing the names) or, for a view the file holds
    but that cannot be read, its ``ConfigError``."""
    found = read_views(config_file)
    if name in found.broken:
        raise found.broken[name]
    try:
        return found.views[name]
    except KeyError:
        raise UnknownView(_unknown(name, found.views)) from None


def _unknown(name: str, known: Iterable[str]) -> str:
    return f"unknown view {_shown(name)} (known: {', '.join(known) or 'none'})"


def _key(name: str) -> str:
    """``name`` as a TOML key in a header."""
    return name if _NAME.fullmatch(name) else one_line(repr(name), 80)


def _view_from_table(name: str, table: Any) -> View:
    if not isinstance(table, dict):
        raise ViewError('expected a table: query = "...", window = "7d", columns = [...]')
    unknown = [key for key in table if key not in VIEW_KEYS]
    if unknown:
        raise ViewError(f"unknown key {_shown(unknown[0])} (known: {', '.join(VIEW_KEYS)})")
    for key in ("description", "query", "window"):
        if key in table and not isinstance(table[key], str):
            raise ViewError(f"{key} must be a string")
    columns = table.get("columns")
    if columns is not None and (not isinstance(columns, list)
                                or not all(isinstance(c, str) for c in columns)):
        raise ViewError("columns must be a list of column names")
    try:
        query = ConversationQuery.from_text(table.get("query", ""))
    except QueryError as exc:
        raise ViewError(f"query: {exc}") from None
    return View(check_view_name(name), query, table.get("window"),
                tuple(columns) if columns is not None else None,
                description=table.get("description", ""))


# ------------------------------------------------------------------------ writing
def save_view(config_file: Path, view: View, *, overwrite: bool = False) -> None:
    """Write ``view`` as ``[views.NAME]``: a new table after the last view, or the view's
    own table rewritten in place. ``ViewExists`` when the file has a view of that name and
    ``overwrite`` is false (a built-in of that name is shadowed without asking)."""
    values = _toml_values(view)

    def edit(doc: TOMLDocument) -> None:
        tables = _views_tables(doc, config_file)
        host = next((table for table in tables if view.name in table), None)
        if host is None:
            _append(doc, tables, view.name, values)
            return
        if not overwrite:
            raise ViewExists(f"view {_shown(view.name)} exists in {config_file}")
        existing = host[view.name]
        if _is_table(existing):
            _rewrite(existing, values)
        else:  # `[views]` holding `NAME = ...`: made a table
            host.remove(view.name)
            _append(doc, [host], view.name, values)

    _edit_config(config_file, edit)


def delete_view(config_file: Path, name: str) -> None:
    """Remove the user's view ``name``; a built-in one raises ``ViewError``, an unknown one
    ``UnknownView``."""

    def edit(doc: TOMLDocument) -> None:
        tables = _views_tables(doc, config_file)
        host = next((table for table in tables if name in table), None)
        if host is None:
            if name in _BUILTINS:
                raise ViewError(f"view {_shown(name)} is built in: it cannot be deleted")
            known = dict.fromkeys([*_BUILTINS, *(str(k) for t in tables for k in t)])
            raise UnknownView(_unknown(name, known))
        _remove(doc, host, name)

    _edit_config(config_file, edit)


def save_setting(config_file: Path, key: str, value: str) -> None:
    """Set the top-level ``key = "value"`` of ``config_file`` (``theme``, ...): in place when
    the key is there, else just above the first table (tomlkit's place for it). A ``[key]``
    table is not replaced (``ConfigError``): it holds what the user wrote."""

    def edit(doc: TOMLDocument) -> None:
        from tomlkit.items import AoT, InlineTable, Table

        if isinstance(doc.get(key), Table | InlineTable | AoT):
            raise ConfigError(f"{config_file}: {key} must be a string, not a table")
        doc[key] = value

    _edit_config(config_file, edit)


def _toml_values(view: View) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if view.description:
        values["description"] = view.description
    values["query"] = view.query.to_text()
    if view.window is not None:
        values["window"] = view.window
    if view.columns is not None:
        values["columns"] = list(view.columns)
    try:
        values["query"].encode("utf-8")
    except UnicodeEncodeError:  # an undecodable byte from a command line
        raise ViewError("the query holds text that is not valid UTF-8") from None
    return values


def _edit_config(config_file: Path, edit: Callable[[TOMLDocument], None]) -> None:
    """Read, ``edit`` and replace ``config_file`` under its lock; nothing is written when
    ``edit`` raises."""
    import tomllib

    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    from api.export import write_text_atomic

    directory = config_file.parent
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if directory.stat().st_mode & 0o077:  # it holds tokens
            os.chmod(directory, 0o700)
        lock = os.open(config_file.with_name(config_file.name + ".lock"),
                       os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise WriteError(f"cannot write {config_file}: {exc.strerror or exc}") from None
    try:
        _lock(lock)
        # a config.toml symlinked from a dotfiles repository stays a link: its target is edited
        target = Path(os.path.realpath(config_file))
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        except UnicodeDecodeError:
            raise ConfigError(f"cannot parse {config_file}: not UTF-8 text") from None
        try:
            doc = tomlkit.parse(text)
        except TOMLKitError as exc:
            raise ConfigError(f"cannot parse {config_file}: {one_line(exc, 200)}") from None
        edit(doc)
        out = doc.as_string()
        out = out.lstrip("\n") if not text.strip() else out
        try:  # never leave the user a file that no longer parses
            tomllib.loads(out)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not saved: editing {config_file} would break it ({exc})") \
                from None
        write_text_atomic(target, out)
    except OSError as exc:
        raise WriteError(f"cannot write {config_file}: {exc.strerror or exc}") from None
    finally:
        os.close(lock)


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # no flock on this platform: concurrent saves are not guarded
        return
    fcntl.flock(fd, fcntl.LOCK_EX)  # released when the descriptor is closed


def _is_table(item: Any) -> TypeGuard[Table]:
    from tomlkit.items import Table

    return isinstance(item, Table)


def _views_tables(doc: TOMLDocument, config_file: Path) -> list[Table]:
    """The ``views`` tables of the document in file order (several when other tables sit
    between ``[views.a]`` and ``[views.b]``)."""
    items = [item for key, item in doc.body if key is not None and key.key == "views"]
    tables = [item for item in items if _is_table(item)]
    if len(tables) != len(items):
        raise ConfigError(f"{config_file}: views must be [views.NAME] tables")
    return tables


def _subtables(container: Container) -> Iterator[Table]:
    """Every table under ``container``, in the order the file shows them."""
    from tomlkit.items import AoT, Table

    for _, item in container.body:
        if isinstance(item, Table):
            yield item
            yield from _subtables(item.value)
        elif isinstance(item, AoT):
            for table in item.body:
                yield table
                yield from _subtables(table.value)


def _last_table(table: Table) -> Table:
    """The table whose body ends where ``table``'s text ends (its last sub-table, if any)."""
    from tomlkit.items import AoT, Table

    while table.value.body:
        last = table.value.body[-1][1]
        if isinstance(last, Table):
            table = last
        elif isinstance(last, AoT) and last.body:
            table = last.body[-1]
        else:
            break
    return table


def _pop_trailing(table: Table) -> str:
    """Remove and return the blank and comment lines that end ``table``'s body: in the file
    they sit above the next header, and belong with it."""
    from tomlkit.items import Comment, Whitespace

    body = table.value.body
    cut = len(body)
    while cut and body[cut - 1][0] is None and isinstance(body[cut - 1][1],
                                                          (Whitespace, Comment)):
        cut -= 1
    text = "".join(item.as_string() for _, item in body[cut:])
    del body[cut:]  # keyless items at the end: the container's key index is unaffected
    return text


def _new_table(values: Mapping[str, Any]) -> Table:
    import tomlkit

    table = tomlkit.table()
    for key, value in values.items():
        table.add(key, value)
    return table


def _append(doc: TOMLDocument, tables: list[Table], name: str,
            values: Mapping[str, Any]) -> None:
    import tomlkit

    table = _new_table(values)
    if not tables:
        views = tomlkit.table(is_super_table=True)
        views.add(name, table)
        doc.add("views", views)
        return
    host = tables[-1]
    trailing = _pop_trailing(_last_table(host))
    host.add(name, table)  # shown right after the host's last view
    if trailing:
        table.add(tomlkit.ws(trailing))


def _rewrite(table: Table, values: Mapping[str, Any]) -> None:
    import tomlkit

    trailing = _pop_trailing(_last_table(table))
    for key in [str(k) for k in table if k not in values]:
        table.remove(key)
    for key, value in values.items():
        table[key] = value  # in place when present, else after the others
    if trailing:
        table.add(tomlkit.ws(trailing))


def _remove(doc: TOMLDocument, host: Table, name: str) -> None:
    import tomlkit

    victim = host[name]
    if not _is_table(victim):
        host.remove(name)
        return
    trailing = _pop_trailing(_last_table(victim))
    order = list(_subtables(doc))
    inside = {id(t) for t in _subtables(victim.value)} | {id(victim)}
    start = next(i for i, t in enumerate(order) if t is victim)
    following = next((t for t in order[start:] if id(t) not in inside
                      and not t.is_super_table()), None)
    before = [t for t in order[:start] if not t.is_super_table()]
    headless = host.is_super_table()  # (tomlkit decides from the children: ask before)
    host.remove(name)  # an emptied [views] super-table shows nothing
    if before:
        # the blank lines above the view go with it, those below it stay: a save undone by
        # a delete gives back the same file
        body = before[-1].value.body
        while body and body[-1][0] is None and _is_blank(body[-1][1]):
            body.pop()
    else:  # the first table: above it, the start of the file or its top-level keys
        index = next(i for i, (_, item) in enumerate(doc.body) if item is host)
        if (following is None and not host and headless
                and index == len(doc.body) - 1):  # the file's only table: its blank lines too
            doc.remove("views")  # (leaves a keyless placeholder that shows nothing)
            while doc.body and doc.body[-1][0] is None and _is_blank(doc.body[-1][1]):
                doc.body.pop()
        elif index == 0 or _is_blank(doc.body[index - 1][1]):
            trailing = trailing.lstrip("\n")
    if following is not None:  # a header is written after its indent: the lines stay above it
        following.trivia.indent = trailing + following.trivia.indent
    elif "#" in trailing:  # comments at the end of the file
        doc.add(tomlkit.ws(trailing))


def _is_blank(item: Any) -> bool:
    """Blank lines, or the placeholder a removed item leaves."""
    from tomlkit.items import Null, Whitespace

    return isinstance(item, Whitespace | Null)
