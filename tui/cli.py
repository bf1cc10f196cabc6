"""The ``studio-tui`` command line (click). Heavy imports live inside the commands so that
``studio-tui --help`` stays fast.

    studio-tui [--profile P] [--token T] [--project-id ID] [--api-url URL] [--offline]
               [--demo-size N] [COMMAND]

No command runs the TUI. Commands: ``fetch`` (the brief's fetch.py, plus cache and profiles),
``export`` (the brief's export_conversations.py, plus more filters, JSONL, ids, concurrency,
partial and resumable exports), ``cache stats|clear``, ``demo-server``, ``locate``.

Exit codes: 0 success, 1 API/network/export failure, 2 bad input (one line naming the flag),
130 interrupted (Ctrl-C); an export stopped by SIGTERM or SIGHUP exits 128 + the signal's
number (143, 129), as a shell reports it, after stopping as Ctrl-C does (partial kept).
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

import click

from screens.analytics import START_SCREENS
from tui import cli_completion as complete

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_SIGNALLED = 128  # plus the signal's number: an export stopped by SIGTERM or SIGHUP
EXPORT_TRIES = 6  # per request of an export: a long read rides out a bad minute of the API

# query field -> export flag, for error messages that name the flag the user typed
FIELD_FLAGS = {
    "start_date": "--start",
    "end_date": "--end",
    "has_handoff": "--handoff",
    "has_winback": "--winback",
}


@dataclass
class GlobalOptions:
    profile: str | None = None
    token: str | None = None
    project_id: str | None = None
    api_url: str | None = None
    offline: bool = False
    demo_size: int | None = None


def _fail(message: str, code: int = EXIT_FAILURE) -> NoReturn:
    click.echo(f"studio-tui: {message}", err=True)
    sys.exit(code)


def _require_dates(missing: list[str], why: str = "") -> None:
    """A usage error naming every missing date flag at once (one run says all of it)."""
    if missing:
        need = "is" if len(missing) == 1 else "are"
        _fail(f"error: {' and '.join(missing)} {need} required (YYYY-MM-DD or ISO 8601){why}",
              EXIT_USAGE)


def _load_settings(opts: GlobalOptions) -> Any:
    from api.config import load_settings
    from api.errors import ConfigError

    try:
        settings = load_settings(opts.profile, token=opts.token, project_id=opts.project_id,
                                 base_url=opts.api_url, offline=opts.offline)
    except ConfigError as exc:
        _fail(f"error: {exc}", EXIT_USAGE)
    if opts.demo_size is not None:
        settings = settings.replace(demo_size=opts.demo_size)
    return settings


def _warn(message: str) -> None:
    click.echo(f"studio-tui: warning: {message}", err=True)


def _scope_settings(opts: GlobalOptions) -> Any:
    """The settings of ``opts``; on stderr, that the demo is used when it is."""
    settings = _load_settings(opts)
    if settings.demo:
        click.echo(f"studio-tui: no API token set: using the {settings.describe()}", err=True)
    return settings


def _client(opts: GlobalOptions, **kw: Any) -> Any:
    from api.client import StudioClient

    return StudioClient.from_settings(_scope_settings(opts), cache_warn=_warn, **kw)


def _run(coro: Any, hint: Any = "") -> Any:
    """Run ``coro``; API errors become ``HTTP <code>: ...`` (or ``error: ...``) and exit 1."""
    import asyncio

    with _api_errors(hint):
        return asyncio.run(coro)


@contextmanager
def _api_errors(hint: Any = "") -> Iterator[None]:
    """API errors raised inside: ``HTTP <code>: ...`` (or ``error: ...``), exit 1."""
    from api.errors import StudioError

    try:
        yield
    except KeyboardInterrupt:
        _fail(f"interrupted{hint}", EXIT_INTERRUPTED)
    except StudioError as exc:
        # HTTP errors read ``HTTP <code>: <detail> (METHOD path)``, like the brief's fetch.py
        click.echo(str(exc) if exc.status is not None else f"studio-tui: error: {exc}", err=True)
        # a request that cannot even be built (a URL httpx refuses) is bad input, not an outage
        sys.exit(EXIT_USAGE if isinstance(exc, ValueError) else EXIT_FAILURE)


class _OneLineErrors(click.Group):
    """Usage errors as one line (``studio-tui: error: Invalid value for '--batch-size': ...``),
    exit 2, instead of click's usage block."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            _fail(f"error: {exc.format_message()}", exc.exit_code)
        except click.exceptions.Abort:
            _fail("interrupted", EXIT_INTERRUPTED)
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=_OneLineErrors, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--profile", help="Named profile from the config file (see `locate`).",
              shell_complete=complete.PROFILES)
