"""Pilot tests of the analytics screens on the in-process demo backend.

Drill-downs (the explorer's query afterwards), CSAT not configured, the stale conversion
heartbeat, the trending-topics job flow (generate -> progress -> completed, then 409), paging,
the chart/table toggle, hostile API answers and errors that keep the last figures.
"""

from __future__ import annotations

import httpx
import pytest
from analytics_harness import WINDOW as WINDOW_FILTERS
from analytics_harness import HarnessApp, demo_client, screen_text, settle
from textual.widgets import DataTable

from api.query import ConversationQuery
from screens.analytics import ANALYTICS_SCREENS
from screens.analytics.configuration import ConfigurationScreen
from screens.analytics.conversions import ConversionsScreen
from screens.analytics.csat import NOT_CONFIGURED, CsatScreen
from screens.analytics.overview import OverviewScreen
from screens.analytics.resources import ResourcesScreen
from screens.analytics.signals import SignalsScreen
from screens.analytics.topics import ALREADY_TODAY, TopicsScreen
from widgets.charts import BarChart, ChartBase
from widgets.filter_bar import FilterBar
from widgets.tables import PagedTable, TitledTable

SIZE = (120, 40)


def harness(demo_db, screen, **kw) -> HarnessApp:
    return HarnessApp(demo_client(demo_db, **kw), screen)


async def select_row(pilot, table_widget, key: str) -> None:
    """Move the cursor of the DataTable inside ``table_widget`` to ``key`` and press enter."""
    table = table_widget.query_one(DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(key))
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()


@pytest.mark.parametrize("screen_class", [OverviewScreen, ConfigurationScreen, TopicsScreen])
async def test_the_window_key_shows_where_the_window_applies(demo_db, screen_class):
    """`w` (the next shared window) is offered where the figures cover the shared window; on a
    screen whose figures do not (project-wide lists, an analysis with its own window) it is
    not listed, and pressing it changes nothing."""
    app = harness(demo_db, screen_class)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = app.filters
        shown = "w" in app.active_bindings and app.active_bindings["w"].enabled
        await pilot.press("w")
        await settle(pilot)
        assert shown is screen_class.WINDOWED
        assert (app.filters != before) is screen_class.WINDOWED


