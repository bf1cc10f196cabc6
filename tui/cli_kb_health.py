"""``studio-tui kb-health``: the KB items cited over a window, against the project's base rates,
ranked by excess negative conversations (api/kb_health.py).

    studio-tui kb-health --start D --end D [--kb KB_ID] [--cap N] [--format table|json]

Progress goes to stderr. Exit 2 for bad input (a bad date, an end before the start, an unknown
knowledge base), 1 when the API fails. Registered by tui/cli.py.
"""
from __future__ import annotations

import sys
import time
from typing import Any

import click

from tui.cli import EXIT_USAGE, GlobalOptions, _client, _fail, _run
from tui.cli_views import _echo_json

# the citation pages, the list pages (or batches) and the item lookups are sent at once
CONCURRENCY = 32
TITLE_COLS = 27  # the other columns take 53 of 80
STAGES = {"citations": "read citations", "conversations": "read conversations",
          "titles": "resolved titles"}


@click.command("kb-health")
@click.option("--start", required=True, help="Start date (YYYY-MM-DD or ISO 8601).")
@click.option("--end", required=True, help="End date (YYYY-MM-DD or ISO 8601).")
@click.option("--kb", "kb_id", help="Only the items of this knowledge base (its id).")
@click.option("--cap", type=click.IntRange(min=1), default=None,
              help="Citations read at most, most recent first (default 5000).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True,
              help='json: {"window", "kb", "base_rates", "citations", "conversations", '
                   '"ranked_by", "items"}; each item {"kb_id", "kb_title", "item_id", '
                   '"title", "url", "citations", "conversations", "negative", "handoff", '
                   '"irrelevant_resources"}.')
@click.pass_obj
def kb_health_cmd(opts: GlobalOptions, start: str, end: str, kb_id: str | None,
                  cap: int | None, fmt: str) -> None:
    """Every KB item cited over the window: conversations citing it, the share negative,
    handed off and with irrelevant resources against the project's base rates (lift, excess),
    ranked by excess negative conversations."""
    from api.kb_health import DEFAULT_CAP, KBHealthError, window_query

    try:  # checked before any request
        window_query(start, end)
    except KBHealthError as exc:
        _fail(f"error: {exc}", EXIT_USAGE)
    progress = _Progress(sys.stderr)
    try:
        result = _run(_kb_health(opts, start, end, kb_id, cap or DEFAULT_CAP, progress))
    except KBHealthError as exc:
        progress.end()
        _fail(f"error: {exc}", EXIT_USAGE)
    progress.end()
    if fmt == "json":
        _echo_json(result.to_json())
    else:
        for line in table_lines(result):
            click.echo(line)


async def _kb_health(opts: GlobalOptions, start: str, end: str, kb_id: str | None, cap: int,
                     progress: Any) -> Any:
    from api.kb_health import kb_health

    async with _client(opts, concurrency=CONCURRENCY) as client:
        return await kb_health(client, client.project_id, start, end, kb_id=kb_id, cap=cap,
                               progress=progress)


class _Progress:
    """Like the export's: a ``\\r`` line on a terminal, otherwise a line per stage every
    10% of it."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self.shown: dict[str, int] = {}
        self.open = False

    def __call__(self, p: Any) -> None:
        total = f"{p.total:,}" if p.total is not None else "?"
        line = (f"{STAGES.get(p.stage, p.stage)} {p.done:,}/{total} in "
                f"{time.monotonic() - self.started:.1f}s")
        if self.tty:
            self.stream.write("\r" + line + "\x1b[K")
            self.open = True
        else:
            decile = 10 * p.done // p.total if p.total else 10
            if self.shown.get(p.stage) == decile:
                return
            self.shown[p.stage] = decile
            self.stream.write(line + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self.open:
            self.open = False
            self.stream.write("\n")
            self.stream.flush()


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _num(value: float | None, sign: str = "") -> str:
    return "-" if value is None else f"{value:{sign}.1f}"


def table_lines(result: Any) -> list[str]:
    """The items as lines of at most 80 columns (titles shortened, never markup)."""
    from api.text import one_line

    rate = result.base_rate
    kb = "" if result.kb_id is None else \
        f" in {one_line(result.kb_title or result.kb_id, 40)}"
    lines = [
        f"window: {result.start} .. {result.end}{kb}",
        f"citations of the UTC days {result.days[0]} .. {result.days[1]}: "
        f"{result.citations_read:,} read of {result.citations_total:,}",
        f"{result.cited:,} citing conversations, {len(result.items):,} items; "
        f"{result.conversations:,} conversations in the window",
        f"base rates: negative {_pct(rate('negative'))}% of scored, handoff "
        f"{_pct(rate('handoff'))}%, irrelevant {_pct(rate('irrelevant_resources'))}% of rated",
    ]
    if result.cap_note():
        lines.append(result.cap_note())
    if result.unlabelled:
        lines.append(f"{result.unlabelled:,} cited conversations not found: left out")
    lines += ["", f"{'ITEM':<{TITLE_COLS}} {'CONV':>5} {'NEG%':>6} {'LIFT':>5} {'EXCESS':>7} "
                  f"{'HOFF%':>6} {'LIFT':>5} {'IRR%':>6} {'LIFT':>5}"]
    for item in result.items:
        title = item.title or item.item_id or "(no item id)"
        if result.kb_id is None and item.kb_title:
            title = f"{title} · {item.kb_title}"
        neg, hoff, irr = (item.rates[n] for n in ("negative", "handoff",
                                                   "irrelevant_resources"))
        lines.append(
            f"{one_line(title, TITLE_COLS):<{TITLE_COLS}} {item.conversations:>5} "
            f"{_pct(neg.share):>6} {_num(neg.lift):>5} {_num(neg.excess, '+'):>7} "
            f"{_pct(hoff.share):>6} {_num(hoff.lift):>5} {_pct(irr.share):>6} "
            f"{_num(irr.lift):>5}")
    lines += ["", "NEG% of the scored citing conversations, IRR% of those rated for resources;",
              "LIFT = share / base rate; EXCESS = negatives - base rate x scored"]
    return lines
