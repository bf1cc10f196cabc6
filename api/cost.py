"""What conversations cost, from the token usage their messages carry (issue 14).

``cost_usd`` (with ``input_tokens``, ``output_tokens`` ...) in an assistant message's
``metadata`` is optional in the API (/work/shared/reference/CONTRACT.md): it is read when
present, never assumed. The ids of a window come from the list endpoint; the messages from the
batch endpoint (50 ids a call, in parallel), for every conversation of the window or for a
seeded uniform sample of its ids.

A conversation's cost is the sum of its assistant messages' ``cost_usd``. It is known only when
every assistant message carries one: a conversation where none does is counted apart
("without cost data"), one where only some do is counted apart too ("partial cost data": its
sum would understate it), and neither ever counts as $0.

Figures, over the conversations with cost data:

- per conversation: the mean cost;
- per AI-resolved conversation: the mean cost of those without a handoff;
- per resolution: all the cost divided by the AI-resolved conversations (handed-off
  conversations cost too, and a resolution pays for them);
- per assistant version: the cost of the messages that version wrote, per conversation it
  took part in (a transferred conversation counts for each of its versions);
- per model: the same over the versions running that model, each version's model read from
  the playbooks endpoint (one request; a version it does not list is "unknown model").

Over the whole window these are exact. Over a sample each mean comes with a 95% percentile
bootstrap interval (``RESAMPLES`` resamples of the sampled conversations, seeded): no finite
population correction, so it is a little wider than it need be.
"""
from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from api.text import one_line

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from api.client import StudioClient
    from api.query import ConversationQuery

__all__ = [
    "CONFIDENCE",
    "RESAMPLES",
    "ConversationCost",
    "CostProgress",
    "CostReport",
    "Estimate",
    "VersionCost",
    "ModelRow",
    "VersionRow",
    "bootstrap_ratio",
    "collect_costs",
    "conversation_cost",
    "sample_ids",
    "summarize",
]

CONFIDENCE = 0.95
RESAMPLES = 2000  # bootstrap resamples: percentiles stable to a few tenths of a percent
NAME_CHARS = 60  # of an assistant's name as shown
DIGITS = 6  # of a dollar figure in JSON (the API's own precision of cost_usd)
MODELS_FAILED = "models unknown: the playbooks endpoint did not answer"
LIST_PAGE = 100  # conversations per list page (the API's largest)

Status = Literal["complete", "partial", "none"]


# ------------------------------------------------------------------------ one conversation
@dataclass(frozen=True)
class VersionCost:
    """The messages one assistant version wrote in one conversation."""

    version_id: str
    assistant: str  # its name, made safe to show
    number: int | None
    cost: float


@dataclass(frozen=True)
class ConversationCost:
    conversation_id: str
    resolved: bool | None  # AI-resolved: no handoff (None: the API did not say)
    status: Status  # every assistant message with a cost, some, or none
    cost: float | None  # None unless ``status`` is "complete"
    versions: tuple[VersionCost, ...]  # empty unless ``status`` is "complete"


def _cost_of(metadata: Any) -> float | None:
    value = metadata.get("cost_usd") if isinstance(metadata, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) and value >= 0 else None  # anything else: unknown


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def conversation_cost(detail: dict[str, Any]) -> ConversationCost:
    """The cost of one conversation of the batch endpoint (its JSON object)."""
    messages = detail.get("messages")
    replies = [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"] \
        if isinstance(messages, list) else []
    costs = [_cost_of(m.get("metadata")) for m in replies]
    known = sum(c is not None for c in costs)
    status: Status = "none" if known == 0 else "complete" if known == len(costs) else "partial"
    handoff = detail.get("has_handoff")
    resolved = (not handoff) if isinstance(handoff, bool) else None
    cid = str(detail.get("conversation_id", ""))
    if status != "complete":
        return ConversationCost(cid, resolved, status, None, ())
    by_version: dict[str, list[Any]] = {}
    for message, cost in zip(replies, costs, strict=True):
        meta = message.get("metadata") or {}
        version = meta.get("playbook_id")
        key = version if isinstance(version, str) else ""
        entry = by_version.setdefault(key, [meta.get("playbook_name"),
                                            _int(meta.get("playbook_version")), []])
        entry[2].append(cost)
    versions = tuple(
        VersionCost(key, one_line(name or "(unnamed)", NAME_CHARS), number, math.fsum(parts))
        for key, (name, number, parts) in by_version.items())
    return ConversationCost(cid, resolved, "complete", math.fsum(c for c in costs if c is not None), versions)


# ------------------------------------------------------------------------ estimates
@dataclass(frozen=True)
class Estimate:
    """A dollar figure: ``value`` over ``n`` conversations, with its 95% interval when it
    comes from a sample (None over the whole window, or when ``n`` is 0)."""

    value: float | None
    n: int
    ci95: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"usd": _usd(self.value), "n": self.n,
                "ci95_usd": [_usd(x) for x in self.ci95] if self.ci95 else None}


