"""CSAT: KPIs, the 1-5 distribution, the trend, the ratings table and the DSAT drill-down.

CSAT analytics (``api.endpoints.analytics``; singular ``playbook_base_id``). A project without
a CSAT configuration answers ``is_configured: false``: the screen says so and shows no figure
at all (never "0%"). ``d`` switches the ratings table to 1-2 star ratings (``max_rating=2``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from api import models as m
from api.endpoints import Endpoint, analytics
from api.query import ConversationQuery
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import (
    bucket_labels,
    clean,
    finite,
    fmt_int,
    fmt_rate,
    per_bucket,
    ratio,
    share,
    when,
    window_of,
)
from widgets.charts import Bar, BarChart, Kpis, Series, TimeChart, number_cell, plain
from widgets.tables import PagedTable, Row, TitledTable

NOT_CONFIGURED = "CSAT is not configured for this project (no Intercom CSAT enrichment)."
RATINGS_PAGE = 10
DSAT_SAMPLE = 50  # ratings the DSAT drill-down reads, as the brief's recipe does
VERBATIMS = 15  # of which the newest with a remark are shown (the recipe's ratings[:15])


def csat_kpis(data: m.CsatAnalytics) -> list[tuple[str, str | None]]:
    rated, eligible = data.total_rated, data.eligible_deflected
    response = fmt_rate(ratio(data.response_rate_pct, eligible))
    if response is not None:
        response = f"{response} ({fmt_int(rated) or '?'}/{fmt_int(eligible) or '?'})"
    return [
        ("Ratings", fmt_int(rated)),
        ("CSAT (4-5★)", fmt_rate(ratio(data.csat_score_pct, rated))),
        ("DSAT (1-2★)", fmt_rate(ratio(data.dsat_score_pct, rated))),
        ("Response rate", response),
        ("Positive", fmt_int(data.positive_count)),
        ("Neutral", fmt_int(data.neutral_count)),
        ("Negative", fmt_int(data.negative_count)),
    ]


def rating_bars(data: m.CsatAnalytics) -> list[Bar] | None:
    """The 1-5 distribution, 5 first, each as a percentage of the ratings; None when the
    answer left the distribution out."""
    if "rating_distribution" not in data.model_fields_set:
        return None
    dist = data.rating_distribution
    bars = []
    for r in ("5", "4", "3", "2", "1"):
        count = finite(dist.get(r)) or 0
        bars.append(Bar(key=r, label=f"{r}★", value=count, pct=share(count, data.total_rated)))
    return bars


def rating_rows(ratings: Iterable[m.CsatRating]) -> list[Row]:
    rows: list[Row] = []
    for i, r in enumerate(ratings):
        stars = "—" if r.rating is None else f"{r.rating:.0f}★"
        rows.append(
            (
                clean(r.conversation_id) or f"row{i}",
                [
                    number_cell(stars),
                    plain(clean(r.remark) or ""),
                    plain(", ".join(str(t) for t in r.tags)),
                    plain(when(r.rated_at)),
                    plain(clean(r.conversation_id)),
                ],
            )
        )
    return rows


def top_tags(ratings: Iterable[m.CsatRating], n: int = 10) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for r in ratings:
        for t in r.tags:
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

    async def load(self, filters: ConversationQuery) -> None:
        await self.gather(
            self.swr(self.ratings_page(filters, 0), self.paint),
            self.swr(
                analytics.csat(self.project, filters, ratings_limit=DSAT_SAMPLE, max_rating=2),
                self.paint_dsat,
            ),
        )

    def ratings_page(self, filters: ConversationQuery, offset: int) -> Endpoint[m.CsatAnalytics]:
        """The CSAT analytics with one page of the ratings table (``max_rating``: ``d``)."""
        return analytics.csat(
            self.project,
            filters,
            ratings_limit=RATINGS_PAGE,
            ratings_offset=offset,
            max_rating=self.max_rating,
        )

    def paint(self, data: m.CsatAnalytics) -> None:
        configured = data.is_configured is True
        self.set_class(not configured, "-unconfigured")
        if not configured:
            return
        self.query_one("#kpis", Kpis).set_items(csat_kpis(data))
        rated = data.total_rated
        distribution = self.query_one("#distribution", BarChart)
        distribution.set_title(
            f"Rating distribution, % of the {fmt_int(rated) or '—'} ratings"
            " — enter: ratings up to that score"
        )
        distribution.set_bars(rating_bars(data), empty_text="no ratings in this window")
        series = data.time_series
        trend = self.query_one("#trend", TimeChart)
        trend.set_title(f"CSAT % and response rate % per {per_bucket(data.time_granularity)}")
        trend.set_series(
            bucket_labels((b.date for b in series), data.time_granularity),
            [
                Series("CSAT", [finite(b.csat_pct) for b in series], "%", False, limit=100),
                Series(
                    "response rate",
                    [finite(b.response_rate_pct) for b in series],
                    "%",
                    False,
                    limit=100,
                ),
                Series("ratings", [b.total for b in series], right=True),
            ],
            empty_text="no ratings in this window",
            window=window_of(self.filters),
        )
        self._paint_table(data)

    def _paint_table(self, data: m.CsatAnalytics) -> None:
        table = self.query_one("#ratings", PagedTable)
        scope = "all ratings" if self.max_rating is None else f"ratings ≤ {self.max_rating}★"
        table.set_title(f"Ratings ({scope}) — enter: open the conversation · d: all/DSAT")
        table.set_page(
            rating_rows(data.ratings),
            offset=data.ratings_offset or 0,
            total=data.total_rated if self.max_rating is None else None,
            empty_text="no ratings in this window",
        )

    def paint_dsat(self, data: m.CsatAnalytics) -> None:
        if data.is_configured is not True:
            return
        rows: list[Row] = [
            (tag, [plain(tag), number_cell(f"{count:,}")]) for tag, count in top_tags(data.ratings)
        ]
        self.query_one("#dsat-tags", TitledTable).set_rows(
            rows, empty_text="no tagged 1-2★ ratings in this window"
        )
        remarks = [r for r in data.ratings[:VERBATIMS] if clean(r.remark)]
        self.query_one("#dsat-remarks", TitledTable).set_rows(
            rating_rows(remarks), empty_text="no remark left with a 1-2★ rating in this window"
        )

    async def load_page(self, offset: int) -> None:
        await self.swr(self.ratings_page(self.filters, offset), self._paint_page)

    def _paint_page(self, data: m.CsatAnalytics) -> None:
        if data.is_configured is True:
            self._paint_table(data)

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
