"""KB article health (issue 14): which knowledge-base items are cited in the conversations
that go wrong.

For a window (and optionally one knowledge base), every item cited, from the KB citation
analytics (``/analytics/kbs``: its ``recent`` list paged with ``limit``/``offset``, each
citation with its ``conversation_id``), joined to the labels of the citing conversations.
Per item: the citations, the distinct conversations citing it, and among those the share
negative (of the scored ones), handed off (of all) and with irrelevant resources (of those
with a resources label) -- the bases of the Quality signals screen, taken from
``api.compare.METRICS``. Against the project's base rates over the same window (one list
request with ``limit=1`` per count): the lift (share / base rate) and the excess (count -
base rate x base). Items are ranked by excess negative conversations.

Requests, all at once where they can be: the knowledge base (when one is asked for), the
first citation page and the six base counts; then the other citation pages; then the labels,
by the cheaper in requests of the window's list pages (100 conversations each, every label
in the row) or the batch endpoint by id (50 each); then the batch for cited conversations the
list did not hold (a citation on a day of the window whose conversation's last message is
later) and the items' titles and URLs. Citations are read most recent first, up to ``cap``;
the result says when the cap was reached.

Resource analytics take whole UTC days (``resources.resource_dates``), the list filters by
the last message's time: a citation counts when its day is in the window.
"""
from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api.compare import METRICS, Cohort, CompareError, same_window
from api.errors import BadResponseError, NotFoundError
from api.query import ConversationQuery
from api.text import one_line

if TYPE_CHECKING:
    from api import models as m
    from api.client import StudioClient
    from api.endpoints import Endpoint

__all__ = [
    "CITATION_PAGE",
    "DEFAULT_CAP",
    "KBHealth",
    "KBHealthError",
    "ItemHealth",
    "Progress",
    "Rate",
    "kb_health",
    "window_query",
]

CITATION_PAGE = 500  # the most a ``recent`` page holds (limit 1-500)
LIST_PAGE = 100  # the most a list page holds
DEFAULT_CAP = 5000  # citations read unless the caller raises it
TITLE_CHARS = 120  # of an item's or a knowledge base's title

# label name -> the compare metric whose count and base define it
_METRIC_OF = {"negative": "sentiment:negative", "irrelevant_resources": "resources:irrelevant"}
LABELS = ("negative", "handoff", "irrelevant_resources")

Labels = tuple[bool | None, str | None, str | None]  # has_handoff, sentiment, resources


class KBHealthError(ValueError):
    """A window or knowledge base the user gave that cannot be read; ``str()`` is one line
    naming the flag."""


@dataclass(frozen=True)
class Progress:
    stage: str  # "citations", "conversations", "titles"
    done: int
    total: int | None


ProgressCallback = Callable[[Progress], None]


@dataclass(frozen=True)
class Rate:
    """``count`` of ``base`` conversations, against the project's base rate."""

    count: int
    base: int
    base_rate: float | None  # the project's share over the window (0..1); None: no base

    @property
    def share(self) -> float | None:
        return self.count / self.base if self.base else None

    @property
    def expected(self) -> float | None:
        return None if self.base_rate is None else self.base_rate * self.base

    @property
    def excess(self) -> float | None:
        expected = self.expected
        return None if expected is None else self.count - expected

    @property
    def lift(self) -> float | None:
        share = self.share
        if share is None or not self.base_rate:
            return None
        return share / self.base_rate

    def ci95_pct(self) -> tuple[float, float] | None:
        """Wilson's 95% interval of the share, in percent."""
        from api.stats import wilson

        if not self.base:
            return None
        low, high = wilson(self.count, self.base)
        return round(100 * low, 2) + 0.0, round(100 * high, 2) + 0.0

    def to_json(self) -> dict[str, Any]:
        ci = self.ci95_pct()
        return {
            "count": self.count, "base": self.base, "pct": _pct(self.share),
            "ci95_pct": list(ci) if ci else None,
            "base_rate_pct": _pct(self.base_rate), "lift": _round(self.lift),
            "expected": _round(self.expected), "excess": _round(self.excess),
        }


