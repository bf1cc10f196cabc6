"""The Cost screen in the real app: the figures of `api.cost` over the explorer's filters,
every conversation or a sample."""
from __future__ import annotations

from app_support import explorer, screen_lines, settle, wait_until

WIDE = (108, 48)  # below the explorer's sidebar (110 columns): these tests are not of it


async def test_cost_over_the_filters_then_a_sample(studio_app):
    from api.cost import collect_costs
    from screens.cost import SAMPLE, CostScreen

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await pilot.press("F")  # frustration handoffs: a small window of conversations
        await settle(pilot)
        query = explorer(app).query_obj
        app.push_screen(CostScreen(query))
        await settle(pilot)
        screen = app.screen
        await wait_until(lambda: screen.report is not None, pilot=pilot, what="costs")
        client = await app.get_client()
        expected = await collect_costs(client, query)
        assert screen.report.to_json() == expected.to_json()
        text = "\n".join(screen_lines(app))
        assert f"${expected.per_conversation.value:.4f}" in text
        assert f"all {expected.in_window:,} conversations" in text
        # the window as the explorer's filter line says it: the end day included
        assert "2026-05-17 → 2026-06-15 UTC" in text and "T00:00:00Z" not in text
        assert expected.models and all(m.model for m in expected.models)
        for row in expected.models:  # the per-model table, the dearest first
            assert f"{row.model}" in text and f"${row.cost_usd:.4f}" in text
        await pilot.press("s")
        await settle(pilot)
        await wait_until(lambda: screen.report.sample_size is not None or
                         screen.report.in_window <= SAMPLE, pilot=pilot, what="sample")
        assert "per resolution" in "\n".join(screen_lines(app))


async def test_an_api_failure_is_one_line_in_place_of_the_figures(studio_app):
    from screens.cost import CostScreen

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.test_faults.path_contains = "/conversations"
        app.test_faults.error_rate = 1.0
        app.push_screen(CostScreen(explorer(app).query_obj))
        await settle(pilot)
        text = "\n".join(screen_lines(app))
        assert "✗" in text and "$" not in text
        assert app.screen.report is None


async def test_markup_in_names_from_the_api_is_shown_as_text(studio_app):
    """Model and assistant names are API text: shown as written, never read as markup."""
    from api.cost import conversation_cost, summarize
    from screens.cost import CostScreen

    def detail(version: str, name: str) -> dict:
        return {"conversation_id": version, "has_handoff": False, "messages": [
            {"role": "assistant", "metadata": {"playbook_id": version, "playbook_name": name,
                                               "playbook_version": 1, "cost_usd": 0.5}}]}

    odd = summarize([conversation_cost(detail("v1", "Bot [/]")),
                     conversation_cost(detail("v2", "[link=https://x.example]Bot"))],
                    models={"v1": "gpt[/]", "v2": "[bold]m"})
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = CostScreen(explorer(app).query_obj)
        app.push_screen(screen)
        await wait_until(lambda: screen.report is not None, pilot=pilot, what="costs")
        screen._show(odd)
        await settle(pilot)
        text = "\n".join(screen_lines(app))
        for shown in ("gpt[/]", "[bold]m", "Bot [/] v1", "[link=https://x.example]Bot v1"):
            assert shown in text, shown


async def test_a_failed_model_lookup_is_said_and_the_costs_stand(studio_app):
    """The playbooks endpoint failing leaves every model unknown: the screen says why,
    rather than letting "(unknown model)" read as the API's own answer."""
    from api.cost import MODELS_FAILED
    from screens.cost import CostScreen

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        app.test_faults.path_contains = "/playbooks"
        app.test_faults.error_rate = 1.0
        screen = CostScreen(explorer(app).query_obj)
        app.push_screen(screen)
        await wait_until(lambda: screen.report is not None, pilot=pilot, what="costs")
        await settle(pilot)
        report = screen.report
        assert report.has_cost and [m.model for m in report.models] == [None]
        assert report.models_note == MODELS_FAILED
        assert MODELS_FAILED in "\n".join(screen_lines(app))
