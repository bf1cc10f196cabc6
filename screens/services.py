"""What a screen may ask of the app: one typed seam instead of ``getattr(self.app, ...)``.

StudioApp implements it (and the test harness of the analytics screens); a screen reaches it
through ``services(self)``, as posting casts ``self.app`` to its app class.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from textual.message import Message

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from api.client import Result, StudioClient
    from api.config import Settings
    from api.endpoints import Endpoint
    from api.lookups import Lookups
    from api.query import ConversationQuery
    from api.reviews import ReviewStore
    from api.session import SessionState
    from api.views import View


T = TypeVar("T")


class Services(Protocol):
    settings: Settings
    filters: ConversationQuery  # the shared filters (dates, assistant, tags), reactive
    lookups: Lookups  # names of assistants, versions, inboxes, knowledge bases
    display_tz: tzinfo  # the time zone dates are shown in
    date_preset: str  # which preset produced the shared dates ("30d", ..., "custom")
    review_who: str  # who the reviews marked here are by (config `[reviews] who`, else $USER)
    review_verdicts: tuple[str, ...]  # the verdicts a review may carry (config, else defaults)
    redact: bool  # transcripts and exports mask emails, phones and card numbers
    views: dict[str, View]  # saved and built-in views, by name (reactive)
    active_view: str | None  # the view the explorer shows (reactive)
    restored: SessionState | None  # the explorer's last session (None with --fresh)

    async def review_store(self) -> ReviewStore: ...

    def conversation_url(self, conversation_id: str) -> str | None: ...

    def open_link(self, url: str) -> bool: ...

    def restored_query(self) -> ConversationQuery | None: ...

    def save_session(self, state: SessionState) -> None: ...

    @property
    def client(self) -> StudioClient: ...

    async def get_client(self) -> StudioClient: ...

    def now(self) -> datetime: ...

    def first_page_shown(self) -> None: ...

    async def after_first_page(self) -> None: ...

    def note_result(self, result: Result) -> None: ...

    async def peek_cached(self, request: Callable[[str], Endpoint[T]]) -> T | None: ...

    def set_filters(self, query: ConversationQuery, preset: str | None = None) -> None: ...

    def drill_down(self, query: ConversationQuery) -> None: ...

    def report_error(self, error: BaseException,
                     retry: Callable[[], Any] | None = None) -> None: ...


class ReviewsChanged(Message):
    """Reviews of `ids` were written (posted to the app, which tells the screens)."""

    def __init__(self, ids: tuple[str, ...]) -> None:
        super().__init__()
        self.ids = ids


def services(node: DOMNode) -> Services:
    """The app behind ``node``, as the services it provides to screens."""
    return cast("Services", node.app)
