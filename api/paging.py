"""Paging over every conversation of a query, and batch detail fetches, concurrently.

``iter_conversations`` reads the first page to learn ``total``, then fetches the remaining
offsets concurrently (at most ``concurrency`` pages in flight) and yields conversations in
order, de-duplicated by ``conversation_id``. With ``speculate=N`` the next N pages are asked
for together with the first one, before ``total`` is known: a bulk export then spends its
first round trip on N+1 pages instead of one. Those past the first page's ``total`` are
cancelled and dropped, and one answered with another ``total`` (another state of the data) is
asked again, as it would have been asked after the first page. Whatever does not add up is recorded
in a ``PagingReport`` and flagged as ``drift`` — never hidden: a later page announcing another
``total``, a short page before the end, duplicates (rows that moved across a page boundary
while we paged), or a final count different from ``total``. When ``total`` grew while paging,
pages past the planned end are read until a short page, as the brief's script does.

``fetch_batch`` fetches full details (messages, tool calls, citations) of at most 50 ids
through the batch endpoint. A batch that fails is tried again (``retries`` more times, growing
pause); ``DetailReport.add`` records ids whose batch still fails in ``failed_ids`` and ids the
server silently skipped (unknown) in ``missing_ids``.

``ordered_map`` applies an async function to a stream of inputs with bounded concurrency and
yields the results in input order, so memory stays bounded by the window.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
)
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .endpoints import project_path
from .errors import AuthError, BadResponseError, NotFoundError, StudioError

__all__ = [
    "PagingReport",
    "DetailReport",
    "DetailBatch",
    "ordered_map",
    "aiter_of",
    "chunked",
    "iter_conversations",
    "fetch_batch",
    "batch_details",
    "page_items",
    "BATCH_MAX",
]

T = TypeVar("T")
R = TypeVar("R")

BATCH_MAX = 50
PAGE_TRIES = 4  # asks for a page whose rows lack their ids
ARRAY_KEYS = ("conversations", "items")


# ------------------------------------------------------------------------ ordered_map
def closing_async(items: AsyncIterable[T]) -> contextlib.AbstractAsyncContextManager[Any]:
    """``aclosing`` for what can be closed (async generators), else a no-op."""
    if hasattr(items, "aclose"):
        return contextlib.aclosing(items)
    return contextlib.nullcontext(items)


async def aiter_of(items: AsyncIterable[T] | Iterable[T]) -> AsyncGenerator[T, None]:
    """Iterate a sync or async iterable asynchronously (an async generator is closed when
    this one is, so that a chain of them unwinds at once, never at interpreter exit)."""
    if isinstance(items, AsyncIterable):
        async with closing_async(items) as source:
            async for item in source:
                yield item
    else:
        for item in items:
            yield item


async def ordered_map(
    items: AsyncIterable[T] | Iterable[T],
    fn: Callable[[T], Awaitable[R]],
    concurrency: int,
) -> AsyncGenerator[R, None]:
    """``fn(item)`` for every item, ``concurrency`` at a time, results yielded in order.

    An exception of one call is raised when its turn comes; the calls still in flight are
    cancelled (also when the consumer stops early or is cancelled).
    """
    window: deque[asyncio.Task[R]] = deque()
    limit = max(1, concurrency)
    try:
        async with contextlib.aclosing(aiter_of(items)) as source:
            async for item in source:
                window.append(asyncio.ensure_future(fn(item)))
                if len(window) >= limit:
                    yield await window.popleft()
        while window:
            yield await window.popleft()
    finally:
        for task in window:
            task.cancel()
        if window:
            await asyncio.gather(*window, return_exceptions=True)


# ------------------------------------------------------------------------ conversations
@dataclass
class PagingReport:
    """What paging saw. ``drift`` is True when the pages did not add up to ``total``."""

    expected_total: int | None = None
    received: int = 0  # unique conversations yielded
    duplicates: int = 0
    pages: int = 0
    malformed: int = 0  # array entries that were not objects with an id (skipped)
    reasked_pages: int = 0  # pages asked for again because a row lacked its id
    short_pages: int = 0  # pages shorter than the page size before the last planned page
    totals_seen: set[int] = field(default_factory=set)
    extra_pages: int = 0  # pages read past the planned end because the total grew
    start: int = 0  # rows before the first page read (a resumed export)

    @property
    def drift(self) -> bool:
        if self.expected_total is None:
            return bool(self.duplicates or self.malformed)
        return bool(
            self.start + self.received != self.expected_total
            or self.duplicates
            or self.malformed
            or self.short_pages
            or len(self.totals_seen) > 1
        )

    def describe(self) -> str:
        """One line for a log or a status bar."""
        total = self.expected_total if self.expected_total is not None else "?"
        text = f"{self.start + self.received} of {total}"
        if not self.drift:
            return text
        notes = []
        if len(self.totals_seen) > 1:
            notes.append(f"total changed {min(self.totals_seen)}..{max(self.totals_seen)}")
        if self.duplicates:
            notes.append(f"{self.duplicates} duplicates dropped")
        if self.short_pages:
            notes.append(f"{self.short_pages} short pages")
        if self.malformed:
            notes.append(f"{self.malformed} malformed entries skipped")
        return f"{text} (drift: {', '.join(notes) or 'count differs from total'})"


def page_items(data: Any, what: str) -> tuple[list[Any], int | None, int | None]:
    """(items, total, limit) of a paged envelope; the array key may be any of ARRAY_KEYS."""
    if not isinstance(data, dict):
        raise BadResponseError(f"{what}: expected an object, got {type(data).__name__}")
    for key in ARRAY_KEYS:
        if isinstance(data.get(key), list):
            items = data[key]
            break
    else:
        raise BadResponseError(f"{what}: no list of conversations in the answer")
    return items, _count(data.get("total")), _count(data.get("limit"))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _has_id(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("conversation_id"), str)


class _Pager:
    def __init__(self, client: Any, path: str, params: dict[str, Any], limit: int, cache: bool,
                 report: PagingReport) -> None:
        self.client, self.path, self.params = client, path, params
        self.limit, self.cache, self.report = limit, cache, report
        self.seen: set[str] = set()
        self.echoed_limit: int | None = None

    async def fetch(self, offset: int) -> list[Any]:
        return self.record(await self.request(offset))

    async def request(self, offset: int) -> tuple[list[Any], int | None, int | None]:
        """One page's (items, total, echoed limit). Its total is noted at once, used or not
        (a speculative page past the end may be the one that saw the total grow); the page
        itself counts in the report once used (``record``)."""
        params = {**self.params, "limit": str(self.limit), "offset": str(offset)}
        for attempt in range(PAGE_TRIES):
            data = await self.client.get(self.path, params, cache=self.cache)
            page = page_items(data, f"GET {self.path}")
            # a row without its id cannot be told apart from the others: the answer is
            # damaged, and asking again is harmless
            if all(_has_id(item) for item in page[0]):
                break
            if attempt == PAGE_TRIES - 1:
                raise BadResponseError(
                    f"GET {self.path} (offset {offset}): entries without a conversation_id "
                    f"in {PAGE_TRIES} answers")
            self.report.reasked_pages += 1
        if page[1] is not None:
            self.report.totals_seen.add(page[1])
        return page

    def record(self, page: tuple[list[Any], int | None, int | None]) -> list[Any]:
        """A page that is used: counted in the report; its items."""
        items, _, self.echoed_limit = page
        self.report.pages += 1
        return items

    def unique(self, items: list[Any]) -> list[dict[str, Any]]:
        out = []
        for item in items:
            if not _has_id(item):
                self.report.malformed += 1
                continue
            cid = item["conversation_id"]
            if cid in self.seen:
                self.report.duplicates += 1
                continue
            self.seen.add(cid)
            out.append(item)
        self.report.received += len(out)
        return out

    def latest_total(self) -> int:
        return max(self.report.totals_seen, default=0)


async def iter_conversations(
    client: Any,
    query: Any,
    page_size: int = 100,
    concurrency: int = 4,
    *,
    report: PagingReport | None = None,
    cache: bool = False,
    speculate: int = 0,
    start: int = 0,
    seen: set[str] | None = None,
) -> AsyncGenerator[dict[str, Any], None]:
    """Every conversation of ``query`` (list objects as dicts), in the server's order.

    Pass a ``PagingReport`` to read ``expected_total`` as soon as the first page arrived and the
    drift check once iteration ends. ``cache=False`` (default) reads fresh pages.
    ``speculate``: pages asked for together with the first one (see the module doc; at
    most ``concurrency - 1``). ``start``: the offset of the first page (a resumed export);
    ``seen``: ids already had, not yielded again (and counted as duplicates if listed).
    """
    report = report if report is not None else PagingReport()
    path = project_path(client.project_id, "/conversations")
    params = query.to_params() if hasattr(query, "to_params") else dict(query or {})
    pager = _Pager(client, path, params, max(1, min(page_size, 100)), cache, report)
    if seen is not None:
        pager.seen = seen
    start = report.start = max(0, start)
    early = _EarlyPages(pager, min(max(0, speculate), max(0, concurrency - 1)), start)
    try:
        first_page = await pager.request(start)
        first = pager.record(first_page)
        if pager.echoed_limit and pager.echoed_limit < pager.limit:
            pager.limit = pager.echoed_limit  # the server caps the page size lower than asked
            await early.cancel()  # asked at the old page size: offsets no longer line up
        data_total = first_page[1]
        report.expected_total = early.expected = data_total
        if data_total is not None:
            # asked before the total was known: past its end they hold nothing, or rows that
            # arrived meanwhile, which the read past the planned end asks for afresh
            await early.cancel(from_offset=data_total)
        for item in pager.unique(first):
            yield item
        if len(first) < pager.limit:
            return
        if data_total is None:  # no total: the brief's way, one page after another
            async for item in _serial_pages(pager, start + pager.limit, fetch=early.fetch):
                yield item
            return
        planned = range(start + pager.limit, data_total, pager.limit)
        last_len = len(first)
        async with contextlib.aclosing(ordered_map(planned, early.fetch, concurrency)) as pages:
            async for index, items in _enumerate(pages):
                last_len = len(items)
                if last_len < pager.limit and index < len(planned) - 1:
                    report.short_pages += 1
                for item in pager.unique(items):
                    yield item
        next_offset = planned[-1] + pager.limit if planned else start + pager.limit
        if last_len == pager.limit and pager.latest_total() > next_offset:
            async for item in _serial_pages(pager, next_offset, extra=True):
                yield item
    finally:
        await early.cancel()  # pages past the end (empty), or the consumer stopped early


class _EarlyPages:
    """Pages asked for before ``total`` is known (``count`` pages after ``start``);
    ``fetch(offset)`` hands out such a page's answer, or asks for the page now. A page
    counts in the report's ``pages`` only once it is used (its total always does)."""

    def __init__(self, pager: _Pager, count: int, start: int = 0) -> None:
        self.pager = pager
        self.expected: int | None = None  # the first page's total, once known
        self.tasks: dict[int, asyncio.Task[tuple[list[Any], int | None, int | None]]] = {
            offset: asyncio.ensure_future(pager.request(offset))
            for offset in range(start + pager.limit, start + pager.limit * (count + 1),
                                pager.limit)
        }

    async def fetch(self, offset: int) -> list[Any]:
        task = self.tasks.pop(offset, None)
        if task is None:
            return await self.pager.fetch(offset)
        page = await task
        if self.expected is not None and page[1] is not None and page[1] != self.expected:
            # answered from another state of the data than the first page (rows arrived or
            # left in between): asked again, as it would have been without speculation
            return await self.pager.fetch(offset)
        return self.pager.record(page)

    async def cancel(self, from_offset: int = 0) -> None:
        """Cancel (and forget) the pages not handed out, those from ``from_offset`` on."""
        tasks = [self.tasks.pop(offset) for offset in list(self.tasks) if offset >= from_offset]
        for task in tasks:
            task.cancel()
        if tasks:  # their outcomes (cancelled, an error, an unused page) are dropped
            await asyncio.gather(*tasks, return_exceptions=True)