def _usd(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS) + 0.0


def bootstrap_ratio(pairs: Sequence[tuple[float, float]], rng: random.Random,
                    resamples: int = RESAMPLES) -> tuple[float, float] | None:
    """The percentile bootstrap interval (``CONFIDENCE``) of sum(x) / sum(y) over ``pairs``
    (x, y): a mean when every y is 1. None when there are fewer than two pairs or no
    resample has a positive sum(y)."""
    if len(pairs) < 2:
        return None
    n = len(pairs)
    stats = []
    for _ in range(resamples):
        drawn = rng.choices(pairs, k=n)
        denominator = math.fsum(y for _, y in drawn)
        if denominator > 0:
            stats.append(math.fsum(x for x, _ in drawn) / denominator)
    if not stats:
        return None
    stats.sort()
    tail = (1 - CONFIDENCE) / 2
    last = len(stats) - 1
    return stats[round(tail * last)], stats[round((1 - tail) * last)]


def _estimate(pairs: list[tuple[float, float]], rng: random.Random | None) -> Estimate:
    count = len(pairs)
    denominator = math.fsum(y for _, y in pairs)
    value = math.fsum(x for x, _ in pairs) / denominator if denominator > 0 else None
    n = round(denominator) if all(y == 1 for _, y in pairs) else count
    ci = bootstrap_ratio(pairs, rng) if rng is not None and value is not None else None
    return Estimate(value, n, ci)


# ------------------------------------------------------------------------ the report
@dataclass(frozen=True)
class VersionRow:
    version_id: str
    assistant: str
    number: int | None
    conversations: int  # with cost data, in which it wrote
    cost_usd: float  # of its messages in those
    per_conversation: Estimate
    model: str | None = None  # None: the playbooks endpoint did not name it

    def to_json(self) -> dict[str, Any]:
        return {"version_id": self.version_id or None, "assistant": self.assistant,
                "version": self.number, "model": self.model,
                "conversations": self.conversations, "cost_usd": _usd(self.cost_usd),
                "per_conversation": self.per_conversation.to_json()}


@dataclass(frozen=True)
class ModelRow:
    model: str | None  # None: versions whose model is unknown
    conversations: int  # with cost data, in which a version running it wrote
    cost_usd: float  # of those versions' messages in those
    per_conversation: Estimate

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "conversations": self.conversations,
                "cost_usd": _usd(self.cost_usd),
                "per_conversation": self.per_conversation.to_json()}


