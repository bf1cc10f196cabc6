"""Analytics screens never show figures of an earlier state unmarked (issue 11).

A screen whose data failed to load shows the error in place of the figures (or, after a
ctrl+r on the same window and filters, keeps them marked "stale"); its header does not read
"online". "All" (no dates) resolves to an explicit window that every dated endpoint accepts,
and each screen's filter line shows the window its figures really cover. The walk at the end
loads every screen, then changes the window while one endpoint it calls fails, endpoint by
endpoint, and checks every section: the current window's figures, or the error, never the
earlier window's figures unmarked.
"""

from __future__ import annotations

from typing import Any

import pytest
from analytics_harness import node_texts, screen_text
from app_support import make_app
from conftest import DEMO_ANCHOR, DEMO_SEED, DEMO_SIZE
from rich.text import Text
from textual.widgets import DataTable, Static
from textual.worker import WorkerCancelled, WorkerFailed, WorkerState

from api.dates import preset_range
from screens.analytics import ANALYTICS, ANALYTICS_SCREENS
from widgets.charts import ChartBase, Kpis
from widgets.filter_bar import FilterBar
from widgets.status_header import StatusHeader

SIZE = (120, 40)
MARKERS = ("not loaded", "stale")
#: endpoints whose answer depends on the window: the walk injects an error into each
KEYS = {name: key for key, name, _, _ in ANALYTICS_SCREENS}
ENTRIES = {entry.name: entry for entry in ANALYTICS}


def app_for(tmp_path, *, cache: bool = False, screen: str | None = None):
    """The app on the demo, opening on the screen named `screen` ("Quality signals"), or on
    the explorer."""
    return make_app(tmp_path / "cache", size=DEMO_SIZE, seed=DEMO_SEED, anchor=DEMO_ANCHOR,
                    cache=cache, screen=ENTRIES[screen].slug if screen else "explorer")


async def settle(pilot) -> None:
    """Paused until no worker runs (failed and cancelled workers included)."""
    await pilot.pause()
    for _ in range(50):
        running = [w for w in pilot.app.workers if not w.is_finished]
        if not running:
            break
        for worker in running:
            if worker.state is WorkerState.PENDING:
                await pilot.pause()
                continue
            try:
                await worker.wait()
            except (WorkerFailed, WorkerCancelled):
                pass
        await pilot.pause()
    await pilot.pause()


async def open_screen(pilot, name: str) -> Any:
    """The screen `name`, opened with its key unless the app opened on it."""
    await settle(pilot)
    if pilot.app.current_mode != ENTRIES[name].mode:
        await pilot.press(KEYS[name])
        await settle(pilot)
    return pilot.app.screen


def set_window(app, preset: str) -> None:
    start, end = preset_range(preset, app.now())
    app.set_filters(app.filters.replace(start_date=start, end_date=end), preset)


def header_text(screen) -> str:
    return screen.query_one(StatusHeader).render().plain


def bar_text(screen) -> str:
    content = screen.query_one(FilterBar).content
    return content.plain if isinstance(content, Text) else str(content)


def _plain(value: Any) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def widget_text(widget) -> str:
    """What a section holds as text, hidden parts included (a hidden tab is one key away)."""
    return "\n".join(p for p in node_texts([widget, *widget.query("*")]) if p)


def sections(screen) -> dict[str, Any]:
    """The figure-holding sections of a screen's body: charts, tables, KPI tiles, and the
    text lines outside them (topic status, heartbeat, key/value panes)."""
    units = list(screen.query("ChartBase, TitledTable, Kpis"))
    out: dict[str, Any] = {}
    for w in units:
        out[w.id or repr(w)] = w
    for w in screen.query(".analytics-body Static"):
        if w.id and not any(a in units for a in w.ancestors):
            out[w.id] = w
    return out


def snapshot(screen) -> dict[str, str]:
    return {key: widget_text(w) for key, w in sections(screen).items()}


def is_marked(text: str) -> bool:
    return any(m in text for m in MARKERS)


def _template(path: str) -> str:
    """``/knowledgebases/<id>/items/<id>``: one endpoint, whatever the ids."""
    return "/".join("{id}" if any(c.isdigit() for c in part) and len(part) >= 6 else part
                    for part in path.split("/"))