@click.option("--token", help="API token (overrides STUDIO_API_TOKEN and the profile).")
@click.option("--project-id", help="Project id (overrides STUDIO_PROJECT_ID).")
@click.option("--api-url", help="API base URL (overrides STUDIO_API_URL).")
@click.option("--offline", is_flag=True, help="Serve cached answers only; never call the API.")
@click.option("--demo-size", type=click.IntRange(min=1),
              help="Conversations in the embedded demo backend (default 5000).")
@click.option("--fresh", is_flag=True,
              help="Start the explorer clean: do not reopen the last view, filters and row.")
@click.option("--screen", type=click.Choice(START_SCREENS, case_sensitive=False),
              default="explorer", show_default=True,
              help="The screen the app opens on (esc goes to the explorer).")
@click.version_option(package_name="studio-tui", prog_name="studio-tui")
@click.pass_context
def main(ctx: click.Context, profile, token, project_id, api_url, offline, demo_size,
         fresh, screen) -> None:
    """Keyboard-driven explorer for the Studio Chat analytics API.

    Without a command, opens the terminal UI. Without a token, everything runs against the
    embedded demo backend.
    """
    ctx.obj = GlobalOptions(profile, token, project_id, api_url, offline, demo_size)
    if ctx.invoked_subcommand is not None:
        import gc

        gc.enable()  # paused for start-up by the console script (entry.py)
    if ctx.invoked_subcommand is None:
        from tui.app import run_app  # (the GC stays paused until its first frame: entry.py)

        run_app(_load_settings(ctx.obj), fresh=fresh, screen=screen)


