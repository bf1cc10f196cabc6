"""The KB article health screen in the real app: the figures of api.kb_health over the shared
window, the cap raised by a key, an item's citing conversations one key away, and the screen
reached from Resources."""
from __future__ import annotations

from app_support import screen_lines, settle, wait_until

WIDE = (108, 48)  # below the explorer's sidebar (110 columns): these tests are not of it


async def _opened(app, pilot, screen):
    app.push_screen(screen)
    await settle(pilot)
    assert app.screen is screen
    await wait_until(lambda: screen.result is not None, pilot=pilot, what="KB health")
    return screen.result


async def test_items_ranked_as_computed_and_an_items_conversations(studio_app):
    from api.kb_health import kb_health
    from screens.analytics.ids import ConversationIdsScreen
    from screens.kb_health import KBHealthScreen

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = KBHealthScreen()
        result = await _opened(app, pilot, screen)
        assert (result.start, result.end) == (app.filters.start_date, app.filters.end_date)
        client = await app.get_client()
        direct = await kb_health(client, client.project_id, result.start, result.end)
        assert len(direct.items) == len(result.items) > 1
        top = direct.items[0]
        table = screen.query_one("#kb-items")
        assert table.row_count == len(direct.items)
        cells = [str(c) for c in table.get_row_at(0)]
        negative = top.rates["negative"]
        assert cells[2] == f"{top.conversations:,}"
        assert cells[3] == f"{100 * negative.share:.1f}"
        assert cells[5] == f"{negative.excess:+.1f}"
        text = "\n".join(screen_lines(app))
        assert f"negative {100 * direct.base_rate('negative'):.1f}% of scored" in text
        assert not screen.has_class("-reading")  # the progress bar is gone

        table.move_cursor(row=1)
        await pilot.press("enter")
        await settle(pilot)
        ids = app.screen
        assert isinstance(ids, ConversationIdsScreen)
        assert ids.ids == list(direct.items[1].conversation_ids)
        await wait_until(lambda: ids.rows, pilot=pilot, what="citing conversations")
        assert {c.conversation_id for c in ids.rows} <= set(direct.items[1].conversation_ids)


async def test_the_cap_is_said_and_c_doubles_it(studio_app):
    from screens.kb_health import KBHealthScreen

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = KBHealthScreen(cap=50)
        result = await _opened(app, pilot, screen)
        assert result.capped and result.citations_read == 50
        assert "cap reached: the 50 most recent" in "\n".join(screen_lines(app))
        await pilot.press("c")
        await wait_until(lambda: screen.result is not None and screen.result.cap == 100,
                         pilot=pilot, what="the raised cap")
        await settle(pilot)
        assert screen.result.citations_read == min(100, result.citations_total)


async def test_an_unknown_knowledge_base_is_one_line_in_place_of_the_figures(studio_app):
    from screens.kb_health import KBHealthScreen

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = KBHealthScreen(kb_id="no-such-kb")
        app.push_screen(screen)
        await settle(pilot)
        lines = [line for line in screen_lines(app) if "✗" in line]
        assert len(lines) == 1 and "--kb: no knowledge base 'no-such-kb'" in lines[0]
        assert screen.result is None and screen.query_one("#kb-items").row_count == 0


async def test_resources_opens_it_for_the_highlighted_knowledge_base(studio_app):
    from screens.analytics.resources import ResourcesScreen
    from screens.kb_health import KBHealthScreen

    app = studio_app(screen="resources")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        resources = app.screen
        assert isinstance(resources, ResourcesScreen)
        by_kb = resources.query_one("#kb-by-kb")
        await wait_until(lambda: by_kb.keys, pilot=pilot, what="citations by KB")
        resources.query_one("#tabs").active = "tab-kbs"
        await pilot.pause()
        by_kb.table.focus()
        by_kb.table.move_cursor(row=len(by_kb.keys) - 1)
        await pilot.press("h")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, KBHealthScreen)
        assert screen.kb_id == by_kb.keys[-1]
        await wait_until(lambda: screen.result is not None, pilot=pilot, what="KB health")
        assert {item.kb_id for item in screen.result.items} == {by_kb.keys[-1]}
        assert (screen.result.start, screen.result.end) == (resources.filters.start_date,
                                                            resources.filters.end_date)