@dataclass(frozen=True)
class ItemHealth:
    kb_id: str
    item_id: str | None  # None: citations without an item id, per knowledge base
    kb_title: str | None
    title: str | None
    url: str | None
    citations: int
    conversations: int  # distinct citing conversations whose labels were read
    rates: dict[str, Rate]  # LABELS -> rate
    conversation_ids: tuple[str, ...] = ()  # (for opening them in the explorer)

    def to_json(self) -> dict[str, Any]:
        return {
            "kb_id": self.kb_id, "kb_title": self.kb_title, "item_id": self.item_id,
            "title": self.title, "url": self.url, "citations": self.citations,
            "conversations": self.conversations,
            **{name: self.rates[name].to_json() for name in LABELS},
        }


@dataclass(frozen=True)
class KBHealth:
    start: str
    end: str
    days: tuple[str | None, str | None]  # the UTC days of the citation analytics
    kb_id: str | None
    kb_title: str | None
    base: dict[str, tuple[int, int]]  # LABELS -> (count, base) over the window
    conversations: int  # in the window
    citations_total: int  # in the window (of the knowledge base), as the API counts them
    citations_read: int
    cap: int
    without_conversation: int  # citations read that name no conversation
    unlabelled: int  # cited conversations neither the list nor the batch returned
    labels_from: str  # "list" or "batch"
    items: tuple[ItemHealth, ...] = field(default_factory=tuple)

    @property
    def capped(self) -> bool:
        return self.citations_read < self.citations_total

    def base_rate(self, name: str) -> float | None:
        count, base = self.base[name]
        return count / base if base else None

    def cap_note(self) -> str | None:
        if not self.capped:
            return None
        return (f"cap reached: read the {self.citations_read:,} most recent of "
                f"{self.citations_total:,} citations (raise it with --cap)")

    def to_json(self) -> dict[str, Any]:
        return {
            "window": {"start": self.start, "end": self.end,
                       "days": {"first": self.days[0], "last": self.days[1]}},
            "kb": None if self.kb_id is None else {"id": self.kb_id, "title": self.kb_title},
            "base_rates": {
                "conversations": self.conversations,
                **{name: {"count": c, "base": b, "pct": _pct(c / b if b else None)}
                   for name, (c, b) in self.base.items()},
            },
            "citations": {"total": self.citations_total, "read": self.citations_read,
                          "cap": self.cap, "capped": self.capped,
                          "note": self.cap_note(),
                          "without_conversation": self.without_conversation},
            "conversations": {"cited": self.cited,
                              "unlabelled": self.unlabelled, "labels_from": self.labels_from},
            "ranked_by": "negative.excess",
            "items": [item.to_json() for item in self.items],
        }

    @property
    def cited(self) -> int:
        """Distinct conversations citing an item, whose labels were read."""
        return len({cid for item in self.items for cid in item.conversation_ids})


def _pct(fraction: float | None) -> float | None:
    return None if fraction is None else round(100 * fraction, 2) + 0.0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2) + 0.0


def window_query(start: str, end: str) -> ConversationQuery:
    """The window as a query; ``KBHealthError`` naming ``--start``/``--end`` for a bad date
    or an end before the start."""
    whole = Cohort("window", ConversationQuery())
    try:
        dated, _ = same_window(whole, whole, start, end)
    except CompareError as exc:
        raise KBHealthError(str(exc)) from None
    return dated.query


# ------------------------------------------------------------------------ endpoints
def _citations(project: str, query: ConversationQuery, kb_id: str | None, limit: int,
               offset: int) -> Endpoint[m.KBAnalytics]:
    """One page of the KB citation analytics' ``recent`` list (``resources.kbs`` with the
    paging and knowledge-base parameters)."""
    from api import models as m
    from api.endpoints import endpoint, project_path
    from api.endpoints.resources import resource_dates

    params = {**resource_dates(query), "limit": str(limit), "offset": str(offset)}
    if kb_id is not None:
        params["kb_id"] = kb_id
    return endpoint(m.KBAnalytics, project_path(project, "/analytics/kbs"), params)


async def _total(client: StudioClient, project: str, query: ConversationQuery) -> int:
    from api.endpoints import conversations

    endpoint = conversations.rows(project, query, limit=1)
    page = await client.load(endpoint)
    if page.total is None:
        raise BadResponseError(f"{endpoint} answered without a total")
    return page.total


