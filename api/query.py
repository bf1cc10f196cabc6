"""ConversationQuery: every query dimension of the brief, validated, with params and text form.

A query is immutable. Build one with ``ConversationQuery.build(**raw)`` from loose input
(strings from the command line or a form, lists, booleans, ints): it validates and
normalises every field and raises ``QueryError(field, message)`` naming the bad field.
``ConversationQuery()`` with no arguments is the empty query (no filter at all).

Normal forms (so that equal queries compare equal and cache keys agree):

- dates: ISO 8601 with or without offset, or ``YYYY-MM-DD`` (means ``T00:00:00Z``).
  A timestamp without offset is UTC. UTC is written with ``Z``; other offsets are kept
  (``2025-01-01T00:00:00-03:00``), since the API honours them. ``end_date`` must be after
  ``start_date``.
- strings: stripped; empty means unset (None).
- tags: tuple, AND logic, order kept, duplicates dropped, no commas inside a tag.
- label filters (sentiment, resources, sentiment_shift, deflection_quality, handoff_reason,
  recontact_risk): tuple, OR logic, lowercase, must be a known value (api/labels.py).
- has_handoff / has_winback: None (either), True or False; accepts true/false/yes/no/1/0.
- min_messages / max_messages: ints from 0 to 2**63 - 1, min <= max.
- sort_by / sort_order: None means the server default (last_message_at, desc).
- conversation_ids: exact ids (the batch endpoint / ``--ids-from``), never sent as params.

Text form (``to_text`` / ``from_text``), for saved views and the command line::

    since:2026-06-01T00:00:00Z until:2026-06-15T00:00:00Z sentiment:negative,neutral
    handoff:yes tags:billing,refund search:"a b"

Tokens are ``key:value`` separated by spaces, quoted shell-style when needed. Every field has
a short key (below) and its full name is accepted too. A bare word is the ``search`` term.
"""
from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from api import labels


