"""Pilot tests of the explorer's connection states and API failures (issue 4).

The header's online / stale / offline states with the age of the cached answer, rate limiting
(429 + Retry-After), timeouts and malformed JSON on a page flip, and the explorer in Textual's
16-colour mode. The app runs on the pinned demo backend; unlike `studio_app`, the client here
has an injectable cache clock (no real TTL waits), a recorded `sleep` (Retry-After honoured
without waiting) and a wire that can hold list requests or refuse every connection.
(A 500 on a filter change is covered by test_explorer.py::test_api_error_keeps_the_table.)
"""
from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import suppress

import httpx
import pytest
from app_support import (
    RecordingTransport,
    detail_fetched,
    record_notifications,
    screen_lines,
    wait_until,
)
from conftest import DEMO_ANCHOR, DEMO_SEED, DEMO_SIZE
from rich.cells import cell_len
from rich.color import ColorSystem
from rich.style import Style
from textual.widgets import Static
from textual.worker import WorkerCancelled, WorkerFailed, WorkerState

from screens.explorer import ExplorerScreen
from widgets.status_header import StatusHeader

SIZE = (100, 40)  # below the sidebar (110 columns): these tests are of the table


class Clock:
    """The response cache's clock, moved by hand."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


class Wire(httpx.AsyncBaseTransport):
    """Between the client and the demo app: list requests can be held at a gate, every
    request refused (`down`: httpx.ConnectError), and each answer's status is recorded."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.gate = asyncio.Event()
        self.gate.set()
        self.statuses: list[tuple[httpx.URL, int]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/conversations"):
            await self.gate.wait()
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        response = await self.inner.handle_async_request(request)
        self.statuses.append((request.url, response.status_code))
        return response

    def list_statuses(self, **params: str) -> list[int]:
        """Statuses of the list requests whose params include `params`."""
        return [status for url, status in self.statuses if url.path.endswith("/conversations")
                and all(url.params.get(k) == v for k, v in params.items())]

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.fixture
def states_app(demo_db, tmp_path):
    """`states_app(clock=..., max_tries=..., **client_kwargs)` -> StudioApp on the demo with
    `app.test_faults`, `app.test_wire`, `app.test_transport` and `app.test_sleeps`."""
    from api.cache import ResponseCache
    from api.client import StudioClient
    from api.config import Secret, load_settings
    from api.demo import demo_transport
    from api.demo.faults import Faults
    from tui.app import StudioApp

    def factory(*, clock: Callable[[], float] = time.time, max_tries: int = 1, **client_kw):
        settings = load_settings().replace(cache_dir=tmp_path / "cache", demo_anchor=DEMO_ANCHOR,
                                           demo_size=DEMO_SIZE, demo_seed=DEMO_SEED)
        faults = Faults()
        inner, info = demo_transport(size=DEMO_SIZE, seed=DEMO_SEED, anchor=DEMO_ANCHOR,
                                     faults=faults)
        wire = Wire(inner)
        transport = RecordingTransport(wire)
        sleeps: list[float] = []

        async def sleep(seconds: float) -> None:  # the client's back-off: recorded, not slept
            sleeps.append(seconds)

        def client_factory() -> StudioClient:
            return StudioClient(
                settings, base_url=info.base_url, project_id=info.project_id,
                token=Secret(info.api_key), transport=transport,
                cache=ResponseCache(settings.response_cache_dir, clock=clock),
                max_tries=max_tries, sleep=sleep, **client_kw,
            )

        app = StudioApp(settings, client_factory=client_factory)
        app.test_faults, app.test_wire, app.test_transport = faults, wire, transport
        app.test_sleeps = sleeps
        app.test_notifications = record_notifications(app)
        return app

    return factory


async def settle(pilot) -> None:
    """Paused until no worker runs. Unlike `workers.wait_for_complete()`, a failed prefetch of
    the next page (best effort: the page is asked for again when shown) does not raise."""
    await pilot.pause()
    while running := [w for w in pilot.app.workers if not w.is_finished]:
        for worker in running:
            if worker.state is WorkerState.PENDING:
                await pilot.pause()
                continue
            with suppress(WorkerFailed, WorkerCancelled):
                await worker.wait()
    await pilot.pause()


async def settle_with_detail(pilot) -> None:
    """Settled, and the detail pane's debounced fetch done too (it must not meet the faults)."""
    await settle(pilot)
    await wait_until(lambda: detail_fetched(pilot.app), pilot=pilot)
    await settle(pilot)


def explorer(app) -> ExplorerScreen:
    screen = app.get_screen_for_mode("explorer")
    assert isinstance(screen, ExplorerScreen)
    return screen


def header(app) -> str:
    return str(explorer(app).query_one(StatusHeader).render())


def page_status(app) -> str:
    return str(explorer(app).table.query_one("#page-status", Static).render())


def notes(app, severity: str | None = None) -> list:
    return [n for n in app.test_notifications if severity is None or n.severity == severity]


def on_screen_range(table) -> str:
    """The "first–last of total" part of the status line for the rows the table holds."""
    assert table.rows
    offset = table.shown_offset
    return f"{offset + 1:,}–{offset + len(table.rows):,} of {table.total:,}"


# ---------------------------------------------------------------------------- header states


async def test_stale_page_shows_its_age_then_online_when_the_refresh_lands(states_app):
    clock = Clock()
    app = states_app(clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = explorer(app).table
        rows = list(table.rows)
        assert rows and app.connection == "online" and "● online" in header(app)
        asked = len(app.test_wire.list_statuses())

        clock.t += 150  # the list's TTL is 60 s: the cached page is stale now
        app.test_wire.gate.clear()  # hold the revalidation
        await pilot.press("ctrl+r")
        await wait_until(lambda: app.connection == "stale", pilot=pilot)
        shown = header(app)
        assert "◐ stale cache" in shown and "(2m old, refreshing)" in shown
        assert table.rows == rows and table.table.row_count == len(rows)  # painted from cache

        app.test_wire.gate.set()  # the refresh lands
        await settle(pilot)
        assert app.connection == "online"
        assert "● online" in header(app) and "stale" not in header(app)
        assert len(app.test_wire.list_statuses()) > asked  # the API was asked again
        assert table.rows == rows
        assert not notes(app, "error") and not notes(app, "warning")


async def test_unreachable_api_keeps_the_cached_page_and_says_offline(states_app):
    clock = Clock()
    app = states_app(clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = explorer(app).table
        rows = list(table.rows)
        status = page_status(app)

        clock.t += 600  # stale: the client goes to the network, which is down
        app.test_wire.down = True
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert table.rows == rows and table.table.row_count == len(rows)
        assert page_status(app) == status
        assert app.connection == "offline"
        assert "○ offline" in header(app) and "(cached 10m ago)" in header(app)
        warned = notes(app, "warning")
        assert warned, "no notification says the API could not be reached"
        assert "cannot connect" in warned[-1].message and "10m" in warned[-1].message
        assert "ctrl+r" in warned[-1].message

        # a page never fetched cannot come from the cache: an error, the rows stay
        await pilot.press("right_curly_bracket")
        await settle(pilot)
        assert table.rows == rows
        assert app.connection == "offline"
        errors = notes(app, "error")
        assert errors and "cannot connect" in errors[-1].message

        app.test_wire.down = False  # back: ctrl+r retries the page asked for
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.connection == "online" and "● online" in header(app)
        assert table.page == table.pages and table.rows != rows
        assert f"page {table.pages} / {table.pages}" in page_status(app)


# ---------------------------------------------------------------------------- 429


async def test_rate_limited_page_is_retried_after_retry_after_and_paints(states_app):
    app = states_app(max_tries=3)
    async with app.run_test(size=SIZE) as pilot:
        await settle_with_detail(pilot)
        table = explorer(app).table
        faults = app.test_faults
        faults.rate_limit_rate, faults.retry_after_s = 1.0, 7
        faults.path_contains, faults.max_faults = "/conversations", 2
        await pilot.press("S")  # a new query: two 429s, then the page
        await settle(pilot)
        assert app.test_wire.list_statuses(sentiment="negative", offset="0") == [429, 429, 200]
        assert app.test_sleeps[:2] == [7.0, 7.0]  # Retry-After, not the (< 1 s) back-off
        assert table.rows and {r.sentiment_label for r in table.rows} == {"negative"}
        assert app.connection == "online"
        assert not notes(app, "error")


async def test_persistent_rate_limit_is_named_keeps_the_page_and_retry_works(states_app):
    app = states_app(max_tries=3)
    async with app.run_test(size=SIZE) as pilot:
        await settle_with_detail(pilot)
        table = explorer(app).table
        rows = list(table.rows)
        faults = app.test_faults
        faults.rate_limit_rate, faults.retry_after_s = 1.0, 2
        faults.path_contains = "/conversations"
        await pilot.press("S")
        await settle(pilot)
        assert app.test_wire.list_statuses(sentiment="negative", offset="0") == [429, 429, 429]
        assert app.test_sleeps[:2] == [2.0, 2.0]
        assert table.rows == rows and table.table.row_count == len(rows)
        assert on_screen_range(table) in page_status(app)
        assert app.connection == "error"
        errors = notes(app, "error")
        assert errors
        said = f"{errors[-1].title} {errors[-1].message}".lower()
        assert "rate limit" in said and "2s" in said and "ctrl+r" in said

        faults.rate_limit_rate = 0.0
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.test_wire.list_statuses(sentiment="negative", offset="0")[-1] == 200
        assert table.rows and {r.sentiment_label for r in table.rows} == {"negative"}
        assert app.connection == "online"


# ---------------------------------------------------------------------------- page flip faults


@pytest.mark.parametrize("fault", ["timeout", "malformed"])
async def test_failed_page_flip_keeps_the_rows_and_retries(states_app, fault):
    app = states_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle_with_detail(pilot)
        table = explorer(app).table
        # the client's deadline per attempt (the ASGI transport enforces none), short once the
        # first page is in (a cold first query may take longer than this)
        app.client.total_timeout = 0.2
        faults = app.test_faults
        faults.path_contains = "/conversations"
        if fault == "timeout":
            faults.hang_rate = 1.0
        else:
            faults.malformed_rate = 1.0
        await pilot.press("n")  # page 2 was prefetched: shown; page 3's prefetch fails
        await settle(pilot)
        assert table.page == 2
        rows = list(table.rows)
        status = page_status(app)
        assert "page 2 /" in status

        await pilot.press("n")  # page 3 is not cached: the API is asked, and fails
        await settle(pilot)
        assert table.rows == rows and table.table.row_count == len(rows)
        assert on_screen_range(table) in page_status(app)  # the status tells the rows shown
        assert "page 2 /" in page_status(app) and "load failed" in page_status(app)
        errors = notes(app, "error")
        assert errors and "ctrl+r" in errors[-1].message
        if fault == "timeout":
            assert "no answer within 0.2s" in errors[-1].message
            assert app.connection == "offline"
        else:
            assert "malformed JSON" in errors[-1].message
            assert app.connection == "error"

        faults.hang_rate = faults.malformed_rate = 0.0
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert table.page == 3 and table.rows and table.rows != rows
        assert "page 3 /" in page_status(app) and on_screen_range(table) in page_status(app)
        assert "failed" not in page_status(app)
        assert app.connection == "online"


# ---------------------------------------------------------------------------- 16 colours


def colours_16(style: Style | None) -> tuple:
    """What a 16-colour terminal gets from `style`: attributes and colours downgraded as
    Textual's Strip.render does for ColorSystem.STANDARD (without caching ANSI on the style)."""
    if style is None:
        return (None, None, False, False, False)
    colour = style.color.downgrade(ColorSystem.STANDARD) if style.color else None
    back = style.bgcolor.downgrade(ColorSystem.STANDARD) if style.bgcolor else None
    for c in (colour, back):
        assert c is None or c.is_default or c.number is not None and c.number < 16, style
    return (colour and colour.number, back and back.number, bool(style.bold),
            bool(style.underline), bool(style.reverse))


def char_at(line: str, x: int) -> str:
    """The character at cell column `x` of a screen line (blank past its end)."""
    column = 0
    for char in line:
        if column >= x:
            return char
        column += cell_len(char)
    return " "


def row_looks(app, grid) -> list[tuple]:
    """How a 16-colour terminal shows each row of the grid as the screen has it: the row's
    own style, read from its first cell (the blank before the "sel" column, which no cell
    content colours)."""
    lines = screen_lines(app)
    region = grid.region
    looks = []
    for row in range(grid.row_count):  # line 0 of the grid: the column labels
        y = region.y + 1 + row
        assert char_at(lines[y], region.x) == " "
        looks.append(colours_16(app.screen.get_style_at(region.x, y)))
    return looks


async def test_explorer_in_16_colours_keeps_the_cursor_row_visible(studio_app, monkeypatch):
    from textual import constants

    # TEXTUAL_COLOR_SYSTEM is read when textual is imported: set the constant it fills
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "standard")
    monkeypatch.setattr(constants, "COLOR_SYSTEM", "standard")
    app = studio_app()
    async with app.run_test(size=(120, 40)) as pilot:  # with the sidebar: the focus goes there
        await settle(pilot)
        assert app.console.color_system == "standard"
        width, height = app.size
        for y in range(height):  # every style downgrades
            for x in range(width):
                colours_16(app.screen.get_style_at(x, y))
        assert "DEMO" in app.export_screenshot()
        grid = explorer(app).table.table
        assert grid.has_focus and grid.cursor_row == 0 and grid.row_count > 3

        def cursor_look(label: str) -> tuple:
            looks = row_looks(app, grid)
            cursor = looks.pop(grid.cursor_row)
            assert len(set(looks)) == 2, looks  # the even and the odd rows' stripes
            assert cursor not in looks, (label, cursor, looks)
            return cursor

        focused = cursor_look("focused, on an even row")
        await pilot.press("j")
        assert cursor_look("focused, on an odd row") == focused
        explorer(app).query_one("#preset").focus()  # the focus moves to the sidebar
        await pilot.pause()
        assert not grid.has_focus
        assert cursor_look("blurred") != focused  # the table's focus shows too

        explorer(app).action_focus_table()  # and the conversation view renders too
        await pilot.press("enter")
        await settle(pilot)
        assert "user" in app.export_screenshot() and app.is_running


# ---------------------------------------------------------------------------- typed rows

#: what a JSON answer may hold where the table reads a field (JSON has no bytes or objects)
ODD_VALUES = [None, "", "x", " 12 ", "12", "12.5", "1e3", "nan", "inf", "-3", "true", "False",
              "YES", "off", "t", "2", 0, 1, 2, -1, 12, 2**70, 1.0, 0.0, 2.5, 3.5,
              float("nan"), float("inf"), True, False, [], [1], {}, {"a": [1, "é"]}]


@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
def test_table_rows_read_fields_as_the_models_do(value):
    """The table's rows (read without pydantic, for the first frame) and api.models agree on
    every field they share, whatever the API sends there."""
    import math

    from api.endpoints.conversations import ConversationRow
    from api.models import Conversation

    for name in (s for s in ConversationRow.__slots__ if not s.startswith("_")):
        row = ConversationRow({name: value})
        want, got = getattr(Conversation.model_validate({name: value}), name), getattr(row, name)
        assert type(got) is type(want), (name, value, got, want)
        assert got == want or (isinstance(want, float) and math.isnan(want)), (name, value)
        assert getattr(row.conversation(), name) == want or want != want  # (nan)


def test_a_page_of_rows_tolerates_odd_answers():
    from api.endpoints.conversations import ConversationRow, RowPage, rows
    from api.errors import BadResponseError
    from api.query import ConversationQuery

    parse = rows("p", ConversationQuery(), limit=2).parse
    assert parse(None) == RowPage()
    assert parse({"conversations": "x", "total": "7"}) == RowPage((), 7)
    page = parse({"conversations": [{"conversation_id": "a"}, 3, None], "total": None})
    assert page == RowPage((ConversationRow({"conversation_id": "a"}),), None)
    for answer in ([], "text", 3):
        with pytest.raises(BadResponseError):
            parse(answer)


async def test_a_failing_cache_peek_does_not_stop_the_first_page(studio_app):
    """The start-up peek only saves time: when reading the cached page fails, the page is
    asked of the API as usual (the worker used to die with the table left loading)."""
    from api.errors import BadResponseError

    app = studio_app()

    async def broken_peek(request):
        raise BadResponseError("unexpected answer shape for GET /conversations")

    app.peek_cached = broken_peek
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = explorer(app).table
        assert table.rows and not table.loading_page
        assert app.test_transport.params_of("/conversations")


async def test_a_client_that_cannot_be_built_is_reported_in_the_conversation_view(studio_app):
    from screens.conversation import ConversationScreen

    app = studio_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        async def no_client():
            raise RuntimeError("no client today")

        app.get_client = no_client
        app.push_screen(ConversationScreen("21014999"))
        await settle(pilot)
        assert any("no client today" in n.message for n in app.test_notifications)


async def test_the_apps_state_repaints_what_shows_it_not_the_whole_screen(studio_app):
    """A page fetched, a connection state, the lookups or the views loaded repaint the widgets
    that show them: a whole-screen repaint is the whole screen sent again over the link."""
    app = studio_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = explorer(app)
        whole: list[dict] = []
        own_refresh = screen.refresh

        def refresh(*regions, **options):
            if not regions:
                whole.append(options)
            return own_refresh(*regions, **options)

        screen.refresh = refresh  # type: ignore[method-assign]
        app.connection, app.connection_detail = "stale", "(2m old, refreshing)"
        app.project_name = "Renamed project"
        app.lookups = app.lookups
        app.views = dict(app.views)
        await pilot.press("n")  # the next page: fetched, shown, the connection noted
        await settle(pilot)
        assert whole == []
        assert "Renamed project" in header(app) and "◐ stale cache" not in header(app)
