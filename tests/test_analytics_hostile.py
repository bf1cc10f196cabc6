"""Hostile API answers on the analytics screens, with notifications rendered.

A poisoning transport wraps the in-process demo: names, titles, tags, labels and job messages
get markup-like brackets (``[/]``, ``[link=...]``), CSI sequences, an OSC 52 clipboard write
with an ST terminator and a clear-screen; ids can be made hostile for the URL paths. Every
test runs ``run_test(notifications=True)`` so that a notification whose text were parsed as
markup would crash the app, and checks what the compositor renders: no ESC reaches the
terminal, the brackets show literally.

Also here: the trending-topics job polling ends on any status but pending/running and after a
time limit, and a reload cancels the secondary loads started for older filters.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from analytics_harness import HarnessApp, demo_client, screen_text, settle
from app_support import screen_lines, screen_segments
from test_analytics_screens import select_row
from textual.widgets import DataTable, TabbedContent

from api.query import ConversationQuery
from api.text import sanitize
from screens.analytics import ANALYTICS_SCREENS
from screens.analytics.configuration import ConfigurationScreen
from screens.analytics.conversions import ConversionsScreen
from screens.analytics.csat import CsatScreen
from screens.analytics.overview import OverviewScreen
from screens.analytics.signals import SignalsScreen
from screens.analytics.topics import TopicsScreen
from widgets.charts import BarChart
from widgets.tables import PagedTable, TitledTable

SIZE = (140, 120)  # tall: most of each screen is composited
MARK = "[/] [link=https://evil.example]L[/link] [b]B"
HOSTILE = f" {MARK}\x1b[31mR\x1b[0m\x1b]52;c;AAAA\x1b\\\x1b[2J"
SHOWN = sanitize(HOSTILE).strip()  # what must be shown, literally
assert "\x1b" not in SHOWN and SHOWN.startswith(MARK) and "AAAA" not in SHOWN
# the fields that carry names, titles and messages (ids and statuses are left alone)
NAME_KEYS = frozenset(
    {
        "name",
        "title",
        "tag",
        "playbook_name",
        "case_name",
        "description",
        "value_label",
        "tool_name",
        "action_name",
        "skill_name",
        "source",
        "criteria",
        "explanation",
        "remark",
        "error_message",
        "label",
        "summary",
        "insight",
        "activated_by",
        "model",
        "progress_message",
        "step",
        "content",
        "personality_tone",
    }
)
Answer = Callable[[httpx.Request], Any]


def poison(data: Any, key: str = "") -> Any:
    """Hostile names everywhere a screen shows API text: NAME_KEYS fields, tags, and one extra
    label in every distribution."""
    if isinstance(data, dict):
        out = {k: poison(v, k) for k, v in data.items()}
        if key.endswith("_distribution") and out:
            out[f"odd{HOSTILE}"] = 3
        return out
    if isinstance(data, list):
        if key == "tags":
            return [f"{t}{HOSTILE}" if isinstance(t, str) else t for t in data]
        return [poison(v) for v in data]
    if isinstance(data, str) and key in NAME_KEYS:
        return data + HOSTILE
    return data


class Poisoning(httpx.AsyncBaseTransport):
    """The demo's answers through ``poison``; ``answers`` replace some (path suffix -> JSON
    or a function of the request). Every request is kept."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        answers: dict[str, Any] | None = None,
        poison: Callable[[Any], Any] = poison,
    ) -> None:
        self.inner = inner
        self.answers = answers or {}
        self.poison = poison
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.raw_path.decode().partition("?")[0]  # still quoted
        for suffix, answer in self.answers.items():
            if path.endswith(suffix):
                body = answer(request) if callable(answer) else answer
                return httpx.Response(200, json=body)
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if not response.headers.get("content-type", "").startswith("application/json"):
            return response
        data = self.poison(json.loads(response.content))
        return httpx.Response(response.status_code, json=data)

    def paths(self, part: str) -> list[str]:
        """Raw (still quoted) paths of the requests whose path contains ``part``."""
        return [
            r.url.raw_path.decode().partition("?")[0] for r in self.requests if part in r.url.path
        ]


def hostile_app(demo_db, screen, *, answers=None, poison_fn=poison, **kw) -> HarnessApp:
    client = demo_client(demo_db, **kw)
    transport = Poisoning(client._http._transport, answers, poison_fn)
    client._http._transport = transport
    client.test_poison = transport
    return HarnessApp(client, screen)


