"""Conversions: metric definitions, per-metric topline / trend / events, and the funnel by assistant.

The conversion metrics list gives the definitions; one metric's analytics (singular
``playbook_base_id``, ``api.endpoints.conversions``) its dashboard. The definition's
``last_event_at`` is the ingest heartbeat: when it is older than ``STALE_AFTER`` before the end
of the window (or now, if earlier), the screen warns of a likely broken ingest instead of
reading "0 conversions". The funnel asks the analytics once per assistant
(``playbook_base_id``), concurrently.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import UTC, datetime, timedelta
from typing import TypedDict

from textual.app import ComposeResult
from textual.widgets import Static

from api import models as m
from api.endpoints import configuration, conversions
from api.query import ConversationQuery
from screens.analytics.base import AnalyticsScreen, parse_ts
from screens.analytics.fmt import (
    bucket_labels,
    clean,
    finite,
    fmt_float,
    fmt_int,
    fmt_rate,
    per_bucket,
    ratio,
    when,
    window_of,
)
from widgets.charts import Bar, BarChart, Kpis, Series, TimeChart, number_cell, plain
from widgets.figures import FigureText
from widgets.tables import PagedTable, Row, TitledTable

STALE_AFTER = timedelta(hours=24)
EVENTS_PAGE = 10


def heartbeat_warning(
    definition: m.ConversionMetric, window_end: str | None, now: datetime | None = None
) -> str | None:
    """The warning to show for a metric's ingest heartbeat, or None when it is fresh."""
    name = clean(definition.name) or clean(definition.slug) or "this metric"
    last = parse_ts(definition.last_event_at)
    if last is None:
        return f"⚠ {name}: no event was ever ingested — check the ingest integration."
    now = now or datetime.now(UTC)
    end = parse_ts(window_end)
    reference = min(now, end) if end is not None else now
    age = reference - last
    if age <= STALE_AFTER:
        return None
    hours = age.total_seconds() / 3600
    age_text = f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.0f} hours"
    return (
        f"⚠ {name}: last event ingested {when(definition.last_event_at)} "
        f"({age_text} before the end of the window) — the ingest pipeline is likely "
        "broken; low or zero conversions here are not real figures."
    )


def metric_kpis(data: m.ConversionAnalytics, unit: str) -> list[tuple[str, str | None]]:
    return [
        ("Events", fmt_int(data.total_events)),
        ("Total value", fmt_float(finite(data.total_value), 2, unit)),
        ("Avg value", fmt_float(ratio(data.avg_value, data.total_events), 2, unit)),
        ("Converting convs.", fmt_int(data.converting_conversations)),
        ("Eligible deflected", fmt_int(data.eligible_conversations)),
        (
            "Conversion rate",
            fmt_rate(ratio(data.conversion_rate_pct, data.eligible_conversations), 2),
        ),
        (
            "Value / converting",
            fmt_float(
                ratio(data.avg_value_per_conversation, data.converting_conversations), 2, unit
            ),
        ),
    ]


def event_rows(events: Iterable[m.ConversionEvent]) -> list[Row]:
    rows: list[Row] = []
    for i, e in enumerate(events):
        rows.append(
            (
                clean(e.conversation_id) or f"row{i}",
                [
                    plain(when(e.occurred_at)),
                    number_cell(fmt_float(finite(e.value), 2) or "—"),
                    plain(clean(e.conversation_id)),
                    plain(", ".join(str(t) for t in e.tags)),
                ],
            )
        )
    return rows


class FunnelRow(TypedDict):
    """One assistant's figures of the funnel."""

    base_id: str
    assistant: str
    eligible: float | None
    converting: float | None
    rate: float | None
    value: float | None


def funnel_rows(results: Iterable[tuple[str, str, m.ConversionAnalytics]]) -> list[FunnelRow]:
    """(base id, name, analytics) per assistant -> rows sorted by conversion rate."""
    rows: list[FunnelRow] = []
    for base_id, name, data in results:
        if data.is_configured is not True:
            continue
        rows.append(
            {
                "base_id": base_id,
                "assistant": name,
                "eligible": data.eligible_conversations,
                "converting": data.converting_conversations,
                "rate": ratio(data.conversion_rate_pct, data.eligible_conversations),
                "value": finite(data.total_value),
            }
        )
    rows.sort(key=lambda r: r["rate"] or 0, reverse=True)
    return rows