def endpoint_paths(app, since: int) -> list[str]:
    """One GET path per endpoint asked since request number ``since``."""
    paths: dict[str, str] = {}
    for request in app.test_transport.requests[since:]:
        if request.method == "GET":
            paths.setdefault(_template(request.url.path), request.url.path)
    return list(paths.values())


# ------------------------------------------------------------------ "all" is an explicit window
DATED = ("/conversations/analytics", "/metrics/aggregate", "/csat/analytics",
         "/conversion-metrics/", "/analytics/api-tools", "/analytics/toolkits",
         "/analytics/skills", "/analytics/kbs")


@pytest.mark.parametrize("name", ["Overview", "Quality signals", "CSAT", "Conversions",
                                  "Resources"])
async def test_all_dates_resolve_to_an_explicit_labelled_window(demo_db, tmp_path, name):
    """The explorer's "all" has no dates: analytics endpoints that require (or default) them
    get an explicit window from the first conversation to the end of today, and the filter
    line says so."""
    app = app_for(tmp_path)
    # the explorer below its sidebar's width (110 columns): the sidebar is not tested here
    async with app.run_test(size=(100, 40), notifications=True) as pilot:
        await settle(pilot)
        app.screen.set_date_preset("all")
        await settle(pilot)
        assert app.filters.start_date is None and app.filters.end_date is None
        before = len(app.test_transport.requests)
        screen = await open_screen(pilot, name)
        dated = [r for r in app.test_transport.requests[before:]
                 if any(p in r.url.path for p in DATED) and "sparklines" not in r.url.path
                 and "/items" not in r.url.path and r.url.path.endswith(
                     ("analytics", "aggregate", "api-tools", "toolkits", "skills", "kbs"))]
        assert dated, "no dated endpoint was asked"
        for request in dated:
            params = dict(request.url.params)
            assert params.get("start_date") and params.get("end_date"), request.url
        assert not any("422" in n.message or "Field required" in n.message
                       for n in app.test_notifications)
        assert screen.load_count >= 1
        bar = bar_text(screen)
        first = dict(dated[0].url.params)["start_date"][:10]
        assert first in bar and "all" in bar, bar
        assert "…" not in bar.split("·")[0]  # an explicit start and end, not "… → …"
        assert "API error" not in header_text(screen)


# ------------------------------------------------------------------ the scenario
async def test_failed_reload_shows_the_error_not_the_old_figures(demo_db, tmp_path):
    """Overview loaded for 30 days; the window changes to 7 days and the API fails: the
    sections say "not loaded" with the error, no 30-day figure remains, the header is not
    "online"; ctrl+r (API back) shows the 7-day figures and clears the marks."""
    app = app_for(tmp_path, screen="Overview")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_screen(pilot, "Overview")
        old = snapshot(screen)
        old_kpis = screen.query_one("#kpis", Kpis).text
        assert "Conversations:" in old_kpis and "—" not in old_kpis.split("Latency")[0]
        app.test_faults.path_contains = "/conversations/analytics"
        app.test_faults.error_rate = 1.0
        set_window(app, "7d")
        await settle(pilot)
        now = snapshot(screen)
        for key, text in now.items():
            if key == "scope":
                continue
            assert text != old[key] or not old[key], f"{key} still shows the 30-day figures"
            assert is_marked(text), f"{key}: {text!r}"
        assert "HTTP 5" in now["kpis"]  # the error itself, in place of the figures
        header = header_text(screen)
        assert "online" not in header and "error" in header.lower()
        app.test_faults.error_rate = 0.0
        await pilot.press("ctrl+r")
        await settle(pilot)
        fresh = snapshot(screen)
        assert not any(is_marked(t) for t in fresh.values())
        assert fresh["kpis"] != old["kpis"]
        assert "online" in header_text(screen)


async def test_signals_after_a_failed_tag_change_show_no_figure_of_the_old_tags(
    demo_db, tmp_path
):
    app = app_for(tmp_path, screen="Quality signals")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_screen(pilot, "Quality signals")
        old = screen_text(screen)
        assert "Scored:" in old
        app.test_faults.path_contains = "/metrics/aggregate"
        app.test_faults.error_rate = 1.0
        app.set_filters(app.filters.replace(tags=("billing",)))
        await settle(pilot)
        text = screen_text(screen)
        old_scored = old.split("Scored: ", 1)[1].split(" ", 1)[0]
        assert f"Scored: {old_scored}" not in text
        for chart in screen.query(ChartBase):
            assert "not loaded" in widget_text(chart), chart.id
            assert not chart.query_one(DataTable).row_count