def rendered(app) -> str:
    """What the terminal shows of the screen (toasts included), as text; asserts that no piece
    of it carries ESC or another control character."""
    for _line, _column, text in screen_segments(app):
        assert sanitize(text) == text, repr(text)
    return "\n".join(screen_lines(app))


def notices(app) -> list[str]:
    return [n.message for n in app.test_notifications]


# -------------------------------------------------------------------- every screen
@pytest.mark.parametrize("entry", ANALYTICS_SCREENS, ids=[e[1] for e in ANALYTICS_SCREENS])
async def test_hostile_names_render_literally_on_every_screen(demo_db, entry):
    screen_class = entry[2]
    app = hostile_app(demo_db, screen_class)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.errors == []
        tabs = list(app.screen.query(TabbedContent))
        panes = [p.id for p in tabs[0].query("TabPane")] if tabs else [None]
        shown = ""
        for pane in panes:  # the configuration/resources tabs: each one composited
            if pane is not None:
                tabs[0].active = pane
                await settle(pilot)
            text = screen_text(app.screen)
            assert "\x1b" not in text and "\x07" not in text
            shown += rendered(app)
        assert SHOWN in text or SHOWN in shown, "hostile names shown literally"
        assert "[/]" in shown  # on the terminal, as typed: never parsed as markup


