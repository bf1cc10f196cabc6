"""``studio-tui reviews mark|list|export|import``: the local review store from the command line.

The scope (API base URL and project) is the settings' one, the demo's project when no token is
set, as for every other command; the store is ``api.reviews``. Imports of ``tui.cli`` happen
inside the functions: ``tui.cli`` registers this group at its end.
"""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import click

from tui import cli_completion as complete

if TYPE_CHECKING:
    from api.reviews import Review, ReviewStore
    from tui.cli import GlobalOptions

LIST_FORMATS = ("table", "json", "jsonl", "csv")
NOTE_CELL_CHARS = 60  # a note in the table: its start, on one line
CSV_FIELDS = ("conversation_id", "status", "verdict", "note", "who", "updated_at")


@click.group("reviews")
def reviews() -> None:
    """Local reviews of conversations: `mark`, `list`, `export`, `import`."""


def _usage_error(message: str) -> NoReturn:
    from tui.cli import EXIT_USAGE, _fail

    _fail(f"error: {message}", EXIT_USAGE)


def open_review_store(opts: GlobalOptions, project_id: str) -> ReviewStore:
    """The user's review store for the settings of ``opts`` and ``project_id``: a bad
    ``[reviews]`` table exits 2, a store that cannot be used exits 1 (one line each)."""
    from api.errors import ConfigError
    from api.reviews import ReviewStore, ReviewStoreError
    from tui.cli import _fail, _load_settings

    settings = _load_settings(opts)
    try:
        return ReviewStore.for_settings(settings, project_id)
    except ConfigError as exc:
        _usage_error(str(exc))
    except ReviewStoreError as exc:
        _fail(f"error: {exc}")


@contextmanager
def _store(opts: GlobalOptions) -> Iterator[ReviewStore]:
    """The store of the current scope. The project is the settings' (the demo's comes from
    its database): no client is needed for it."""
    from api.scope import project_id
    from tui.cli import _api_errors, _scope_settings

    settings = _scope_settings(opts)
    with _api_errors():
        project = project_id(settings)
    store = open_review_store(opts, project)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _failures() -> Iterator[None]:
    """Bad input (a ``ReviewError``, a bad ``[reviews]`` table) exits 2, an unusable store
    exits 1: one line each."""
    from api.errors import ConfigError
    from api.reviews import ReviewError, ReviewStoreError
    from tui.cli import _fail

    try:
        yield
    except (ReviewError, ConfigError) as exc:
        _usage_error(str(exc))
    except ReviewStoreError as exc:
        _fail(f"error: {exc}")


# ------------------------------------------------------------------------ mark
@reviews.command("mark")
@click.argument("ids", nargs=-1, required=True)
@click.option("--status", metavar="reviewed|flagged|todo", help="The review's status.",
              shell_complete=complete.STATUSES)
@click.option("--verdict", metavar="V", shell_complete=complete.VERDICTS,
              help='A verdict of the configured list ([reviews] verdicts); "" clears it.')
@click.option("--note", metavar="TEXT", help='A free-text note; "" clears it.')
@click.pass_obj
def mark(opts: GlobalOptions, ids: tuple[str, ...], status: str | None, verdict: str | None,
         note: str | None) -> None:
    """Mark conversations ID...: only the fields given change."""
    from api.reviews import review_settings
    from tui.cli import _load_settings

    if status is None and verdict is None and note is None:
        _usage_error("nothing to mark: give --status, --verdict or --note")
    with _failures():
        _, who = review_settings(_load_settings(opts).config_file)
    with _store(opts) as store, _failures():
        marked = store.mark(ids, status=status, verdict=verdict, note=note, who=who)
    changed = [f"status {status}" if status is not None else "",
               f"verdict {verdict or '(none)'}" if verdict is not None else "",
               ("note" if note else "note cleared") if note is not None else ""]
    count = len(marked)
    click.echo(f"marked {count} conversation{'' if count == 1 else 's'}: "
               f"{', '.join(part for part in changed if part)}")


# ------------------------------------------------------------------------ list
@reviews.command("list")
@click.option("--view", "view_name", metavar="NAME", shell_complete=complete.VIEWS,
              help="Every conversation the saved view lists, with its review (todo if none).")
@click.option("--status", metavar="reviewed|flagged|todo", help="Only reviews of this status.",
              shell_complete=complete.STATUSES)
@click.option("--format", "fmt", type=click.Choice(LIST_FORMATS), default="table",
              show_default=True,
              help='json: [{"conversation_id", "status", "verdict", "note", "who", '
                   '"updated_at"}]; jsonl: one such object a line; csv: those columns.')
@click.pass_obj
def list_reviews(opts: GlobalOptions, view_name: str | None, status: str | None,
                 fmt: str) -> None:
    """List the stored reviews, newest first (or those of a saved view, in its order)."""
    from api.reviews import STATUSES

    if status is not None and status not in STATUSES:
        _usage_error(f"--status: unknown status {status!r} (one of: {', '.join(STATUSES)})")
    if view_name is None:
        with _store(opts) as store, _failures():
            rows = store.list(status)
    else:
        rows = _view_reviews(opts, view_name, status)
    _print_reviews(rows, fmt)