async def test_ctrl_r_failure_keeps_same_window_figures_marked_stale(demo_db, tmp_path):
    """A refresh of the same window that fails keeps its figures (they are of this window)
    but marks them stale; the header says the refresh failed."""
    app = app_for(tmp_path, screen="Overview")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_screen(pilot, "Overview")
        kpis = screen.query_one("#kpis", Kpis).text
        app.test_faults.path_contains = "/conversations/analytics"
        app.test_faults.error_rate = 1.0
        await pilot.press("ctrl+r")
        await settle(pilot)
        now = screen.query_one("#kpis", Kpis).text
        assert now.startswith("stale") or "stale" in now
        assert kpis.split("Conversations: ")[1].split(" ")[0] in now  # kept, marked
        assert "online" not in header_text(screen)


async def test_a_failed_section_leaves_the_others_current(demo_db, tmp_path):
    """Resources with skills failing after a window change: the skills sections show the
    error, every other section shows the new window's figures, unmarked."""
    app = app_for(tmp_path, screen="Resources")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_screen(pilot, "Resources")
        app.test_faults.path_contains = "/analytics/skills"
        app.test_faults.error_rate = 1.0
        set_window(app, "7d")
        await settle(pilot)
        failed = snapshot(screen)
        app.test_faults.error_rate = 0.0
        await pilot.press("ctrl+r")
        await settle(pilot)
        good = snapshot(screen)
    for key in ("skill-kpis", "skill-trend", "skill-recent"):
        assert "not loaded" in failed[key], key
    for key in ("api-kpis", "api-trend", "tk-kpis", "kb-kpis", "kb-by-kb"):
        assert failed[key] == good[key] and not is_marked(failed[key]), key


# ------------------------------------------------------------------ windows in the header
async def test_topics_header_shows_the_analysis_window(demo_db, tmp_path):
    app = app_for(tmp_path, screen="Trending topics")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_screen(pilot, "Trending topics")
        screen.POLL_INTERVAL = 0
        if not screen.topics:  # no analysis yet: generate one (the demo's job is timed)
            app.test_faults.latency_ms = 0
            await pilot.press("a")
            await settle(pilot)
        analysis_window = screen.query_one("#status", Static).content
        bar = bar_text(screen)
    start, end = preset_range("30d", app.now())
    assert start[:10] not in bar  # not the shared 30-day window
    assert "analysis" in bar
    window = str(analysis_window).split("window ", 1)[1].split(" ·", 1)[0]
    first, last = window.split(" → ")
    assert first in bar and last in bar


async def test_resources_header_shows_the_utc_days_asked(demo_db, tmp_path):
    """Resource analytics take whole UTC days: a 24h window ending mid-day covers two days,
    and the filter line says which days."""
    app = app_for(tmp_path, screen="Resources")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        app.set_filters(app.filters.replace(start_date="2026-06-14T12:00:00Z",
                                            end_date="2026-06-15T12:00:00Z"), "custom")
        screen = await open_screen(pilot, "Resources")
        asked = [dict(r.url.params) for r in app.test_transport.requests
                 if r.url.path.endswith("/analytics/skills")][-1]
        bar = bar_text(screen)
    assert (asked["start_date"], asked["end_date"]) == ("2026-06-14", "2026-06-15")
    assert "2026-06-14" in bar and "2026-06-15" in bar and "12:00" not in bar
    assert "day" in bar


@pytest.mark.parametrize("name", ["Configuration", "Evals"])
async def test_unwindowed_screens_do_not_claim_a_window(demo_db, tmp_path, name):
    app = app_for(tmp_path, screen=name)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_screen(pilot, name)
        bar = bar_text(screen)
    start, _ = preset_range("30d", app.now())
    assert start[:10] not in bar and "window" in bar  # "window: not applied ..."


# ------------------------------------------------------------------ the walk
WALK = [name for _, name, _, _ in ANALYTICS_SCREENS]
UNWINDOWED = ("Configuration", "Evals")  # project-wide: only a ctrl+r reloads them


