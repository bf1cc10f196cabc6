"""CSAT: KPIs, the 1-5 distribution, the trend, the ratings table and the DSAT drill-down.

``/projects/{pid}/csat/analytics`` (singular ``playbook_base_id``). A project without a CSAT
configuration answers ``is_configured: false``: the screen says so and shows no figure at all
(never "0%"). ``d`` switches the ratings table to 1-2 star ratings (``max_rating=2``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from api.query import ConversationQuery
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import (
    buckets,
    fmt_int,
    fmt_rate,
    items,
    num,
    obj,
    per,
    rate,
    share,
    text,
    when,
    window_of,
)
from widgets.charts import Bar, BarChart, Kpis, Series, TimeChart, number_cell, plain
from widgets.tables import PagedTable, TitledTable

NOT_CONFIGURED = "CSAT is not configured for this project (no Intercom CSAT enrichment)."
RATINGS_PAGE = 10
DSAT_SAMPLE = 50  # ratings the DSAT drill-down reads, as the brief's recipe does
VERBATIMS = 15  # of which the newest with a remark are shown (the recipe's ratings[:15])


def csat_kpis(data: dict) -> list[tuple[str, str | None]]:
    rated, eligible = num(data, "total_rated"), num(data, "eligible_deflected")
    response = fmt_rate(rate(data, "response_rate_pct", "eligible_deflected"))
    if response is not None:
        response = f"{response} ({fmt_int(rated) or '?'}/{fmt_int(eligible) or '?'})"
    return [
        ("Ratings", fmt_int(rated)),
        ("CSAT (4-5★)", fmt_rate(rate(data, "csat_score_pct", "total_rated"))),
        ("DSAT (1-2★)", fmt_rate(rate(data, "dsat_score_pct", "total_rated"))),
        ("Response rate", response),
        ("Positive", fmt_int(num(data, "positive_count"))),
        ("Neutral", fmt_int(num(data, "neutral_count"))),
        ("Negative", fmt_int(num(data, "negative_count"))),
    ]


def rating_bars(data: dict) -> list[Bar] | None:
    dist = data.get("rating_distribution")
    if not isinstance(dist, dict):
        return None
    rated = num(data, "total_rated")
    bars = []
    for r in ("5", "4", "3", "2", "1"):
        count = num(dist, r) or 0
        bars.append(Bar(key=r, label=f"{r}★", value=count, pct=share(count, rated)))
    return bars


def rating_rows(ratings: list[dict]) -> list[tuple[str, list]]:
    rows = []
    for i, r in enumerate(ratings):
        rating = num(r, "rating")
        stars = "—" if rating is None else f"{rating:.0f}★"
        tags = r.get("tags") if isinstance(r.get("tags"), list) else []
        rows.append(
            (
                text(r, "conversation_id") or f"row{i}",
                [
                    number_cell(stars),
                    plain(text(r, "remark") or ""),
                    plain(", ".join(str(t) for t in tags)),
                    plain(when(r.get("rated_at"))),
                    plain(text(r, "conversation_id")),
                ],
            )
        )
    return rows


def top_tags(ratings: list[dict], n: int = 10) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for r in ratings:
        tags = r.get("tags")
        for t in tags if isinstance(tags, list) else []:
            counts[str(t)] += 1
    return counts.most_common(n)


class CsatScreen(AnalyticsScreen):
    TITLE = "CSAT"
    CSS_PATH = ["analytics.tcss", "csat.tcss"]
    BINDINGS = [Binding("d", "toggle_dsat", "All/DSAT ratings", id="analytics.csat_dsat")]

    def __init__(self) -> None:
        super().__init__()
        self.max_rating: int | None = None

    def compose_body(self) -> ComposeResult:
        yield Static(NOT_CONFIGURED, id="not-configured", classes="analytics-warning", markup=False)
        yield Kpis(id="kpis")
        yield BarChart(
            "Rating distribution — enter: ratings up to that score",
            pct_label="% rated",
            id="distribution",
        )
        yield TimeChart("CSAT % and response rate % per bucket", id="trend")
        yield PagedTable(
            "Ratings",
            ("rating", "remark", "tags", "rated at", "conversation"),
            page_size=RATINGS_PAGE,
            id="ratings",
        )
        yield TitledTable(
            f"DSAT drill-down: top tags among 1-2★ ratings (latest {DSAT_SAMPLE})"
            " — enter: conversations with that tag",
            ("tag", "ratings"),
            id="dsat-tags",
        )
        yield TitledTable(
            "Recent 1-2★ verbatims — enter: open the conversation",
            ("rating", "remark", "tags", "rated at", "conversation"),
            id="dsat-remarks",
        )

    def base_params(self, filters: ConversationQuery) -> dict[str, Any]:
        return filters.csat_params()

    async def load(self, filters: ConversationQuery) -> None:
        params = self.base_params(filters)
        await self.gather(
            self.swr_path(self.path, {**params, **self._table_params(0)}, self.paint),
            self.swr_path(
                self.path,
                {**params, "max_rating": 2, "ratings_limit": DSAT_SAMPLE},
                self.paint_dsat,
            ),
        )

    @property
    def path(self) -> str:
        return f"/projects/{self.pid}/csat/analytics"

    def _table_params(self, offset: int) -> dict[str, Any]:
        params: dict[str, Any] = {"ratings_limit": RATINGS_PAGE, "ratings_offset": offset}
        if self.max_rating is not None:
            params["max_rating"] = self.max_rating
        return params

    def paint(self, data: Any) -> None:
        data = obj(data)
        configured = data.get("is_configured") is True
        self.set_class(not configured, "-unconfigured")
        if not configured:
            return
        self.query_one("#kpis", Kpis).set_items(csat_kpis(data))
        rated = num(data, "total_rated")
        distribution = self.query_one("#distribution", BarChart)
        distribution.set_title(
            f"Rating distribution, % of the {fmt_int(rated) or '—'} ratings"
            " — enter: ratings up to that score"
        )
        distribution.set_bars(rating_bars(data), empty_text="no ratings in this window")
        series = items(data, "time_series")
        trend = self.query_one("#trend", TimeChart)
        trend.set_title(f"CSAT % and response rate % per {per(data)}")
        trend.set_series(
            buckets(data),
            [
                Series("CSAT", [num(b, "csat_pct") for b in series], "%", False, limit=100),
                Series(
                    "response rate",
                    [num(b, "response_rate_pct") for b in series],
                    "%",
                    False,
                    limit=100,
                ),
                Series("ratings", [num(b, "total") for b in series], right=True),
            ],
            empty_text="no ratings in this window",
            window=window_of(self.filters),
        )
        self._paint_table(data, rated)

    def _paint_table(self, data: dict, rated: float | None) -> None:
        table = self.query_one("#ratings", PagedTable)
        scope = "all ratings" if self.max_rating is None else f"ratings ≤ {self.max_rating}★"
        table.set_title(f"Ratings ({scope}) — enter: open the conversation · d: all/DSAT")
        offset = int(num(data, "ratings_offset") or 0)
        total = None if self.max_rating is not None else (None if rated is None else int(rated))
        table.set_page(
            rating_rows(items(data, "ratings")),
            offset=offset,
            total=total,
            empty_text="no ratings in this window",
        )

    def paint_dsat(self, data: Any) -> None:
        data = obj(data)
        if data.get("is_configured") is not True:
            return
        rows = [
            (tag, [plain(tag), number_cell(f"{count:,}")])
            for tag, count in top_tags(items(data, "ratings"))
        ]
        self.query_one("#dsat-tags", TitledTable).set_rows(
            rows, empty_text="no tagged 1-2★ ratings in this window"
        )
        remarks = [r for r in items(data, "ratings")[:VERBATIMS] if text(r, "remark")]
        self.query_one("#dsat-remarks", TitledTable).set_rows(
            rating_rows(remarks), empty_text="no remark left with a 1-2★ rating in this window"
        )

    async def load_page(self, offset: int) -> None:
        params = {**self.base_params(self.filters), **self._table_params(offset)}
        await self.swr_path(self.path, params, self._paint_page)

    def _paint_page(self, data: Any) -> None:
        data = obj(data)
        if data.get("is_configured") is True:
            self._paint_table(data, num(data, "total_rated"))

    def action_toggle_dsat(self) -> None:
        self.max_rating = None if self.max_rating is not None else 2
        self.run_task(self.load_page(0), "page", sections=("#ratings",))

    def on_paged_table_page_requested(self, event: PagedTable.PageRequested) -> None:
        self.run_task(self.load_page(event.offset), "page")

    def on_bar_chart_selected(self, event: BarChart.Selected) -> None:
        self.max_rating = int(event.bar.key)
        self.run_task(self.load_page(0), "page", sections=("#ratings",))

    def on_titled_table_selected(self, event: TitledTable.Selected) -> None:
        if event.table.id in ("ratings", "dsat-remarks"):
            self.open_conversations([event.key], "rating")
        elif event.table.id == "dsat-tags":
            self.drill(tags=(*self.filters.tags, event.key))