@dataclass(frozen=True)
class CostReport:
    start: str | None
    end: str | None
    in_window: int  # conversations the list endpoint gave for the window
    sample_size: int | None  # None: every conversation of the window was read
    seed: int | None
    read: int  # conversations whose messages were read
    not_loaded: int  # asked for, but their batch failed or the API left them out
    with_cost: int
    partial_cost: int
    without_cost: int
    resolved_with_cost: int
    unknown_handoff: int  # with cost data, but no has_handoff to tell a resolution
    total_usd: float | None  # of the conversations read with cost data
    per_conversation: Estimate
    per_resolved_conversation: Estimate
    per_resolution: Estimate
    versions: tuple[VersionRow, ...]
    models: tuple[ModelRow, ...] = ()
    models_note: str | None = None  # why every model is unknown, when the lookup failed

    @property
    def has_cost(self) -> bool:
        """False when no conversation read carries a cost on every assistant message."""
        return self.with_cost > 0

    @property
    def interval(self) -> str | None:
        return (f"{CONFIDENCE:.0%} percentile bootstrap, {RESAMPLES} resamples, seed "
                f"{self.seed}" if self.sample_size is not None else None)

    def note(self) -> str | None:
        """One line when there is no figure to show."""
        if self.read == 0:
            return "no conversations in the window"
        if not self.has_cost:
            return (f"no cost data: none of the {self.read} conversations read has cost_usd "
                    "on its messages")
        return None

    def to_json(self) -> dict[str, Any]:
        figures = self.has_cost
        return {
            "window": {"start": self.start, "end": self.end},
            "conversations_in_window": self.in_window,
            "sample": None if self.sample_size is None else {
                "size": self.sample_size, "seed": self.seed, "interval": self.interval},
            "read": self.read,
            "not_loaded": self.not_loaded,
            "cost_data": figures,
            "with_cost_data": self.with_cost,
            "partial_cost_data": self.partial_cost,
            "without_cost_data": self.without_cost,
            "ai_resolved_with_cost_data": self.resolved_with_cost,
            "unknown_handoff": self.unknown_handoff,
            "total_usd": _usd(self.total_usd) if figures else None,
            "per_conversation": self.per_conversation.to_json() if figures else None,
            "per_ai_resolved_conversation":
                self.per_resolved_conversation.to_json() if figures else None,
            "per_resolution": self.per_resolution.to_json() if figures else None,
            "versions": [v.to_json() for v in self.versions] if figures else [],
            "models": [m.to_json() for m in self.models] if figures else [],
            "models_note": self.models_note if figures else None,
            "note": self.note(),
        }


def summarize(costs: Sequence[ConversationCost], *, start: str | None = None,
              end: str | None = None, in_window: int | None = None,
              sample_size: int | None = None, seed: int | None = None,
              not_loaded: int = 0, models: Mapping[str, str] | None = None,
              models_note: str | None = None) -> CostReport:
    """The figures of conversations already read; intervals only for a sample. ``models``
    maps a version id to its model."""
    rng = random.Random(seed) if sample_size is not None else None
    models = models or {}
    known = [c for c in costs if c.status == "complete" and c.cost is not None]
    told = [c for c in known if c.resolved is not None]
    resolved = [c for c in told if c.resolved]
    rows: dict[str, tuple[VersionCost, list[tuple[float, float]]]] = {}
    by_model: dict[str | None, list[tuple[float, float]]] = {}
    for conversation in known:
        spent: dict[str | None, float] = {}
        for version in conversation.versions:
            rows.setdefault(version.version_id, (version, []))[1].append((version.cost, 1.0))
            model = models.get(version.version_id)
            spent[model] = spent.get(model, 0.0) + version.cost
        for model, cost in spent.items():  # a conversation counts once for each model
            by_model.setdefault(model, []).append((cost, 1.0))
    versions = tuple(
        VersionRow(first.version_id, first.assistant, first.number, len(pairs),
                   math.fsum(x for x, _ in pairs), _estimate(pairs, rng),
                   models.get(first.version_id))
        for first, pairs in sorted(rows.values(), key=lambda r: (r[0].assistant.casefold(),
                                                                 r[0].number or 0,
                                                                 r[0].version_id)))
    model_rows = tuple(
        ModelRow(model, len(pairs), math.fsum(x for x, _ in pairs), _estimate(pairs, rng))
        for model, pairs in sorted(by_model.items(),
                                   key=lambda kv: (-math.fsum(x for x, _ in kv[1]) / len(kv[1]),
                                                   kv[0] or "")))
    return CostReport(
        start=start, end=end, in_window=len(costs) if in_window is None else in_window,
        sample_size=sample_size, seed=seed, read=len(costs), not_loaded=not_loaded,
        with_cost=len(known), partial_cost=sum(c.status == "partial" for c in costs),
        without_cost=sum(c.status == "none" for c in costs),
        resolved_with_cost=len(resolved), unknown_handoff=len(known) - len(told),
        total_usd=math.fsum(c.cost or 0.0 for c in known) if known else None,
        per_conversation=_estimate([(c.cost or 0.0, 1.0) for c in known], rng),
        per_resolved_conversation=_estimate([(c.cost or 0.0, 1.0) for c in resolved], rng),
        per_resolution=_estimate([(c.cost or 0.0, 1.0 if c.resolved else 0.0) for c in told],
                                 rng),
        versions=versions,
        models=model_rows,
        models_note=models_note,
    )


