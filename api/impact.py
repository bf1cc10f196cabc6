"""Deployment impact (issue 14): for each deployment of an assistant, the metrics of
``api.compare`` in the N days before against the N days after, with the same intervals.

- The deployments are the assistant's active-version history (``/playbooks/{base}/active/
  history``), oldest first; a rollback is a deployment like any other.
- The cohort is ``assistant:<base id>`` (every version of it) over each window, so the two
  sides differ by what was deployed, not by which version a router picked.
- Windows: before is ``[t - N days, t - 1 s]``, after is ``[t, t + N days]``; the list
  endpoint's dates include both ends, and the second between them keeps a conversation from
  counting on both sides. Before never reaches past the previous deployment, after stops a
  second before the next one and at ``now``; a clipped window says why. The list endpoint
  windows by last message: a conversation that ended after the deployment counts as after.
- CSAT, when the project has it configured: positive ratings (4-5) of the rated
  conversations of each window, compared like the other shares.
- Holm's adjustment is per deployment, over its metrics with CSAT.
"""
from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from api.compare import Cohort, Comparison, Metric, Side, compare, holm_adjusted, metric_of
from api.dates import ISO, parse_ts
from api.lookups import Assistant, assistants_of
from api.query import ConversationQuery
from api.text import one_line

if TYPE_CHECKING:
    from api import models as m
    from api.client import StudioClient

__all__ = [
    "CSAT_METRIC",
    "DEFAULT_DAYS",
    "MAX_DAYS",
    "DeploymentImpact",
    "Impact",
    "ImpactError",
    "Window",
    "deployment_windows",
    "find_assistant",
    "impact",
    "load_assistants",
]

DEFAULT_DAYS = 7
MAX_DAYS = 365
CSAT_METRIC = "csat:positive"
NAME_CHARS = 60  # of an assistant's name in an error message
_SECOND = timedelta(seconds=1)


class ImpactError(ValueError):
    """An assistant that is not there; ``str()`` is one line naming the known ones."""


@dataclass(frozen=True)
class Window:
    start: str
    end: str
    clipped: str | None = None  # why it is shorter than the days asked for

    def to_json(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end}


@dataclass(frozen=True)
class Activation:
    at: datetime
    version: int | None
    by: str | None


@dataclass(frozen=True)
class DeploymentImpact:
    version: int | None
    deployed_at: str
    activated_by: str | None
    before: Window | None  # None: no time on that side (a deployment after ``now``)
    after: Window | None
    comparison: Comparison | None  # A = before, B = after; CSAT last when configured

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return self.comparison.metrics if self.comparison else ()

    @property
    def average_messages(self) -> tuple[float | None, float | None]:
        """Messages per conversation before and after (None for a side without any)."""
        if self.comparison is None:
            return None, None
        found = zip(self.comparison.averages, self.comparison.conversations, strict=True)
        averages = [None if count == 0 or avg is None else round(avg, 2)
                    for avg, count in found]
        return averages[0], averages[1]

    def to_json(self) -> dict[str, Any]:
        result = self.comparison
        return {
            "version": self.version,
            "deployed_at": self.deployed_at,
            "before": self.before.to_json() if self.before else None,
            "after": self.after.to_json() if self.after else None,
            "metrics": [metric.to_json() for metric in self.metrics],
            "activated_by": self.activated_by,
            "clipped": {"before": self.before.clipped if self.before else None,
                        "after": self.after.clipped if self.after else None},
            "conversations": {"before": result.conversations[0] if result else 0,
                              "after": result.conversations[1] if result else 0},
            "average_messages": dict(zip(("before", "after"), self.average_messages,
                                         strict=True)),
            "multiple_comparisons": None if result is None else {
                "method": "holm", "tested": result.tested,
                "significant_after": result.significant_after},
        }


@dataclass(frozen=True)
class Impact:
    assistant: Assistant
    days: int
    deployments: tuple[DeploymentImpact, ...]  # oldest first
    csat_configured: bool

    def to_json(self) -> list[dict[str, Any]]:
        return [deployment.to_json() for deployment in self.deployments]


# ------------------------------------------------------------------------ assistants
async def load_assistants(client: StudioClient, project: str) -> list[m.Playbook]:
    """Every version of every assistant, deleted ones too (a past deployment is history)."""
    from api.endpoints import configuration

    return await client.load(configuration.playbooks(project, versions=True, deleted=True))