async def _enumerate(items: AsyncIterator[T]) -> AsyncGenerator[tuple[int, T], None]:
    index = 0
    async for item in items:
        yield index, item
        index += 1


async def _serial_pages(pager: _Pager, offset: int, extra: bool = False,
                        fetch: Callable[[int], Awaitable[list[Any]]] | None = None,
                        ) -> AsyncGenerator[dict[str, Any], None]:
    fetch = fetch or pager.fetch
    while True:
        items = await fetch(offset)
        if extra and items:
            pager.report.extra_pages += 1
        for item in pager.unique(items):
            yield item
        if len(items) < pager.limit:
            return
        offset += pager.limit


# ------------------------------------------------------------------------ details
@dataclass
class DetailBatch:
    """One batch call: the ids asked for, the details by id, and failure if any."""

    ids: list[str]
    details: dict[str, dict[str, Any]]
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def missing(self) -> list[str]:
        return [] if self.failed else [i for i in self.ids if i not in self.details]


@dataclass
class DetailReport:
    requested: int = 0
    received: int = 0
    failed_ids: list[str] = field(default_factory=list)
    missing_ids: list[str] = field(default_factory=list)
    retries: int = 0
    reasked: int = 0  # ids asked for again because an answer left them out
    errors: list[str] = field(default_factory=list)  # one line per failed batch

    def add(self, batch: DetailBatch) -> None:
        self.requested += len(batch.ids)
        self.received += len(batch.details)
        if batch.failed:
            self.failed_ids.extend(batch.ids)
            self.errors.append(batch.error or "")
        else:
            self.missing_ids.extend(batch.missing)