@pytest.mark.parametrize(("width", "expected"), [(80, "-narrow"), (120, "-wide")])
async def test_the_width_class_is_set_before_the_screen_is_styled(demo_db, width, expected):
    """The screen opens with the class of its width (the layout at 80 and at 120 columns
    differs), so the whole screen is styled once when it is first shown, not again at its
    first resize; the class follows later resizes across 110 columns."""
    app = harness(demo_db, OverviewScreen)
    restyled: list[object] = []
    own_update_styles = app.update_styles

    def update_styles(node=None, animate=True):
        restyled.append(node)
        return own_update_styles(node, animate)

    app.update_styles = update_styles  # type: ignore[method-assign]
    async with app.run_test(size=(width, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        assert {"-narrow", "-wide"} & screen.classes == {expected}
        assert restyled.count(screen) == 1  # its first showing (its own CSS arrives then)
        other = 200 - width  # 120 or 80: across the breakpoint
        await pilot.resize_terminal(other, 40)
        await settle(pilot)
        assert {"-narrow", "-wide"} & screen.classes == {"-narrow" if other < 110 else "-wide"}


@pytest.mark.parametrize("entry", ANALYTICS_SCREENS, ids=[e[1] for e in ANALYTICS_SCREENS])
async def test_every_screen_loads_without_error(demo_db, entry):
    key, name, screen_class, description = entry
    assert len(key) == 1 and name and description
    app = harness(demo_db, screen_class)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.errors == []
        assert screen_class is type(app.screen)
        assert app.screen.load_count == 1
        bar = str(app.screen.query_one(FilterBar).content)  # says which window is covered
        if screen_class.WINDOWED:  # whole UTC days, the last one included
            assert "2026-05-17 → 2026-06-15" in bar and "UTC" in bar
        else:  # its own window (topics) or none (project-wide lists): never the shared one
            assert "2026-05-17" not in bar


async def test_signal_bars_drill_down(demo_db):
    app = harness(demo_db, SignalsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        await select_row(pilot, screen.query_one("#handoff_reason", BarChart), "frustration")
        await select_row(pilot, screen.query_one("#sentiment", BarChart), "negative")
        await select_row(pilot, screen.query_one("#deflection_quality", BarChart), "actioned")
    frustration, negative, actioned = app.drilled
    base = app.filters
    assert frustration == base.replace(handoff_reason=("frustration",), has_handoff=True)
    assert negative == base.replace(sentiment=("negative",))
    assert actioned == base.replace(deflection_quality=("actioned",), has_handoff=False)


async def test_overview_rows_drill_down(demo_db):
    app = harness(demo_db, OverviewScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        by_assistant = screen.query_one("#by-assistant", TitledTable)
        by_tag = screen.query_one("#by-tag", TitledTable)
        assert by_assistant.keys and by_tag.keys
        base_id, tag = by_assistant.keys[0], by_tag.keys[0]
        await select_row(pilot, by_assistant, base_id)
        await select_row(pilot, by_tag, tag)
    assert app.drilled == [
        app.filters.replace(playbook_base_id=base_id),
        app.filters.replace(tags=(tag,)),
    ]


async def test_overview_account_switch(demo_db):
    app = harness(demo_db, OverviewScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        project_total = await app.client.get(
            f"/projects/{app.client.project_id}/conversations/analytics",
            app.filters.analytics_params(),
        )
        account = await app.client.get(
            "/account/conversations/analytics", app.filters.account_params()
        )
        assert account["total_conversations"] > project_total["total_conversations"]
        await pilot.press("a")
        await settle(pilot)
        text = screen_text(app.screen)
        assert f"Account convs.: {account['total_conversations']:,}" in text
        assert "Account-wide" in text


async def test_csat_not_configured_on_second_project(demo_db):
    app = harness(demo_db, CsatScreen, project=1)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.has_class("-unconfigured")
        assert screen.query_one("#not-configured").display
        assert NOT_CONFIGURED in screen_text(screen)
        # no figure at all is shown: every KPI/chart/table is hidden, never "0%"
        for widget in screen.query("Kpis, ChartBase, TitledTable"):
            assert not widget.display


async def test_csat_configured_and_dsat_paging(demo_db):
    app = harness(demo_db, CsatScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        assert not screen.has_class("-unconfigured")
        ratings = screen.query_one("#ratings", PagedTable)
        first_page = ratings.rows_text()
        assert len(first_page) == 10 and ratings.page_offset == 0
        ratings.query_one(DataTable).focus()
        await pilot.press("n")
        await settle(pilot)
        assert ratings.page_offset == 10 and ratings.rows_text() != first_page
        await pilot.press("d")  # DSAT: only 1-2 star ratings
        await settle(pilot)
        assert screen.max_rating == 2
        stars = {row[0] for row in ratings.rows_text()}
        assert stars <= {"1★", "2★"} and stars
        top = screen.query_one("#dsat-tags", TitledTable)
        tag = top.keys[0]
        await select_row(pilot, top, tag)
    assert app.drilled[-1] == app.filters.replace(tags=(tag,))


async def test_stale_conversion_heartbeat_warns(demo_db):
    app = harness(demo_db, ConversionsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        heartbeat = screen.query_one("#heartbeat")
        assert screen.slug == "venta" and not heartbeat.display  # fresh heartbeat: no warning
        await select_row(pilot, screen.query_one("#metrics", TitledTable), "suscripcion")
        await settle(pilot)
        assert screen.slug == "suscripcion"
        assert heartbeat.display
        text = screen_text(screen)
        assert "ingest pipeline is likely broken" in text
        assert "4.0 days before the end of the window" in text or "days before" in text


async def test_conversion_funnel_one_call_per_assistant(demo_db):
    client = demo_client(demo_db)
    seen: list[str] = []
    send = client._http.send

    async def spy(request, **kw):
        if request.url.path.endswith("/analytics") and "conversion-metrics" in request.url.path:
            seen.append(request.url.params.get("playbook_base_id", ""))
        return await send(request, **kw)

    client._http.send = spy
    app = HarnessApp(client, ConversionsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        playbooks = await client.get(f"/projects/{client.project_id}/playbooks")
        bases = {p["base_id"] for p in playbooks}
        funnel = app.screen.query_one("#funnel", TitledTable)
        assert set(funnel.keys) <= bases and funnel.keys
    assert {s for s in seen if s} == bases
    assert "" in seen  # the topline itself, unfiltered by assistant


async def test_topics_job_flow_then_409(demo_db):
    ticks = {"now": 0.0}

    def clock() -> float:  # the demo's job advances 0.4 s per request that reads the clock
        ticks["now"] += 0.4
        return ticks["now"]

    app = harness(demo_db, TopicsScreen, clock=clock)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.POLL_INTERVAL = 0
        seen: list[tuple[str | None, float]] = []
        set_job = screen.set_job
        screen.set_job = lambda status, progress=0, message="": (
            seen.append((status, progress)),
            set_job(status, progress, message),
        )
        await pilot.press("a")
        await settle(pilot)
        statuses = [s for s, _ in seen]
        assert statuses[0] == "pending" and statuses[-1] == "completed"
        assert "running" in statuses
        progress = [p for s, p in seen if s == "running"]
        assert progress == sorted(progress) and 0 < progress[0] < 100
        topics = screen.query_one("#topics", TitledTable)
        assert topics.keys, "the completed analysis lists its topics"
        text = screen_text(screen)
        assert "Analysis of" in text and "Generating: 100%" in text
        # the same day again: 409, explained, and the latest analysis stays on screen
        await pilot.press("a")
        await settle(pilot)
        assert any(ALREADY_TODAY == n.message for n in app.test_notifications)
        assert "Already generated today (409)" in screen_text(screen)
        assert screen.query_one("#topics", TitledTable).keys
    assert app.errors == []


async def test_a_topic_opens_its_exact_conversations(demo_db):
    """Enter on a topic lists exactly its conversation ids (batch endpoint, pages of 50);
    enter on one opens the conversation view, whose next key walks the list."""
    from screens.analytics.ids import ConversationIdsScreen
    from screens.conversation import ConversationScreen

    app = harness(demo_db, TopicsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        topics = app.screen.query_one("#topics", TitledTable)
        topic = app.screen.topics[0]
        ids = topic.conversation_ids
        assert len(ids) > 50  # more than one batch call
        await select_row(pilot, topics, "0")
        await settle(pilot)
        listing = app.screen
        assert isinstance(listing, ConversationIdsScreen) and listing.ids == ids
        table = listing.query_one("#ids", PagedTable)
        assert table.keys == ids[:50]
        await pilot.press("n")
        await settle(pilot)
        assert table.keys == ids[50:100] and table.page_offset == 50
        batches = [r for r in app.client.test_requests if r.url.path.endswith("/batch")]
        assert len(batches) == 2
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert app.screen.conversation_id == ids[50]
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert app.screen.conversation_id == ids[51]
    assert app.drilled == [] and app.errors == []


async def test_a_rating_opens_its_conversation(demo_db):
    from screens.conversation import ConversationScreen

    app = harness(demo_db, CsatScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        ratings = app.screen.query_one("#ratings", PagedTable)
        cid = ratings.keys[1]
        await select_row(pilot, ratings, cid)
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen) and app.screen.conversation_id == cid
        assert cid in str(app.screen.query_one("#conv-title").content)
    assert app.errors == []


async def test_resources_kb_top_items_resolved_to_titles(demo_db):
    app = harness(demo_db, ResourcesScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        kb = await app.client.get(f"/knowledgebases/{screen.kb_id}")
        assert str(kb.get("kb_type", "")).upper() == "INTERCOM"
        titles = {i["id"]: i["title"] for i in kb.get("intercom_items", [])}
        rows = screen.query_one("#kb-items", TitledTable).rows_text()
        assert rows and all(row[1] in titles.values() for row in rows)


async def test_chart_table_toggle(demo_db):
    app = harness(demo_db, SignalsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        charts = list(app.screen.query(ChartBase))
        assert charts and not any(c.table_view for c in charts)
        await pilot.press("x")
        assert all(c.table_view and not c.plot.display for c in charts)
        await pilot.press("x")
        assert not any(c.table_view for c in charts)


async def test_configuration_diff_between_versions(demo_db):
    app = harness(demo_db, ConfigurationScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        versions = screen.query_one("#versions", TitledTable)
        assert len(versions.keys) >= 2
        table = versions.query_one(DataTable)
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("m")
        table.move_cursor(row=0)
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        text = screen_text(screen)
        assert "Diff " in text and ("---" in text or "same instructions" in text)


async def test_error_after_a_filter_change_replaces_the_figures(demo_db):
    """The figures of the former filters never stay under the new ones: each section shows
    the error (issue 11; a failed ctrl+r of the same filters keeps them, marked stale: see
    test_analytics_stale.py)."""
    app = harness(demo_db, OverviewScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        before = screen_text(app.screen)

        def boom(request: httpx.Request) -> httpx.Response:
            return httpx.Response(404, json={"detail": "project gone"})

        app.client._http._transport = httpx.MockTransport(boom)
        app.filters = app.filters.replace(tags=("billing",))
        await settle(pilot)
        assert len(app.errors) == 1 and "project gone" in str(app.errors[0])
        assert "\n" not in str(app.errors[0])
        app.clear_notifications()  # the error's toast is not a figure
        await pilot.pause()
        assert screen_text(app.screen) != before
        for widget in app.screen.query("Kpis, ChartBase, TitledTable"):
            assert widget.figure_state == "failed", widget.id
        assert "not loaded (API error)" in screen_text(app.screen)
        assert "project gone" in app.screen.query_one("#kpis").text


HOSTILE = "\x1b[31mred\x1b]0;title\x07 [bold]x[/bold]"


async def test_hostile_and_missing_fields_never_crash(demo_db):
    """Odd answers: missing fields, wrong types, escape sequences and markup in labels."""

    def odd(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/metrics/aggregate"):
            return httpx.Response(
                200,
                json={
                    "total_scored_conversations": "many",
                    "sentiment_distribution": {"negative": 3, HOSTILE: 2, "neutral": None},
                    "handoff_reason_distribution": [1, 2],
                },
            )
        if path.endswith("/conversations/analytics"):
            return httpx.Response(
                200,
                json={
                    "total_conversations": 5,
                    "by_playbook": [{"playbook_name": HOSTILE}, "junk"],
                    "by_tag": None,
                    "time_series": [{"timestamp": HOSTILE, "total_conversations": 2}],
                },
            )
        return httpx.Response(200, json=[])

    for screen_class in (SignalsScreen, OverviewScreen):
        client = demo_client(demo_db)
        client._http._transport = httpx.MockTransport(odd)
        app = HarnessApp(client, screen_class)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
            assert app.errors == []
            text = screen_text(app.screen)
            assert "\x1b" not in text and "\x07" not in text
            assert "[bold]x[/bold]" in text  # shown literally, never parsed as markup
            assert "—" in text  # missing figures read as missing, not as 0


async def test_filters_change_reloads(demo_db):
    app = harness(demo_db, SignalsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        before = screen_text(app.screen)
        app.filters = ConversationQuery.build(
            start_date="2026-06-14", end_date="2026-06-16", tags=("billing",)
        )
        await settle(pilot)
        assert app.screen.load_count == 2
        assert screen_text(app.screen) != before


async def test_drill_down_opens_the_explorer_in_the_real_app(demo_db, tmp_path):
    """In StudioApp: s opens the signals, enter on 'frustration' lands in the explorer whose
    query (and its list request) carries handoff_reason=frustration and has_handoff=true."""
    from app_support import make_app

    app = make_app(tmp_path, size=5000, seed=7, anchor="2026-06-15")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SignalsScreen)
        shared = app.filters
        await select_row(pilot, screen.query_one("#handoff_reason", BarChart), "frustration")
        await settle(pilot)
        explorer = app.get_screen_for_mode("explorer")
        assert app.screen is explorer
        assert explorer.query_obj == shared.replace(
            handoff_reason=("frustration",), has_handoff=True
        )
        last = app.test_transport.params_of("/conversations")[-1]
        assert last["handoff_reason"] == "frustration" and last["has_handoff"] == "true"
        assert last["start_date"] == shared.start_date


EMPTY_WINDOW = ConversationQuery.build(start_date="2020-01-01", end_date="2020-02-01")


@pytest.mark.parametrize(
    "screen_class", [OverviewScreen, SignalsScreen, CsatScreen, ConversionsScreen]
)
async def test_empty_window_reads_as_no_data(demo_db, screen_class):
    app = HarnessApp(demo_client(demo_db), screen_class, EMPTY_WINDOW)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.errors == []
        text = screen_text(app.screen)
        assert "in this window" in text
        assert "0.0%" not in text and "0.00%" not in text  # no rate over nothing
        for chart in app.screen.query(ChartBase):
            assert chart.empty, chart.id


async def test_cached_figures_paint_at_once_and_ctrl_r_revalidates(demo_db, tmp_path):
    """A second session paints the signals from the response cache without asking the API;
    ctrl+r asks the API again (stale-while-revalidate through client.get_swr)."""
    from app_support import make_app

    def aggregate_requests(app) -> int:
        return len(app.test_transport.params_of("/metrics/aggregate"))

    first = make_app(tmp_path, size=5000, seed=7, anchor="2026-06-15",
                     screen="quality-signals")
    async with first.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        shown = screen_text(first.screen)
        assert aggregate_requests(first) == 1
    second = make_app(tmp_path, size=5000, seed=7, anchor="2026-06-15",
                      screen="quality-signals")
    async with second.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert aggregate_requests(second) == 0  # painted from the cache
        assert screen_text(second.screen) == shown
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert aggregate_requests(second) == 1
        assert second.screen.load_count == 2


def test_importing_the_screens_does_not_load_plotext():
    """The app imports ANALYTICS_SCREENS at start-up: plotext must wait for a chart to mount."""
    import subprocess
    import sys

    code = (
        "import sys, screens.analytics as a; assert a.ANALYTICS_SCREENS; "
        "print(sorted(m for m in sys.modules if 'plotext' in m))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_toolkit_param_filter(demo_db):
    app = harness(demo_db, ResourcesScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.query_one("#tabs").active = "tab-toolkits"
        await pilot.pause()
        box = screen.query_one("#tk-param")
        box.focus()
        await pilot.press(*"nocolon", "enter")
        await settle(pilot)
        assert screen.param_filter == ""  # rejected with a message, nothing sent
        assert any("key:value" in n.message for n in app.test_notifications)
        box.value = ""
        await pilot.press(*"ticket_type_id:68", "enter")
        await settle(pilot)
        assert screen.param_filter == "ticket_type_id:68"
        rows = screen.query_one("#tk-params", TitledTable).rows_text()
        assert rows and rows[0][0] == "68" and int(rows[0][1].replace(",", "")) > 0


async def test_one_failing_endpoint_leaves_the_other_figures(demo_db):
    client = demo_client(demo_db)
    inner = client._http._transport

    class FailSkills(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request):
            if request.url.path.endswith("/analytics/skills"):
                return httpx.Response(404, json={"detail": "skills analytics unavailable"})
            return await inner.handle_async_request(request)

    client._http._transport = FailSkills()
    app = HarnessApp(client, ResourcesScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert [str(e) for e in app.errors] == [
            "HTTP 404: skills analytics unavailable (GET "
            f"/projects/{client.project_id}/analytics/skills)"
        ]
        screen = app.screen
        assert screen.query_one("#api-recent", TitledTable).keys  # the others painted
        assert screen.query_one("#sparklines", TitledTable).keys
        skills = screen.query_one("#skill-recent", TitledTable)
        assert skills.empty and "not loaded (API error)" in screen_text(screen)


async def test_evals_run_results_and_assertions(demo_db):
    from screens.analytics.evals import EvalsScreen

    app = harness(demo_db, EvalsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        runs = screen.query_one("#runs", PagedTable)
        assert runs.keys and screen.results  # the newest run's results are shown at once
        second = runs.keys[1]
        await select_row(pilot, runs, second)
        await settle(pilot)
        results = await app.client.get(f"/eval-runs/{second}/results")
        shown = screen.query_one("#results", TitledTable).rows_text()
        assert [r[0] for r in shown] == [r["case_name"] for r in results]
        detail = screen_text(screen)
        for assertion in results[0]["assertion_results"]:
            assert assertion["criteria"] in detail


async def test_assistant_and_tags_reach_each_endpoint_as_it_expects(demo_db):
    """playbook_base_ids (plural) for conversation analytics and trending topics, singular
    playbook_base_id for aggregate metrics, CSAT and conversions; tags everywhere they apply;
    YYYY-MM-DD dates for resource analytics."""
    from screens.analytics.topics import TopicsScreen as Topics

    async with demo_client(demo_db) as probe:
        base = (await probe.get(f"/projects/{probe.project_id}/playbooks"))[0]["base_id"]
    filters = WINDOW_FILTERS.replace(playbook_base_id=base, tags=("billing",))
    expected = {
        OverviewScreen: ("/conversations/analytics", "playbook_base_ids"),
        SignalsScreen: ("/metrics/aggregate", "playbook_base_id"),
        CsatScreen: ("/csat/analytics", "playbook_base_id"),
        ConversionsScreen: ("/conversion-metrics/venta/analytics", "playbook_base_id"),
        Topics: ("/trending-topics/status", "playbook_base_ids"),
    }
    for screen_class, (suffix, name) in expected.items():
        client = demo_client(demo_db)
        app = HarnessApp(client, screen_class, filters)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await settle(pilot)
        params = [dict(r.url.params) for r in client.test_requests if r.url.path.endswith(suffix)]
        assert params, screen_class
        first = params[0]
        assert first[name] == base and first["tags"] == "billing", (screen_class, first)
        assert ({"playbook_base_id", "playbook_base_ids"} - {name}).isdisjoint(first)
    client = demo_client(demo_db)
    app = HarnessApp(client, ResourcesScreen, filters)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
    tools = [
        dict(r.url.params)
        for r in client.test_requests
        if r.url.path.endswith("/analytics/api-tools")
    ][0]
    assert tools["start_date"] == "2026-05-17" and tools["end_date"] == "2026-06-15"
    assert "playbook_base_id" not in tools and "tags" not in tools


async def test_topics_generation_uses_the_current_assistant_and_tags(demo_db):
    import json

    ticks = {"now": 0.0}

    def clock() -> float:
        ticks["now"] += 1.0
        return ticks["now"]

    async with demo_client(demo_db) as probe:
        base = (await probe.get(f"/projects/{probe.project_id}/playbooks"))[0]["base_id"]
    client = demo_client(demo_db, clock=clock)
    app = HarnessApp(
        client, TopicsScreen, WINDOW_FILTERS.replace(playbook_base_id=base, tags=("billing",))
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.screen.POLL_INTERVAL = 0
        await pilot.press("a")
        await settle(pilot)
    posts = [r for r in client.test_requests if r.method == "POST"]
    assert len(posts) == 1
    assert json.loads(posts[0].content) == {"playbook_base_ids": [base], "tags": ["billing"]}


async def test_w_cycles_the_shared_window_in_the_real_app(demo_db, tmp_path):
    from app_support import make_app

    app = make_app(tmp_path, size=5000, seed=7, anchor="2026-06-15", screen="overview")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        assert app.date_preset == "30d"
        await pilot.press("w")
        await settle(pilot)
        assert app.date_preset == "90d"
        assert app.filters.start_date == "2026-03-18T00:00:00Z"
        assert app.screen.load_count == 2  # the overview reloaded for the new window
        requests = app.test_transport.params_of("/conversations/analytics")
        assert requests[-1]["start_date"] == "2026-03-18T00:00:00Z"


@pytest.mark.parametrize("screen_class", [ResourcesScreen, ConfigurationScreen])
async def test_screens_reload_only_when_a_field_they_use_changes(demo_db, screen_class):
    """Resource analytics take the days only, configuration nothing: another assistant or tag
    asks nothing again; other days do (for the screens that take them)."""
    app = harness(demo_db, screen_class)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        asked = len(app.client.test_requests)
        app.filters = app.filters.replace(tags=("billing",))
        await settle(pilot)
        assert screen.load_count == 1 and len(app.client.test_requests) == asked
        app.filters = app.filters.replace(start_date="2026-06-01T00:00:00Z")
        await settle(pilot)
        assert screen.load_count == (2 if screen_class is ResourcesScreen else 1)
