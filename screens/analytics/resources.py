"""Resources: API tools, toolkits, skills, knowledge bases, and a sparkline of each over N days.

Resource analytics take ``YYYY-MM-DD`` dates and no assistant/tag filter, so only the shared
date range applies here (the screen says so). Recent calls list failures first.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Static, TabbedContent, TabPane

from api.errors import StudioError
from api.query import ConversationQuery
from screens.analytics.base import AnalyticsScreen, resource_dates
from screens.analytics.fmt import (
    fmt_int,
    fmt_ms,
    fmt_rate,
    items,
    num,
    obj,
    seg,
    share,
    text,
    when,
    window_of,
)
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
SPARK_KINDS = (  # (label, path under /projects/{pid}/analytics)
    ("API tool", "api-tools/sparklines"),
    ("toolkit", "toolkit-calls/sparklines"),
    ("skill", "skills/sparklines"),
    ("KB", "kbs/sparklines"),
)
RECENT_COLUMNS = ("when", "name", "status", "duration", "error", "conversation")


def usage_kpis(data: dict, *, duration: bool = True) -> list[tuple[str, str | None]]:
    total, ok = num(data, "total_calls"), num(data, "successful_calls")
    kpis = [
        ("Total calls", fmt_int(total)),
        ("Successful", fmt_int(ok)),
        ("Failed", fmt_int(num(data, "failed_calls"))),
        ("Success rate", fmt_rate(share(ok, total))),
    ]
    if duration:
        kpis.append(("Avg duration", fmt_ms(num(data, "avg_duration_ms"))))
    return kpis


def daily_series(data: dict) -> tuple[list[str], list[Series]]:
    series = items(data, "time_series")
    return [str(b.get("date") or "") for b in series], [
        Series("calls", [num(b, "count") for b in series]),
        Series("ok", [num(b, "success_count") for b in series]),
    ]


def failures_first(recent: list[dict]) -> list[dict]:
    newest_first = sorted(recent, key=lambda r: str(r.get("created_at") or ""), reverse=True)
    return sorted(newest_first, key=lambda r: r.get("success") is not False)


def recent_rows(recent: list[dict], name_key: str) -> list[tuple[str, list]]:
    rows = []
    for i, r in enumerate(failures_first(recent)):
        ok = r.get("success")
        status = plain(
            "ok" if ok else "FAIL" if ok is False else None, style="" if ok else "bold red"
        )
        rows.append(
            (
                text(r, "conversation_id") or f"-{i}",
                [
                    plain(when(r.get("created_at"))),
                    plain(text(r, name_key)),
                    status,
                    number_cell(fmt_ms(num(r, "duration_ms")) or "—"),
                    plain(text(r, "error_message") or ""),
                    plain(text(r, "conversation_id")),
                ],
            )
        )
    return rows


def action_bars(data: dict) -> list[Bar]:
    bars = []
    for a in items(data, "by_action"):
        count = num(a, "count")
        if count is None:  # no count: no bar (never a 0 one)
            continue
        name = text(a, "action_name") or "?"
        bars.append(Bar(name, name, count, share(num(a, "success_count"), count)))
    return bars


def item_titles(kb: Any) -> dict[str, str]:
    """item id -> title from a KB's item lists (``intercom_items`` and the like)."""
    titles: dict[str, str] = {}
    for key, value in obj(kb).items():
        if key.endswith("_items") and isinstance(value, list):
            for item in items(value):
                item_id = text(item, "id") or text(item, "item_id")
                if item_id and text(item, "title"):
                    titles[item_id] = text(item, "title")
    return titles


