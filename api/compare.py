"""Two cohorts of conversations compared metric by metric, with honest uncertainty (issue 14).

A cohort is a saved view or a query in its text form (``handoff:yes sentiment:negative``);
both are counted over the same window. A count is the ``total`` of one list request with
``limit=1`` (the cohort's query narrowed by the metric's filter), or, for a cohort that
filters only on dates, assistant, version, inbox and tags, a value of the aggregate metrics'
distributions (one request for every signal). All requests are sent at once, through the
client's cache. Nothing downloads conversations.

Each share has the base the Quality signals screen uses (screens/analytics/signals.py):

- deflection rate: conversations without a handoff, of the cohort's conversations;
- sentiment, sentiment shift, recontact risk: of the scored conversations (those with a
  sentiment label: every signal is null on an unscored conversation);
- resources: of the scored conversations with tool use (those with a resources label);
- deflection quality: of the scored AI-resolved ones (a label, no handoff);
- handoff reason: of the scored handoffs (a label, a handoff).

A cohort that already filters a dimension is intersected with the metric's filter (the
share of ``sentiment:positive`` in a ``sentiment:negative`` cohort is 0, asked of no one).
Average messages comes from the conversation analytics, which filter by dates, version,
assistant and tags only: for a cohort with other filters it is left out and said so.

Each difference is B - A in percentage points with Newcombe's hybrid score interval
(``api.stats``); the multiple-comparison note adjusts the p-values of every metric with a
defined difference by Holm's method.
"""
from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api import labels
from api.errors import BadResponseError, ConfigError
from api.query import ConversationQuery, QueryError
from api.text import one_line

if TYPE_CHECKING:
    from api.client import StudioClient
    from api.models import AggregateMetrics

__all__ = [
    "ALPHA",
    "AVERAGE_FIELDS",
    "Cohort",
    "CompareError",
    "Comparison",
    "Metric",
    "MetricSpec",
    "METRICS",
    "Side",
    "cohort_from",
    "compare",
    "count_queries",
    "metric_of",
    "same_window",
]

ALPHA = 0.05  # the family-wise error rate of the multiple-comparison note
LABEL_CHARS = 80  # of a cohort's label (a view name or the query typed)
# the filters the conversation analytics (average messages) apply
AVERAGE_FIELDS = ("start_date", "end_date", "playbook_id", "playbook_base_id", "tags")
_NO_COUNT = ("sort_by", "sort_order")  # change the order, never the total
# what the aggregate metrics filter by (with tags): a cohort of these takes its signals there
AGGREGATE_ONLY = ("start_date", "end_date", "playbook_id", "playbook_base_id", "inbox_id")


class CompareError(ValueError):
    """A cohort or window that cannot be compared; ``str()`` is one line."""


@dataclass(frozen=True)
class Cohort:
    label: str  # what the user typed: a view name or the query text
    query: ConversationQuery


def cohort_from(text_or_view: str, config_file: Path, now: datetime) -> Cohort:
    """The saved view of that name (its window resolved at ``now``), else the query of that
    text form. ``CompareError`` when it is neither, naming the known views."""
    from api.views import UnknownView, ViewError, get_view

    label = one_line(text_or_view, LABEL_CHARS)
    try:
        view = get_view(config_file, text_or_view)
    except UnknownView as unknown:
        try:
            query = ConversationQuery.from_text(text_or_view)
        except QueryError as exc:
            raise CompareError(f"{label!r} is not a query ({exc}) and {unknown}") from None
        if query.search is not None and "search:" not in text_or_view:
            # a bare word is a search of ids to the query parser: here most likely a typo
            raise CompareError(f"{unknown}; to search ids write search:{query.search}") \
                from None
        return Cohort(label, _countable(query, label))
    except (ViewError, ConfigError) as exc:
        raise CompareError(str(exc)) from None
    return Cohort(label, _countable(view.resolve(now), label))


def _countable(query: ConversationQuery, label: str) -> ConversationQuery:
    if query.conversation_ids:
        raise CompareError(f"{label!r}: ids: the list endpoint cannot filter by id")
    return query.replace(**dict.fromkeys(_NO_COUNT))