# ------------------------------------------------------------------------ fetch
class _ParamsCommand(click.Command):
    """Accept the brief's ``--params k=v k2=v2 ...`` (several values after one flag)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--params":
                while i < len(args) and not args[i].startswith("-"):  # argparse nargs="*"
                    out += ["--param", args[i]]
                    i += 1
            elif arg.startswith("--params="):
                out += ["--param", arg.split("=", 1)[1]]
            else:
                out.append(arg)
        return super().parse_args(ctx, out)


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"error: --params: expected key=value, got {pair!r}", EXIT_USAGE)
        params[key] = value
    return params


@main.command(cls=_ParamsCommand)
@click.argument("path")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Query parameter; the brief's `--params k=v k2=v2` works too.")
@click.option("--method", "-X", type=click.Choice(["GET", "POST"], case_sensitive=False),
              default="GET", show_default=True)
@click.option("--body", help="JSON request body (POST).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.")
@click.option("--no-cache", is_flag=True, help="Bypass the response cache.")
@click.option("--stale-ok", is_flag=True,
              help="When the API fails, show an expired cached answer (with a warning).")
@click.pass_obj
def fetch(opts: GlobalOptions, path, params, method, body, output, no_cache, stale_ok) -> None:
    """One API call: pretty JSON to stdout or FILE (like the brief's fetch.py).

    PATH may use {pid} for the project id, e.g. /projects/{pid}/conversations/analytics.
    """
    _check_path(path)
    query = _parse_params(params)
    method = method.upper()
    payload = None
    if body is not None:
        if method != "POST":
            _fail(f"error: --body is sent only with -X POST, not with {method}", EXIT_USAGE)
        try:
            payload = json.loads(body)
        except ValueError as exc:
            _fail(f"error: --body: not valid JSON ({exc})", EXIT_USAGE)
    result = _run(_fetch(opts, path, query, method, payload, not no_cache))
    _check_stale(result, stale_ok or opts.offline)
    text = json.dumps(result.data, indent=2, ensure_ascii=False)
    if output is None:  # bytes: a lone surrogate from the API goes out as its JSON escape
        if _stdout_is_tty():
            text = json_for_terminal(text)
        click.echo(text.encode("utf-8", "backslashreplace"))
        return
    from api.export import write_text_atomic

    try:
        write_text_atomic(output, text)
    except OSError as exc:
        _fail(f"error: cannot write {output}: {exc.strerror or exc}")
    click.echo(f"Saved to {output}", err=True)


async def _fetch(opts, path, params, method, payload, cache) -> Any:
    from api.client import Result
    from api.endpoints import typed_path
    from api.errors import InvalidRequestError

    async with _client(opts, cache=cache) as client:
        path = typed_path(path, client.project_id)
        try:
            if method == "POST":
                return Result(await client.post(path, payload))
            return await client.get_result(path, params)  # no cache: always asks the API
        except InvalidRequestError as exc:  # PATH is checked already: the query string
            if "'query'" in str(exc):
                raise InvalidRequestError(f"--params: {exc}") from None
            raise


MAX_PATH_CHARS = 8192  # far beyond any API path; servers refuse longer request lines anyway
_CONTROL_CHAR = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _check_path(path: str) -> None:
    """PATH as typed: no control character (httpx refuses them), not absurdly long."""
    if len(path) > MAX_PATH_CHARS:
        _fail(f"error: PATH: too long ({len(path):,} characters, at most {MAX_PATH_CHARS:,}): "
              f"{_shown(path)}", EXIT_USAGE)
    bad = _CONTROL_CHAR.search(path)
    if bad:
        _fail(f"error: PATH: control character U+{ord(bad.group()):04X} at character "
              f"{bad.start() + 1} of {_shown(path)}", EXIT_USAGE)


def _shown(text: str, limit: int = 80) -> str:
    """``text`` as typed, quoted, controls escaped (``repr``), shortened."""
    shown = repr(text)
    return shown if len(shown) <= limit else shown[:limit - 4] + "...'"


def _check_stale(result: Any, stale_ok: bool) -> None:
    """An expired cached answer served because the API failed (or ``--offline``): shown with
    a warning only when asked for, else the API's failure is the command's."""
    if not result.offline:
        return
    age = _age(result.age_s)
    if not stale_ok:
        _fail(f"error: {result.error}; a cached answer from {age} ago exists "
              "(--stale-ok shows it)")
    reason = result.error or "offline mode"
    if reason != "offline mode":
        reason = f"API {'failing' if reason.startswith('HTTP ') else 'unreachable'} ({reason})"
    _warn(f"{reason}; showing the cached answer from {age} ago")


def _age(seconds: float) -> str:
    """``45 s``, ``3 min``, ``2 h``, ``3 days``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min"
    if whole < 86400:
        return f"{whole // 3600} h"
    days = whole // 86400
    return f"{days} day{'' if days == 1 else 's'}"


def _stdout_is_tty() -> bool:
    return sys.stdout.isatty()


# What json.dumps leaves raw that a terminal acts on or hides: DEL and C1 controls, format
# characters (bidi overrides and isolates, invisible marks, tag characters) and the line and
# paragraph separators. The zero-width (non-)joiners stay: scripts and emoji need them.
_TERMINAL_UNSAFE = re.compile(
    r"[\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    r"\u200b\u200e\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb"
    r"\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    r"\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]")


def json_for_terminal(text: str) -> str:
    """JSON text with those characters as ``\\uXXXX`` escapes: the same JSON value, safe to
    show. Outside its strings JSON text is ASCII, so every match is inside a string."""
    return _TERMINAL_UNSAFE.sub(_json_escape, text)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a surrogate pair, as JSON writes characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


# ------------------------------------------------------------------------ export
def _label_option(name: str, help_text: str):
    return click.option(name, metavar="A,B", help=help_text,
                        shell_complete=complete.label_list(name[2:].replace("-", "_")))


_QUERY_FLAGS = (
    click.option("--start", help="Start date (YYYY-MM-DD or ISO 8601), on last_message_at."),
    click.option("--end", help="End date (YYYY-MM-DD or ISO 8601)."),
    click.option("--playbook-id", help="Playbook version id (any participating)."),
    click.option("--playbook-base-id", help="Assistant (all versions)."),
    click.option("--inbox-id"),
    click.option("--tags", metavar="A,B", help="Comma-separated tags (AND)."),
    click.option("--handoff", metavar="true|false", shell_complete=complete.BOOLEANS),
    click.option("--winback", metavar="true|false", shell_complete=complete.BOOLEANS),
    click.option("--search", help="Substring of the conversation id."),
    _label_option("--sentiment", "negative,neutral,positive (OR)."),
    _label_option("--resources", "irrelevant,partial,relevant (OR)."),
    _label_option("--sentiment-shift", "improved,stable,degraded (OR)."),
    _label_option("--deflection-quality", "resolved,partial,actioned,no_response (OR)."),
    _label_option("--handoff-reason", "policy,user_request,frustration,bot_limitation (OR)."),
    _label_option("--recontact-risk", "low,medium,high (OR)."),
    click.option("--skill-name"),
    click.option("--min-messages"),
    click.option("--max-messages"),
    click.option("--sort-by", metavar="FIELD",
                 help="last_message_at, first_message_at, message_count",
                 shell_complete=complete.SORT_BY),
    click.option("--sort-order", metavar="asc|desc", shell_complete=complete.SORT_ORDER),
)


def query_options(command: Any) -> Any:
    """The query flags (``--start`` to ``--sort-order``, read by ``_build_query``), for every
    command that builds a conversation query: ``export``, ``views save``."""
    for option in reversed(_QUERY_FLAGS):  # as if stacked: listed in this order in --help
        command = option(command)
    return command


@main.command()
@query_options
@click.option("--view", metavar="NAME", shell_complete=complete.VIEWS,
              help="A saved view (`views list`): its filters, sort and window or dates; "
                   "explicit flags override them (--start, --end: that bound).")
@click.option("--messages", is_flag=True, help="Add messages and citations (batch endpoint).")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "jsonl", "md", "parquet"]),
              default="json", show_default=True,
              help="md: one Markdown document of transcripts (implies --messages); parquet: "
                   "typed columns for DuckDB, pandas, Spark or BigQuery (needs "
                   "`pip install 'studio-tui[parquet]'`).")