async def change_state(pilot, name: str, to_b: bool) -> None:
    """Window A (30 days) or B (7 days); topics follow the tags instead (no window), and the
    project-wide screens are reloaded with ctrl+r (nothing they show depends on a filter)."""
    app = pilot.app
    if name == "Trending topics":
        app.set_filters(app.filters.replace(tags=("billing",) if to_b else ()))
    elif name in UNWINDOWED:
        await pilot.press("ctrl+r")
    else:
        set_window(app, "7d" if to_b else "30d")
    await settle(pilot)


@pytest.mark.long
@pytest.mark.parametrize("name", WALK)
async def test_walk_every_endpoint_under_an_error(demo_db, tmp_path, name):
    """For every GET endpoint the screen calls: from the state shown, loaded fault-free (A),
    switch to the other state (B) while that endpoint fails (the demo's fault injection, every
    request whose path contains the endpoint's: a prefix also fails the paths under it), then
    check each section: B's figures, or marked (error / stale), or empty — never A's figures
    unmarked; and a header that is not "online" when a section did not load. ctrl+r (API
    back) then loads B everywhere, unmarked, and B is the next endpoint's A: the walk goes
    30 days -> 7 days -> 30 days ..."""
    app = app_for(tmp_path, screen=name)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_screen(pilot, name)
        faults = app.test_faults
        start = len(app.test_transport.requests)
        await pilot.press("ctrl+r")  # what this screen asks for
        await settle(pilot)
        paths = endpoint_paths(app, start)
        assert paths
        checked = 0
        to_b = True  # shown: the 30 days (no tags) the ctrl+r loaded
        for path in paths:
            a = snapshot(screen)
            assert not any(is_marked(t) for t in a.values()), (path, a)
            faults.path_contains, faults.error_rate = path, 1.0
            injected = faults.injected
            app.clear_notifications()
            await change_state(pilot, name, to_b=to_b)
            to_b = not to_b
            failed = snapshot(screen)
            header = header_text(screen)
            reported = any("HTTP 5" in n.message for n in app.test_notifications)
            faults.error_rate = 0.0
            await pilot.press("ctrl+r")  # the keys still work: retry with the API back
            await settle(pilot)
            b = snapshot(screen)
            assert not any(is_marked(t) for t in b.values()), (path, b)
            assert "online" in header_text(screen)
            if faults.injected == injected:
                continue  # not asked in state B (e.g. only on another action)
            checked += 1
            for key, text in failed.items():
                if "not loaded" in text:  # the error in place: no line of A's figures left
                    old = set(a[key].splitlines()) - set(b[key].splitlines())
                    left = [line for line in text.splitlines() if line in old]
                    assert not left, (name, path, key, left)
                if text == b[key] or not text or is_marked(text):
                    continue
                pytest.fail(f"{name}, {path} failing: section {key} shows {text!r}, "
                            f"neither state B's {b[key]!r} nor an error mark "
                            f"(state A: {a[key]!r})")
            if reported:  # the screen's load failed: some section says so, and the header
                assert any(is_marked(t) for t in failed.values()), (path, failed)
            if any(is_marked(t) for t in failed.values()):
                assert "online" not in header and "ctrl+r" in header, (path, header)
        assert checked


# ------------------------------------------------------------------ a new choice that fails
async def test_another_runs_results_failing_show_the_error_not_the_former_run(demo_db, tmp_path):
    """Evals: enter on another run while its results fail: the results table says so (its
    title names the run asked for), never the former run's rows under that title."""
    from textual.widgets import DataTable as Table

    app = app_for(tmp_path, screen="Evals")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await open_screen(pilot, "Evals")
        runs = screen.query_one("#runs")
        assert len(runs.keys) >= 2 and screen.results
        before = widget_text(screen.query_one("#results"))
        app.test_faults.path_contains, app.test_faults.error_rate = "/results", 1.0
        table = runs.query_one(Table)
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)
        results = widget_text(screen.query_one("#results"))
        detail = widget_text(screen.query_one("#result-detail"))
        header = header_text(screen)
        app.test_faults.error_rate = 0.0
        await pilot.press("ctrl+r")
        await settle(pilot)
        after = widget_text(screen.query_one("#results"))
    assert "not loaded" in results and "not loaded" in detail
    rows = [line for line in before.splitlines() if " | " in line]
    assert rows and not any(row in results for row in rows)
    assert "not loaded" in header or "API error" in header
    assert runs.keys[1] in after and "not loaded" not in after  # ctrl+r: that run's results