def same_window(a: Cohort, b: Cohort, start: str | None = None, end: str | None = None
                ) -> tuple[Cohort, Cohort]:
    """Both cohorts over one window: ``start``/``end`` replace their dates; otherwise the
    dates one of them has (a view's window) apply to both. ``CompareError`` for a bad date,
    an end before the start, or two different windows."""
    try:
        given = ConversationQuery.build(start_date=start, end_date=end)
    except QueryError as exc:
        raise CompareError(_date_error(exc)) from None
    dated = [c.query for c in (a, b) if c.query.start_date or c.query.end_date]
    window = (given.start_date, given.end_date)
    if start is None and end is None and dated:
        windows = {(q.start_date, q.end_date) for q in dated}
        if len(windows) > 1:
            raise CompareError(f"{a.label!r} and {b.label!r} cover different dates: give "
                               "--start and --end")
        window = windows.pop()
    elif start is None or end is None:  # one date given: the other from the cohorts, if any
        other = {(q.end_date if start else q.start_date) for q in dated}
        kept = other.pop() if len(other) == 1 else None
        window = (start and given.start_date, kept) if start else (kept, given.end_date)
    try:
        return tuple(Cohort(c.label, c.query.replace(start_date=window[0], end_date=window[1]))
                     for c in (a, b))  # type: ignore[return-value]
    except QueryError as exc:
        raise CompareError(_date_error(exc)) from None


def _date_error(exc: QueryError) -> str:
    flags = {"start_date": "--start", "end_date": "--end"}
    message = exc.message.replace(exc.other, flags[exc.other]) if exc.other in flags \
        else exc.message
    return f"{flags.get(exc.field, exc.field)}: {message}"


# ------------------------------------------------------------------------ metrics
@dataclass(frozen=True)
class MetricSpec:
    name: str
    count: Mapping[str, Any]  # query fields narrowing the cohort to the metric's count
    base: Mapping[str, Any]  # ... to its base ({}: every conversation of the cohort)


def _signal_base(field: str) -> dict[str, Any]:
    if field in ("sentiment", "sentiment_shift", "recontact_risk"):
        return {"sentiment": labels.SENTIMENT}  # scored
    extra: dict[str, Any] = {"deflection_quality": {"has_handoff": False},
                             "handoff_reason": {"has_handoff": True}}.get(field, {})
    return {field: labels.LABEL_FIELDS[field], **extra}


def _metrics() -> tuple[MetricSpec, ...]:
    specs = [MetricSpec("deflection rate", {"has_handoff": False}, {})]
    for field, _, _ in labels.SIGNALS:
        base = _signal_base(field)
        extra = {k: v for k, v in base.items() if k not in labels.LABEL_FIELDS}
        specs += [MetricSpec(f"{field}:{label}", {field: (label,), **extra}, base)
                  for label in labels.LABEL_FIELDS[field]]
    return tuple(specs)


METRICS: tuple[MetricSpec, ...] = _metrics()


def _narrow(query: ConversationQuery, changes: Mapping[str, Any]) -> ConversationQuery | None:
    """``query`` AND ``changes``; None when nothing can match both (``sentiment:negative``
    and ``sentiment:positive``, ``handoff:yes`` and ``handoff:no``)."""
    values: dict[str, Any] = {}
    for name, wanted in changes.items():
        have = getattr(query, name)
        if name in labels.LABEL_FIELDS:
            wanted = tuple(v for v in have if v in wanted) if have else tuple(wanted)
            if not wanted:
                return None
        elif have is not None and have != wanted:
            return None
        values[name] = wanted
    return query.replace(**values) if values else query


def metric_query(cohort: Cohort, metric: str) -> ConversationQuery | None:
    """The conversations of ``cohort`` that ``metric`` counts (None: it counts none)."""
    spec = next((s for s in METRICS if s.name == metric), None)
    return _narrow(cohort.query, spec.count) if spec is not None else None


def by_aggregate(query: ConversationQuery) -> bool:
    """Whether the signal counts of ``query`` can come from the aggregate metrics: one
    request instead of one per label, when it filters only on what that endpoint filters
    and has the window it requires (every date: one count per label instead)."""
    return bool(query.start_date and query.end_date) and \
        query.replace(**{f: None for f in AGGREGATE_ONLY}, tags=()) == ConversationQuery()


