"""A minimal app that hosts one analytics screen over the in-process demo backend.

It provides the app protocol the analytics screens rely on (``client``, reactive ``filters``,
``drill_down``, ``lookups``, ``now``, ``report_error``) and records drill-downs and errors, so
tests can assert what a key press opened. ``screen_text`` collects what a screen shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from app_support import record_notifications
from rich.text import Text
from textual.app import App
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import DataTable, Static

from api.client import StudioClient
from api.config import Secret, load_settings
from api.demo import demo_info
from api.lookups import Lookups
from api.query import ConversationQuery
from widgets.charts import Kpis

ANCHOR_END = datetime(2026, 6, 16, tzinfo=UTC)  # end of the pinned demo anchor day
WINDOW = ConversationQuery.build(
    start_date=(ANCHOR_END - timedelta(days=30)).isoformat(), end_date=ANCHOR_END.isoformat()
)


class RecordingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def demo_client(
    db_path: Path, *, project: int = 0, clock: Callable[[], float] | None = None, faults: Any = None
) -> StudioClient:
    from api.demo.app import create_app

    kw = {} if clock is None else {"clock": clock}
    api = create_app(db_path, faults, **kw)
    info = demo_info(db_path)
    key, project_id = (
        (info.api_key, info.project_id)
        if project == 0
        else (info.other_api_key, info.other_project_id)
    )
    settings = load_settings()
    transport = RecordingTransport(httpx.ASGITransport(app=api))
    client = StudioClient(
        settings,
        base_url=info.base_url,
        project_id=project_id,
        token=Secret(key),
        transport=transport,
        cache=None,
    )
    client.test_requests = transport.requests  # every request the screens sent
    return client


class HarnessApp(App[None]):
    filters: reactive[ConversationQuery] = reactive(ConversationQuery, init=False)

    def __init__(
        self,
        client: StudioClient,
        screen: Callable[[], Screen],
        filters: ConversationQuery = WINDOW,
    ) -> None:
        super().__init__()
        self.client = client
        self.settings = client.settings
        self.lookups = Lookups()
        self.display_tz = UTC
        self.date_preset = "custom"
        self.project_name = "Demo project"
        self.drilled: list[ConversationQuery] = []
        self.errors: list[BaseException] = []
        self.results: list[Any] = []  # what note_result saw (connection state in StudioApp)
        self._screen_factory = screen
        self.set_reactive(HarnessApp.filters, filters)
        self.test_notifications = record_notifications(self)

    def on_mount(self) -> None:
        self.push_screen(self._screen_factory())

    def now(self) -> datetime:
        return ANCHOR_END

    async def get_client(self) -> StudioClient:
        return self.client

    def note_result(self, result: Any) -> None:
        self.results.append(result)

    def drill_down(self, query: ConversationQuery) -> None:
        self.drilled.append(query)

    def set_filters(self, query: ConversationQuery, preset: str | None = None) -> None:
        if preset is not None:
            self.date_preset = preset
        self.filters = query

    def report_error(self, error: BaseException, retry: Any = None) -> None:
        self.errors.append(error)
        self.notify(str(error), severity="error", markup=False)

    async def on_unmount(self) -> None:
        await self.client.aclose()


def _plain(value: Any) -> str:
    if isinstance(value, Text):
        return value.plain
    return str(value)


def node_texts(widgets: Iterable[Any]) -> list[str]:
    """The text each widget holds: statics, KPI tiles, every table cell (a row per line)."""
    parts: list[str] = []
    for widget in widgets:
        if isinstance(widget, Kpis):
            parts.append(widget.text)
        elif isinstance(widget, Static):
            parts.append(_plain(widget.content))
        elif isinstance(widget, DataTable):
            for i in range(widget.row_count):
                parts.append(" | ".join(_plain(c) for c in widget.get_row_at(i)))
    return parts


def screen_text(screen: Screen) -> str:
    """Everything the screen's widgets hold as text: statics, KPI tiles, every table cell."""
    return "\n".join(node_texts(screen.query("*")))


async def settle(pilot: Any) -> None:
    """Wait until every worker has finished, the screen has processed their messages and an
    analytics screen has decided where the focus lands."""
    for _ in range(3):
        workers = list(pilot.app.workers)
        await asyncio.gather(*(w.wait() for w in workers), return_exceptions=True)
        await pilot.pause()
    await focus_decided(pilot)


async def focus_decided(pilot: Any) -> None:
    """Wait until the analytics screen shown has run the focus_first it scheduled."""
    for _ in range(20):
        if not getattr(pilot.app.screen, "focus_pending", False):
            return
        await pilot.app.screen.wait_for_refresh()
        await pilot.pause()
    raise AssertionError("the screen never decided where the focus lands")
