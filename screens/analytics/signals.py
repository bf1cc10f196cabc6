"""Quality signals: coverage and the six signal distributions, each bar drillable.

``/projects/{pid}/conversations/metrics/aggregate`` (singular ``playbook_base_id``).
Percentages are of *scored* conversations, as the brief's recipes compute them.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Grid

from api import labels
from api.query import ConversationQuery
from api.text import sanitize
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import fmt_int, fmt_pct, num, obj, rate, share
from widgets.charts import Bar, BarChart, Kpis

# (distribution key, query field, title, extra filter that the signal implies)
SIGNALS: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("sentiment_distribution", "sentiment", "Sentiment", {}),
    ("resources_distribution", "resources", "Resources", {}),
    ("sentiment_shift_distribution", "sentiment_shift", "Sentiment shift", {}),
    (
        "deflection_quality_distribution",
        "deflection_quality",
        "Deflection quality (AI-resolved)",
        {"has_handoff": False},
    ),
    (
        "handoff_reason_distribution",
        "handoff_reason",
        "Handoff reason (handoffs)",
        {"has_handoff": True},
    ),
    ("recontact_risk_distribution", "recontact_risk", "Recontact risk", {}),
)
# the order the recipes print (sentiment: positive first)
ORDER = {**labels.LABEL_FIELDS, "sentiment": ("positive", "neutral", "negative")}


def distribution_bars(dist: Any, field: str, scored: float | None) -> list[Bar] | None:
    """Bars in the documented order, then any unknown label as sent; None if absent."""
    if not isinstance(dist, dict):
        return None
    known = ORDER[field]
    order = [*known, *(k for k in dist if k not in known)]
    bars = []
    for label in order:
        value = dist.get(label, 0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        bars.append(Bar(key=str(label), label=str(label), value=value, pct=share(value, scored)))
    return bars


class SignalsScreen(AnalyticsScreen):
    TITLE = "Quality signals"
    SUBTITLE = "Percentages are of scored conversations · enter on a bar's row: its conversations"
    CSS_PATH = ["analytics.tcss", "signals.tcss"]

    def compose_body(self) -> ComposeResult:
        yield Kpis(id="coverage")
        with Grid(id="signals"):
            for key, field, title, _ in SIGNALS:
                yield BarChart(title, pct_label="% scored", id=field, classes=key)

    async def load(self, filters: ConversationQuery) -> None:
        await self.swr(
            f"/projects/{self.pid}/conversations/metrics/aggregate",
            filters.aggregate_params(),
            self.paint,
        )

    def paint(self, data: Any) -> None:
        data = obj(data)
        scored = num(data, "total_scored_conversations")
        total = num(data, "total_conversations")
        unscored = None if scored is None or total is None else total - scored
        self.query_one("#coverage", Kpis).set_items(
            [
                ("Scored", fmt_int(scored)),
                ("Conversations", fmt_int(total)),
                ("Coverage", fmt_pct(rate(data, "coverage_percentage", "total_conversations"))),
                ("Unscored", fmt_int(unscored)),
            ]
        )
        for key, field, _, _ in SIGNALS:
            empty = (
                "no scored conversations in this window" if not scored else "no data in this window"
            )
            self.query_one(f"#{field}", BarChart).set_bars(
                distribution_bars(data.get(key), field, scored), empty_text=empty
            )

    def on_bar_chart_selected(self, event: BarChart.Selected) -> None:
        field = event.chart.id or ""
        extra = next((x for _, f, _, x in SIGNALS if f == field), {})
        if event.bar.key not in labels.LABEL_FIELDS.get(field, ()):
            self.notify(
                f"{sanitize(event.bar.key)!r} is not a known {field} value: cannot filter on it",
                severity="warning",
                markup=False,
            )
            return
        self.drill(**{field: (event.bar.key,)}, **extra)
