"""Overview: the headline figures of the window, their trend, and breakdowns to drill into.

Project view: ``/projects/{pid}/conversations/analytics`` (``playbook_base_ids`` plural);
``a`` switches to account-wide figures across projects (``/account/conversations/analytics``,
which takes the date range only).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from api.query import ConversationQuery
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import (
    buckets,
    fmt_float,
    fmt_int,
    fmt_ms,
    fmt_rate,
    items,
    num,
    obj,
    per,
    rate,
    text,
    window_of,
)
from widgets.charts import Kpis, Series, TimeChart, number_cell, plain
from widgets.tables import TitledTable

TOTAL = "total_conversations"
MINUTES_SAVED_PER_AI_MESSAGE = 5  # the reference's "time saved" formula


def _p99_peak(series: list[dict]) -> float | None:
    values = [v for v in (num(b, "p99_response_latency_ms") for b in series) if v is not None]
    return max(values) if values else None


def volume_kpis(data: Any, total_label: str) -> list[tuple[str, str | None]]:
    """The figures project and account analytics share."""
    return [
        (total_label, fmt_int(num(data, TOTAL))),
        ("Deflection rate", fmt_rate(rate(data, "deflection_rate", TOTAL))),
        ("Handoffs", fmt_int(num(data, "conversations_with_handoff"))),
        ("AI-resolved", fmt_int(num(data, "conversations_without_handoff"))),
        ("Messages / conv.", fmt_float(rate(data, "avg_messages_per_conversation", TOTAL))),
    ]


def project_kpis(data: Any) -> list[tuple[str, str | None]]:
    series = items(data, "time_series")
    return [
        *volume_kpis(data, "Conversations"),
        ("Latency avg", fmt_ms(rate(data, "avg_response_latency_ms", TOTAL))),
        ("Latency p99 (peak)", fmt_ms(_p99_peak(series))),
        ("Winbacks sent", fmt_int(num(data, "winback_sent_count"))),
        ("Winbacks answered", fmt_int(num(data, "winback_answered_count"))),
        (
            "Winback conversion",
            fmt_rate(rate(data, "winback_conversion_rate", "winback_sent_count")),
        ),
    ]


def account_kpis(data: Any) -> list[tuple[str, str | None]]:
    ai_messages = num(data, "total_ai_messages")
    hours = None if ai_messages is None else ai_messages * MINUTES_SAVED_PER_AI_MESSAGE / 60
    return [
        *volume_kpis(data, "Account convs."),
        ("AI messages", fmt_int(ai_messages)),
        ("Time saved", fmt_float(hours, 0, "h")),
    ]


def _name(row: dict, *keys: str) -> str | None:
    for key in keys:
        if text(row, key):
            return text(row, key)
    return None


ASSISTANT_NOTE = (
    "Each conversation counts once, under its last active assistant. Enter opens every "
    "conversation the assistant took part in (the API filter matches any participant), "
    "which can be more."
)
TAG_NOTE = "A conversation with several tags counts under each: the rows can add up to more."
NAME_KEY = "name:"  # a by_playbook row without an id: resolved by name when opened


def breakdown_rows(rows: list[dict], key_fields: tuple[str, ...], name_fields: tuple[str, ...]):
    """Table rows keyed by the row's id, else ``name:<name>``, else its position."""
    out = []
    for i, row in enumerate(rows):
        name = _name(row, *name_fields)
        key = _name(row, *key_fields) or (f"{NAME_KEY}{name}" if name else f"row{i}")
        total = num(row, "total_conversations")
        handoffs = num(row, "conversations_with_handoff")
        out.append(
            (
                key,
                [
                    plain(name),
                    number_cell(fmt_int(total) or "—"),
                    number_cell(fmt_int(handoffs) or "—"),
                    number_cell(fmt_rate(rate(row, "deflection_rate", TOTAL)) or "—"),
                ],
            )
        )
    return out


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
            await self.swr_path(
                "/account/conversations/analytics", filters.account_params(), self.paint_account
            )
        else:
            scope.update("This project · a: account-wide figures")
            await self.swr_path(
                f"/projects/{self.pid}/conversations/analytics",
                filters.analytics_params(),
                self.paint_project,
            )

    def paint_project(self, data: Any) -> None:
        data = obj(data)
        self.query_one("#kpis", Kpis).set_items(project_kpis(data))
        self._paint_volume(data)
        series = items(data, "time_series")
        self.query_one("#latency", TimeChart).set_series(
            buckets(data, "timestamp"),
            [
                Series("avg", [num(b, "avg_response_latency_ms") for b in series], " ms", False),
                Series("p99", [num(b, "p99_response_latency_ms") for b in series], " ms", False),
            ],
            window=window_of(self.filters),
        )
        by_assistant = self.query_one("#by-assistant", TitledTable)
        by_assistant.set_rows(  # the base id when the row has one (undocumented), else the name
            breakdown_rows(
                items(data, "by_playbook"),
                ("playbook_base_id", "base_id"),
                ("playbook_name", "name"),
            )
        )
        by_assistant.set_note(ASSISTANT_NOTE)
        by_tag = self.query_one("#by-tag", TitledTable)
        by_tag.set_rows(breakdown_rows(items(data, "by_tag"), ("tag", "name"), ("tag", "name")))
        by_tag.set_note(TAG_NOTE)

    def paint_account(self, data: Any) -> None:
        data = obj(data)
        self.query_one("#kpis", Kpis).set_items(account_kpis(data))
        self._paint_volume(data)
        by_assistant = self.query_one("#by-assistant", TitledTable)
        by_assistant.set_rows(
            breakdown_rows(
                items(data, "by_assistant"),
                ("playbook_base_id", "base_id", "id", "name"),
                ("name", "assistant_name", "playbook_name"),
            )
        )
        by_assistant.set_note(None)

    def _paint_volume(self, data: dict) -> None:
        series = items(data, "time_series")
        volume = self.query_one("#volume", TimeChart)
        volume.set_title(f"Conversations and handoffs per {per(data)}")
        self.query_one("#latency", TimeChart).set_title(f"Response latency per {per(data)}")
        volume.set_series(
            buckets(data, "timestamp"),
            [
                Series("conversations", [num(b, "total_conversations") for b in series]),
                Series("handoffs", [num(b, "conversations_with_handoff") for b in series]),
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
        playbooks = await self.fetch_path(
            f"/projects/{self.pid}/playbooks",
            {"include_versions": "true", "include_deleted": "true"},
        )
        if self.is_stale():
            return
        bases = {text(p, "base_id") for p in items(playbooks) if text(p, "name") == name} - {None}
        if len(bases) == 1:
            self.drill(playbook_base_id=bases.pop())
        else:
            why = "no assistant" if not bases else f"{len(bases)} assistants"
            self.notify(
                f"The playbooks list has {why} called {name!r}: cannot open its conversations.",
                severity="warning",
                markup=False,
            )