def find_assistant(playbooks: list[m.Playbook], text: str) -> Assistant:
    """The assistant whose base id is ``text``, else whose name is (any version's, case
    ignored). ``ImpactError`` naming the known assistants when none or several match."""
    from api.text import sanitize

    assistants, _ = assistants_of(playbooks)
    by_id = {a.base_id: a for a in assistants}
    if text in by_id:
        return by_id[text]
    wanted = text.strip().casefold()
    found = {a.base_id for a in assistants if a.name.casefold() == wanted}
    if not found:  # an older version's name
        found = {pb.base_id for pb in playbooks
                 if pb.base_id in by_id and sanitize(pb.name or "").casefold() == wanted}
    if len(found) == 1:
        return by_id[found.pop()]
    known = ", ".join(f"{one_line(a.name, NAME_CHARS)} ({a.base_id})" for a in assistants)
    shown = one_line(text, NAME_CHARS)
    if found:
        raise ImpactError(f"{shown!r} names several assistants: give a base id ({known})")
    raise ImpactError(f"unknown assistant {shown!r}; known: {known or 'none'}")


# ------------------------------------------------------------------------ windows
def _activations(history: m.ActiveHistory) -> list[Activation]:
    found = []
    for item in history.items:
        at = parse_ts(item.activated_at)
        if at is not None:  # a deployment without a time has no before or after
            found.append(Activation(at.replace(microsecond=0), item.version_number,
                                    item.activated_by))
    return sorted(found, key=lambda a: a.at)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime(ISO)


def _window(start: datetime, end: datetime, clipped: str | None) -> Window | None:
    return Window(_iso(start), _iso(end), clipped) if end > start else None


def _label(activation: Activation) -> str:
    version = f"v{activation.version}" if activation.version is not None else "a version"
    return f"{version} at {_iso(activation.at)}"


def deployment_windows(times: list[Activation], days: int, now: datetime
                       ) -> list[tuple[Window | None, Window | None]]:
    """(before, after) of each activation (``times`` oldest first): ``days`` either side,
    clipped at the neighbouring deployments and at ``now``."""
    span = timedelta(days=days)
    out: list[tuple[Window | None, Window | None]] = []
    for i, act in enumerate(times):
        start, end = act.at - span, min(act.at - _SECOND, now)
        why = None
        if i > 0 and times[i - 1].at > start:
            start, why = times[i - 1].at, f"from the previous deployment, {_label(times[i - 1])}"
        before = _window(start, end, why)
        start, end, why = act.at, act.at + span, None
        if i + 1 < len(times) and times[i + 1].at - _SECOND < end:
            end, why = times[i + 1].at - _SECOND, \
                f"until the next deployment, {_label(times[i + 1])}"
        if now < end:
            end, why = now, "until now"
        out.append((before, _window(start, end, why)))
    return out


# ------------------------------------------------------------------------ computing
async def impact(client: StudioClient, project: str, assistant: Assistant, *,
                 days: int = DEFAULT_DAYS, now: datetime) -> Impact:
    """Every deployment of ``assistant``: its windows, the compare metrics before against
    after and CSAT where configured. All deployments are counted at once."""
    from api.endpoints import configuration

    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days {days}: need 1 to {MAX_DAYS}")
    history = await client.load(configuration.playbook_active_history(assistant.base_id))
    times = _activations(history)
    windows = deployment_windows(times, days, now)
    results = await asyncio.gather(*(
        _deployment(client, project, assistant, before, after)
        for before, after in windows))
    deployments = tuple(
        DeploymentImpact(act.version, _iso(act.at), act.by, before, after, result)
        for act, (before, after), (result, _) in zip(times, windows, results, strict=True))
    return Impact(assistant, days, deployments, any(csat for _, csat in results))


def _cohort(assistant: Assistant, side: str, window: Window) -> Cohort:
    query = ConversationQuery.build(playbook_base_id=assistant.base_id,
                                    start_date=window.start, end_date=window.end)
    return Cohort(f"{one_line(assistant.name, NAME_CHARS)} {side}", query)


async def _deployment(client: StudioClient, project: str, assistant: Assistant,
                      before: Window | None, after: Window | None
                      ) -> tuple[Comparison | None, bool]:
    """The comparison of one deployment (None without time on a side) and whether CSAT is
    configured."""
    if before is None or after is None:
        return None, False
    a, b = _cohort(assistant, "before", before), _cohort(assistant, "after", after)
    result, csat_a, csat_b = await asyncio.gather(
        compare(client, project, a, b, own_windows=True), _csat(client, project, a),
        _csat(client, project, b))
    if csat_a is None or csat_b is None:
        return result, False
    metrics = (*result.metrics, metric_of(CSAT_METRIC, csat_a, csat_b))
    return dataclasses.replace(result, metrics=metrics, adjusted=holm_adjusted(metrics)), True


async def _csat(client: StudioClient, project: str, cohort: Cohort) -> Side | None:
    """Positive ratings of the rated conversations; None when CSAT is not configured."""
    from api.endpoints import analytics

    data = await client.load(analytics.csat(project, cohort.query, ratings_limit=1))
    if not data.is_configured:
        return None
    return Side(data.positive_count or 0, data.total_rated or 0)