class QueryError(ValueError):
    """A query field with a bad value. ``str()`` is one line naming the field; ``other`` is
    the second field a range check names in ``message`` (so a caller can rename it)."""

    def __init__(self, field: str, message: str, other: str | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.other = other


_TRUE = frozenset({"true", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "off"})
_SHORT_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INT_MAX = 2**63 - 1  # no message count comes near: a larger one is a typo (and overflows SQL)

# field -> short key in the text form (full field names are accepted as well)
TEXT_KEYS: dict[str, str] = {
    "start_date": "since",
    "end_date": "until",
    "playbook_id": "playbook",
    "playbook_base_id": "assistant",
    "inbox_id": "inbox",
    "search": "search",
    "skill_name": "skill",
    "has_handoff": "handoff",
    "has_winback": "winback",
    "tags": "tags",
    "sentiment": "sentiment",
    "resources": "resources",
    "sentiment_shift": "shift",
    "deflection_quality": "deflection",
    "handoff_reason": "reason",
    "recontact_risk": "risk",
    "min_messages": "min",
    "max_messages": "max",
    "sort_by": "sort",
    "sort_order": "order",
    "conversation_ids": "ids",
}

_STR_FIELDS = ("playbook_id", "playbook_base_id", "inbox_id", "search", "skill_name")
_BOOL_FIELDS = ("has_handoff", "has_winback")
_INT_FIELDS = ("min_messages", "max_messages")
_LIST_FIELDS = ("tags", "conversation_ids", *labels.LABEL_FIELDS)
_CHOICE_FIELDS = {"sort_by": labels.SORT_BY, "sort_order": labels.SORT_ORDER}
#: the filters every screen shares (the app holds them); the explorer adds the others
SHARED_FIELDS = ("start_date", "end_date", "playbook_base_id", "tags")


class ConversationQuery(NamedTuple):
    start_date: str | None = None
    end_date: str | None = None
    playbook_id: str | None = None
    playbook_base_id: str | None = None
    inbox_id: str | None = None
    search: str | None = None
    skill_name: str | None = None
    has_handoff: bool | None = None
    has_winback: bool | None = None
    tags: tuple[str, ...] = ()
    sentiment: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    sentiment_shift: tuple[str, ...] = ()
    deflection_quality: tuple[str, ...] = ()
    handoff_reason: tuple[str, ...] = ()
    recontact_risk: tuple[str, ...] = ()
    min_messages: int | None = None
    max_messages: int | None = None
    sort_by: str | None = None
    sort_order: str | None = None
    conversation_ids: tuple[str, ...] = ()

    # ---------------------------------------------------------------- construction
    @classmethod
    def build(cls, **raw: Any) -> ConversationQuery:
        """Validate and normalise loose input; raises QueryError naming the field."""
        known = cls._fields
        values: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in known:
                raise QueryError(name, "unknown query field")
            values[name] = _normalise(name, value)
        query = cls(**values)
        query._check_ranges()
        return query

    def replace(self, **changes: Any) -> ConversationQuery:
        """A copy with some fields changed (validated like ``build``)."""
        current = self._asdict()
        current.update(changes)
        return type(self).build(**current)

    def shared(self) -> ConversationQuery:
        """Only the shared filters (``SHARED_FIELDS``) of this query."""
        return _EMPTY._replace(**{name: getattr(self, name) for name in SHARED_FIELDS})

    def own(self) -> ConversationQuery:
        """This query without its shared filters (those of one screen)."""
        return self._replace(**{name: getattr(_EMPTY, name) for name in SHARED_FIELDS})

    def with_shared(self, shared: ConversationQuery) -> ConversationQuery:
        """This query with the shared filters of ``shared`` (both are valid already: the
        date range and the message counts are checked within each part)."""
        return self._replace(**{name: getattr(shared, name) for name in SHARED_FIELDS})

    def _check_ranges(self) -> None:
        if self.start_date and self.end_date:
            if _parse_dt(self.end_date) <= _parse_dt(self.start_date):
                raise QueryError("end_date", "must be after start_date", "start_date")
        if self.min_messages is not None and self.max_messages is not None:
            if self.min_messages > self.max_messages:
                raise QueryError("min_messages", "must not exceed max_messages", "max_messages")

    # ---------------------------------------------------------------- params
    def to_params(self) -> dict[str, str]:
        """Query params of the list endpoint: unset fields omitted, lists comma-joined."""
        params: dict[str, str] = {}
        for name, value in self._asdict().items():
            if name == "conversation_ids":
                continue  # POST body of the batch endpoint, never a query param
            text = _param_text(value)
            if text is not None:
                params[name] = text
        return params

    def _subset(self, names: Iterable[str],
                rename: Mapping[str, str] | None = None) -> dict[str, str]:
        params = self.to_params()
        rename = rename or {}
        return {rename.get(k, k): params[k] for k in names if k in params}

    def analytics_params(self) -> dict[str, str]:
        """Conversation analytics: ``playbook_base_ids`` (plural)."""
        return self._subset(
            ("start_date", "end_date", "playbook_id", "playbook_base_id", "tags"),
            {"playbook_base_id": "playbook_base_ids"},
        )

    def account_params(self) -> dict[str, str]:
        """Account analytics: the date range only."""
        return self._subset(("start_date", "end_date"))

    def aggregate_params(self) -> dict[str, str]:
        """Aggregate metrics: singular ``playbook_base_id``, tags, inbox."""
        return self._subset((
            "start_date", "end_date", "playbook_id", "playbook_base_id", "tags", "inbox_id",
        ))

    def csat_params(self) -> dict[str, str]:
        """CSAT analytics: dates, tags, singular ``playbook_base_id``."""
        return self._subset(("start_date", "end_date", "tags", "playbook_base_id"))

    def conversion_params(self) -> dict[str, str]:
        """Conversion analytics: the same filters as CSAT."""
        return self.csat_params()

    # ---------------------------------------------------------------- text form
    def to_text(self) -> str:
        tokens = []
        for name, value in self._asdict().items():
            text = _param_text(value)
            if text is None:
                continue
            if name in _BOOL_FIELDS:
                text = "yes" if value else "no"
            tokens.append(_quote(f"{TEXT_KEYS[name]}:{text}"))
        return " ".join(tokens)

    @classmethod
    def from_text(cls, text: str) -> ConversationQuery:
        try:
            tokens = shlex.split(text)
        except ValueError as exc:
            raise QueryError("text", f"cannot parse ({exc})") from None
        raw: dict[str, Any] = {}
        for token in tokens:
            key, sep, value = token.partition(":")
            name = _TEXT_FIELDS.get(key.lower()) if sep else None
            if name is None:
                name, value = "search", token
            if name in raw:
                raise QueryError(name, "given twice")
            raw[name] = value
        return cls.build(**raw)

    # ---------------------------------------------------------------- misc
    def __str__(self) -> str:
        return self.to_text()


_EMPTY = ConversationQuery()
_TEXT_FIELDS: dict[str, str] = {**{v: k for k, v in TEXT_KEYS.items()},
                                **{k: k for k in TEXT_KEYS}}


def _quote(token: str) -> str:
    return shlex.quote(token)


def _param_text(value: Any) -> str | None:
    if value is None or value == ():
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


# -------------------------------------------------------------------- normalisers
def _normalise(name: str, value: Any) -> Any:
    if name in ("start_date", "end_date"):
        return _norm_date(name, value)
    if name in _STR_FIELDS:
        return _norm_str(name, value)
    if name in _BOOL_FIELDS:
        return _norm_bool(name, value)
    if name in _INT_FIELDS:
        return _norm_int(name, value)
    if name in _CHOICE_FIELDS:
        return _norm_choice(name, value, _CHOICE_FIELDS[name])
    return _norm_list(name, value)


def _norm_str(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise QueryError(name, f"expected text, got {type(value).__name__}")
    return value.strip() or None


def _norm_bool(name: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "any", "all", "either"):
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise QueryError(name, f"expected true or false, got {_show(value)}")


def _norm_int(name: str, value: Any) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise QueryError(name, "expected a whole number")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise QueryError(name, f"expected a whole number, got {_show(value)}") from None
    if number < 0:
        raise QueryError(name, "must be 0 or more")
    if number > INT_MAX:
        raise QueryError(name, f"must be at most {INT_MAX}, got {_show(value)}")
    return number


def _norm_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str | None:
    text = _norm_str(name, value)
    if text is None:
        return None
    text = text.lower()
    if text not in allowed:
        raise QueryError(name, f"unknown value {_show(text)} (one of {', '.join(allowed)})")
    return text


def _split(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split(",")
    if isinstance(value, Iterable):
        items = list(value)
        if not all(isinstance(item, str) for item in items):
            raise QueryError(name, "expected a list of text values")
        return items
    raise QueryError(name, f"expected a comma-separated list, got {type(value).__name__}")


def _norm_list(name: str, value: Any) -> tuple[str, ...]:
    items = [item.strip() for item in _split(name, value)]
    out: dict[str, None] = {}
    allowed = labels.LABEL_FIELDS.get(name)
    for item in items:
        if not item:
            continue
        if "," in item:
            raise QueryError(name, f"a value cannot contain a comma: {_show(item)}")
        if allowed is not None:
            item = item.lower()
            if item not in allowed:
                raise QueryError(
                    name, f"unknown value {_show(item)} (one of {', '.join(allowed)})"
                )
        out[item] = None
    return tuple(out)


def _parse_dt(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _norm_date(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        text = _norm_str(name, value)
        if text is None:
            return None
        parsed = _parse_date_text(name, text)
    return format_datetime(parsed)


def _parse_date_text(name: str, text: str) -> datetime:
    if _SHORT_DATE.match(text):
        text += "T00:00:00"
    if "T" not in text and " " not in text:
        raise QueryError(name, f"expected YYYY-MM-DD or ISO 8601, got {_show(text)}")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise QueryError(name, f"expected YYYY-MM-DD or ISO 8601, got {_show(text)}") from None


def format_datetime(value: datetime) -> str:
    """ISO 8601 text of a datetime: naive means UTC; UTC is written ``...Z``."""
    if value.tzinfo is None or value.utcoffset() == timedelta(0):
        text = value.replace(tzinfo=None).isoformat(timespec="auto")
        return text + "Z"
    return value.isoformat(timespec="auto")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "...'"