@click.option("--redact", is_flag=True,
              help="Mask emails, phone numbers and card-like numbers in every text field "
                   "(said in the file's metadata: JSON header, Markdown top).")
@click.option("--batch-size", type=click.IntRange(1, 100), default=100, show_default=True,
              help="Conversations per list page.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--ids-from", type=click.Path(dir_okay=False),
              help="Export exactly these conversation ids (one per line, or JSON).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=16, show_default=True,
              help="Requests in flight, and list pages asked for at once when the export "
                   "starts (a 429 answer is retried after its Retry-After).")
@click.option("--allow-partial", is_flag=True,
              help="Skip conversations whose details still fail after retries (exit 0).")
@click.option("--resume", is_flag=True, help="Continue an interrupted export of the same file.")
@click.option("--with-reviews", is_flag=True,
              help="Add each conversation's local review (`reviews mark`): a `review` object "
                   "(null when none), or review_* columns in CSV.")
@click.option("--csv-raw", is_flag=True,
              help="CSV: write cells exactly as the brief's export_conversations.py does "
                   "(formulas and control characters kept): unsafe to open in a spreadsheet. "
                   "By default text cells are made safe.")
@click.option("--columns", type=click.Choice(["brief", "full"]), default="brief",
              show_default=True,
              help="CSV: the brief's columns, or every documented list field (the triage "
                   "signals and their reasons, winback_sent_at, context; nested values as "
                   "JSON).")
