"""``studio-tui impact ASSISTANT``: each deployment of an assistant, the N days before against
the N days after, metric by metric with 95% intervals (api/impact.py).

    studio-tui impact ASSISTANT [--days N] [--format table|json]

ASSISTANT is a base id or a name. Exit 2 for an unknown assistant (the known ones listed), 1
when the API fails. Registered by tui/cli.py.
"""
from __future__ import annotations

from typing import Any

import click

from tui.cli import EXIT_USAGE, GlobalOptions, _client, _fail, _run
from tui.cli_compare import MAX_CONCURRENCY, METRIC_CHARS, _num, metric_line
from tui.cli_views import _echo_json, _now


@click.command("impact")
@click.argument("assistant")
@click.option("--days", type=click.IntRange(1, 365), default=7, show_default=True,
              help="Days before and after each deployment (clipped at the neighbouring ones).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True,
              help='json: [{"version", "deployed_at", "before", "after", "metrics", '
                   '"activated_by", "clipped", "conversations", "average_messages", '
                   '"multiple_comparisons"}], one per deployment.')
@click.pass_obj
def impact_cmd(opts: GlobalOptions, assistant: str, days: int, fmt: str) -> None:
    """Each deployment of ASSISTANT (base id or name): deflection and each signal label as a
    share of its base, and CSAT where configured, in the days before against the days after,
    the difference after - before in percentage points with its 95% interval (Newcombe) and
    a Holm note per deployment."""
    from api.impact import ImpactError

    result = _run(_impact(opts, assistant, days))
    if isinstance(result, ImpactError):
        _fail(f"error: {result}", EXIT_USAGE)
    if fmt == "json":
        _echo_json(result.to_json())
    else:
        for line in table_lines(result):
            click.echo(line)


async def _impact(opts: GlobalOptions, text: str, days: int) -> Any:
    """The impact, or the ImpactError of an unknown assistant (reported once the client is
    closed)."""
    from api.impact import ImpactError, find_assistant, impact, load_assistants

    now = _now(opts)
    async with _client(opts, concurrency=MAX_CONCURRENCY) as client:
        playbooks = await load_assistants(client, client.project_id)
        try:
            assistant = find_assistant(playbooks, text)
        except ImpactError as exc:
            return exc
        return await impact(client, client.project_id, assistant, days=days, now=now)


def _window(label: str, window: Any, conversations: int) -> list[str]:
    if window is None:
        return [f"  {label}: no time on this side"]
    line = f"  {label}: {window.start} .. {window.end} ({conversations} conversations)"
    return [line] + ([f"    clipped {window.clipped}"] if window.clipped else [])


def table_lines(result: Any) -> list[str]:
    """The deployments as lines of at most 80 columns (names shortened, never markup)."""
    from api.text import one_line

    name = one_line(result.assistant.name, 40)
    lines = [f"{name} ({result.assistant.base_id})",
             f"{len(result.deployments)} deployments; {result.days} days either side"]
    if not result.csat_configured:
        lines.append("CSAT: not configured for this project")
    for dep in result.deployments:
        version = f"v{dep.version}" if dep.version is not None else "version ?"
        by = f" by {one_line(dep.activated_by, 30)}" if dep.activated_by else ""
        counts = dep.comparison.conversations if dep.comparison else (0, 0)
        lines += ["", f"{version} deployed {dep.deployed_at}{by}",
                  *_window("before", dep.before, counts[0]),
                  *_window("after ", dep.after, counts[1])]
        if dep.comparison is None or counts == (0, 0):
            continue
        lines.append(f"{'METRIC':<{METRIC_CHARS}} {'BEFORE':>6} {'AFTER':>6} {'Δ pp':>6}  "
                     f"{'95% CI (pp)':<16}")
        lines += [metric_line(m, kept) for m, kept in zip(
            dep.comparison.metrics, dep.comparison.holm_kept, strict=True)]
        avg_a, avg_b = dep.average_messages
        if avg_a is not None or avg_b is not None:
            lines.append(f"{'messages per conversation':<{METRIC_CHARS}} "
                         f"{_num(avg_a):>6} {_num(avg_b):>6}")
        lines.append(dep.comparison.multiple_comparisons_note())
    lines += ["", "Δ = after - before in percentage points; * the 95% interval excludes 0,",
              "** and the difference stays significant after Holm's correction"]
    return lines
