"""`studio-tui --screen NAME`: the app opens on that screen, nothing of the explorer is built
or loaded before it, and esc goes to the explorer as from any analytics screen."""
from __future__ import annotations

import pytest
from app_support import make_app, settle
from click.testing import CliRunner
from conftest import DEMO_ANCHOR, DEMO_SEED, DEMO_SIZE

from screens.analytics import ANALYTICS, START_SCREENS, start_mode
from tui.cli import main


def test_every_screen_has_a_name_and_a_mode():
    assert START_SCREENS[0] == "explorer" and len(START_SCREENS) == len(ANALYTICS) + 1
    assert "quality-signals" in START_SCREENS and "trending-topics" in START_SCREENS
    assert [start_mode(name) for name in START_SCREENS[1:]] == [e.mode for e in ANALYTICS]
    with pytest.raises(ValueError, match="unknown screen 'Overview'"):
        start_mode("Overview")  # the CLI folds the case; the app takes the names as listed


@pytest.mark.parametrize("args,screen", [([], "explorer"), (["--screen", "csat"], "csat"),
                                         (["--screen", "Quality-Signals"], "quality-signals")])
def test_the_screen_reaches_the_app(monkeypatch, args, screen):
    import tui.app

    started = []
    monkeypatch.setattr(tui.app, "run_app", lambda settings, **kw: started.append(kw))
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert started == [{"fresh": False, "screen": screen}]


def test_an_unknown_screen_is_one_line_naming_it():
    result = CliRunner().invoke(main, ["--screen", "dashboard"])
    assert result.exit_code == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("studio-tui: error: Invalid value for '--screen': 'dashboard'")
    assert "'csat'" in line


def test_serve_passes_the_screen_to_each_tab():
    from tui.cli import GlobalOptions
    from tui.cli_serve import child_args

    opts = GlobalOptions(None, None, None, None, False, None)
    assert child_args(opts, False) == []
    assert child_args(opts, True, "csat") == ["--fresh", "--screen", "csat"]


@pytest.mark.parametrize("entry", [ANALYTICS[2], ANALYTICS[5]], ids=lambda e: e.slug)
async def test_the_app_opens_on_the_screen_and_esc_goes_to_the_explorer(tmp_path, entry):
    from screens.explorer import ExplorerScreen

    app = make_app(tmp_path / "cache", size=DEMO_SIZE, seed=DEMO_SEED, anchor=DEMO_ANCHOR,
                   screen=entry.slug)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, entry.screen_class())
        assert app.current_mode == entry.mode
        assert app.get_screen_for_mode("explorer") is None  # never built
        paths = {r.url.path for r in app.test_transport.requests}
        assert paths and not any(p.endswith("/conversations") for p in paths), paths
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ExplorerScreen)
        assert app.screen.table.rows  # its first page, loaded now
