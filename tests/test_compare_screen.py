"""The Compare screen in the real app: two cohorts over the shared window, intervals drawn
around 0, a metric's conversations one key away."""
from __future__ import annotations

from app_support import explorer, screen_lines, settle, wait_until

WIDE = (108, 48)  # below the explorer's sidebar (110 columns): these tests are not of it


async def test_compare_two_cohorts_and_open_a_metrics_conversations(studio_app):
    from screens.compare import CompareScreen

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        explorer(app).open_compare("handoff:yes", "")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_until(lambda: screen.result is not None, pilot=pilot, what="comparison")
        result = screen.result
        assert result.b.label == "" and result.a.query.has_handoff is True
        assert (result.start, result.end) == (app.filters.start_date, app.filters.end_date)
        text = "\n".join(screen_lines(app))
        assert "the whole project" in text and "Holm" in text
        # the window as the explorer's filter line says it: the end day included
        assert "2026-05-17 → 2026-06-15 UTC" in text and "T00:00:00Z" not in text
        row = next(i for i, m in enumerate(result.metrics)
                   if m.name == "handoff_reason:frustration")
        screen.query_one("#metrics").move_cursor(row=row)
        await pilot.press("B")
        await settle(pilot)
        query = explorer(app).query_obj
        assert app.screen is explorer(app)
        assert query.handoff_reason == ("frustration",) and query.has_handoff is True


async def test_two_versions_over_their_whole_history(studio_app):
    """The palette's "Compare: <assistant> vN-1 vs vN" (each over every date): figures, not the
    aggregate endpoint's 422 for a request without the dates it requires."""
    from screens.compare import CompareScreen

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        versions = app.lookups.assistants[0].versions
        a, b = (f"playbook:{version_id}" for version_id, *_ in versions[:2])
        explorer(app).open_compare(a, b, whole_history=True)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await wait_until(lambda: screen.result is not None, pilot=pilot, what="comparison")
        assert (screen.result.start, screen.result.end) == (None, None)
        text = "\n".join(screen_lines(app))
        assert "✗" not in text and "first → last" in text


async def test_a_bad_cohort_is_one_line_in_the_screen(studio_app):
    from screens.compare import CompareScreen

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.push_screen(CompareScreen("sentiment:furious", ""))
        await settle(pilot)
        text = "\n".join(screen_lines(app))
        assert "✗" in text and "furious" in text
        assert app.screen.result is None


async def test_an_api_failure_says_how_to_compare_again(studio_app):
    """The API failing (after the client's retries) on a new run: one line with the error and
    the key that asks again, and none of the last comparison's figures left under it,
    unlabelled; ctrl+r with the API back shows the figures again."""
    from textual.widgets import DataTable, Input

    from screens.compare import CompareScreen

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.push_screen(CompareScreen("handoff:yes", ""))
        await settle(pilot)
        screen = app.screen
        await wait_until(lambda: screen.result is not None, pilot=pilot, what="comparison")
        table = screen.query_one("#metrics", DataTable)
        assert table.row_count
        app.test_faults.error_rate = 1.0
        screen.query_one("#cohort-a", Input).value = "handoff:no"  # not in the cache
        await pilot.press("ctrl+r")
        await settle(pilot)
        text = "\n".join(screen_lines(app))
        assert "✗ HTTP 5" in text and "ctrl+r: compare again" in text
        assert screen.result is None and table.row_count == 0
        app.test_faults.error_rate = 0.0
        await pilot.press("ctrl+r")
        await settle(pilot)
        await wait_until(lambda: screen.result is not None, pilot=pilot, what="comparison")
        assert table.row_count and "✗" not in "\n".join(screen_lines(app))


def test_the_interval_line_marks_zero_and_the_difference():
    from screens.compare import interval_bar

    line = interval_bar(-4.0, 10.0, 3.0, 20.0).plain
    assert len(line) == 25 and "●" in line and "┼" in line  # crosses 0
    apart = interval_bar(5.0, 15.0, 10.0, 20.0)
    assert "│" in apart.plain and "┼" not in apart.plain and apart.style == "bold"
