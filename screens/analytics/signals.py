"""Quality signals: coverage and the six signal distributions, each bar drillable.

Aggregate metrics (``api.endpoints.analytics``; singular ``playbook_base_id``).
Each percentage is of the scored conversations its chart names: every scored one for sentiment,
shift and recontact risk (as the brief's recipes compute them), and only those the signal
applies to for the others (handoff reasons of scored handoffs, deflection quality of scored
AI-resolved conversations, resources of scored conversations that used tools).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid

from api import labels
from api import models as m
from api.endpoints import analytics
from api.query import ConversationQuery
from api.text import sanitize
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import finite, fmt_int, fmt_rate, ratio, share
from widgets.charts import Bar, BarChart, Kpis

# (distribution key, query field, title, extra filter that the signal implies, base): the base
# of the percentages is every scored conversation, or only those the signal applies to (the
# sum of its distribution: a deflection quality only without handoff, a handoff reason only
# with one, a resources label only when tools were used)
SIGNALS: tuple[tuple[str, str, str, dict[str, Any], str | None], ...] = (
    ("sentiment_distribution", "sentiment", "Sentiment", {}, None),
    ("resources_distribution", "resources", "Resources", {}, "scored with tool use"),
    ("sentiment_shift_distribution", "sentiment_shift", "Sentiment shift", {}, None),
    (
        "deflection_quality_distribution",
        "deflection_quality",
        "Deflection quality",
        {"has_handoff": False},
        "scored AI-resolved",
    ),
    (
        "handoff_reason_distribution",
        "handoff_reason",
        "Handoff reason",
        {"has_handoff": True},
        "scored handoffs",
    ),
    ("recontact_risk_distribution", "recontact_risk", "Recontact risk", {}, None),
)
PCT_LABELS = {
    None: "% scored",
    "scored with tool use": "% w/ tools",
    "scored AI-resolved": "% AI-res.",
    "scored handoffs": "% handoffs",
}
# the order the recipes print (sentiment: positive first)
ORDER = {**labels.LABEL_FIELDS, "sentiment": ("positive", "neutral", "negative")}


Distribution = Mapping[str, float | None]


def distribution(data: m.AggregateMetrics, key: str) -> Distribution | None:
    """The distribution ``key`` of an answer; None when the answer left it out."""
    value: Distribution = getattr(data, key)
    return value if key in data.model_fields_set else None


def distribution_total(dist: Distribution | None) -> float | None:
    """The sum of a distribution's counts (the conversations it covers); None if absent."""
    if dist is None:
        return None
    return sum(v for v in (finite(x) for x in dist.values()) if v is not None)


def distribution_bars(
    dist: Distribution | None, field: str, scored: float | None
) -> list[Bar] | None:
    """Bars in the documented order, then any unknown label as sent, each as a percentage of
    ``scored`` (the base the caller chose); None if absent."""
    if dist is None:
        return None
    known = ORDER[field]
    order = [*known, *(k for k in dist if k not in known)]
    bars = []
    for label in order:
        value = finite(dist.get(label, 0))
        if value is None:
            continue
        bars.append(Bar(key=str(label), label=str(label), value=value, pct=share(value, scored)))
    return bars


class SignalsScreen(AnalyticsScreen):
    TITLE = "Quality signals"
    SUBTITLE = (
        "Each percentage is of the scored conversations its chart names"
        " · enter on a bar's row: its conversations"
    )
    CSS_PATH = ["analytics.tcss", "signals.tcss"]

    def compose_body(self) -> ComposeResult:
        yield Kpis(id="coverage")
        with Grid(id="signals"):
            for key, field, title, _, base in SIGNALS:
                yield BarChart(title, pct_label=PCT_LABELS[base], id=field, classes=key)

    async def load(self, filters: ConversationQuery) -> None:
        await self.swr(analytics.aggregate_metrics(self.project, filters), self.paint)

    def paint(self, data: m.AggregateMetrics) -> None:
        scored = data.total_scored_conversations
        total = data.total_conversations
        unscored = None if scored is None or total is None else total - scored
        self.query_one("#coverage", Kpis).set_items(
            [
                ("Scored", fmt_int(scored)),
                ("Conversations", fmt_int(total)),
                ("Coverage", fmt_rate(ratio(data.coverage_percentage, total))),
                ("Unscored", fmt_int(unscored)),
            ]
        )
        for key, field, title, _, base in SIGNALS:
            dist = distribution(data, key)
            count = scored if base is None else distribution_total(dist)
            chart = self.query_one(f"#{field}", BarChart)
            chart.set_title(f"{title}, % of {fmt_int(count) or '—'} {base or 'scored'}")
            empty = (
                "no scored conversations in this window" if not scored else "no data in this window"
            )
            chart.set_bars(distribution_bars(dist, field, count), empty_text=empty)

    def on_bar_chart_selected(self, event: BarChart.Selected) -> None:
        field = event.chart.id or ""
        extra = next((x for _, f, _, x, _ in SIGNALS if f == field), {})
        if event.bar.key not in labels.LABEL_FIELDS.get(field, ()):
            self.notify(
                f"{sanitize(event.bar.key)!r} is not a known {field} value: cannot filter on it",
                severity="warning",
                markup=False,
            )
            return
        self.drill(**{field: (event.bar.key,)}, **extra)