_FATAL = (AuthError, NotFoundError)  # wrong key or project: every other batch would fail too


def batch_details(data: Any, what: str) -> dict[str, dict[str, Any]]:
    """The details of a batch answer by ``conversation_id`` (entries without one skipped)."""
    items, _, _ = page_items(data, what)
    return {
        item["conversation_id"]: item
        for item in items
        if isinstance(item, dict) and isinstance(item.get("conversation_id"), str)
    }


async def fetch_batch(
    client: Any,
    ids: list[str],
    *,
    retries: int = 2,
    retry_delay: float = 0.5,
    report: DetailReport | None = None,
    decode: Callable[[bytes], Awaitable[dict[str, Any]]] | None = None,
) -> DetailBatch:
    """One batch call with ``retries`` more tries on failure; never raises for a bad batch
    (auth/not-found errors and cancellation do propagate). ``decode``: turn the answer's raw
    bytes into the details by id elsewhere (raising ``StudioError`` when unusable), instead
    of ``batch_details`` on the client's decoding."""
    path = project_path(client.project_id, "/conversations/batch")
    body = {"conversation_ids": list(ids)}
    error = ""
    for attempt in range(retries + 1):
        if attempt:
            if report is not None:
                report.retries += 1
            await asyncio.sleep(retry_delay * (2 ** (attempt - 1)))
        try:
            if decode is None:
                details = batch_details(await client.post(path, body, idempotent=True),
                                        f"POST {path}")
            else:
                details = await decode(await client.post(path, body, idempotent=True,
                                                         raw=True))
        except _FATAL:
            raise
        except StudioError as exc:
            error = str(exc)
            continue
        return DetailBatch(list(ids), details)
    return DetailBatch(list(ids), {}, error or "batch failed")


async def chunked(items: AsyncIterable[T] | Iterable[T],
                  size: int) -> AsyncGenerator[list[T], None]:
    """Lists of ``size`` consecutive items (the last one shorter)."""
    chunk: list[T] = []
    async with contextlib.aclosing(aiter_of(items)) as source:
        async for item in source:
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk
