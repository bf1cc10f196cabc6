"""``studio-tui compare A B``: two cohorts, metric by metric, with 95% intervals (api/compare.py).

    studio-tui compare A B [--start D --end D] [--format table|json]

A and B are each a saved view (``views list``) or a query in its text form
(``"handoff:yes sentiment:negative"``). Exit 2 for bad input (a cohort that is neither, a bad
date, an end before the start), 1 when the API fails. Registered by tui/cli.py.
"""
from __future__ import annotations

from typing import Any

import click

from tui import cli_completion as complete
from tui.cli import EXIT_USAGE, GlobalOptions, _client, _fail, _run
from tui.cli_views import _config_file, _echo_json, _now

# every count is one small request sent at once: the same number of connections, up to this
MAX_CONCURRENCY = 64
METRIC_CHARS = 30  # the longest metric name, deflection_quality:no_response


@click.command("compare")
@click.argument("a", shell_complete=complete.COHORT)
@click.argument("b", shell_complete=complete.COHORT)
@click.option("--start", help="Start date (YYYY-MM-DD or ISO 8601) of both cohorts.")
@click.option("--end", help="End date (YYYY-MM-DD or ISO 8601) of both cohorts.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True,
              help='json: {"a", "b", "window", "metrics", "multiple_comparisons", '
                   '"average_messages"}; each metric {"metric", "a", "b", "delta_pp", '
                   '"ci95_pp", "significant"}.')
@click.pass_obj
def compare_cmd(opts: GlobalOptions, a: str, b: str, start: str | None, end: str | None,
                fmt: str) -> None:
    """Compare cohorts A and B (saved views or queries) over the same window: deflection and
    each signal label as a share of its base, the difference B - A in percentage points with
    its 95% interval (Newcombe), and a Holm note for reading many at once."""
    from api.compare import CompareError, cohort_from, count_queries, same_window

    cohorts = []
    for name, text in (("A", a), ("B", b)):
        try:
            cohorts.append(cohort_from(text, _config_file(), _now(opts)))
        except CompareError as exc:
            _fail(f"error: {name}: {exc}", EXIT_USAGE)
    try:  # checked before any request
        first, second = same_window(cohorts[0], cohorts[1], start, end)
    except CompareError as exc:
        _fail(f"error: {exc}", EXIT_USAGE)
    requests = len({*count_queries(first), *count_queries(second)}) + 2
    result = _run(_compare(opts, first, second, min(MAX_CONCURRENCY, requests)))
    if fmt == "json":
        _echo_json(result.to_json())
    else:
        for line in table_lines(result):
            click.echo(line)


async def _compare(opts: GlobalOptions, a: Any, b: Any, concurrency: int) -> Any:
    from api.compare import compare

    async with _client(opts, concurrency=concurrency) as client:
        return await compare(client, client.project_id, a, b)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def _ci(ci: tuple[float, float] | None) -> str:
    return "-" if ci is None else f"[{ci[0]:+.1f}, {ci[1]:+.1f}]"


def table_lines(result: Any) -> list[str]:
    """The comparison as lines of at most 80 columns (labels shortened, never markup)."""
    import textwrap

    from api.text import one_line

    window = (f"{result.start or '…'} .. {result.end or '…'}"
              if result.start or result.end else "all dates")
    lines = [
        f"A: {one_line(result.a.label, 60)} ({result.conversations[0]} conversations)",
        f"B: {one_line(result.b.label, 60)} ({result.conversations[1]} conversations)",
        f"window: {window}",
        "",
        f"{'METRIC':<{METRIC_CHARS}} {'A':>6} {'B':>6} {'Δ pp':>6}  {'95% CI (pp)':<16}",
    ]
    lines += [metric_line(m, kept) for m, kept in zip(result.metrics, result.holm_kept,
                                                       strict=True)]
    avg_a, avg_b = result.averages
    if result.averages_note is None:
        lines.append(f"{'messages per conversation':<{METRIC_CHARS}} "
                     f"{_num(avg_a):>6} {_num(avg_b):>6}")
    lines += ["", "Δ = B - A in percentage points; * the 95% interval excludes 0,",
              "** and the difference stays significant after Holm's correction",
              result.multiple_comparisons_note()]
    if result.averages_note is not None:
        lines += textwrap.wrap(result.averages_note, 80)
    return lines


def metric_line(m: Any, kept: bool = False) -> str:
    """One metric's row: both shares, the difference and its interval (* when it excludes 0,
    ** when it also survives Holm's correction: ``kept``)."""
    delta = "-" if m.delta_pp is None else f"{m.delta_pp:+.1f}"
    mark = " **" if kept else " *" if m.significant else ""
    return (f"{m.name:<{METRIC_CHARS}} {_pct(m.a.pct):>6} {_pct(m.b.pct):>6} "
            f"{delta:>6}  {_ci(m.ci95_pp):<16}{mark}").rstrip()


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
