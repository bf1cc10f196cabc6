"""While a reload runs, every figure it has not repainted yet is dimmed, whatever it is made of:
KPI tiles, charts (a plot inside a container), tables (a DataTable inside a container), text.
Once repainted or restored, it looks exactly as before."""
from __future__ import annotations

import pytest
from app_support import make_app, settle
from conftest import DEMO_ANCHOR, DEMO_SEED, DEMO_SIZE

from widgets.figures import FigureState


def looks(app, widget) -> list:
    """The colours of the widget's cells on screen (its visible part)."""
    region = widget.region.intersection(app.screen.region)
    return [app.screen.get_style_at(x, y).color
            for y in range(region.y, region.bottom) for x in range(region.x, region.right)]


@pytest.mark.parametrize("screen", ["overview", "quality-signals", "conversions"])
async def test_outdated_figures_are_dimmed_then_restored(tmp_path, screen):
    app = make_app(tmp_path / "cache", size=DEMO_SIZE, seed=DEMO_SEED, anchor=DEMO_ANCHOR,
                   screen=screen)
    async with app.run_test(size=(120, 80)) as pilot:
        await settle(pilot)
        figures = [w for w in app.screen.query("*")
                   if isinstance(w, FigureState) and w.display and w.region.height]
        kinds = {type(w).__name__ for w in figures}
        assert len(kinds) >= 2, kinds
        before = {w: looks(app, w) for w in figures}
        for widget in figures:
            widget.mark_outdated()
        await pilot.pause()
        for widget in figures:
            now = looks(app, widget)
            dimmed = sum(a != b for a, b in zip(before[widget], now, strict=True))
            assert dimmed > len(now) // 10, (type(widget).__name__, widget.id)
        for widget in figures:
            widget.mark_restored()
        await pilot.pause()
        for widget in figures:
            assert looks(app, widget) == before[widget], (type(widget).__name__, widget.id)


async def test_the_impact_body_is_dimmed_while_other_days_load(tmp_path):
    from screens.impact import ImpactScreen

    app = make_app(tmp_path / "cache", size=DEMO_SIZE, seed=DEMO_SEED, anchor=DEMO_ANCHOR,
                   screen="configuration")
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot)
        client = await app.get_client()
        from api.impact import load_assistants

        playbooks = await load_assistants(client, client.project_id)
        app.push_screen(ImpactScreen(playbooks[0].base_id))
        await settle(pilot)
        body = app.screen.query_one("#impact-body")
        assert body.children
        before = looks(app, body)
        body.add_class("-outdated")  # what a change of days does until the new figures
        await pilot.pause()
        now = looks(app, body)
        assert sum(a != b for a, b in zip(before, now, strict=True)) > len(now) // 10
