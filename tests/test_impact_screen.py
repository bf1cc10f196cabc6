"""The Deployment impact screen in the real app: reached from the Configuration screen, one
section per deployment (newest first) with the figures of api/impact.py, +/- days, a metric's
conversations after (enter) or before (b) the deployment in the explorer."""
from __future__ import annotations

from app_support import explorer, screen_lines, settle, wait_until

SIZE = (108, 48)  # below the explorer's sidebar (110 columns): these tests are not of it
SUPPORT = "Support Assistant"


async def _expected(app, days: int):
    from api.impact import find_assistant, impact, load_assistants

    client = await app.get_client()
    assistant = find_assistant(await load_assistants(client, client.project_id), SUPPORT)
    return assistant, await impact(client, client.project_id, assistant, days=days,
                                   now=app.now())


def _section_of(screen, version: int) -> tuple[str, object]:
    return next((table_id, dep) for table_id, dep in screen._sections.items()
                if dep.version == version)


async def test_impact_from_configuration_figures_days_and_drill_down(studio_app):
    from screens.analytics.configuration import ConfigurationScreen
    from screens.impact import ImpactScreen
    from widgets.tables import TitledTable

    app = studio_app(screen="configuration")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assistant, expected = await _expected(app, 7)
        config = app.screen
        assert isinstance(config, ConfigurationScreen)
        table = config.query_one("#assistants", TitledTable)
        table.table.focus()
        table.table.move_cursor(row=table.keys.index(assistant.base_id))
        await pilot.press("I")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ImpactScreen)
        await wait_until(lambda: screen.result is not None, pilot=pilot, what="impact")
        assert screen.result.assistant.base_id == assistant.base_id
        # newest first, every deployment of the api's result
        headings = [str(h.content).split(" deployed")[0]
                    for h in screen.query(".deployment-heading")]
        assert len(headings) >= 2
        assert headings == [f"v{d.version}" for d in reversed(expected.deployments)]
        assert f"{headings[0]} deployed" in "\n".join(screen_lines(app))
        # a figure: the frustration handoffs of the newest compared deployment, as the api says
        newest = next(d for d in reversed(expected.deployments)
                      if d.comparison and d.comparison.conversations != (0, 0))
        metric = next(m for m in newest.metrics if m.name == "handoff_reason:frustration")
        table_id, _ = _section_of(screen, newest.version)
        rows = screen.query_one(f"#{table_id}", TitledTable).rows_text()
        row = next(r for r in rows if r[0] == metric.name)
        shown = [f"{v:.1f}%" if v is not None else "–" for v in (metric.a.pct, metric.b.pct)]
        assert [cell.strip() for cell in row[1:3]] == shown
        assert row[3].strip().startswith(f"{metric.delta_pp:+.1f}")
        # + widens the windows: the figures follow the api's for 8 days
        await pilot.press("plus")
        await wait_until(lambda: screen.result is not None and screen.result.days == 8,
                         pilot=pilot, what="8 days")
        await settle(pilot)
        _, wider = await _expected(app, 8)
        assert [d.to_json() for d in screen.result.deployments] == \
            [d.to_json() for d in wider.deployments]
        assert "8 days either side" in "\n".join(screen_lines(app))
        # enter: the conversations after the deployment that the metric counts; b: before
        dep = next(d for d in screen.result.deployments if d.version == newest.version)
        table_id, _ = _section_of(screen, newest.version)
        data_table = screen.query_one(f"#{table_id}", TitledTable).table
        data_table.focus()
        data_table.move_cursor(row=[m.name for m in dep.metrics].index(metric.name))
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is explorer(app)
        query = explorer(app).query_obj
        assert query.handoff_reason == ("frustration",) and query.has_handoff is True
        assert query.playbook_base_id == assistant.base_id
        assert (query.start_date, query.end_date) == (dep.after.start, dep.after.end)
        await pilot.press("escape")  # back to the configuration mode, the screen on top
        await settle(pilot)
        assert app.screen is screen
        data_table.focus()
        await pilot.press("b")
        await settle(pilot)
        query = explorer(app).query_obj
        assert (query.start_date, query.end_date) == (dep.before.start, dep.before.end)


async def test_an_unknown_assistant_is_one_line_in_place_of_the_figures(studio_app):
    from screens.impact import ImpactScreen

    app = studio_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ImpactScreen("no-such-assistant"))
        await settle(pilot)
        screen = app.screen
        lines = [line for line in screen_lines(app) if "✗" in line]
        assert len(lines) == 1 and "unknown assistant 'no-such-assistant'" in lines[0]
        assert "known:" in lines[0]
        assert screen.result is None and not screen.query("TitledTable")