def _given(model: m.Model | None) -> bool:
    """Whether the answer sent this object with something in it."""
    return model is not None and bool(model.model_fields_set or model.model_extra)


class ConversionsScreen(AnalyticsScreen):
    TITLE = "Conversions"
    CSS_PATH = ["analytics.tcss", "conversions.tcss"]

    def __init__(self) -> None:
        super().__init__()
        self.definitions: list[m.ConversionMetric] = []
        self.slug: str | None = None
        self.topline: dict[str, float | None] = {}  # of the metric shown, for the funnel note
        self.funnel: list[FunnelRow] = []

    def scope_of(self, filters: ConversationQuery) -> Hashable:
        return (filters, self.slug)

    def compose_body(self) -> ComposeResult:
        yield TitledTable(
            "Metrics — enter: show that metric",
            ("metric", "slug", "unit", "enabled", "last event"),
            id="metrics",
        )
        yield FigureText("", id="heartbeat", classes="analytics-warning")
        yield FigureText("", id="metric-title", classes="analytics-note")
        yield Kpis(id="kpis")
        yield TimeChart("Events and value", id="trend")
        yield PagedTable(
            "Events — enter: open the conversation",
            ("occurred at", "value", "conversation", "tags"),
            page_size=EVENTS_PAGE,
            id="events",
        )
        yield BarChart(
            "Conversion rate by assistant", value_label="rate %", pct_label="", id="funnel-chart"
        )
        yield TitledTable(
            "Funnel by assistant — enter: its eligible (AI-resolved) conversations",
            ("assistant", "eligible", "converting", "rate", "value"),
            id="funnel",
        )

    @property
    def unit(self) -> str:
        for d in self.definitions:
            if d.slug == self.slug:
                return clean(d.value_label) or ""
        return ""

    async def load(self, filters: ConversationQuery) -> None:
        await self.swr(conversions.metrics(self.project), self.paint_definitions)
        if self.slug is None:
            self.query_one("#metric-title", Static).update(
                "No conversion metric is defined for this project."
            )
            return
        await self.gather(self.load_metric(filters, 0), self.load_funnel(filters))

    def paint_definitions(self, definitions: list[m.ConversionMetric]) -> None:
        self.definitions = [d for d in definitions if clean(d.slug)]
        slugs = [d.slug for d in self.definitions]
        if self.slug not in slugs:
            self.slug = slugs[0] if slugs else None
        self.query_one("#metrics", TitledTable).set_rows(
            [
                (
                    str(d.slug),
                    [
                        plain(clean(d.name)),
                        plain(clean(d.slug)),
                        plain(clean(d.value_label)),
                        plain("yes" if d.enabled is not False else "no"),
                        plain(when(d.last_event_at)),
                    ],
                )
                for d in self.definitions
            ],
            empty_text="no conversion metric defined",
        )

    async def load_metric(self, filters: ConversationQuery, offset: int) -> None:
        if self.slug is None:
            return
        await self.swr(
            conversions.analytics(
                self.project, self.slug, filters, events_limit=EVENTS_PAGE, events_offset=offset
            ),
            self.paint_metric,
        )

    def paint_metric(self, data: m.ConversionAnalytics) -> None:
        title = self.query_one("#metric-title", Static)
        if data.is_configured is not True:
            title.update(f"Metric {self.slug!r} is not configured.")
            self.set_class(True, "-unconfigured")
            return
        self.set_class(False, "-unconfigured")
        definition = data.definition
        if definition is None or not _given(definition):
            listed = (d for d in self.definitions if d.slug == self.slug)
            definition = next(listed, m.ConversionMetric())
        unit = clean(definition.value_label) or self.unit
        slug = clean(self.slug)
        description = clean(definition.description)
        title.update(
            f"{clean(definition.name) or slug} ({slug}, values in {unit or '—'})"
            + (f" — {description}" if description else "")
        )
        warning = heartbeat_warning(definition, self.filters.end_date, self.now())
        heartbeat = self.query_one("#heartbeat", Static)
        heartbeat.update(warning or "")
        heartbeat.display = warning is not None
        self.query_one("#kpis", Kpis).set_items(metric_kpis(data, unit))
        self.topline = {
            "eligible": data.eligible_conversations,
            "converting": data.converting_conversations,
        }
        self._note_funnel()
        series = data.time_series
        trend = self.query_one("#trend", TimeChart)
        per = per_bucket(data.time_granularity)
        trend.set_title(f"Events, converting conversations and value per {per}")
        trend.set_series(
            bucket_labels((b.date for b in series), data.time_granularity),
            [
                Series("events", [b.event_count for b in series]),
                Series("converting", [b.converting_conversations for b in series]),
                Series(  # the unit (API text) never in the name: a table column label
                    "value",  # is parsed as markup by DataTable
                    [finite(b.total_value) for b in series],
                    unit=f" {unit}" if unit else "",
                    right=True,
                    digits=2,
                ),
            ],
            empty_text="no conversion events in this window",
            window=window_of(self.filters),
        )
        self.query_one("#events", PagedTable).set_page(
            event_rows(data.events),
            offset=data.events_offset or 0,
            total=data.total_events_filtered,
            empty_text="no events in this window",
        )

    async def load_funnel(self, filters: ConversationQuery) -> None:
        slug = self.slug
        if slug is None:
            return
        playbooks = await self.fetch(configuration.playbooks(self.project))
        latest = configuration.latest_versions(playbooks)

        async def one(base_id: str, name: str) -> tuple[str, str, m.ConversionAnalytics]:
            data = await self.fetch(
                conversions.analytics(
                    self.project, slug, filters, events_limit=1, playbook_base_id=base_id
                )
            )
            return base_id, name, data

        results = await self.gather(
            *(one(base, clean(pb.name) or base) for base, pb in latest.items())
        )
        self.paint_funnel(funnel_rows(results))

    def paint_funnel(self, rows: list[FunnelRow]) -> None:
        self.funnel = rows
        unit = self.unit
        self.query_one("#funnel-chart", BarChart).set_bars(
            [Bar(r["base_id"], r["assistant"], r["rate"]) for r in rows if r["rate"] is not None],
            empty_text="no conversions by any assistant in this window",
        )
        self.query_one("#funnel", TitledTable).set_rows(
            [
                (
                    r["base_id"],
                    [
                        plain(r["assistant"]),
                        number_cell(fmt_int(r["eligible"]) or "—"),
                        number_cell(fmt_int(r["converting"]) or "—"),
                        number_cell(fmt_rate(r["rate"], 2) or "—"),
                        number_cell(fmt_float(r["value"], 2, unit) or "—"),
                    ],
                )
                for r in rows
            ],
            empty_text="no assistant in this project",
        )
        self._note_funnel()

    def _note_funnel(self) -> None:
        """Say why the rows do not add up to the topline (eligible, converting)."""
        sums = []
        for name, values in (
            ("eligible", [r["eligible"] for r in self.funnel]),
            ("converting", [r["converting"] for r in self.funnel]),
        ):
            parts = [v for v in values if v is not None]
            topline = self.topline.get(name)
            if parts and topline is not None and sum(parts) != topline:
                sums.append(f"{name} {fmt_int(sum(parts))} vs {fmt_int(topline)}")
        note = None
        if sums:
            note = (
                f"The rows do not add up to the topline ({', '.join(sums)}): a conversation "
                "handled by several assistants counts under each (the assistant filter "
                "matches any participant)."
            )
        self.query_one("#funnel", TitledTable).set_note(note)

    def on_titled_table_selected(self, event: TitledTable.Selected) -> None:
        if event.table.id == "metrics":
            self.slug = event.key
            self.reload()
        elif event.table.id == "events":
            self.open_conversations([event.key], "conversion event")
        elif event.table.id == "funnel":
            self.drill_assistant(event.key)

    def on_bar_chart_selected(self, event: BarChart.Selected) -> None:
        self.drill_assistant(event.bar.key)

    def drill_assistant(self, base_id: str) -> None:
        """The conversations a funnel row counts: AI-resolved (eligible) ones of that
        assistant."""
        self.drill(playbook_base_id=base_id, has_handoff=False)

    def on_paged_table_page_requested(self, event: PagedTable.PageRequested) -> None:
        self.run_task(self.load_metric(self.filters, event.offset), "page")
