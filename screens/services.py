"""What a screen may ask of the app: one typed seam instead of ``getattr(self.app, ...)``.

StudioApp implements it (and the test harness of the analytics screens); a screen reaches it
through ``services(self)``, as posting casts ``self.app`` to its app class.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from api.client import Result, StudioClient
    from api.config import Settings
    from api.endpoints import Endpoint
    from api.lookups import Lookups
    from api.query import ConversationQuery


T = TypeVar("T")


class Services(Protocol):
    settings: Settings
    filters: ConversationQuery  # the shared filters (dates, assistant, tags), reactive
    lookups: Lookups  # names of assistants, versions, inboxes, knowledge bases
    display_tz: tzinfo  # the time zone dates are shown in
    date_preset: str  # which preset produced the shared dates ("30d", ..., "custom")

    @property
    def client(self) -> StudioClient: ...

    async def get_client(self) -> StudioClient: ...

    def now(self) -> datetime: ...

    def first_page_shown(self) -> None: ...

    def note_result(self, result: Result) -> None: ...

    async def peek_cached(self, request: Callable[[str], Endpoint[T]]) -> T | None: ...

    def set_filters(self, query: ConversationQuery, preset: str | None = None) -> None: ...

    def drill_down(self, query: ConversationQuery) -> None: ...

    def report_error(self, error: BaseException,
                     retry: Callable[[], Any] | None = None) -> None: ...


def services(node: DOMNode) -> Services:
    """The app behind ``node``, as the services it provides to screens."""
    return cast("Services", node.app)