def _base_queries(window: ConversationQuery) -> dict[str, tuple[ConversationQuery,
                                                                ConversationQuery]]:
    """LABELS -> (count query, base query) over the window."""
    specs = {s.name: s for s in METRICS}
    out = {"handoff": (window.replace(has_handoff=True), window)}
    for name, metric in _METRIC_OF.items():
        spec = specs[metric]
        out[name] = (window.replace(**spec.count), window.replace(**spec.base))
    return {name: out[name] for name in LABELS}


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    return (items[i:i + size] for i in range(0, len(items), size))


# ------------------------------------------------------------------------ computing
async def kb_health(client: StudioClient, project: str, start: str, end: str, *,
                    kb_id: str | None = None, cap: int = DEFAULT_CAP,
                    progress: ProgressCallback | None = None) -> KBHealth:
    """Every KB item cited over ``start``..``end`` (see the module's docstring).

    ``KBHealthError`` for a bad window, a cap below 1 or an unknown ``kb_id`` (checked
    before the citations are read); API failures raise ``api.errors.StudioError``."""
    from api.endpoints import resources
    from api.endpoints.resources import resource_dates
    from api.paging import BATCH_MAX

    if cap < 1:
        raise KBHealthError(f"--cap: {cap} is not a positive number of citations")
    window = window_query(start, end)
    say = progress or (lambda _: None)

    async def knowledge_base() -> str | None:
        if kb_id is None:
            return None
        try:
            kb = await client.load(resources.knowledgebase(kb_id))
        except NotFoundError:
            raise KBHealthError(f"--kb: no knowledge base {one_line(kb_id, 60)!r} in this "
                                "project") from None
        return one_line(kb.title, TITLE_CHARS) if kb.title else None

    bases = _base_queries(window)
    count_queries = list(dict.fromkeys([window, *(q for pair in bases.values()
                                                  for q in pair)]))
    first_size = min(CITATION_PAGE, cap)
    kb_title, first, counts = await asyncio.gather(
        knowledge_base(),
        client.load(_citations(project, window, kb_id, first_size, 0)),
        asyncio.gather(*(_total(client, project, q) for q in count_queries)))
    totals = dict(zip(count_queries, counts, strict=True))
    base = {name: (totals[c], totals[b]) for name, (c, b) in bases.items()}
    citations_total = first.total_citations or 0
    wanted = min(cap, citations_total)
    say(Progress("citations", len(first.recent), wanted))
    kb_titles = {row.kb_id: one_line(row.title, TITLE_CHARS)
                 for row in first.by_kb if row.kb_id and row.title}

    async def page(offset: int) -> list[m.KBCitationEvent]:
        size = min(CITATION_PAGE, wanted - offset)
        got = await client.load(_citations(project, window, kb_id, size, offset))
        return got.recent[:size]

    rest = await asyncio.gather(*(page(o) for o in range(first_size, wanted, CITATION_PAGE)))
    recent = [*first.recent[:first_size], *(row for part in rest for row in part)]
    say(Progress("citations", len(recent), wanted))

    # item key -> citations, conversation ids
    cites: dict[tuple[str, str | None], int] = {}
    citing: dict[tuple[str, str | None], set[str]] = {}
    without = 0
    for row in recent:
        if not row.kb_id:
            continue
        key = (row.kb_id, row.item_id or None)
        cites[key] = cites.get(key, 0) + 1
        found = citing.setdefault(key, set())
        if row.conversation_id:
            found.add(row.conversation_id)
        else:
            without += 1
    cited = sorted({cid for ids in citing.values() for cid in ids})

    labels, labels_from = await _labels(client, project, window, cited, totals[window], say)
    missing = [cid for cid in cited if cid not in labels]
    details, items_meta = await asyncio.gather(
        _batch_labels(client, project, missing, BATCH_MAX),
        _item_meta(client, [(kb, item) for kb, item in cites if item is not None], say))
    labels.update(details)

    items = []
    rates = {name: (c / b if b else None) for name, (c, b) in base.items()}
    for key, count in cites.items():
        ids = tuple(sorted(cid for cid in citing[key] if cid in labels))
        rows = [labels[cid] for cid in ids]
        title, url = items_meta.get(key, (None, None))
        items.append(ItemHealth(
            key[0], key[1], kb_titles.get(key[0]) or (kb_title if key[0] == kb_id else None),
            title, url, count, len(ids), _rates(rows, rates), ids))
    items.sort(key=_rank)
    days = resource_dates(window)
    return KBHealth(
        start=window.start_date or start, end=window.end_date or end,
        days=(days.get("start_date"), days.get("end_date")), kb_id=kb_id,
        kb_title=kb_title or (kb_titles.get(kb_id) if kb_id else None), base=base,
        conversations=totals[window], citations_total=citations_total,
        citations_read=len(recent), cap=cap, without_conversation=without,
        unlabelled=sum(cid not in labels for cid in cited), labels_from=labels_from,
        items=tuple(items))