def count_queries(cohort: Cohort) -> list[ConversationQuery]:
    """Every distinct query whose total ``compare`` asks for this cohort."""
    found = {cohort.query: None}
    for spec in METRICS[:1] if by_aggregate(cohort.query) else METRICS:
        for changes in (spec.count, spec.base):
            query = _narrow(cohort.query, changes)
            if query is not None:
                found[query] = None
    return list(found)


# ------------------------------------------------------------------------ result
@dataclass(frozen=True)
class Side:
    count: int
    base: int

    @property
    def pct(self) -> float | None:
        return round(100 * self.count / self.base, 2) if self.base else None

    def to_json(self) -> dict[str, Any]:
        return {"count": self.count, "base": self.base, "pct": self.pct}


@dataclass(frozen=True)
class Metric:
    name: str
    a: Side
    b: Side
    delta_pp: float | None  # B - A, rounded as api.stats.Diff.pp; None when a base is 0
    ci95_pp: tuple[float, float] | None
    significant: bool
    p_value: float | None  # two-sided, of the difference; None when a base is 0

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.name,
            "a": self.a.to_json(),
            "b": self.b.to_json(),
            "delta_pp": self.delta_pp,
            "ci95_pp": list(self.ci95_pp) if self.ci95_pp else None,
            "significant": self.significant,
        }


@dataclass(frozen=True)
class Comparison:
    a: Cohort
    b: Cohort
    conversations: tuple[int, int]
    metrics: tuple[Metric, ...]
    adjusted: tuple[float | None, ...]  # Holm-adjusted p-value of each metric
    averages: tuple[float | None, float | None]  # messages per conversation
    averages_note: str | None  # why they are missing, when they are

    @property
    def start(self) -> str | None:
        return self.a.query.start_date

    @property
    def end(self) -> str | None:
        return self.a.query.end_date

    @property
    def tested(self) -> int:
        return sum(p is not None for p in self.adjusted)

    @property
    def significant_after(self) -> int:
        return sum(p is not None and p < ALPHA for p in self.adjusted)

    @property
    def holm_kept(self) -> tuple[bool, ...]:
        """Per metric: marked significant, and still so after Holm's correction (``**``)."""
        return tuple(m.significant and p is not None and p < ALPHA
                     for m, p in zip(self.metrics, self.adjusted, strict=True))

    def multiple_comparisons_note(self) -> str:
        """One line: how many of the differences marked significant on their own survive
        Holm's correction for reading every metric at once."""
        marked = sum(m.significant for m in self.metrics)
        return (f"Holm over {self.tested} metrics: {self.significant_after} of {marked} "
                f"marked significant stay so at {ALPHA:.0%} family-wise")

    def to_json(self) -> dict[str, Any]:
        avg_a, avg_b = self.averages
        return {
            "a": _cohort_json(self.a, self.conversations[0]),
            "b": _cohort_json(self.b, self.conversations[1]),
            "window": {"start": self.start, "end": self.end},
            "metrics": [m.to_json() for m in self.metrics],
            "multiple_comparisons": {"method": "holm", "alpha": ALPHA,
                                     "significant_after": self.significant_after,
                                     "tested": self.tested},
            "average_messages": {
                "a": _round(avg_a), "b": _round(avg_b),
                "delta": _round(avg_b - avg_a if avg_a is not None and avg_b is not None
                                else None),
                "source": "conversation analytics" if self.averages_note is None else None,
                "note": self.averages_note,
            },
        }


def _cohort_json(cohort: Cohort, conversations: int) -> dict[str, Any]:
    return {"label": cohort.label, "query": cohort.query.to_text(),
            "conversations": conversations}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# ------------------------------------------------------------------------ computing
