"""Resources: API tools, toolkits, skills, knowledge bases, and a sparkline of each over N days.

Resource analytics take ``YYYY-MM-DD`` dates and no assistant/tag filter, so only the shared
date range applies here (the screen says so). Recent calls list failures first.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static, TabbedContent, TabPane

from api import models as m
from api.endpoints import configuration
from api.endpoints import resources as res
from api.endpoints.resources import SparklineKind, item_titles, resource_dates
from api.errors import StudioError
from api.query import ConversationQuery
from api.text import sanitize
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import fmt_int, fmt_ms, fmt_rate, share, when, window_of
from widgets.charts import (
    MISSING,
    Bar,
    BarChart,
    Kpis,
    Series,
    TimeChart,
    number_cell,
    plain,
    spark,
)
from widgets.tables import TitledTable

RECENT_LIMIT = 50
TOP_ITEMS = 10
NO_ITEMS = (
    "no cited item in this window (a TEXT or FILE knowledge base is cited as a whole, "
    "without items)"
)
SPARK_DAYS = (7, 14, 30, 90)
SPARK_KINDS: tuple[tuple[str, SparklineKind], ...] = (  # (label, kind of sparklines)
    ("API tool", "api-tools"),
    ("toolkit", "toolkits"),
    ("skill", "skills"),
    ("KB", "kbs"),
)
RECENT_COLUMNS = ("when", "name", "status", "duration", "error", "conversation")


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def usage_kpis(data: m.ResourceAnalytics, *, duration: bool = True
               ) -> list[tuple[str, str | None]]:
    total, ok = data.total_calls, data.successful_calls
    kpis = [
        ("Total calls", fmt_int(total)),
        ("Successful", fmt_int(ok)),
        ("Failed", fmt_int(data.failed_calls)),
        ("Success rate", fmt_rate(share(ok, total))),
    ]
    if duration:
        kpis.append(("Avg duration", fmt_ms(finite(data.avg_duration_ms))))
    return kpis


def daily_series(data: m.ResourceAnalytics) -> tuple[list[str], list[Series]]:
    series = data.time_series
    return [b.date or "" for b in series], [
        Series("calls", [b.count for b in series]),
        Series("ok", [b.success_count for b in series]),
    ]


def failures_first(recent: list[m.ResourceEvent]) -> list[m.ResourceEvent]:
    newest_first = sorted(recent, key=lambda r: r.created_at or "", reverse=True)
    return sorted(newest_first, key=lambda r: r.success is not False)


def recent_rows(recent: list[m.ResourceEvent], name: str) -> list[tuple[str, list]]:
    """Rows of recent calls, failures first; ``name``: the field naming what was called."""
    rows = []
    for i, r in enumerate(failures_first(recent)):
        ok = r.success
        status = plain(
            "ok" if ok else "FAIL" if ok is False else None, style="" if ok else "bold red"
        )
        rows.append(
            (
                r.conversation_id or f"-{i}",
                [
                    plain(when(r.created_at)),
                    plain(r.get(name)),
                    status,
                    number_cell(fmt_ms(finite(r.duration_ms)) or "—"),
                    plain(r.error_message or ""),
                    plain(r.conversation_id),
                ],
            )
        )
    return rows


def action_bars(data: m.ResourceAnalytics) -> list[Bar]:
    bars = []
    for a in data.by_action:
        count = a.count
        if count is None:  # no count: no bar (never a 0 one)
            continue
        name = sanitize(a.action_name) or "?"
        bars.append(Bar(name, name, count, share(a.success_count, count)))
    return bars


def sparkline_rows(
    kind: str, data: dict[str, m.Sparkline], names: dict[str, str], days: int
) -> list[tuple[str, list]]:
    rows = []
    entries = sorted(data.items(), key=lambda kv: kv[1].total or 0, reverse=True)
    for key, entry in entries:
        counts = [p.count for p in entry.series]
        last7 = " ".join(fmt_int(c) or MISSING for c in counts[-7:])  # a gap is not a 0
        rows.append(
            (
                f"{kind}:{key}",
                [
                    plain(kind),
                    plain(names.get(key, key)),
                    number_cell(fmt_int(entry.total) or "—"),
                    plain(spark(counts[-days:])),
                    plain(last7),
                ],
            )
        )
    return rows


def usage_tab(prefix: str, trend: str, recent: str) -> ComposeResult:
    """KPIs, the daily trend and the recent list of one kind of resource."""
    yield Kpis(id=f"{prefix}-kpis")
    yield TimeChart(trend, id=f"{prefix}-trend")
    yield TitledTable(recent, RECENT_COLUMNS, id=f"{prefix}-recent")


class ResourcesScreen(AnalyticsScreen):
    TITLE = "Resources"
    SUBTITLE = (
        "Resource analytics cover the shared date range only (the API takes no "
        "assistant or tag filter) · enter on a row: its conversations"
    )
    CSS_PATH = ["analytics.tcss", "resources.tcss"]
    BINDINGS = [
        Binding("plus,equals_sign", "spark_days(1)", "More days", id="analytics.spark_more"),
        Binding("minus", "spark_days(-1)", "Fewer days", id="analytics.spark_fewer"),
        Binding("h", "kb_health", "KB article health", id="analytics.kb_health", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.spark_days = 14
        self.kb_id: str | None = None
        self.kb_names: dict[str, str] = {}
        self.param_filter = ""

    def scope_of(self, filters: ConversationQuery) -> Hashable:
        # the endpoints take the UTC days only: another assistant or tag changes no figure
        return tuple(sorted(resource_dates(filters).items()))

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            with TabPane("API tools", id="tab-api"):
                yield from usage_tab(
                    "api", "API tool calls per day", "Recent calls (failures first)"
                )
            with TabPane("Toolkits", id="tab-toolkits"):
                yield Kpis(id="tk-kpis")
                yield BarChart("Calls by action", pct_label="ok %", id="tk-actions")
                yield Input(
                    placeholder="param_filter key:value (e.g. ticket_type_id:67), enter",
                    id="tk-param",
                )
                yield TitledTable("By parameter value", ("value", "calls"), id="tk-params")
                yield TitledTable("Recent failures", RECENT_COLUMNS, id="tk-failures")
            with TabPane("Skills", id="tab-skills"):
                yield from usage_tab(
                    "skill", "Skill loads per day", "Recent loads (failures first)"
                )
            with TabPane("Knowledge bases", id="tab-kbs"):
                yield Kpis(id="kb-kpis")
                yield TimeChart("Citations per day", id="kb-trend")
                yield BarChart("Citations by source", pct_label="% citations", id="kb-sources")
                yield TitledTable(
                    "Citations by KB — enter: its top cited items",
                    ("knowledge base", "citations"),
                    id="kb-by-kb",
                )
                yield TitledTable(
                    "Top cited items", ("#", "title", "citations", "item id"), id="kb-items"
                )
            with TabPane("Activity", id="tab-spark"):
                yield Static("", id="spark-title", classes="analytics-note", markup=False)
                yield TitledTable(
                    "Every tool, toolkit, skill and KB",
                    ("kind", "name", "total", "trend", "last 7 days"),
                    id="sparklines",
                )

    def scope_text(self, filters: ConversationQuery) -> Text:
        """The days asked for: a window ending mid-day covers that whole UTC day."""
        dates = resource_dates(filters)
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.window_note:
            line.append(self.window_note, style="italic")
            line.append(" · ", style="dim")
        line.append("days ", style="bold")
        line.append(f"{dates.get('start_date', '…')} → {dates.get('end_date', '…')}")
        line.append(" (UTC, both included)", style="dim")
        if filters.playbook_base_id or filters.tags:
            line.append(" · assistant and tags do not apply here", style="dim")
        return line

    async def load(self, filters: ConversationQuery) -> None:
        project = self.project
        await self.gather(
            self.swr(res.api_tools(project, filters, limit=RECENT_LIMIT), self.paint_api),
            self.load_toolkits(filters),
            self.swr(res.skills(project, filters, limit=RECENT_LIMIT), self.paint_skills),
            self.load_kbs(filters),
            self.load_sparklines(),
        )

    # -------------------------------------------------------------- API tools
    def paint_api(self, data: m.ResourceAnalytics) -> None:
        self.query_one("#api-kpis", Kpis).set_items(usage_kpis(data))
        self.query_one("#api-trend", TimeChart).set_series(
            *daily_series(data), window=window_of(self.filters)
        )
        self.query_one("#api-recent", TitledTable).set_rows(
            recent_rows(data.recent, "tool_name")
        )

    # -------------------------------------------------------------- toolkits
    async def load_toolkits(self, filters: ConversationQuery) -> None:
        endpoint = res.toolkits(
            self.project, filters, limit=RECENT_LIMIT, param_filter=self.param_filter
        )
        await self.swr(endpoint, self.paint_toolkits)

    def paint_toolkits(self, data: m.ResourceAnalytics) -> None:
        self.query_one("#tk-kpis", Kpis).set_items(usage_kpis(data))
        self.query_one("#tk-actions", BarChart).set_bars(action_bars(data))
        by_param = [
            (sanitize(p.value) or "?", [plain(p.value), number_cell(fmt_int(p.count) or "—")])
            for p in data.by_param
        ]
        empty = (
            "no call with that parameter in this window"
            if self.param_filter
            else "type a param_filter (key:value) above to break calls down by a parameter"
        )
        self.query_one("#tk-params", TitledTable).set_rows(by_param, empty_text=empty)
        failures = [r for r in data.recent if r.success is False]
        self.query_one("#tk-failures", TitledTable).set_rows(
            recent_rows(failures, "action_name"), empty_text="no failed call among the recent ones"
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "tk-param":
            value = event.value.strip()
            if value and ":" not in value:
                self.notify(
                    "param_filter must be key:value, e.g. ticket_type_id:67",
                    severity="warning",
                    markup=False,
                )
                return
            self.param_filter = value
            self.run_task(
                self.load_toolkits(self.filters),
                "toolkits",
                sections=("#tk-kpis", "#tk-actions", "#tk-params", "#tk-failures"),
            )

    # -------------------------------------------------------------- skills
    def paint_skills(self, data: m.ResourceAnalytics) -> None:
        self.query_one("#skill-kpis", Kpis).set_items(usage_kpis(data, duration=False))
        self.query_one("#skill-trend", TimeChart).set_series(
            *daily_series(data), window=window_of(self.filters)
        )
        self.query_one("#skill-recent", TitledTable).set_rows(
            recent_rows(data.recent, "skill_name")
        )

    # -------------------------------------------------------------- knowledge bases
    async def load_kbs(self, filters: ConversationQuery) -> None:
        kbs = await self.fetch(configuration.knowledgebases(self.project))
        self.kb_names = {k.id: k.title or k.id for k in kbs if k.id}
        if self.kb_id is None:  # the Intercom KB first: "top 10 Intercom articles"
            intercom = [k.id for k in kbs if k.id and (k.kb_type or "").upper() == "INTERCOM"]
            self.kb_id = intercom[0] if intercom else next(iter(self.kb_names), None)
        await self.gather(
            self.swr(res.kbs(self.project, filters), self.paint_kbs),
            self.load_kb_items(filters),
        )

    def paint_kbs(self, data: m.KBAnalytics) -> None:
        cited = len(data.by_kb) if "by_kb" in data.model_fields_set else None
        self.query_one("#kb-kpis", Kpis).set_items(
            [("Citations", fmt_int(data.total_citations)), ("KBs cited", fmt_int(cited))]
        )
        series = data.time_series
        self.query_one("#kb-trend", TimeChart).set_series(
            [b.date or "" for b in series],
            [Series("citations", [b.count for b in series])],
            window=window_of(self.filters),
        )
        total = data.total_citations
        self.query_one("#kb-sources", BarChart).set_bars(
            [
                Bar(sanitize(s.source) or "?", sanitize(s.source) or "?", count,
                    share(count, total))
                for s in data.by_source
                if (count := s.count) is not None
            ]
        )
        self.query_one("#kb-by-kb", TitledTable).set_rows(
            [
                (
                    k.kb_id or f"kb{i}",
                    [
                        plain(sanitize(k.title) or self.kb_names.get(k.kb_id or "", k.kb_id)),
                        number_cell(fmt_int(k.count) or "—"),
                    ],
                )
                for i, k in enumerate(data.by_kb)
            ]
        )

    async def load_kb_items(self, filters: ConversationQuery) -> None:
        kb_id = self.kb_id
        if kb_id is None:
            self.query_one("#kb-items", TitledTable).set_rows([], empty_text="no knowledge base")
            return
        traffic, kb = await self.gather(
            self.fetch(res.kb_items(self.project, kb_id, filters, limit=TOP_ITEMS)),
            self.fetch(res.knowledgebase(kb_id)),
        )
        top = traffic.items[:TOP_ITEMS]
        titles = item_titles(kb)
        titles.update(
            await self.item_titles(
                kb_id, [e.item_id for e in top if e.item_id and e.item_id not in titles]
            )
        )
        table = self.query_one("#kb-items", TitledTable)
        cited = fmt_int(traffic.total_items_cited)
        table.set_title(
            f"Top {TOP_ITEMS} cited items in {sanitize(self.kb_names.get(kb_id, kb_id))}"
            + (f" ({cited} items cited in this window)" if cited else "")
        )
        table.set_rows(
            [
                (
                    e.item_id or f"i{n}",
                    [
                        number_cell(str(n)),
                        plain(titles.get(e.item_id or "", e.item_id)),
                        number_cell(fmt_int(e.count) or "—"),
                        plain(e.item_id),
                    ],
                )
                for n, e in enumerate(top, 1)
            ],
            empty_text=NO_ITEMS,
        )

    async def item_titles(self, kb_id: str, item_ids: list[str]) -> dict[str, str]:
        """Titles of KB items the KB body does not list, from the item metadata endpoint."""

        async def one(item_id: str) -> tuple[str, str | None]:
            try:
                return item_id, (await self.fetch(res.kb_item(kb_id, item_id))).title
            except StudioError:  # no title: the item id is shown instead
                return item_id, None

        pairs = await self.gather(*(one(i) for i in item_ids))
        return {item_id: title for item_id, title in pairs if title}

    # -------------------------------------------------------------- sparklines
    async def load_sparklines(self) -> None:
        days = self.spark_days
        tools = await self.fetch(configuration.api_tools(self.project))
        names = {t.id: t.name or t.id for t in tools if t.id}
        names.update(self.kb_names)
        answers = await self.gather(
            *(self.fetch(res.sparklines(self.project, kind, days)) for _, kind in SPARK_KINDS)
        )
        rows = [
            row
            for (label, _), data in zip(SPARK_KINDS, answers, strict=True)
            for row in sparkline_rows(label, data, names, days)
        ]
        self.query_one("#spark-title", Static).update(
            f"Activity over the last {days} days (trailing, not the shared window) · +/-: "
            f"{', '.join(map(str, SPARK_DAYS))} days"
        )
        self.query_one("#sparklines", TitledTable).set_rows(rows, empty_text="no activity")

    def action_spark_days(self, step: int) -> None:
        index = SPARK_DAYS.index(self.spark_days) if self.spark_days in SPARK_DAYS else 1
        self.spark_days = SPARK_DAYS[max(0, min(len(SPARK_DAYS) - 1, index + step))]
        self.run_task(self.load_sparklines(), "sparklines")

    def action_kb_health(self) -> None:
        """KB article health over this window: of the KB highlighted in "Citations by KB"
        when that table has the focus, else of every knowledge base."""
        from screens.kb_health import KBHealthScreen

        table = self.query_one("#kb-by-kb", TitledTable)
        row = table.table.cursor_row
        kb_id = None
        if table.table.has_focus and 0 <= row < len(table.keys):
            key = table.keys[row].split("#", 1)[0]
            kb_id = None if key == f"kb{row}" else key  # a row without a KB id: every KB
        filters = self.filters
        self.app.push_screen(KBHealthScreen(filters.start_date, filters.end_date, kb_id))

    # -------------------------------------------------------------- drill-down
    def on_bar_chart_selected(self, event: BarChart.Selected) -> None:
        self.notify(
            "Conversations cannot be filtered by toolkit action or citation source: "
            "enter on a recent call opens its conversation.",
            timeout=6,
            markup=False,
        )

    def on_titled_table_selected(self, event: TitledTable.Selected) -> None:
        table = event.table.id
        if table == "kb-by-kb":
            self.kb_id = event.key
            self.run_task(self.load_kb_items(self.filters), "kb-items")
        elif table in ("api-recent", "tk-failures", "skill-recent"):
            if not event.key.startswith("-"):  # a call without a conversation has no key
                self.open_conversations([event.key], "call")
        elif table == "sparklines" and event.key.startswith("skill:"):
            self.drill(skill_name=event.key.partition(":")[2])
