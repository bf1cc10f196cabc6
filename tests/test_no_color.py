"""NO_COLOR: Textual's monochrome filter must render every screen (it reads each segment's style)."""
from __future__ import annotations

import pytest
from app_support import settle


async def test_explorer_and_conversation_render_with_no_color(studio_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = studio_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color
        assert "DEMO" in app.export_screenshot()  # renders through the monochrome filter
        await pilot.press("enter")
        await settle(pilot)
        assert "user" in app.export_screenshot()


@pytest.mark.long
async def test_every_analytics_screen_renders_with_no_color(studio_app, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = studio_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        for key in "osc" "vrt" "il":
            await pilot.press(key)
            await settle(pilot)
            assert "DEMO" in app.export_screenshot(), key
            await pilot.press("e")
            await pilot.pause()
