"""``studio-tui cost``: what conversations cost, per conversation, per AI resolution, per
assistant version and per model, from the messages' ``cost_usd`` (api/cost.py).

    studio-tui cost --start D --end D [--sample N] [--seed N] [--format table|json]

Progress goes to stderr. When no message carries a cost it says so and exits 0 with no
figure. Exit 2 for bad input (a bad date, an end before the start), 1 when the API fails.
Registered by tui/cli.py.
"""
from __future__ import annotations

import sys
from typing import Any

import click

from tui.cli import (
    GlobalOptions,
    _build_query,
    _client,
    _Progress,
    _require_dates,
    _run,
)
from tui.cli_views import _echo_json

CONCURRENCY = 8  # batch calls (50 conversations each) in flight
VERSION_CHARS = 34  # of "assistant vN" in the table


@click.command("cost")
@click.option("--start", help="Start date (YYYY-MM-DD or ISO 8601).")
@click.option("--end", help="End date (YYYY-MM-DD or ISO 8601).")
@click.option("--sample", type=click.IntRange(min=2), metavar="N",
              help="Read a uniform random sample of N of the window's conversations "
                   "(means with a 95% bootstrap interval) instead of all of them.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the sample and of its bootstrap.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True,
              help='json: {"window", "conversations_in_window", "sample", "read", '
                   '"not_loaded", "cost_data", "with_cost_data", "partial_cost_data", '
                   '"without_cost_data", "ai_resolved_with_cost_data", "unknown_handoff", '
                   '"total_usd", "per_conversation", "per_ai_resolved_conversation", '
                   '"per_resolution", "versions", "models", "models_note", "note"}.')
@click.pass_obj
def cost_cmd(opts: GlobalOptions, start: str | None, end: str | None, sample: int | None,
             seed: int, fmt: str) -> None:
    """Cost per conversation, per AI-resolved conversation (no handoff), per resolution, per
    assistant version and per model, from the token usage (cost_usd) the messages carry. Conversations
    without cost data are counted apart, never as $0."""
    _require_dates([flag for flag, value in (("--start", start), ("--end", end)) if not value])
    from tui.cli import _QUERY_OPTIONS

    query = _build_query({**dict.fromkeys(_QUERY_OPTIONS), "start": start, "end": end})
    report = _run(_collect(opts, query, sample, seed))
    if fmt == "json":
        _echo_json(report.to_json())
    else:
        for line in table_lines(report):
            click.echo(line)


async def _collect(opts: GlobalOptions, query: Any, sample: int | None, seed: int) -> Any:
    from api.cost import collect_costs
    from api.export import ExportProgress

    progress = _Progress(sys.stderr, "read")

    def show(p: Any) -> None:
        progress(ExportProgress(p.total, p.done, p.done - p.failed, p.failed))

    try:
        async with _client(opts, concurrency=CONCURRENCY) as client:
            return await collect_costs(client, query, sample=sample, seed=seed,
                                       concurrency=CONCURRENCY, progress=show)
    finally:
        progress.end()


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:.4f}"


def _figure(estimate: Any) -> str:
    text = f"{_usd(estimate.value):>9}  n={estimate.n}"
    if estimate.ci95 is not None:
        text += f"  95% CI {_usd(estimate.ci95[0])} .. {_usd(estimate.ci95[1])}"
    return text


def table_lines(report: Any) -> list[str]:
    """The report as lines of at most 80 columns (names made safe by api/cost.py)."""
    lines = [f"window: {report.start} .. {report.end}"]
    if report.sample_size is None:
        lines.append(f"conversations: {report.read} read of {report.in_window} in the window")
    else:
        lines += [f"sample: {report.sample_size} of {report.in_window} conversations "
                  f"(seed {report.seed})", f"intervals: {report.interval}"]
    lines.append(f"with cost data: {report.with_cost}; without: {report.without_cost}; "
                 f"partial (left out): {report.partial_cost}")
    if report.not_loaded:
        lines.append(f"not loaded: {report.not_loaded} (batch failed or ids unknown)")
    note = report.note()
    if note is not None:
        return [*lines, note]
    if report.unknown_handoff:
        lines.append(f"handoff unknown: {report.unknown_handoff} (not in the resolution "
                     "figures)")
    lines += [
        "",
        f"{'total' if report.sample_size is None else 'total of the sample':<25} "
        f"{_usd(report.total_usd):>9}",
        f"per conversation          {_figure(report.per_conversation)}",
        f"per AI-resolved conv.     {_figure(report.per_resolved_conversation)}",
        f"per resolution (all/res.) {_figure(report.per_resolution)}",
        "",
    ]
    sampled = report.sample_size is not None
    lines += _rows("ASSISTANT VERSION", sampled, (
        (f"{row.assistant} v{row.number if row.number is not None else '?'}", row)
        for row in report.versions))
    lines.append("")
    lines += _rows("MODEL", sampled, ((row.model or "(unknown model)", row)
                                      for row in report.models))
    if report.models_note:
        lines.append(report.models_note)
    lines += ["", "per resolution: all the cost / AI-resolved conversations (no handoff)"]
    return lines


def _rows(title: str, sampled: bool, rows: Any) -> list[str]:
    """A table of (name, row with conversations, cost_usd and per_conversation)."""
    lines = [f"{title:<{VERSION_CHARS}} {'CONVS':>6} {'TOTAL':>10} {'PER CONV':>9}"
             + ("  95% CI" if sampled else "")]
    for name, row in rows:
        if len(name) > VERSION_CHARS:
            name = name[:VERSION_CHARS - 1] + "…"
        ci = row.per_conversation.ci95
        lines.append(f"{name:<{VERSION_CHARS}} {row.conversations:>6} "
                     f"{_usd(row.cost_usd):>10} {_usd(row.per_conversation.value):>9}"
                     + (f"  {_usd(ci[0])}..{_usd(ci[1])}" if ci is not None else ""))
    return lines
