"""The explorer's triage state: the conversations of the current query scanned page by page
(for the review filter and the view's progress), their local reviews, and the line that says
where the review stands.

The API cannot filter by a local review, so "unreviewed only" and "12 / 40 reviewed" need
every conversation the query lists: the explorer reads them in pages of `SCAN_PAGE`, at most
`SCAN_CAP`, and every count says when it covers only part of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from api.dates import parse_ts
from api.endpoints.conversations import ConversationRow, RowPage
from api.query import ConversationQuery

if TYPE_CHECKING:
    from api.reviews import Review

SCAN_PAGE = 100
SCAN_CAP = 5000
REVIEW_FILTERS = ("all", "unreviewed", "flagged")
FILTER_WORDS = {"unreviewed": "unreviewed only", "flagged": "flagged only"}


class Scan(NamedTuple):
    """The conversations of `query` read so far (in the query's order, each once)."""

    query: ConversationQuery
    rows: tuple[ConversationRow, ...] = ()
    total: int | None = None  # what the API says matches
    complete: bool = False  # every page read (or the cap reached: see `capped`)
    capped: bool = False

    def extended(self, page: RowPage) -> Scan:
        seen = {r.conversation_id for r in self.rows}
        fresh = tuple(r for r in page.rows if r.conversation_id not in seen)
        return self._replace(rows=self.rows + fresh,
                             total=page.total if page.total is not None else self.total)

    def finished(self, capped: bool) -> Scan:
        return self._replace(complete=True, capped=capped)

    @property
    def ids(self) -> list[str]:
        return [r.conversation_id for r in self.rows if r.conversation_id]


def status_of(reviews: dict[str, Review], cid: str | None) -> str:
    review = reviews.get(cid or "")
    return review.status if review is not None else "todo"


def keep(mode: str, status: str) -> bool:
    """Whether a conversation of review `status` is listed under the review filter `mode`."""
    if mode == "unreviewed":
        return status == "todo"
    if mode == "flagged":
        return status == "flagged"
    return True


@dataclass
class Triage:
    """What the explorer knows of the review state of its query."""

    mode: str = "all"  # the review filter: all, unreviewed, flagged
    scan: Scan | None = None
    reviews: dict[str, Review] = field(default_factory=dict)
    new_since: str | None = None  # the view's last look before this one
    store_failed: bool = False  # the review store could not be read (said once)
    scan_error: str | None = None  # why the scan stopped before its end (the header and a
    # notification say it in full; the line only that the counts are not there)

    def filtered(self) -> list[ConversationRow]:
        rows = self.scan.rows if self.scan else ()
        return [r for r in rows if keep(self.mode, status_of(self.reviews, r.conversation_id))]

    def page(self, offset: int, limit: int) -> RowPage:
        """A page of the filtered conversations; its total only once the scan is complete
        and not capped (else the table says "?" rather than a count that may grow)."""
        rows = self.filtered()
        total = len(rows) if self.exact() else None
        return RowPage(tuple(rows[offset:offset + limit]), total)

    def exact(self) -> bool:
        """Whether the filtered conversations are all there are (every page read)."""
        return self.scan is not None and self.scan.complete and not self.scan.capped

    def is_new(self, row: ConversationRow) -> bool:
        if not self.new_since:
            return False
        last, since = parse_ts(row.last_message_at), parse_ts(self.new_since)
        return last is not None and since is not None and last > since

    def counts(self) -> dict[str, int]:
        rows = self.scan.rows if self.scan else ()
        counts = {"todo": 0, "reviewed": 0, "flagged": 0, "new": 0}
        for row in rows:
            status = status_of(self.reviews, row.conversation_id)
            counts[status] = counts.get(status, 0) + 1
            counts["new"] += self.is_new(row)
        return counts

    def line(self, view: str | None, modified: bool) -> str:
        """One line: the view, the review progress over its conversations, the filter."""
        parts = []
        if view:
            parts.append(f"view {view}{' (modified)' if modified else ''}")
        scan = self.scan
        if scan is not None and scan.rows:
            counts = self.counts()
            done = counts["reviewed"] + counts["flagged"]
            seen = len(scan.rows)
            of = f"{done:,} / {seen:,} reviewed"
            if not scan.complete:
                total = scan.total if scan.total is not None else "?"
                of += f" ({'read' if self.scan_error else 'reading'} {seen:,} of {total})"
            elif scan.capped:
                of += f" (first {seen:,} of {scan.total or 0:,} matching)"
            parts.append(of)
            if counts["flagged"]:
                parts.append(f"{counts['flagged']:,} flagged")
            if counts["new"]:
                parts.append(f"{counts['new']:,} new since last look")
        elif scan is not None and not scan.complete and not self.scan_error:
            parts.append("reading the reviews…")
        if self.scan_error:
            parts.append("progress not counted: the API failed, ctrl+r reads again")
        if self.mode != "all":
            shown = len(self.filtered())
            count = f"{shown:,}" if self.exact() else f"{shown:,}+"
            parts.append(f"{FILTER_WORDS[self.mode]}: {count}")
        return " · ".join(parts)

