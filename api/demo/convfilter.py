"""Conversation filters of the demo app: parsing, SQL, and fast paging.

Semantics (CONTRACT.md): dates bound `last_message_at` (both ends inclusive), tags AND, label
filters OR, `playbook_id`/`playbook_base_id` match any participating playbook, `skill_name`
through conv_skills, `search` is a (case-sensitive) substring of the conversation id.

Paging at the largest demo: the page's seqs are fetched first, then only their bodies.
Membership filters (tags, skill, playbooks) are written as correlated EXISTS probes when the
ordered index scan will meet enough matches quickly, and as `seq IN (...)` sets (SQLite then
drives from the smallest set and sorts) when matches are rare; `total` counts are cached per
normalised filter, and deep pages resume from keyset checkpoints (store.Checkpoints).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api import labels
from api.demo.params import ApiError, Params, check_order, epoch
from api.demo.store import Store

SORT_COLUMNS = {
    "last_message_at": "last_ts",
    "first_message_at": "first_ts",
    "message_count": "message_count",
}
# Ordered-scan budget: above this many expected scanned rows, drive from the filter sets.
PROBE_BUDGET = 20_000


@dataclass(frozen=True)
class ConvFilter:
    """A normalised, hashable conversation filter (one project or several)."""

    project_ids: tuple[str, ...]
    start_ts: float | None = None
    end_ts: float | None = None
    playbook_id: str | None = None
    playbook_base_ids: tuple[str, ...] = ()
    inbox_id: str | None = None
    search: str | None = None
    has_handoff: bool | None = None
    has_winback: bool | None = None
    tags: tuple[str, ...] = ()
    labels: tuple[tuple[str, tuple[str, ...]], ...] = ()
    min_messages: int | None = None
    max_messages: int | None = None
    skill_name: str | None = None
    tag_sql: tuple[str, tuple[Any, ...]] | None = field(default=None)  # compiled tag_filter

    @property
    def has_members(self) -> bool:
        return bool(self.tags or self.playbook_id or self.playbook_base_ids or self.skill_name
                    or self.tag_sql)

    def where(self, alias: str = "c", probe: bool = True) -> tuple[str, list[Any]]:
        """SQL condition (without WHERE) and its arguments."""
        parts: list[str] = []
        args: list[Any] = []

        def add(sql: str, *values: Any) -> None:
            parts.append(sql)
            args.extend(values)

        marks = ",".join("?" * len(self.project_ids))
        add(f"{alias}.project_id IN ({marks})" if len(self.project_ids) > 1
            else f"{alias}.project_id = ?", *self.project_ids)
        if self.start_ts is not None:
            add(f"{alias}.last_ts >= ?", self.start_ts)
        if self.end_ts is not None:
            add(f"{alias}.last_ts <= ?", self.end_ts)
        if self.inbox_id is not None:
            add(f"{alias}.inbox_id = ?", self.inbox_id)
        if self.search:
            add(f"instr({alias}.conversation_id, ?) > 0", self.search)
        if self.has_handoff is not None:
            add(f"{alias}.has_handoff = ?", int(self.has_handoff))
        if self.has_winback is not None:
            add(f"{alias}.has_winback = ?", int(self.has_winback))
        for column, values in self.labels:
            add(f"{alias}.{column} IN ({','.join('?' * len(values))})", *values)
        if self.min_messages is not None:
            add(f"{alias}.message_count >= ?", self.min_messages)
        if self.max_messages is not None:
            add(f"{alias}.message_count <= ?", self.max_messages)
        for sql, values in self._member_sql(alias, probe):
            add(sql, *values)
        return " AND ".join(parts), args

    def clause(self, probe: bool = True) -> tuple[str, list[Any]]:
        """`FROM conversations c [JOIN ...] WHERE ...` and its arguments.

        probe=False joins the membership tables whose (key, seq) is unique (tags, skill,
        playbook version): SQLite may then drive from the smallest of them with primary-key
        probes, instead of materialising `seq IN (...)` lists."""
        if probe:
            where, args = self.where(probe=True)
            return f"FROM conversations c WHERE {where}", args
        joins: list[str] = []
        join_args: list[Any] = []
        for i, (table, cond, values, unique) in enumerate(self._member_sets()):
            if unique:
                joins.append(f"JOIN {table} m{i} ON m{i}.{cond} AND m{i}.seq = c.seq")
                join_args.extend(values)
        where, args = self.where(probe=False)
        return f"FROM conversations c {' '.join(joins)} WHERE {where}", join_args + args

    def _member_sets(self) -> list[tuple[str, str, tuple[Any, ...], bool]]:
        """(table, condition, args, one row per seq at most) of the membership filters."""
        sets: list[tuple[str, str, tuple[Any, ...], bool]] = []
        for tag in self.tags:
            sets.append(("conv_tags", "tag = ?", (tag,), True))
        if self.skill_name:
            sets.append(("conv_skills", "skill_name = ?", (self.skill_name,), True))
        if self.playbook_id:
            sets.append(("conv_playbooks", "playbook_id = ?", (self.playbook_id,), True))
        if self.playbook_base_ids:
            marks = ",".join("?" * len(self.playbook_base_ids))
            sets.append(("conv_playbooks", f"playbook_base_id IN ({marks})",
                         self.playbook_base_ids, False))
        return sets

    def _member_sql(self, alias: str, probe: bool) -> list[tuple[str, tuple[Any, ...]]]:
        """Membership conditions: EXISTS probes, or (probe=False) only the non-joined sets."""
        out = []
        for table, cond, values, unique in self._member_sets():
            if probe:
                out.append((f"EXISTS (SELECT 1 FROM {table} m WHERE m.{cond} AND m.seq = {alias}.seq)",
                            values))
            elif not unique:
                out.append((f"{alias}.seq IN (SELECT seq FROM {table} WHERE {cond})", values))
        if self.tag_sql is not None:
            sql, values = self.tag_sql
            out.append((sql.replace("{seq}", f"{alias}.seq"), values))
        return out


def _dates(p: Params, required: bool) -> tuple[float | None, float | None]:
    start = p.instant("start_date", required=required)
    end = p.instant("end_date", required=required)
    return epoch(start), epoch(end)


def parse_filter(p: Params, project_ids: tuple[str, ...], *, list_filters: bool = True,
                 dates_required: bool = False) -> ConvFilter:
    """The filter of the list/summaries endpoints (or, with list_filters=False, the common
    date/playbook/tag subset). Call p.check() afterwards."""
    start_ts, end_ts = _dates(p, dates_required)
    kwargs: dict[str, Any] = dict(
        project_ids=project_ids, start_ts=start_ts, end_ts=end_ts,
        playbook_id=p.text("playbook_id"), tags=p.csv("tags"),
    )
    base = p.text("playbook_base_id")
    kwargs["playbook_base_ids"] = (base,) if base else p.csv("playbook_base_ids")
    if list_filters:
        kwargs.update(
            inbox_id=p.text("inbox_id"), search=p.text("search"),
            has_handoff=p.boolean("has_handoff"), has_winback=p.boolean("has_winback"),
            labels=tuple((name, vals) for name, allowed in labels.LABEL_FIELDS.items()
                         if (vals := p.labels(name, allowed))),
            min_messages=p.integer("min_messages", ge=0), max_messages=p.integer("max_messages", ge=0),
            skill_name=p.text("skill_name"),
        )
    return ConvFilter(**kwargs)


def validate_order(f: ConvFilter) -> None:
    if f.start_ts is not None and f.end_ts is not None and f.start_ts > f.end_ts:
        raise ApiError(400, "start_date must be before end_date")
    if (f.min_messages is not None and f.max_messages is not None
            and f.min_messages > f.max_messages):
        raise ApiError(400, "min_messages must not exceed max_messages")


@dataclass(frozen=True)
class Sort:
    by: str = "last_message_at"
    order: str = "desc"

    def sql(self, alias: str = "c") -> str:
        direction = "DESC" if self.order == "desc" else "ASC"
        return f"{alias}.{SORT_COLUMNS[self.by]} {direction}, {alias}.seq {direction}"


def parse_sort(p: Params) -> Sort:
    return Sort(p.choice("sort_by", labels.SORT_BY, "last_message_at"),
                p.choice("sort_order", labels.SORT_ORDER, "desc"))


def count(store: Store, f: ConvFilter) -> int:
    def compute() -> int:
        clause, args = f.clause(probe=False)
        n: int = store.aggregate(f"SELECT count(*) {clause}", args)[0]
        return n

    return store.counts.get_or_compute(("count", f), compute)


def warm_counts(store: Store, f: ConvFilter) -> None:
    """Compute (and cache) the counts ``page_seqs`` needs for ``f``: SQLite work that releases
    the GIL, done in the thread pool before a page runs in its serial lane (app.py)."""
    count(store, f)
    if f.has_members:
        count(store, ConvFilter(project_ids=f.project_ids))


def page_seqs(store: Store, f: ConvFilter, sort: Sort, limit: int, offset: int) -> tuple[list[int], int]:
    """(seqs of the page in order, total)."""
    total = count(store, f)
    if offset >= total:
        return [], total
    key = (f, sort)
    start, bound = 0, None
    if offset and (mark := store.checkpoints.nearest(key, offset)) is not None:
        start, bound = mark
    skip = offset - start
    probe = True
    if f.has_members:
        everything = count(store, ConvFilter(project_ids=f.project_ids))
        probe = (skip + limit) * everything / max(total, 1) <= PROBE_BUDGET
    clause, args = f.clause(probe=probe)
    column = f"c.{SORT_COLUMNS[sort.by]}"
    if bound is not None:
        clause += f" AND ({column}, c.seq) {'<=' if sort.order == 'desc' else '>='} (?, ?)"
        args = [*args, *bound]
    rows = store.rows(f"SELECT c.seq, {column} {clause} ORDER BY {sort.sql()} LIMIT ? OFFSET ?",
                      [*args, limit, skip])
    if rows:
        last = len(rows) - 1
        store.checkpoints.record(key, {offset: (rows[0][1], rows[0][0]),
                                       offset + last: (rows[last][1], rows[last][0])})
    return [seq for seq, _ in rows], total


def bodies(store: Store, seqs: list[int]) -> list[str]:
    """Raw JSON bodies of `seqs`, in that order."""
    if not seqs:
        return []
    marks = ",".join("?" * len(seqs))
    found = dict(store.rows(f"SELECT seq, body FROM conversations WHERE seq IN ({marks})", seqs))
    return [found[s] for s in seqs if s in found]


__all__ = ["ConvFilter", "Sort", "parse_filter", "parse_sort", "count", "warm_counts",
           "page_seqs", "bodies", "validate_order", "check_order"]
