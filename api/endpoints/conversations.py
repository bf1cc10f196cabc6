"""Conversations: pages of the list, one conversation's detail, a batch of them by id.

``api.models`` (pydantic) is imported when a function needs it, not with this module: the
explorer's first page is painted from ``rows`` (``ConversationRow``, no pydantic) before the
models are built (``api.endpoints.load_models`` builds them in a thread meanwhile).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from api.endpoints import Endpoint, endpoint, parse_list, parse_model, project_path
from api.errors import BadResponseError
from api.query import ConversationQuery
from api.text import as_text

if TYPE_CHECKING:
    from api import models as m
    from api.client import StudioClient


def _params(query: ConversationQuery, limit: int, offset: int) -> dict[str, str]:
    return {**query.to_params(), "limit": str(limit), "offset": str(offset)}


def page(project: str, query: ConversationQuery, *, limit: int = 50, offset: int = 0
         ) -> Endpoint[m.ConversationPage]:
    """One page of the conversations matching ``query`` (its sort included)."""
    from api import models as m

    return endpoint(m.ConversationPage, project_path(project, "/conversations"),
                    _params(query, limit, offset))


def rows(project: str, query: ConversationQuery, *, limit: int = 50, offset: int = 0
         ) -> Endpoint[RowPage]:
    """The same request as ``page``, read into ``RowPage`` without pydantic (the explorer's
    table: its first page is painted before the models exist)."""
    where = project_path(project, "/conversations")
    return Endpoint(where, _params(query, limit, offset), _row_page(f"GET {where}"))


def detail(project: str, conversation_id: str) -> Endpoint[m.ConversationDetail]:
    from api import models as m

    where = project_path(project, "/conversations/{}", conversation_id)
    read = parse_model(m.ConversationDetail, f"GET {where}")

    def parse(data: Any) -> m.ConversationDetail:
        detail = read(data)
        detail._answer = data
        return detail

    return Endpoint(where, None, parse)


# -- list rows without pydantic ---------------------------------------------------------------
# The fields the table shows, read with the rules of api.models (Str, Int, Bool): a value of
# the wrong type that cannot be converted is None. tests/test_explorer_states.py checks that
# both readings agree.


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return round(number) if math.isfinite(number) else None


_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        return True if text in _TRUE else False if text in _FALSE else None
    return None


class ConversationRow:
    """One conversation of a list page: the fields the table shows, typed, and the whole item
    as ``api.models.Conversation`` on demand (``conversation()``, parsed at its first call)."""

    __slots__ = ("conversation_id", "last_message_at", "playbook_name", "playbook_version",
                 "inbox_id", "inbox_name", "message_count", "has_handoff", "sentiment_label",
                 "deflection_quality", "handoff_reason", "recontact_risk", "user_intent",
                 "summary", "_item", "_model")

    def __init__(self, item: Mapping[str, Any]) -> None:
        get = item.get
        self.conversation_id = as_text(get("conversation_id"))
        self.last_message_at = as_text(get("last_message_at"))
        self.playbook_name = as_text(get("playbook_name"))
        self.playbook_version = _int(get("playbook_version"))
        self.inbox_id = as_text(get("inbox_id"))
        self.inbox_name = as_text(get("inbox_name"))
        self.message_count = _int(get("message_count"))
        self.has_handoff = _bool(get("has_handoff"))
        self.sentiment_label = as_text(get("sentiment_label"))
        self.deflection_quality = as_text(get("deflection_quality"))
        self.handoff_reason = as_text(get("handoff_reason"))
        self.recontact_risk = as_text(get("recontact_risk"))
        self.user_intent = as_text(get("user_intent"))
        self.summary = as_text(get("summary"))
        self._item = item
        self._model: m.Conversation | None = None

    def conversation(self) -> m.Conversation:
        """Every field of the conversation (``api.models``: see ``api.endpoints.load_models``)."""
        if self._model is None:
            from api import models as m

            self._model = m.Conversation.model_validate(self._item)
        return self._model

    @property
    def tags(self) -> list[str | None]:
        """The conversation's tags (read with the models' rules: only a table that shows
        them pays for the parse)."""
        return self.conversation().tags

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConversationRow) and other._item == self._item

    __hash__ = None  # type: ignore[assignment]  # mutable answer inside

    def __repr__(self) -> str:
        return f"ConversationRow({self.conversation_id!r})"


class RowPage(NamedTuple):
    """One page of the list: its rows and the total of conversations matching."""

    rows: tuple[ConversationRow, ...] = ()
    total: int | None = None


def _row_page(what: str) -> Callable[[Any], RowPage]:
    def parse(data: Any) -> RowPage:
        if data is None:
            return RowPage()
        if not isinstance(data, dict):
            raise BadResponseError(f"unexpected answer shape for {what}: "
                                   f"{type(data).__name__}, not an object")
        items = data.get("conversations")
        found = items if isinstance(items, list) else []
        return RowPage(tuple(ConversationRow(i) for i in found if isinstance(i, dict)),
                       _int(data.get("total")))

    return parse


async def batch(client: StudioClient, project: str, ids: list[str]
                ) -> list[m.ConversationDetail]:
    """One call of the batch endpoint (a POST that only reads, so retried like a GET): the
    conversations of at most ``BATCH_MAX`` ids, unknown ids left out."""
    from api.paging import BATCH_MAX  # (not with this module: it is on the first frame's path)

    if len(ids) > BATCH_MAX:
        raise ValueError(f"at most {BATCH_MAX} ids per batch call")
    if not ids:
        return []
    from api import models as m

    where = project_path(project, "/conversations/batch")
    data = await client.post(where, {"conversation_ids": list(ids)}, idempotent=True)
    if data is None:
        raise BadResponseError(f"empty answer to POST {where}")
    return parse_list(m.ConversationDetail, f"POST {where}", "conversations")(data)