# -------------------------------------------------------------------- notifications
async def test_unknown_signal_label_notice_is_not_markup(demo_db):
    app = hostile_app(demo_db, SignalsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        chart = app.screen.query_one("#sentiment", BarChart)
        await select_row(pilot, chart, f"odd{HOSTILE}")
        await settle(pilot)
        assert app.drilled == []
        [notice] = notices(app)
        label = "odd" + sanitize(HOSTILE)
        assert notice == f"{label!r} is not a known sentiment value: cannot filter on it"
        shown = rendered(app)
        assert "known sentiment value" in shown and "'odd [/] [link=" in shown


async def test_tag_with_a_comma_and_markup_explains_without_crashing(demo_db):
    def by_tag(data: Any) -> Any:
        if isinstance(data, dict) and "by_tag" in data:
            data["by_tag"] = [{"tag": "vip,[/]", "total_conversations": 3}]
        return data

    app = hostile_app(demo_db, OverviewScreen, poison_fn=by_tag)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await select_row(pilot, app.screen.query_one("#by-tag", TitledTable), "vip,[/]")
        await settle(pilot)
        assert app.drilled == []
        [notice] = notices(app)
        assert notice.startswith("cannot open these conversations") and "vip,[/]" in notice
        assert "cannot open these" in rendered(app)


async def test_marked_version_notice_shows_the_hostile_name(demo_db):
    app = hostile_app(demo_db, ConfigurationScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        versions = app.screen.query_one("#versions", TitledTable).query_one(DataTable)
        versions.focus()
        versions.move_cursor(row=1)
        await pilot.press("m")
        versions.move_cursor(row=0)
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot)
        [notice] = notices(app)
        assert notice.startswith("Marked ") and SHOWN in notice
        diff = str(app.screen.query_one("#instructions").content)
        assert diff.startswith("Diff ") and SHOWN in diff and "\x1b" not in diff
        assert "Marked " in rendered(app)


def job_answers(jobs: list[dict], analysis: dict | None = None) -> dict[str, Any]:
    """A generate answer, then the job states in turn (the last one repeats)."""
    polls = iter(jobs)
    last: dict[str, Any] = {}

    def job(_request: httpx.Request) -> dict:
        nonlocal last
        last = next(polls, last)
        return last

    answers: dict[str, Any] = {"/trending-topics/generate": {"job_id": "j1", "status": "pending"}}
    answers["/job/j1"] = job
    if analysis is not None:
        answers["/analysis/an1"] = analysis
    return answers


async def run_generation(demo_db, answers: dict[str, Any], limit: float | None = None):
    app = hostile_app(demo_db, TopicsScreen, answers=answers)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.POLL_INTERVAL = 0
        if limit is not None:
            screen.FOLLOW_LIMIT = limit
        await pilot.press("a")
        await asyncio.wait_for(settle(pilot), 30)  # never polls forever
        return app, screen, rendered(app)


async def test_failed_job_message_is_shown_literally(demo_db):
    failed = {"id": "j1", "status": "failed", "progress_message": f"boom{HOSTILE}"}
    app, screen, shown = await run_generation(demo_db, job_answers([failed]))
    [notice] = notices(app)
    assert notice == f"Topic analysis failed: boom {SHOWN}"
    assert screen.job_status is None and "Topic analysis failed" in shown


# -------------------------------------------------------------------- job polling
@pytest.mark.parametrize("status", ["cancelled", "error", "paused-forever", None])
async def test_job_polling_stops_on_any_other_status(demo_db, status):
    running = {"id": "j1", "status": "running", "progress": 40, "progress_message": "Clustering"}
    odd = {"id": "j1", "status": status, "progress": 40}
    app, screen, _ = await run_generation(demo_db, job_answers([running, odd]))
    assert len(app.client.test_poison.paths("/job/")) == 2  # running, then the odd one: stop
    [notice] = notices(app)
    assert notice.startswith(f"Topic analysis ended with status {status!r}")
    assert screen.job_status is None and not screen.has_class("-running")


async def test_job_polling_has_a_time_limit(demo_db):
    running = {"id": "j1", "status": "running", "progress": 40, "progress_message": "Clustering"}
    app, screen, _ = await run_generation(demo_db, job_answers([running]), limit=0)
    assert len(app.client.test_poison.paths("/job/")) == 1
    [notice] = notices(app)
    assert "still running after 0 s: stopped waiting" in notice
    assert screen.job_status is None


# -------------------------------------------------------------------- URL paths
async def test_job_and_analysis_ids_are_quoted_path_segments(demo_db):
    done = {"id": "x", "status": "completed", "progress": 100, "analysis_id": "an/../1?x#y"}
    answers = {
        "/trending-topics/generate": {"job_id": "../j 1?a=b", "status": "pending"},
        "/job/..%2Fj%201%3Fa%3Db": done,
    }
    app, screen, _ = await run_generation(demo_db, answers)
    [job] = app.client.test_poison.paths("/job/")
    assert job.endswith("/trending-topics/job/..%2Fj%201%3Fa%3Db")
    [analysis] = app.client.test_poison.paths("/analysis/")
    assert analysis.endswith("/trending-topics/analysis/an%2F..%2F1%3Fx%23y")


@pytest.mark.parametrize("field", ["job_id", "analysis_id"])
async def test_a_missing_id_sends_no_request(demo_db, field):
    done = {"id": "j1", "status": "completed", "progress": 100, "analysis_id": None}
    answers = job_answers([done])
    if field == "job_id":
        answers["/trending-topics/generate"] = {"status": "pending"}
    app, screen, _ = await run_generation(demo_db, answers)
    poisoned = app.client.test_poison
    assert not any(p.endswith("/None") for p in poisoned.paths("/trending-topics/"))
    assert poisoned.paths("/analysis/") == []
    if field == "job_id":
        assert poisoned.paths("/job/") == []
    [notice] = notices(app)
    assert ("no job id" if field == "job_id" else "without an analysis id") in notice
    assert screen.job_status is None


async def test_conversion_slug_is_a_quoted_path_segment(demo_db):
    slug = "a/../b c?d"
    answers = {
        "/conversion-metrics": [{"slug": slug, "name": "Odd", "last_event_at": None}],
        "/analytics": {"is_configured": False},
    }
    app = hostile_app(demo_db, ConversionsScreen, answers=answers)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        paths = app.client.test_poison.paths("/analytics")
        assert paths and all(
            p.endswith("/conversion-metrics/a%2F..%2Fb%20c%3Fd/analytics") for p in paths
        )
        assert app.errors == []


# -------------------------------------------------------------------- stale secondary loads
async def test_reload_drops_a_page_started_for_older_filters(demo_db):
    """A ratings page still loading when the filters change never paints over the new ones."""
    gate = asyncio.Event()
    client = demo_client(demo_db)
    inner = client._http._transport

    class Gated(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            if request.url.params.get("ratings_offset") == "10":
                await gate.wait()
            return await inner.handle_async_request(request)

    client._http._transport = Gated()
    app = HarnessApp(client, CsatScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        ratings = screen.query_one("#ratings", PagedTable)
        ratings.query_one(DataTable).focus()
        await pilot.press("n")  # page 2 of the old filters: held at the gate
        await pilot.pause()
        app.filters = ConversationQuery.build(start_date="2026-06-01", end_date="2026-06-16")
        while screen.load_count < 2:
            await pilot.pause()
        fresh = ratings.rows_text()
        gate.set()
        await settle(pilot)
        assert ratings.page_offset == 0 and ratings.rows_text() == fresh
        assert app.errors == []