@click.pass_obj
def export(opts: GlobalOptions, **kw: Any) -> None:
    """Export conversations (like the brief's export_conversations.py), streaming."""
    from api.export import ExportError, read_ids

    if kw["fmt"] == "parquet":  # before anything is asked of the API
        from api.export_parquet import missing_pyarrow

        problem = missing_pyarrow()
        if problem is not None:
            _fail(f"error: --format parquet {problem}", EXIT_USAGE)
    view = None
    if kw["view"] is not None:
        from tui.cli_views import resolved_view

        view = resolved_view(opts, kw["view"])
    ids = None
    if kw["ids_from"]:
        try:
            ids = read_ids(kw["ids_from"])
        except ExportError as exc:
            _fail(f"error: --ids-from: {exc}", EXIT_USAGE)
        ignored = [f"--{opt.replace('_', '-')}" for opt in _QUERY_OPTIONS if kw[opt] is not None]
        ignored += ["--view"] if view is not None else []
        if ignored:
            click.echo(f"studio-tui: note: --ids-from exports exactly those ids; "
                       f"{', '.join(ignored)} ignored", err=True)
    else:
        _require_dates(
            [f"--{flag}" for flag, field in (("start", "start_date"), ("end", "end_date"))
             if not kw[flag] and not getattr(view, field, None)],
            f" (view {kw['view']} has no window or dates)" if view is not None else "")
    query = _build_query(kw, view)
    report = _run(_export(opts, query, ids, kw), _ResumeHint(kw["output"]))
    _print_outcome(report)


_QUERY_OPTIONS = {
    "start": "start_date", "end": "end_date", "handoff": "has_handoff",
    "winback": "has_winback", "playbook_id": "playbook_id",
    "playbook_base_id": "playbook_base_id", "inbox_id": "inbox_id", "tags": "tags",
    "search": "search", "sentiment": "sentiment", "resources": "resources",
    "sentiment_shift": "sentiment_shift", "deflection_quality": "deflection_quality",
    "handoff_reason": "handoff_reason", "recontact_risk": "recontact_risk",
    "skill_name": "skill_name", "min_messages": "min_messages",
    "max_messages": "max_messages", "sort_by": "sort_by", "sort_order": "sort_order",
}


def _build_query(kw: dict, base: Any = None) -> Any:
    """The query of the flags (``query_options``), over ``base`` (a view's) when given."""
    from api.query import ConversationQuery, QueryError

    raw = {field: kw[opt] for opt, field in _QUERY_OPTIONS.items() if kw[opt] is not None}
    try:
        return base.replace(**raw) if base is not None else ConversationQuery.build(**raw)
    except QueryError as exc:
        message = exc.message
        if exc.other:  # a range check names a second field: by its flag too
            message = message.replace(exc.other, _flag(exc.other))
        _fail(f"error: {_flag(exc.field)}: {message}", EXIT_USAGE)


def _flag(field: str) -> str:
    return FIELD_FLAGS.get(field, "--" + field.replace("_", "-"))