def _view_reviews(opts: GlobalOptions, name: str, status: str | None) -> list[Review]:
    """The reviews of the conversations ``name`` lists now, in its order (todo for those
    without a row); a count by status on stderr."""
    from api.reviews import Review
    from tui.cli import _client, _run
    from tui.cli_views import resolved_view

    query = resolved_view(opts, name)  # an unknown view exits 2 with the known names

    async def listed() -> tuple[str, list[str]]:
        from contextlib import aclosing

        from api.paging import iter_conversations

        ids: list[str] = []
        async with _client(opts, cache=False) as client, \
                aclosing(iter_conversations(client, query)) as rows:
            async for row in rows:
                cid = row.get("conversation_id")
                if isinstance(cid, str):
                    ids.append(cid)
            return str(client.project_id), ids

    project_id, ids = _run(listed())
    store = open_review_store(opts, project_id)
    with store, _failures():
        stored = store.get(ids)
        counts = store.counts(ids)
    in_view = [stored.get(cid) or Review.todo(cid) for cid in ids]
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    click.echo(f"studio-tui: view {name}: {len(ids)} conversations: {summary}", err=True)
    return [r for r in in_view if status is None or r.status == status]


def _print_reviews(rows: list[Review], fmt: str) -> None:
    from tui.cli import _stdout_is_tty, json_for_terminal

    if fmt in ("json", "jsonl"):
        if fmt == "json":
            text = json.dumps([r.to_json() for r in rows], indent=2, ensure_ascii=False)
        else:
            text = "\n".join(json.dumps(r.to_json(), ensure_ascii=False) for r in rows)
        if _stdout_is_tty():
            text = json_for_terminal(text)
        if text:
            click.echo(text)
        return
    if fmt == "csv":
        _print_csv(rows)
        return
    _print_table(rows)


def _print_csv(rows: list[Review]) -> None:
    """CSV cells made safe as the export's (formula starts quoted, controls removed)."""
    import csv

    from api.export import csv_safe

    writer = csv.writer(sys.stdout, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for review in rows:
        data = review.to_json()
        writer.writerow([csv_safe(data[name]) if isinstance(data[name], str) else
                         ("" if data[name] is None else data[name]) for name in CSV_FIELDS])


def _print_table(rows: list[Review]) -> None:
    from api.text import one_line

    if not rows:
        click.echo("no reviews", err=True)
        return
    header = ("conversation", "status", "verdict", "who", "updated", "note")
    cells = [(one_line(r.conversation_id, 60), r.status, one_line(r.verdict or "-", 40),
              one_line(r.who or "-", 30), r.updated_at or "-",
              one_line(r.note, NOTE_CELL_CHARS)) for r in rows]
    widths = [max(len(header[i]), *(len(c[i]) for c in cells)) for i in range(5)]
    for line in (header, *cells):
        click.echo("  ".join(cell.ljust(width) for cell, width in
                             zip(line[:5], widths, strict=True)) + "  " + line[5])


# ------------------------------------------------------------------------ export / import
@reviews.command("export")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The JSON file to write (owner-only, replaced atomically).")
@click.pass_obj
def export_reviews(opts: GlobalOptions, output: str) -> None:
    """Write every review of this API and project to a JSON file (for `reviews import`)."""
    from api.export import write_text_atomic
    from tui.cli import _fail

    with _store(opts) as store, _failures():
        document = store.export_document()
    try:
        write_text_atomic(output, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        _fail(f"error: cannot write {output}: {exc.strerror or exc}")
    count = len(document["reviews"])
    click.echo(f"studio-tui: exported {count} review{'' if count == 1 else 's'} to {output}",
               err=True)


@reviews.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help='json: the merge report, {"added", "updated", "unchanged", "kept_local", '
                   '"conflicts"}, on stdout.')
@click.pass_obj
def import_reviews(opts: GlobalOptions, file: str, fmt: str) -> None:
    """Merge a `reviews export` file: per conversation the newer change wins; conflicts (both
    sides marked it, differently) are reported on stderr."""
    from api.reviews import ReviewError, parse_export

    try:
        with open(file, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        _usage_error(f"cannot read {file}: {exc.strerror or exc}")
    except (ValueError, UnicodeDecodeError) as exc:
        _usage_error(f"{file}: not JSON ({exc})")
    try:
        project, records = parse_export(data)
    except ReviewError as exc:
        _usage_error(f"{file}: {exc}")
    with _store(opts) as store:
        if project is not None and project != store.project_id:
            _usage_error(f"{file} holds the reviews of project {project!r}, not of "
                         f"{store.project_id!r} (the current one)")
        with _failures():
            try:
                report = store.import_records(records)
            except ReviewError as exc:
                raise ReviewError(f"{file}: {exc}") from None
    for conflict in report.conflicts:
        click.echo(f"studio-tui: conflict on {_described(conflict)}", err=True)
    click.echo(f"studio-tui: imported {file}: {report.summary()}", err=True)
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))


def _described(conflict: Any) -> str:
    from api.text import one_line

    def side(review: Review) -> str:
        verdict = f"/{review.verdict}" if review.verdict else ""
        return f"{review.status}{verdict} by {one_line(review.who, 30)} at {review.updated_at}"

    return (f"{one_line(conflict.conversation_id, 60)}: local {side(conflict.local)}, "
            f"incoming {side(conflict.incoming)}: {conflict.winner} kept")
