"""Themes: picked in the command palette (or with `studio-tui theme NAME`), kept in config.toml
as a top-level `theme`, applied before the first frame at the next start."""
from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from app_support import settle, wait_until
from click.testing import CliRunner
from textual.color import Color

from api.config import config_dir, read_theme
from api.errors import ConfigError
from api.views import save_setting
from tui.cli import main

USER_CONFIG = """\
# my settings: kept as written

[profiles.work]  # not the default: the demo is used
token = "sbs_x"
project_id = "p1"

# a view of mine
[views.billing]
query = "tags:billing"  # why: the billing team
"""


def with_theme(name: str) -> str:
    """USER_CONFIG as the theme's save leaves it: one line added, below the file's first
    comment (where tomlkit puts a new top-level key); nothing else moved."""
    return USER_CONFIG.replace("\n\n", f'\ntheme = "{name}"\n\n', 1)


@pytest.fixture
def config_file() -> Path:
    path = config_dir() / "config.toml"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def background(app) -> Color:
    return app.screen.styles.background


def theme_background(app, name: str) -> Color:
    theme = app.get_theme(name)
    assert theme is not None and theme.background is not None
    return Color.parse(theme.background)


async def pick_theme_in_palette(pilot, name: str) -> None:
    """ctrl+p, the Theme command, then the theme's name, as a user does."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*"theme")
    await settle(pilot)
    await pilot.press("enter")  # the Theme command: a palette of the themes
    await settle(pilot)
    await pilot.press(*name)
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def test_theme_picked_in_palette_is_saved_and_applied_at_next_start(studio_app,
                                                                          config_file):
    config_file.write_text(USER_CONFIG)
    app = studio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"  # the default, untouched
        await pick_theme_in_palette(pilot, "dracula")
        assert app.theme == "dracula"
        assert background(app) == theme_background(app, "dracula")
        await wait_until(lambda: "dracula" in config_file.read_text(), pilot=pilot,
                         what="theme saved")
    # the one new line at the top level; comments, the profile and the view kept as written
    assert config_file.read_text() == with_theme("dracula")
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert read_theme(config_file) == "dracula"

    again = studio_app()
    assert again.theme == "dracula"  # set by the constructor, before the app runs
    seen: list[tuple[str, Color]] = []

    def hook(message) -> None:  # from the first message on: no frame in the default theme
        if again.screen_stack:
            seen.append((type(message).__name__, background(again)))

    async with again.run_test(size=(100, 30), message_hook=hook) as pilot:
        await settle(pilot)
        assert again.theme == "dracula"
        wanted = theme_background(again, "dracula")
        assert seen and all(bg == wanted for _, bg in seen), seen[:3]
        assert not again.test_notifications
    assert config_file.read_text() == with_theme("dracula")  # not rewritten


async def test_theme_changed_by_code_is_saved_in_place_and_last_pick_wins(studio_app,
                                                                          config_file):
    config_file.write_text('theme = "nord"  # my favourite\n\n[keymap]\n"app.quit" = "q"\n')
    app = studio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "nord"
        for name in ("gruvbox", "tokyo-night", "ansi-dark"):  # quicker than the writes
            app.theme = name
        await settle(pilot)
        await wait_until(lambda: read_theme(config_file) == "ansi-dark", pilot=pilot,
                         what="the last theme saved")
    assert config_file.read_text() == ('theme = "ansi-dark"  # my favourite\n\n'
                                       '[keymap]\n"app.quit" = "q"\n')


@pytest.mark.parametrize(("written", "said"), [
    ('theme = "no-such-theme"\n',
     'unknown theme "no-such-theme" in {config_file}; using textual-dark'),
    ("theme = 3\n", "{config_file}: theme must be a string"),
])
async def test_a_bad_theme_keeps_the_default_and_is_said_once(studio_app, config_file,
                                                              written, said):
    config_file.write_text(written)
    app = studio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
        messages = [n.message for n in app.test_notifications if "theme" in n.message]
        assert messages == [said.format(config_file=config_file)]
    assert config_file.read_text() == written  # left for the user


async def test_charts_paint_no_background_of_their_own_in_an_ansi_theme(studio_app):
    """An ANSI theme leaves the background to the terminal: a chart's plot must not paint
    the theme's surface (black there), and follows a change of theme both ways."""
    from widgets.charts import TimeChart

    app = studio_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        charts = list(app.screen.query(TimeChart))
        assert charts and {c.plot.theme for c in charts} == {"auto"}
        app.theme = "ansi-light"
        await settle(pilot)
        assert {c.plot.theme for c in charts} == {"clear"}
        app.theme = "nord"
        await settle(pilot)
        assert {c.plot.theme for c in charts} == {"auto"}