def _rank(item: ItemHealth) -> tuple[float, int, str, str]:
    excess = item.rates["negative"].excess
    return (-excess if excess is not None else math.inf, -item.conversations, item.kb_id,
            item.item_id or "")


def _rates(rows: list[Labels], base_rates: dict[str, float | None]) -> dict[str, Rate]:
    scored = [r for r in rows if r[1] is not None]
    with_resources = [r for r in rows if r[2] is not None]
    return {
        "negative": Rate(sum(r[1] == "negative" for r in scored), len(scored),
                         base_rates["negative"]),
        "handoff": Rate(sum(r[0] is True for r in rows), len(rows), base_rates["handoff"]),
        "irrelevant_resources": Rate(sum(r[2] == "irrelevant" for r in with_resources),
                                     len(with_resources), base_rates["irrelevant_resources"]),
    }


async def _labels(client: StudioClient, project: str, window: ConversationQuery,
                  cited: list[str], in_window: int, say: ProgressCallback
                  ) -> tuple[dict[str, Labels], str]:
    """The labels of the cited conversations: from the window's list pages or the batch
    endpoint, whichever takes fewer requests."""
    from api.endpoints import conversations
    from api.paging import BATCH_MAX

    pages = math.ceil(in_window / LIST_PAGE)
    if not cited or math.ceil(len(cited) / BATCH_MAX) <= pages:
        return await _batch_labels(client, project, cited, BATCH_MAX, say), "batch"
    wanted = set(cited)
    done = 0

    async def one(offset: int) -> dict[str, Labels]:
        nonlocal done
        got = await client.load(conversations.rows(project, window, limit=LIST_PAGE,
                                                   offset=offset))
        done += len(got.rows)
        say(Progress("conversations", done, in_window))
        return {row.conversation_id: (row.has_handoff, row.sentiment_label,
                                      row.conversation().resources_label)
                for row in got.rows if row.conversation_id in wanted}

    found: dict[str, Labels] = {}
    for part in await asyncio.gather(*(one(o) for o in range(0, in_window, LIST_PAGE))):
        found.update(part)
    return found, "list"


async def _batch_labels(client: StudioClient, project: str, ids: list[str], size: int,
                        say: ProgressCallback | None = None) -> dict[str, Labels]:
    from api.endpoints import conversations

    done = 0

    async def one(chunk: list[str]) -> list[m.ConversationDetail]:
        nonlocal done
        got = await conversations.batch(client, project, chunk)
        done += len(chunk)
        if say is not None:
            say(Progress("conversations", done, len(ids)))
        return got

    found: dict[str, Labels] = {}
    for part in await asyncio.gather(*(one(c) for c in _chunks(ids, size))):
        for conv in part:
            if conv.conversation_id:
                found[conv.conversation_id] = (conv.has_handoff, conv.sentiment_label,
                                               conv.resources_label)
    return found


async def _item_meta(client: StudioClient, keys: list[tuple[str, str]], say: ProgressCallback
                     ) -> dict[tuple[str, str | None], tuple[str | None, str | None]]:
    """(kb, item) -> (title, URL) from the item endpoint; an item that cannot be read keeps
    neither (its id is shown). ``api.lookups.resolve_kb_items`` keeps titles only."""
    from api.endpoints import resources
    from api.errors import StudioError

    done = 0

    async def one(key: tuple[str, str]) -> tuple[str | None, str | None]:
        nonlocal done
        try:
            item = await client.load(resources.kb_item(key[0], key[1]))
        except StudioError:  # InvalidIdError included: a title is optional, the id is shown
            return None, None
        finally:
            done += 1
            say(Progress("titles", done, len(keys)))
        return (one_line(item.title, TITLE_CHARS) if item.title else None,
                one_line(item.url, 300) if item.url else None)

    found = await asyncio.gather(*(one(k) for k in keys))
    return {(kb, item): meta for (kb, item), meta in zip(keys, found, strict=True)}