class _Progress:
    """A ``\\r`` line on a terminal; otherwise a quiet line every 10% (or 10 s)."""

    def __init__(self, stream: Any, verb: str = "exported") -> None:
        self.stream = stream
        self.verb = verb  # what the count is of: "exported", "read"
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.last_line = 0.0
        self.last_decile = -1
        self.ended = False

    def __call__(self, p: Any) -> None:
        elapsed = time.monotonic() - self.started
        total = p.total if p.total is not None else "?"
        pct = f" {100 * p.done // p.total:3d}%" if p.total else ""
        failed = f", {p.failed} failed" if p.failed else ""
        line = f"{self.verb} {p.written}/{total}{pct}{failed} in {elapsed:.1f}s"
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
            self.stream.flush()
            return
        decile = 10 * p.done // p.total if p.total else -1
        if decile != self.last_decile or elapsed - self.last_line >= 10:
            self.last_decile, self.last_line = decile, elapsed
            self.stream.write(line + "\n")
            self.stream.flush()

    def end(self) -> None:
        if self.tty and not self.ended:
            self.ended = True
            self.stream.write("\n")
            self.stream.flush()


async def _export(opts: GlobalOptions, query: Any, ids: list[str] | None, kw: dict) -> Any:
    import asyncio
    import contextlib

    from api.errors import StudioError
    from api.export import ExportError, ExportIncomplete, run_export

    progress = _Progress(sys.stderr)
    concurrency = kw["concurrency"]
    hint = _ResumeHint(kw["output"])
    stop = _StopOnSignals()
    store = None
    try:
        async with _client(opts, cache=False, concurrency=concurrency,
                           max_tries=EXPORT_TRIES) as client:
            if kw.get("with_reviews"):
                from tui.cli_reviews import open_review_store

                store = open_review_store(opts, client.project_id)
            return await run_export(
                client, query, kw["output"], kw["fmt"], kw["messages"], concurrency,
                progress=progress, ids=ids, allow_partial=kw["allow_partial"],
                resume=kw["resume"], page_size=kw["batch_size"], keep_partial=True,
                worker=(os.cpu_count() or 1) > 1, csv_raw=kw["csv_raw"],
                columns=kw["columns"],
                reviews=None if store is None else _review_lookup(store),
                redact=kw["redact"],
            )
    except asyncio.CancelledError:
        if stop.signum is None:  # Ctrl-C: asyncio.run turns it into KeyboardInterrupt
            raise
        with contextlib.suppress(OSError):  # after SIGHUP the terminal may be gone
            progress.end()
            click.echo(f"studio-tui: interrupted by {stop.signum.name}{hint}", err=True)
        sys.exit(EXIT_SIGNALLED + stop.signum)
    except ExportIncomplete as exc:
        progress.end()
        click.echo(f"studio-tui: export incomplete, not published: {exc}; --allow-partial "
                   f"publishes it anyway and lists them{hint}", err=True)
        click.echo("missing conversation ids:", err=True)
        _echo_ids(exc.failed_ids)
        sys.exit(EXIT_FAILURE)
    except (ExportError, StudioError) as exc:
        progress.end()
        # an export refused before it began (output locked, options differ) kept nothing
        began = not isinstance(exc, ExportError) or exc.report is not None
        _fail(f"error: {exc}{hint if began else ''}")
    finally:
        stop.remove()
        progress.end()
        if store is not None:
            store.close()


def _review_lookup(store: Any) -> Any:
    """``store.json_for``, its failures as the export's (one line, partial kept)."""
    from api.export import ExportError
    from api.reviews import ReviewStoreError

    def lookup(ids: list[str]) -> Any:
        try:
            return store.json_for(ids)
        except ReviewStoreError as exc:
            raise ExportError(str(exc)) from None
    return lookup