async def test_switching_screens_restyles_nothing_and_a_theme_still_reaches_every_screen(
        studio_app):
    """A screen opened for the first time is styled as it mounts: with its stylesheet
    already loaded (Evals shares the analytics one), nothing is parsed again and no other
    screen restyled (Textual would do both twice for every mode opened), nor on a switch back.
    A theme picked afterwards restyles the screen shown, and each screen opened before
    when it is shown again, once."""
    from widgets.status_header import StatusHeader

    app = studio_app()
    async with app.run_test(size=(108, 40)) as pilot:
        await settle(pilot)
        for key in ("o", "e"):  # the analytics stylesheet loaded
            await pilot.press(key)
            await settle(pilot)
        stylesheet = app.stylesheet
        calls: list[str] = []
        reparse, update, update_nodes = (stylesheet.reparse, stylesheet.update,
                                         stylesheet.update_nodes)

        def counted_reparse() -> None:
            calls.append("reparse")
            reparse()

        def counted_update(root, animate: bool = False) -> None:
            calls.append(f"restyle {type(root).__name__}")
            update(root, animate=animate)

        restyled: list[int] = []  # how many widgets each restyle (of any kind) went over

        def counted_update_nodes(nodes, animate: bool = False) -> None:
            nodes = list(nodes)
            restyled.append(len(nodes))
            update_nodes(nodes, animate=animate)

        stylesheet.reparse, stylesheet.update = counted_reparse, counted_update
        stylesheet.update_nodes = counted_update_nodes
        for key in ("l", "e", "o", "l"):
            await pilot.press(key)
            await settle(pilot)
        assert calls == []
        restyled.clear()
        for key in ("e", "o", "l"):  # shown again: as they were
            await pilot.press(key)
            await settle(pilot)
        assert sum(restyled) < 10, restyled
        dark_panel = app.screen.query_one(StatusHeader).styles.background
        app.theme = "nord"
        await settle(pilot)
        assert "reparse" in calls
        nord = theme_background(app, "nord")
        nord_panel = app.screen.query_one(StatusHeader).styles.background
        assert app.screen.styles.background == nord and nord_panel != dark_panel
        for key in ("e", "o"):  # opened before the theme, in its dark styles
            calls.clear()
            await pilot.press(key)
            await settle(pilot)
            assert calls == [f"restyle {type(app.screen).__name__}"]
            assert app.screen.styles.background == nord, app.screen
            assert app.screen.query_one(StatusHeader).styles.background == nord_panel
        calls.clear()
        for key in ("l", "e", "o"):  # each styled in the theme once
            await pilot.press(key)
            await settle(pilot)
        assert calls == []


def test_every_screen_is_shown_again_with_the_styles_it_has():
    """What makes the switch above cheap holds for every screen of the app (a screen left
    out would be restyled whole at each showing: slower, never wrong)."""
    import importlib
    import inspect
    import pkgutil

    from textual.screen import Screen

    import screens
    from screens.resume import KeepStylesOnResume

    found = []
    for info in pkgutil.walk_packages(screens.__path__, "screens."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Screen) and cls.__module__ == module.__name__:
                found.append(cls)
                assert issubclass(cls, KeepStylesOnResume), cls
    assert len(found) > 10


async def test_no_color_renders_over_the_configured_theme(studio_app, config_file,
                                                          monkeypatch):
    # NO_COLOR is Textual's filter over whatever theme is shown: the theme is kept, the
    # screen is drawn without colour
    monkeypatch.setenv("NO_COLOR", "1")
    config_file.write_text('theme = "ansi-light"\n')
    app = studio_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.no_color and app.theme == "ansi-light"
        assert "DEMO" in app.export_screenshot()


# ------------------------------------------------------------------------ writing
def test_save_setting_creates_an_owner_only_file(tmp_path):
    path = tmp_path / "new" / "config.toml"
    save_setting(path, "theme", "nord")
    assert path.read_text() == 'theme = "nord"\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize("text", ["[theme]\nname = 'nord'\n", "theme = {name = 'nord'}\n",
                                  "[[theme]]\nname = 'nord'\n"])
def test_save_setting_never_replaces_a_table(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match="theme must be a string, not a table"):
        save_setting(path, "theme", "dracula")
    assert path.read_text() == text


# ------------------------------------------------------------------------ CLI
def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_cli_lists_the_apps_themes_with_the_current_one(studio_app, config_file):
    listed = json.loads(run("theme", "--format", "json").stdout)
    assert [row["name"] for row in listed] == sorted(studio_app().available_themes)
    assert [row["name"] for row in listed if row["current"]] == ["textual-dark"]
    assert {row["name"]: row["dark"] for row in listed}["textual-light"] is False
    assert all(set(row) == {"name", "dark", "current"} for row in listed)

    config_file.write_text('theme = "ansi-dark"\n')
    text = run("theme").stdout.splitlines()
    assert [line.split()[1] for line in text if line.startswith("*")] == ["ansi-dark"]


def test_cli_sets_the_theme_the_app_then_starts_with(studio_app, config_file):
    config_file.write_text(USER_CONFIG)
    result = run("theme", "rose-pine")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"theme rose-pine saved in {config_file}\n"
    assert config_file.read_text() == with_theme("rose-pine")
    assert studio_app().theme == "rose-pine"
    listed = json.loads(run("theme", "solarized-light", "--format", "json").stdout)
    assert [row["name"] for row in listed if row["current"]] == ["solarized-light"]
    assert read_theme(config_file) == "solarized-light"


def test_cli_unknown_theme_is_one_line_and_exit_2(config_file):
    config_file.write_text(USER_CONFIG)
    result = run("theme", "neon\x1b[31m")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "studio-tui: error: unknown theme 'neon\\x1b[31m' (known: ansi-dark, ")
    assert "\x1b" not in result.stderr
    assert config_file.read_text() == USER_CONFIG


def test_cli_reports_an_unknown_configured_theme(config_file):
    config_file.write_text('theme = "gone"\n')
    result = run("theme")
    assert result.exit_code == 0
    assert "unknown theme 'gone'" in result.stderr and "textual-dark" in result.stderr
    assert [line.split()[1] for line in result.stdout.splitlines()
            if line.startswith("*")] == ["textual-dark"]