async def compare(client: StudioClient, project: str, a: Cohort, b: Cohort,
                  start: str | None = None, end: str | None = None, *,
                  own_windows: bool = False) -> Comparison:
    """Every metric for both cohorts over one window (``same_window``; with
    ``own_windows`` each keeps its own dates, as before and after a deployment): one list
    request with ``limit=1`` per distinct count, all at once, and one analytics request per
    cohort when its filters allow an average."""
    from api.endpoints import analytics, conversations

    if not own_windows:
        a, b = same_window(a, b, start, end)
    queries = list(dict.fromkeys([*count_queries(a), *count_queries(b)]))

    async def total(query: ConversationQuery) -> int:
        endpoint = conversations.rows(project, query, limit=1)
        page = await client.load(endpoint)
        if page.total is None:
            raise BadResponseError(f"{endpoint} answered without a total")
        return page.total

    async def average(query: ConversationQuery) -> float | None:
        data = await client.load(analytics.conversation_analytics(project, query))
        return data.avg_messages_per_conversation

    async def averages_of() -> list[float | None]:
        return list(await asyncio.gather(average(a.query), average(b.query)))

    async def distributions(cohort: Cohort) -> AggregateMetrics | None:
        if not by_aggregate(cohort.query):
            return None
        return await client.load(analytics.aggregate_metrics(project, cohort.query))

    note = _average_note(a, b)
    counts, avgs, dist_a, dist_b = await asyncio.gather(
        asyncio.gather(*(total(q) for q in queries)),
        averages_of() if note is None else _nothing(), distributions(a), distributions(b))
    totals = dict(zip(queries, counts, strict=True))
    averages = (avgs[0], avgs[1]) if avgs else (None, None)
    aggregates = {id(a): dist_a, id(b): dist_b}

    def side(cohort: Cohort, spec: MetricSpec) -> Side:
        found = aggregates[id(cohort)]
        if found is not None and spec is not METRICS[0]:
            return _aggregate_side(found, spec)
        base = _narrow(cohort.query, spec.base)
        count = _narrow(cohort.query, spec.count)
        return Side(totals[count] if count is not None else 0,
                    totals[base] if base is not None else 0)

    metrics = tuple(metric_of(spec.name, side(a, spec), side(b, spec)) for spec in METRICS)
    return Comparison(a, b, (totals[a.query], totals[b.query]), metrics, holm_adjusted(metrics),
                      averages, note)


def holm_adjusted(metrics: tuple[Metric, ...]) -> tuple[float | None, ...]:
    """Each metric's p-value adjusted by Holm over every metric with a defined difference
    (None for the others)."""
    from api.stats import holm

    tested = iter(holm([m.p_value for m in metrics if m.p_value is not None]))
    return tuple(next(tested) if m.p_value is not None else None for m in metrics)


def _aggregate_side(found: AggregateMetrics, spec: MetricSpec) -> Side:
    """A signal's count and base from the distributions: the base is the distribution of the
    field that defines it (sentiment for the scored conversations)."""
    field, _, label = spec.name.partition(":")
    base_field = next(f for f in spec.base if f in labels.LABEL_FIELDS)

    def distribution(name: str) -> Mapping[str, float]:
        return getattr(found, f"{name}_distribution") or {}

    base = sum(int(distribution(base_field).get(v, 0)) for v in labels.LABEL_FIELDS[base_field])
    return Side(int(distribution(field).get(label, 0)), base)


def metric_of(name: str, a: Side, b: Side) -> Metric:
    """The difference B - A of two shares with its 95% interval and p-value."""
    from api.stats import diff_p_value, newcombe_diff

    diff = newcombe_diff(b.count, b.base, a.count, a.base)
    delta, low, high = diff.pp()
    defined = delta is not None
    return Metric(name, a, b, delta, (low, high) if defined else None, diff.significant,
                  diff_p_value(b.count, b.base, a.count, a.base) if defined else None)


async def _nothing() -> list[float | None]:
    return []


def _average_note(a: Cohort, b: Cohort) -> str | None:
    """Why average messages cannot be had from the conversation analytics; None if it can."""
    if not (a.query.start_date and a.query.end_date):
        return "average messages: the analytics endpoint needs a window (--start and --end)"
    for cohort in (a, b):
        other = [name for name, value in cohort.query._asdict().items()
                 if name not in AVERAGE_FIELDS and value not in (None, ())]
        if other:
            return (f"average messages: not for {cohort.label!r} (the analytics endpoint "
                    f"filters by dates, version, assistant and tags only, not {other[0]})")
    return None