class _StopOnSignals:
    """SIGTERM and SIGHUP stop the running task as Ctrl-C does: it is cancelled, so an
    export keeps a consistent partial and state for --resume (``signum``: the one received).
    A second signal ends the process at once: the first removes the handlers. A signal
    ignored from the start (``nohup``) stays ignored."""

    def __init__(self) -> None:
        import asyncio
        import signal

        self.loop = asyncio.get_running_loop()
        self.task = asyncio.current_task()
        self.signum: Any = None
        self.handled: list[int] = []
        for signum in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
            if signum is None or signal.getsignal(signum) == signal.SIG_IGN:
                continue
            try:
                self.loop.add_signal_handler(signum, self._stop, signum)
            except (NotImplementedError, RuntimeError, ValueError):  # Windows, not main thread
                continue
            self.handled.append(signum)

    def _stop(self, signum: Any) -> None:
        self.signum = signum
        self.remove()
        if self.task is not None:
            self.task.cancel()

    def remove(self) -> None:
        for signum in self.handled:
            self.loop.remove_signal_handler(signum)
        self.handled = []


class _ResumeHint:
    """Renders as a note on the kept partial file, when there is one (the export removes
    its files itself when nothing was done, e.g. a bad token on the first request)."""

    def __init__(self, output: str) -> None:
        self.partial = output + ".partial"

    def __str__(self) -> str:
        if os.path.exists(self.partial):
            return f" (partial export kept: continue with --resume, or delete {self.partial})"
        return ""

    def __format__(self, spec: str) -> str:
        return str(self)


def _print_outcome(report: Any) -> None:
    click.echo(f"studio-tui: {report.summary()}", err=True)
    for ids, what in ((report.failed_ids, "left out (--allow-partial), details failed for:"),
                      (report.lacking_ids, "written without messages (--allow-partial):"),
                      (report.missing_ids, "not found by the API (--allow-partial):")):
        if ids:
            click.echo(what, err=True)
            _echo_ids(ids)


def _echo_ids(ids: list[str]) -> None:
    """Ids come from the API: shown sanitized, one per line."""
    from api.text import one_line

    for cid in ids:
        click.echo(f"  {one_line(str(cid), 200)}", err=True)


# ------------------------------------------------------------------------ cache / locate
@main.group()
def cache() -> None:
    """The response cache: `stats` or `clear`."""


def _open_cache(opts: GlobalOptions, warn: Any = _warn) -> Any:
    """The response cache; a damaged one is moved aside (or left unused) with one warning."""
    from api.cache import ResponseCache

    return ResponseCache(_load_settings(opts).response_cache_dir, warn=warn)


@cache.command("stats")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="json: {\"path\", \"entries\", \"bytes\", \"size_limit\"}.")
@click.pass_obj
def cache_stats(opts: GlobalOptions, fmt: str) -> None:
    """Entries and size of the response cache."""
    with _open_cache(opts) as store:
        stats = store.stats()
    if fmt == "json":
        click.echo(json.dumps({key: stats[key] if key != "path" else str(stats[key])
                               for key in ("path", "entries", "bytes", "size_limit")},
                              indent=2))
        return
    click.echo(f"path: {stats['path']}")
    click.echo(f"entries: {stats['entries']}")
    click.echo(f"size: {stats['bytes']:,} bytes (limit {stats['size_limit']:,})")


@cache.command("clear")
@click.pass_obj
def cache_clear(opts: GlobalOptions) -> None:
    """Remove every cached answer, and damaged caches moved aside."""
    import shutil

    problems: list[str] = []
    with _open_cache(opts, problems.append) as store:
        if store.disabled:  # nothing was cleared: one line that says why
            _fail(f"error: not cleared: {store.problem}")
        for problem in problems:  # damaged, moved aside: removed just below
            _warn(problem)
        removed = store.clear()
        copies = store.broken_copies()
    left = []
    for copy in copies:
        try:
            shutil.rmtree(copy) if copy.is_dir() and not copy.is_symlink() else copy.unlink()
        except OSError as exc:
            left.append(f"{copy} ({exc.strerror or exc})")
    gone = len(copies) - len(left)
    also = f" and {gone} damaged cop{'y' if gone == 1 else 'ies'}" if gone else ""
    click.echo(f"removed {removed} cached answers{also}")
    if left:
        _fail(f"error: cannot remove {', '.join(left)}")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True,
              help="json: {\"paths\": {config_dir, ..., review_store}, "
                   "\"demo_databases\": [{\"path\", \"bytes\"}], \"using\": text}.")
