"""Overview: the headline figures of the window, their trend, and breakdowns to drill into.

Project view: conversation analytics (``api.endpoints.analytics``); ``a`` switches to
account-wide figures across projects (account analytics, which take the date range only).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from api import models as m
from api.endpoints import analytics, configuration
from api.query import ConversationQuery
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import (
    bucket_labels,
    clean,
    finite,
    fmt_float,
    fmt_int,
    fmt_ms,
    fmt_rate,
    per_bucket,
    ratio,
    window_of,
)
from widgets.charts import Kpis, Series, TimeChart, number_cell, plain
from widgets.tables import Row, TitledTable

MINUTES_SAVED_PER_AI_MESSAGE = 5  # the reference's "time saved" formula


def _p99_peak(series: list[m.TimeBucket]) -> float | None:
    values = [v for v in (finite(b.p99_response_latency_ms) for b in series) if v is not None]
    return max(values) if values else None


def volume_kpis(
    data: m.ConversationAnalytics | m.AccountAnalytics, total_label: str
) -> list[tuple[str, str | None]]:
    """The figures project and account analytics share."""
    total = data.total_conversations
    return [
        (total_label, fmt_int(total)),
        ("Deflection rate", fmt_rate(ratio(data.deflection_rate, total))),
        ("Handoffs", fmt_int(data.conversations_with_handoff)),
        ("AI-resolved", fmt_int(data.conversations_without_handoff)),
        ("Messages / conv.", fmt_float(ratio(data.avg_messages_per_conversation, total))),
    ]


def project_kpis(data: m.ConversationAnalytics) -> list[tuple[str, str | None]]:
    total = data.total_conversations
    return [
        *volume_kpis(data, "Conversations"),
        ("Latency avg", fmt_ms(ratio(data.avg_response_latency_ms, total))),
        ("Latency p99 (peak)", fmt_ms(_p99_peak(data.time_series))),
        ("Winbacks sent", fmt_int(data.winback_sent_count)),
        ("Winbacks answered", fmt_int(data.winback_answered_count)),
        (
            "Winback conversion",
            fmt_rate(ratio(data.winback_conversion_rate, data.winback_sent_count)),
        ),
    ]


def account_kpis(data: m.AccountAnalytics) -> list[tuple[str, str | None]]:
    ai_messages = data.total_ai_messages
    hours = None if ai_messages is None else ai_messages * MINUTES_SAVED_PER_AI_MESSAGE / 60
    return [
        *volume_kpis(data, "Account convs."),
        ("AI messages", fmt_int(ai_messages)),
        ("Time saved", fmt_float(hours, 0, "h")),
    ]


def first_text(*values: str | None) -> str | None:
    """The first value that is text once sanitized (the API's name and id keys vary)."""
    for value in values:
        shown = clean(value)
        if shown:
            return shown
    return None


ASSISTANT_NOTE = (
    "Each conversation counts once, under its last active assistant. Enter opens every "
    "conversation the assistant took part in (the API filter matches any participant), "
    "which can be more."
)
TAG_NOTE = "A conversation with several tags counts under each: the rows can add up to more."
NAME_KEY = "name:"  # a by_playbook row without an id: resolved by name when opened


def breakdown_rows(rows: Iterable[tuple[str | None, str | None, m.Breakdown]]) -> list[Row]:
    """Table rows of (id, name, row), keyed by the id, else ``name:<name>``, else the row's
    position."""
    out: list[Row] = []
    for i, (key, name, row) in enumerate(rows):
        total = row.total_conversations
        out.append(
            (
                key or (f"{NAME_KEY}{name}" if name else f"row{i}"),
                [
                    plain(name),
                    number_cell(fmt_int(total) or "—"),
                    number_cell(fmt_int(row.conversations_with_handoff) or "—"),
                    number_cell(fmt_rate(ratio(row.deflection_rate, total)) or "—"),
                ],
            )
        )
    return out


def playbook_rows(data: m.ConversationAnalytics) -> list[Row]:
    """``by_playbook``: keyed by the base id when the row has one (undocumented), else by
    the name."""
    return breakdown_rows(
        (first_text(r.playbook_base_id, r.base_id), first_text(r.playbook_name, r.name), r)
        for r in data.by_playbook
    )


def tag_rows(data: m.ConversationAnalytics) -> list[Row]:
    return breakdown_rows(
        (first_text(r.tag, r.name), first_text(r.tag, r.name), r) for r in data.by_tag
    )


def assistant_rows(data: m.AccountAnalytics) -> list[Row]:
    return breakdown_rows(
        (
            first_text(r.playbook_base_id, r.base_id, r.id, r.name),
            first_text(r.name, r.assistant_name, r.playbook_name),
            r,
        )
        for r in data.by_assistant
    )


class OverviewScreen(AnalyticsScreen):
    TITLE = "Overview"
    CSS_PATH = ["analytics.tcss", "overview.tcss"]
    BINDINGS = [Binding("a", "toggle_account", "Project/account", id="analytics.account")]

    COLUMNS = ("name", "conversations", "handoffs", "deflection")

    def __init__(self) -> None:
        super().__init__()
        self.account = False

    def compose_body(self) -> ComposeResult:
        yield Static("", id="scope", markup=False)
        yield Kpis(id="kpis")
        yield TimeChart("Conversations and handoffs", id="volume")
        yield TimeChart("Response latency", id="latency")
        yield TitledTable(
            "By assistant — enter: its conversations", self.COLUMNS, id="by-assistant"
        )
        yield TitledTable("By tag — enter: conversations with that tag", self.COLUMNS, id="by-tag")

    def scope_of(self, filters: ConversationQuery) -> Hashable:
        return (filters, self.account)

    def scope_text(self, filters: ConversationQuery) -> Text:
        if not self.account:
            return super().scope_text(filters)
        line = super().scope_text(filters.replace(playbook_base_id=None, tags=()))
        line.append(" · account-wide: every project; assistant and tags do not apply", "dim")
        return line

    def action_toggle_account(self) -> None:
        self.account = not self.account
        self.set_class(self.account, "-account")
        self.reload()

    async def load(self, filters: ConversationQuery) -> None:
        scope = self.query_one("#scope", Static)
        if self.account:
            scope.update(
                "Account-wide: every project and assistant (date range only; time saved = "
                "5 min per AI message) · a: back to project"
            )
            await self.swr(analytics.account_analytics(filters), self.paint_account)
        else:
            scope.update("This project · a: account-wide figures")
            await self.swr(
                analytics.conversation_analytics(self.project, filters), self.paint_project
            )

    def paint_project(self, data: m.ConversationAnalytics) -> None:
        self.query_one("#kpis", Kpis).set_items(project_kpis(data))
        self._paint_volume(data)
        series = data.time_series
        self.query_one("#latency", TimeChart).set_series(
            bucket_labels((b.label for b in series), data.time_granularity),
            [
                Series("avg", [finite(b.avg_response_latency_ms) for b in series], " ms", False),
                Series("p99", [finite(b.p99_response_latency_ms) for b in series], " ms", False),
            ],
            window=window_of(self.filters),
        )
        by_assistant = self.query_one("#by-assistant", TitledTable)
        by_assistant.set_rows(playbook_rows(data))
        by_assistant.set_note(ASSISTANT_NOTE)
        by_tag = self.query_one("#by-tag", TitledTable)
        by_tag.set_rows(tag_rows(data))
        by_tag.set_note(TAG_NOTE)

    def paint_account(self, data: m.AccountAnalytics) -> None:
        self.query_one("#kpis", Kpis).set_items(account_kpis(data))
        self._paint_volume(data)
        by_assistant = self.query_one("#by-assistant", TitledTable)
        by_assistant.set_rows(assistant_rows(data))
        by_assistant.set_note(None)

    def _paint_volume(self, data: m.ConversationAnalytics | m.AccountAnalytics) -> None:
        series = data.time_series
        per = per_bucket(data.time_granularity)
        volume = self.query_one("#volume", TimeChart)
        volume.set_title(f"Conversations and handoffs per {per}")
        self.query_one("#latency", TimeChart).set_title(f"Response latency per {per}")
        volume.set_series(
            bucket_labels((b.label for b in series), data.time_granularity),
            [
                Series("conversations", [b.total_conversations for b in series]),
                Series("handoffs", [b.conversations_with_handoff for b in series]),
            ],
            window=window_of(self.filters),
        )

    def on_titled_table_selected(self, event: TitledTable.Selected) -> None:
        if self.account:
            self.notify(
                "Account-wide rows span projects: switch back (a) to drill down.", markup=False
            )
        elif event.table.id == "by-assistant":
            if event.key.startswith(NAME_KEY):
                self.run_task(self.drill_by_name(event.key[len(NAME_KEY) :]), "drill")
            elif event.key.startswith("row"):
                self.notify(
                    "This row names no assistant: cannot open its conversations.",
                    severity="warning",
                    markup=False,
                )
            else:
                self.drill(playbook_base_id=event.key)
        elif event.table.id == "by-tag":
            self.drill(tags=(*self.filters.tags, event.key))

    async def drill_by_name(self, name: str) -> None:
        """Open the conversations of the assistant called ``name`` (a by_playbook row without
        an id), found through the playbooks list (every version, deleted ones included)."""
        playbooks = await self.fetch(
            configuration.playbooks(self.project, versions=True, deleted=True)
        )
        if self.is_stale():
            return
        bases = {
            base
            for p in playbooks
            if clean(p.name) == name and (base := clean(p.base_id)) is not None
        }
        if len(bases) == 1:
            self.drill(playbook_base_id=bases.pop())
        else:
            why = "no assistant" if not bases else f"{len(bases)} assistants"
            self.notify(
                f"The playbooks list has {why} called {name!r}: cannot open its conversations.",
                severity="warning",
                markup=False,
            )