# ------------------------------------------------------------------------ reading
@dataclass(frozen=True)
class CostProgress:
    total: int  # conversations to read
    done: int  # asked for so far (read, or failed)
    failed: int


def sample_ids(ids: Sequence[str], size: int, seed: int) -> list[str]:
    """A uniform sample of ``size`` ids without replacement, the same for the same ids and
    seed whatever order the server listed them in (all of them when ``size`` is larger)."""
    ordered = sorted(set(ids))
    if size >= len(ordered):
        return ordered
    return sorted(random.Random(seed).sample(ordered, size))


async def collect_costs(client: StudioClient, query: ConversationQuery, *,
                        sample: int | None = None, seed: int = 0, concurrency: int = 8,
                        progress: Callable[[CostProgress], None] | None = None,
                        ) -> CostReport:
    """The costs of the window of ``query``: its ids from the list endpoint, then their
    messages from the batch endpoint, for all of them or a ``sample`` of them (``seed``).
    A sample as large as the window reads it whole (no interval)."""
    from api.paging import BATCH_MAX, fetch_batch, iter_conversations, ordered_map

    models = asyncio.create_task(version_models(client))
    try:
        ids = [str(item["conversation_id"]) async for item in
               iter_conversations(client, query, LIST_PAGE, concurrency)]
        in_window = len(set(ids))
        chosen = sample_ids(ids, sample, seed) if sample is not None else sorted(set(ids))
        sampled = sample is not None and len(chosen) < in_window
        chunks = [chosen[i:i + BATCH_MAX] for i in range(0, len(chosen), BATCH_MAX)]
        costs: list[ConversationCost] = []
        done = failed = 0

        def fetch(chunk: list[str]) -> Awaitable[Any]:
            return fetch_batch(client, chunk)

        if progress is not None:
            progress(CostProgress(len(chosen), 0, 0))
        async for batch in ordered_map(chunks, fetch, concurrency):
            costs += [conversation_cost(batch.details[i]) for i in batch.ids if i in batch.details]
            done += len(batch.ids)
            failed += len(batch.ids) - sum(i in batch.details for i in batch.ids)
            if progress is not None:
                progress(CostProgress(len(chosen), done, failed))
        found = await models
        return summarize(costs, start=query.start_date, end=query.end_date, in_window=in_window,
                         sample_size=len(chosen) if sampled else None,
                         seed=seed if sampled else None, not_loaded=failed,
                         models=found, models_note=None if found is not None else MODELS_FAILED)
    finally:
        models.cancel()  # the reading failed: no request left behind (no-op when done)


async def version_models(client: StudioClient) -> dict[str, str] | None:
    """Each assistant version's model (every version, deleted ones too); None when the
    playbooks endpoint fails: the per-model rows then say "unknown model", and why."""
    from api.endpoints import configuration

    try:
        playbooks = await client.load(
            configuration.playbooks(client.project_id, versions=True, deleted=True))
    except Exception as exc:  # noqa: BLE001 - the models only label rows; the costs stand
        log.info("playbook models unavailable: %s", type(exc).__name__)
        return None
    models = {p.id: one_line(p.model or "", NAME_CHARS) for p in playbooks if p.id}
    return {vid: model for vid, model in models.items() if model}  # blank: unknown