def sparkline_rows(
    kind: str, data: Any, names: dict[str, str], days: int
) -> list[tuple[str, list]]:
    rows = []
    entries = [(k, v) for k, v in obj(data).items() if isinstance(v, dict)]
    entries.sort(key=lambda kv: num(kv[1], "total") or 0, reverse=True)
    for key, entry in entries:
        counts = [num(p, "count") for p in items(entry, "series")]
        last7 = " ".join(fmt_int(c) or MISSING for c in counts[-7:])  # a gap is not a 0
        rows.append(
            (
                f"{kind}:{key}",
                [
                    plain(kind),
                    plain(names.get(key, key)),
                    number_cell(fmt_int(num(entry, "total")) or "—"),
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
    ]

    def __init__(self) -> None:
        super().__init__()
        self.spark_days = 14
        self.kb_id: str | None = None
        self.kb_names: dict[str, str] = {}
        self.param_filter = ""

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
        dates = resource_dates(filters)
        await self.gather(
            self.swr_path(self.a("api-tools"), {**dates, "limit": RECENT_LIMIT}, self.paint_api),
            self.load_toolkits(filters),
            self.swr_path(self.a("skills"), {**dates, "limit": RECENT_LIMIT}, self.paint_skills),
            self.load_kbs(filters),
            self.load_sparklines(),
        )

    def a(self, path: str) -> str:
        return f"/projects/{self.pid}/analytics/{path}"

    # -------------------------------------------------------------- API tools
    def paint_api(self, data: Any) -> None:
        data = obj(data)
        self.query_one("#api-kpis", Kpis).set_items(usage_kpis(data))
        self.query_one("#api-trend", TimeChart).set_series(
            *daily_series(data), window=window_of(self.filters)
        )
        self.query_one("#api-recent", TitledTable).set_rows(
            recent_rows(items(data, "recent"), "tool_name")
        )

    # -------------------------------------------------------------- toolkits
    async def load_toolkits(self, filters: ConversationQuery) -> None:
        params: dict[str, Any] = {**resource_dates(filters), "limit": RECENT_LIMIT}
        if self.param_filter:
            params["param_filter"] = self.param_filter
        await self.swr_path(self.a("toolkits"), params, self.paint_toolkits)

    def paint_toolkits(self, data: Any) -> None:
        data = obj(data)
        self.query_one("#tk-kpis", Kpis).set_items(usage_kpis(data))
        self.query_one("#tk-actions", BarChart).set_bars(action_bars(data))
        by_param = [
            (
                text(p, "value") or "?",
                [plain(text(p, "value")), number_cell(fmt_int(num(p, "count")) or "—")],
            )
            for p in items(data, "by_param")
        ]
        empty = (
            "no call with that parameter in this window"
            if self.param_filter
            else "type a param_filter (key:value) above to break calls down by a parameter"
        )
        self.query_one("#tk-params", TitledTable).set_rows(by_param, empty_text=empty)
        failures = [r for r in items(data, "recent") if r.get("success") is False]
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
    def paint_skills(self, data: Any) -> None:
        data = obj(data)
        self.query_one("#skill-kpis", Kpis).set_items(usage_kpis(data, duration=False))
        self.query_one("#skill-trend", TimeChart).set_series(
            *daily_series(data), window=window_of(self.filters)
        )
        self.query_one("#skill-recent", TitledTable).set_rows(
            recent_rows(items(data, "recent"), "skill_name")
        )

    # -------------------------------------------------------------- knowledge bases
    async def load_kbs(self, filters: ConversationQuery) -> None:
        kbs = await self.fetch_path(f"/projects/{self.pid}/knowledgebases")
        self.kb_names = {
            text(k, "id"): text(k, "title") or text(k, "id") for k in items(kbs) if text(k, "id")
        }
        if self.kb_id is None:  # the Intercom KB first: "top 10 Intercom articles"
            intercom = [
                text(k, "id") for k in items(kbs) if str(k.get("kb_type", "")).upper() == "INTERCOM"
            ]
            self.kb_id = intercom[0] if intercom else next(iter(self.kb_names), None)
        await self.gather(
            self.swr_path(self.a("kbs"), resource_dates(filters), self.paint_kbs),
            self.load_kb_items(filters),
        )

    def paint_kbs(self, data: Any) -> None:
        data = obj(data)
        self.query_one("#kb-kpis", Kpis).set_items(
            [
                ("Citations", fmt_int(num(data, "total_citations"))),
                ("KBs cited", fmt_int(len(items(data, "by_kb")) if "by_kb" in data else None)),
            ]
        )
        series = items(data, "time_series")
        self.query_one("#kb-trend", TimeChart).set_series(
            [str(b.get("date") or "") for b in series],
            [Series("citations", [num(b, "count") for b in series])],
            window=window_of(self.filters),
        )
        total = num(data, "total_citations")
        self.query_one("#kb-sources", BarChart).set_bars(
            [
                Bar(
                    text(s, "source") or "?",
                    text(s, "source") or "?",
                    num(s, "count"),
                    share(num(s, "count"), total),
                )
                for s in items(data, "by_source")
                if num(s, "count") is not None
            ]
        )
        self.query_one("#kb-by-kb", TitledTable).set_rows(
            [
                (
                    text(k, "kb_id") or f"kb{i}",
                    [
                        plain(
                            text(k, "title")
                            or self.kb_names.get(text(k, "kb_id") or "", text(k, "kb_id"))
                        ),
                        number_cell(fmt_int(num(k, "count")) or "—"),
                    ],
                )
                for i, k in enumerate(items(data, "by_kb"))
            ]
        )

    async def load_kb_items(self, filters: ConversationQuery) -> None:
        kb_id = self.kb_id
        if kb_id is None:
            self.query_one("#kb-items", TitledTable).set_rows([], empty_text="no knowledge base")
            return
        traffic, kb = await self.gather(
            self.fetch_path(
                self.a(f"kbs/{seg(kb_id)}/items"), {**resource_dates(filters), "limit": TOP_ITEMS}
            ),
            self.fetch_path(f"/knowledgebases/{seg(kb_id)}"),
        )
        titles = item_titles(kb)
        titles.update(
            await self.item_titles(
                kb_id,
                [
                    i
                    for i in (text(e, "item_id") for e in items(traffic, "items")[:TOP_ITEMS])
                    if i and i not in titles
                ],
            )
        )
        table = self.query_one("#kb-items", TitledTable)
        cited = fmt_int(num(traffic, "total_items_cited"))
        table.set_title(
            f"Top {TOP_ITEMS} cited items in {self.kb_names.get(kb_id, kb_id)}"
            + (f" ({cited} items cited in this window)" if cited else "")
        )
        table.set_rows(
            [
                (
                    text(e, "item_id") or f"i{n}",
                    [
                        number_cell(str(n)),
                        plain(titles.get(text(e, "item_id") or "", text(e, "item_id"))),
                        number_cell(fmt_int(num(e, "count")) or "—"),
                        plain(text(e, "item_id")),
                    ],
                )
                for n, e in enumerate(items(traffic, "items")[:TOP_ITEMS], 1)
            ],
            empty_text=NO_ITEMS,
        )

    async def item_titles(self, kb_id: str, item_ids: list[str]) -> dict[str, str]:
        """Titles of KB items the KB body does not list, from the item metadata endpoint."""

        async def one(item_id: str) -> tuple[str, str | None]:
            try:
                return item_id, text(
                    await self.fetch_path(f"/knowledgebases/{seg(kb_id)}/items/{seg(item_id)}"), "title"
                )
            except StudioError:  # no title: the item id is shown instead
                return item_id, None

        pairs = await self.gather(*(one(i) for i in item_ids))
        return {item_id: title for item_id, title in pairs if title}

    # -------------------------------------------------------------- sparklines
    async def load_sparklines(self) -> None:
        days = self.spark_days
        tools = await self.fetch_path(f"/projects/{self.pid}/api-tools")
        names = {
            text(t, "id"): text(t, "name") or text(t, "id") for t in items(tools) if text(t, "id")
        }
        names.update(self.kb_names)
        answers = await self.gather(
            *(self.fetch_path(self.a(path), {"days": days}) for _, path in SPARK_KINDS)
        )
        rows = [
            row
            for (kind, _), data in zip(SPARK_KINDS, answers, strict=True)
            for row in sparkline_rows(kind, data, names, days)
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