@click.pass_obj
def locate(opts: GlobalOptions, fmt: str) -> None:
    """Print where the config, cache, demo databases, data dir and review store live."""
    from api.config import paths

    settings = _load_settings(opts)
    where = paths(settings)
    # old generator versions stay until removed: say how big they are
    demo_dbs = [(db, db.stat().st_size)
                for db in sorted(where["demo database dir"].glob("demo-*.sqlite3"))]
    if fmt == "json":
        click.echo(json.dumps({
            "paths": {name.replace(" ", "_"): str(path) for name, path in where.items()},
            "demo_databases": [{"path": str(db), "bytes": size} for db, size in demo_dbs],
            "using": settings.describe()}, indent=2))
        return
    for name, path in where.items():
        click.echo(f"{name}: {path}")
    for db, size in demo_dbs:
        click.echo(f"demo database: {db} ({size / 2**20:,.1f} MiB)")
    click.echo(f"using: {settings.describe()}")


@main.command("demo-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True,
              help="0 picks a free port.")
@click.option("--size", type=click.IntRange(min=1), help="Conversations (default 5000).")
@click.option("--seed", type=int, help="Demo seed (default 7).")
@click.option("--anchor", metavar="YYYY-MM-DD", help="Last day of demo data (default today).")
@click.option("--latency-ms", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Latency added to every request.")
@click.option("--faults", metavar="SPEC",
              help="Faults to inject, e.g. error_rate=0.1,rate_limit_rate=0.05,hang_rate=0.01.")
@click.pass_obj
def demo_server(opts: GlobalOptions, host, port, size, seed, anchor, latency_ms, faults) -> None:
    """Serve the demo backend over HTTP on loopback (prints the env vars to point at it)."""
    from api.demo.faults import Faults
    from api.demo.server import serve

    spec = None
    if faults or latency_ms:
        try:
            spec = Faults.parse(faults or "")
        except ValueError as exc:
            _fail(f"error: --faults: {exc}", EXIT_USAGE)
        spec.latency_ms = latency_ms or spec.latency_ms
    try:
        serve(host=host, port=port, size=size or opts.demo_size, seed=seed, anchor=anchor,
              latency_ms=latency_ms, faults=spec)
    except ValueError as exc:  # e.g. a non-loopback host
        _fail(f"error: {exc}", EXIT_USAGE)
    except OSError as exc:
        _fail(f"error: cannot serve on {host}:{port}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        pass


from tui.cli_reviews import reviews as _reviews_group  # noqa: E402 (needs the helpers above)

main.add_command(_reviews_group)

from tui.cli_views import views as _views_group  # noqa: E402 (needs the helpers above)

main.add_command(_views_group)

from tui.cli_compare import compare_cmd as _compare_cmd  # noqa: E402 (needs the helpers above)

main.add_command(_compare_cmd)

from tui.cli_kb_health import kb_health_cmd as _kb_health_cmd  # noqa: E402 (needs the helpers above)

main.add_command(_kb_health_cmd)

from tui.cli_cost import cost_cmd as _cost_cmd  # noqa: E402 (needs the helpers above)

main.add_command(_cost_cmd)

from tui.cli_impact import impact_cmd as _impact_cmd  # noqa: E402 (needs the helpers above)

main.add_command(_impact_cmd)

main.add_command(complete.completion)

from tui.cli_theme import theme_cmd as _theme_cmd  # noqa: E402 (needs the helpers above)

main.add_command(_theme_cmd)

from tui.cli_serve import serve_cmd as _serve_cmd  # noqa: E402 (needs the helpers above)

main.add_command(_serve_cmd)
