"""The app's declared modes and bindings (public Textual API only), the analytics screens
imported when first opened, and the start-up cache reader agreeing with the client."""
from __future__ import annotations

import subprocess
import sys

import httpx
from app_support import settle
from textual.screen import Screen

from screens.analytics import ANALYTICS, ANALYTICS_SCREENS
from tui.app import StudioApp


def test_every_analytics_screen_has_a_declared_mode_and_binding():
    modes = StudioApp.MODES
    bindings = {b.id: b for b in StudioApp.BINDINGS if not isinstance(b, tuple)}
    for entry in ANALYTICS:
        assert callable(modes[entry.mode])
        binding = bindings[f"app.screen.{entry.mode}"]
        assert (binding.key, binding.action, binding.description) == (
            entry.key, f"open_mode('{entry.mode}')", entry.name)
        assert issubclass(entry.screen_class(), Screen)
    assert [(e.key, e.name, e.description) for e in ANALYTICS] == [
        (key, name, description) for key, name, _cls, description in ANALYTICS_SCREENS]


def test_the_app_imports_no_analytics_screen_up_front():
    code = ("import sys, tui.app; "
            "print(sorted(m for m in sys.modules if m.startswith('screens.analytics.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"


async def test_an_analytics_key_opens_its_screen_at_once(studio_app):
    app = studio_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("c")  # no waiting for a registration: the mode is declared
        await settle(pilot)
        assert type(app.screen).__name__ == "CsatScreen"
        assert app.current_mode == "analytics-csat"
        await pilot.press("e")
        await settle(pilot)
        assert app.current_mode == "explorer"


def _settings(tmp_path, **env: str):
    from api.config import load_settings

    return load_settings(env={"STUDIO_TUI_CONFIG_DIR": str(tmp_path),
                              "STUDIO_TUI_CACHE_DIR": str(tmp_path / "cache"), **env})


async def _stored_by_the_client(settings, transport=None):
    """What the client stored for a page of conversations, and (path, params) it asked."""
    from api.client import StudioClient

    client = StudioClient.from_settings(settings, transport=transport)
    try:
        path = f"/projects/{client.project_id}/conversations"
        params = {"limit": "26", "offset": "0", "sort_by": "last_message_at",
                  "start_date": "2026-05-16T00:00:00Z", "tags": "billing"}
        result = await client.get_result(path, params)
    finally:
        await client.aclose()
    return result.data, path, params



def _peeked(peek, path, params):
    """What the start-up cache reader finds for ``path``/``params`` (None: nothing)."""
    assert peek is not None
    try:
        entry = peek.get(path, params)
    finally:
        peek.close()
    return None if entry is None else entry.data


async def test_the_start_up_cache_reader_finds_what_the_client_stored(tmp_path):
    """tui.cache_peek derives the client's cache key without building the client: a drift
    would only cost the first paint from the cache, silently, so it is checked here."""
    from tui.cache_peek import open_peek

    answer = {"items": [{"conversation_id": "c1"}], "total": 1}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=answer))
    settings = _settings(tmp_path, STUDIO_API_TOKEN="t", STUDIO_PROJECT_ID="p 1",
                         STUDIO_API_URL="https://user:pw@api.example.test/v1/")
    data, path, params = await _stored_by_the_client(settings, transport)
    assert _peeked(open_peek(settings), path, params) == data == answer


async def test_the_start_up_cache_reader_finds_what_the_demo_client_stored(tmp_path, demo_db):
    from conftest import DEMO_ANCHOR, DEMO_SEED, DEMO_SIZE

    from tui.cache_peek import open_peek

    settings = _settings(tmp_path).replace(demo_size=DEMO_SIZE, demo_seed=DEMO_SEED,
                                           demo_anchor=DEMO_ANCHOR)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "demo").symlink_to(demo_db.parent)
    data, path, params = await _stored_by_the_client(settings)
    assert _peeked(open_peek(settings), path, params) == data


async def test_keys_typed_after_q_do_not_open_screens_on_the_way_out(studio_app):
    """q, then a screen's key before the app has closed (typed ahead, or a slow link): the
    app exits cleanly, with no screen half-opened during the shutdown."""
    app = studio_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in "qso":
            app.simulate_key(key)
        await pilot.pause()
    assert app.return_code == 0
