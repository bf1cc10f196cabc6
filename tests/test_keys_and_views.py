"""Keys and views (issue 11): back from a drill-down, focus on the analytics screens, citation
references, the footer and help at 80 columns, screenshots without ~/Downloads, the DEMO badge.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from analytics_harness import HarnessApp, demo_client, focus_decided
from analytics_harness import settle as settle_harness
from app_support import explorer, screen_lines, settle, wait_until
from test_analytics_screens import select_row
from textual.widgets import DataTable, Input, Static, Tabs

from api.text import sanitize
from screens.analytics import ANALYTICS_SCREENS
from screens.analytics.csat import CsatScreen
from screens.analytics.overview import OverviewScreen
from screens.analytics.signals import SignalsScreen
from screens.analytics.topics import TopicsScreen
from screens.conversation import ConversationScreen
from screens.help import HelpScreen
from widgets.charts import BarChart, ChartBase
from widgets.footer import KeyBar
from widgets.message_view import MessageView
from widgets.tables import TitledTable

WIDE = (160, 48)
NO_SIDEBAR = (108, 48)  # below the explorer's sidebar (110 columns): for navigation tests
SMALL = (80, 24)
CITED = "21014450"  # a demo conversation citing six knowledge-base items


def reference_blocks(text: str) -> dict[str, str]:
    """`[n] ...` entries of a citation list (an entry runs until the next `[m]` line)."""
    blocks: dict[str, str] = {}
    number = None
    for line in text.splitlines():
        found = re.match(r"\[(\d+)\]", line)
        if found:
            number = found.group(1)
            blocks[number] = ""
        if number is not None:
            blocks[number] += line + "\n"
    return blocks


# ---------------------------------------------------------------------------- back stack


async def test_esc_after_a_drill_down_returns_to_the_chart(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        signals = app.screen
        assert isinstance(signals, SignalsScreen)
        chart = signals.query_one("#handoff_reason", BarChart)
        await select_row(pilot, chart, "frustration")
        await settle(pilot)
        assert app.screen is explorer(app)
        assert explorer(app).query_obj.handoff_reason == ("frustration",)
        loads = signals.load_count
        explorer(app).action_focus_table()
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is signals  # the same chart, as it was: not reloaded
        assert signals.load_count == loads
        table = chart.query_one(DataTable)
        assert app.focused is table
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value \
            == "frustration"
        await pilot.press("escape")  # from an analytics screen: the explorer, as before
        await settle(pilot)
        assert app.screen is explorer(app)
        await pilot.press("escape")  # nothing left to go back to: stays
        await settle(pilot)
        assert app.screen is explorer(app)


async def test_back_restores_the_charts_filters_and_passes_through_a_conversation(studio_app):
    """A by-tag drill-down narrows the shared tags; back shows the overview of before."""
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        overview = app.screen
        assert isinstance(overview, OverviewScreen)
        before, loads = app.filters, overview.load_count
        by_tag = overview.query_one("#by-tag", TitledTable)
        tag = by_tag.keys[0]
        await select_row(pilot, by_tag, tag)
        await settle(pilot)
        assert app.screen is explorer(app) and app.filters.tags == (tag,)
        explorer(app).action_focus_table()
        await pilot.press("enter")  # a conversation of the drill-down
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is explorer(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is overview
        assert app.filters == before and overview.load_count == loads


async def test_drill_down_shows_the_explorer_not_a_conversation_left_open(studio_app):
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        explorer(app).action_focus_table()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        await pilot.press("s")
        await settle(pilot)
        await select_row(pilot, app.screen.query_one("#handoff_reason", BarChart),
                         "frustration")
        await settle(pilot)
        assert app.screen is explorer(app)


async def test_explicit_navigation_forgets_the_way_back(studio_app):
    """After a drill-down the user opens another screen by its key: esc on the explorer no
    longer jumps to the old chart."""
    app = studio_app()
    async with app.run_test(size=NO_SIDEBAR) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        await select_row(pilot, app.screen.query_one("#handoff_reason", BarChart),
                         "frustration")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        explorer(app).action_focus_table()
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is explorer(app)


def test_the_app_uses_no_private_mode_api():
    import tui.app

    source = inspect.getsource(tui.app)
    for private in ("._modes", "._screen_stacks", "._bindings"):
        assert private not in source, private


# ---------------------------------------------------------------------------- analytics focus


def first_interactive(screen) -> list:
    return [w for w in screen.focus_chain if not w.has_class("analytics-body")]


def title_of(widget):
    for node in widget.ancestors_with_self:
        if isinstance(node, (ChartBase, TitledTable)):
            return node.query_one(".chart-title, .table-title", Static)
    return None


async def after_refresh(pilot) -> None:
    """Past the next screen refresh (focus_first and scrolling to a focused widget run then)."""
    await pilot.wait_for_scheduled_animations()
    await pilot.app.screen.wait_for_refresh()
    await pilot.pause()
    await focus_decided(pilot)


def in_view(widget, body) -> bool:
    shown = widget.region.intersection(body.content_region)
    return shown.height >= min(widget.region.height, 2) > 0


@pytest.mark.parametrize("size", [SMALL, (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("entry", ANALYTICS_SCREENS, ids=[e[1] for e in ANALYTICS_SCREENS])
async def test_analytics_focus_starts_on_the_first_interactive_element(demo_db, entry, size):
    """The first table (or tab bar) has the focus, so arrows and enter work at once; when it
    is below the first screenful, the scrolling body has it (tab goes down to the table).
    Never a widget that is not displayed."""
    _key, _name, screen_class, _description = entry
    app = HarnessApp(demo_client(demo_db), screen_class)
    async with app.run_test(size=size) as pilot:
        await settle_harness(pilot)
        await after_refresh(pilot)
        screen = app.screen
        body = screen.query_one(".analytics-body")
        chain = first_interactive(screen)
        assert chain, "nothing to focus"
        focused = screen.focused
        assert focused in screen.focus_chain
        if focused is body:
            assert not in_view(chain[0], body)
            await pilot.press("tab")
            await after_refresh(pilot)
            assert app.focused is chain[0] and in_view(chain[0], body)
        else:
            assert focused is chain[0] and in_view(focused, body)


async def test_analytics_focus_waits_for_the_figures_to_be_laid_out(demo_db):
    """Figures shown but not laid out yet when the focus is decided (their region is still
    empty): it lands on them once they are, not on the scrolling body for good."""
    app = HarnessApp(demo_client(demo_db), TopicsScreen)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle_harness(pilot)
        await after_refresh(pilot)
        screen = app.screen
        chart = screen.query_one(BarChart)
        table = chart.query_one(DataTable)
        assert app.focused is table
        bars = list(chart.bars)
        chart.show_empty()
        await after_refresh(pilot)
        assert not table.region
        chart.set_bars(bars)
        screen.focus_first()  # the figures are displayed again, not laid out
        await after_refresh(pilot)
        assert table.region and app.focused is table


@pytest.mark.parametrize("screen_class", [OverviewScreen, SignalsScreen, CsatScreen])
async def test_analytics_tab_order_is_visible(demo_db, screen_class):
    """Every stop of the tab order is marked: a table by its highlighted title, the scrolling
    body (a stop of its own) by a bar on its left."""
    app = HarnessApp(demo_client(demo_db), screen_class)
    async with app.run_test(size=SMALL) as pilot:
        await settle_harness(pilot)
        await after_refresh(pilot)
        screen = app.screen
        body = screen.query_one(".analytics-body")
        body.focus()
        await after_refresh(pilot)
        assert body.styles.outline_left[0] not in ("", "none", "hidden")
        titles = [title_of(w) for w in first_interactive(screen)]
        blurred = {id(t): t.rich_style for t in titles if t is not None}
        assert blurred
        for _ in range(len(screen.focus_chain)):
            await pilot.press("tab")
            await after_refresh(pilot)
            focused = app.focused
            if focused is body:
                assert body.styles.outline_left[0] not in ("", "none", "hidden")
                continue
            assert body.styles.outline_left[0] in ("", "none", "hidden")
            title = title_of(focused)
            if title is None:
                assert isinstance(focused, Tabs)  # Textual marks a focused tab bar itself
                continue
            assert title.rich_style != blurred[id(title)], title.content


# ---------------------------------------------------------------------------- citations


def test_citation_markers_become_numbers():
    from widgets.message_view import cited_ids, render_citations

    numbers = {"c-1": 1, "c-2": 2}
    text = render_citations("Reset it [[c-2]] then [[c-1]] [[c-2]].", numbers)
    assert text.plain == "Reset it [2] then [1] [2]."
    assert cited_ids("a [[c-2]] b [[c-1]] [[c-2]]") == ["c-2", "c-1"]
    # an id-like marker the citation list does not hold: a reference without a number
    assert render_citations("x [[0f3a9c2e-77aa-4c1b-9d55-0123456789ab]]", {}).plain == "x [?]"
    # text that only looks like a marker stays as written
    assert render_citations("[[bold]] [[a b]] [[]]", {}).plain == "[[bold]] [[a b]] [[]]"


async def test_citations_are_numbered_references_with_sources_under_each_message(studio_app):
    from widgets.message_view import cited_ids

    app = studio_app()
    async with app.run_test(size=(100, 48)) as pilot:  # no explorer sidebar: not tested here
        await settle(pilot)
        app.push_screen(ConversationScreen(CITED))
        await settle(pilot)
        screen = app.screen
        citations = screen.detail.citations
        assert len(citations) >= 2
        bottom = str(screen.query_one("#citations", Static).content)
        cited_views = [v for v in screen.query(MessageView)
                       if "[[" in str(v.message.content)]
        assert cited_views
        for view in cited_views:
            content = str(view.query_one("#content", Static).content)
            assert "[[" not in content
            refs = re.findall(r"\[(\d+)\]", content)
            assert refs
            sources = str(view.query_one(".message-citations", Static).content)
            for ref in refs:
                assert f"[{ref}]" in sources
        by_id = {c.citation_id: c for c in citations}
        blocks = reference_blocks(bottom)
        for view in cited_views:
            content = str(view.query_one("#content", Static).content)
            markers = cited_ids(str(view.message.content))
            numbers = list(dict.fromkeys(re.findall(r"\[(\d+)\]", content)))
            assert len(markers) == len(numbers)
            for cid, number in zip(markers, numbers, strict=True):
                # the list at the bottom shows that citation under the same number
                excerpt = sanitize(by_id[cid].content).replace("\n", " ")[:30]
                assert excerpt in blocks[number], (cid, number)
        shown = "\n".join(screen_lines(app))
        assert "[[" not in shown


# ---------------------------------------------------------------------------- footer and help


@pytest.mark.parametrize("key", ["", "o", "c"])
async def test_footer_at_80_columns_shows_each_key_with_its_label(studio_app, key):
    app = studio_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        if key:
            await pilot.press(key)
            await settle(pilot)
        bar = app.screen.query_one(KeyBar)
        drawn = bar.render()
        assert drawn.cell_len <= SMALL[0]
        keys = [key for _start, _end, key in bar.spans]
        assert len(keys) >= 3
        assert all(k.description for k in keys), [k.display for k in keys]
        assert any(k.description == "Help" for k in keys)
        # the keys shown are the first ones of the bar's order: a later, shorter key never
        # takes the place of an earlier one that did not fit
        unkept = [k for k in bar.keys if not k.keep]
        shown = [k for k in keys if not k.keep and k != bar.palette]
        assert shown == unkept[: len(shown)], ([k.display for k in shown],
                                               [k.display for k in unkept])


def help_rows(app) -> list[tuple[str, str, str]]:
    table = app.screen.query_one(DataTable)
    return [tuple(str(c) for c in table.get_row_at(i)) for i in range(table.row_count)]


def internal_names(screen) -> set[str]:
    names = {type(w).__name__ for w in screen.query("*")}
    return names | {"PageGrid", "ConversationTable", "DataTable", "MessageView", "FilterSidebar",
                    "VerticalScroll", "Input", "SelectionList", "Collapsible"}


async def test_help_lists_the_whole_screen_without_internal_names(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        # the conversation view: focus on its body, the messages' own key is listed too
        explorer(app).action_focus_table()
        await pilot.press("enter")
        await settle(pilot)
        conversation = app.screen
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(app)
        actions = {row[2] for row in rows}
        assert {"Expand/fold message", "Next conv.", "Quit", "Help", "Overview"} <= actions
        assert not {row[0] for row in rows} & internal_names(conversation)
        await pilot.press("escape")
        await pilot.press("escape")
        await settle(pilot)
        # a text box of the sidebar has focus: the app's keys are still listed (f1 opens help)
        search = explorer(app).query_one("#search", Input)
        search.focus()
        await pilot.pause()
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = help_rows(app)
        actions = {row[2] for row in rows}
        assert {"Quit", "Overview", "Next page", "Filters", "Export"} <= actions
        assert not {row[0] for row in rows} & internal_names(explorer(app))


async def test_help_on_an_analytics_screen_lists_keys_of_unfocused_tables(studio_app):
    app = studio_app(screen="csat")
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        csat = app.screen
        assert csat.focused is not None and csat.focused.parent.id != "ratings"
        await pilot.press("question_mark")
        await settle(pilot)
        rows = help_rows(app)
        actions = {row[2]: row[1] for row in rows}
        assert actions.get("Next page") == "n" and actions.get("Previous page") == "p"
        # the ratings table has not the focus: its keys are listed as not usable here (dim)
        styles = {str(cells[2]): cells[2].style for cells in map(
            app.screen.query_one(DataTable).get_row_at, range(len(rows)))}
        assert styles["Next page"] == "dim" and styles["Chart/table view"] != "dim"
        assert {"Chart/table view", "All/DSAT ratings", "Explorer"} <= set(actions)
        assert not {row[0] for row in rows} & internal_names(csat)


def test_help_uses_public_binding_api():
    import screens.help

    assert "._bindings" not in inspect.getsource(screens.help)


# ---------------------------------------------------------------------------- screenshot


def screenshot_command(app):
    return next(c for c in app.get_system_commands(app.screen) if c.title == "Screenshot")


def screenshot_notes(app) -> list:
    return [n for n in app.test_notifications if n.title == "Screenshot"]


@pytest.fixture
def no_downloads(tmp_path, monkeypatch) -> Path:
    """A home without a Downloads folder; the working directory is returned."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


async def test_screenshot_without_downloads_goes_to_the_working_directory(studio_app,
                                                                          no_downloads):
    app = studio_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screenshot_command(app).callback()
        [note] = await wait_until(lambda: screenshot_notes(app), pilot=pilot)
        files = list(no_downloads.glob("*.svg"))
        assert len(files) == 1 and "DEMO" in files[0].read_text()
        assert note.severity != "error" and str(files[0]) in note.message, note


async def test_screenshot_that_cannot_be_written_says_why(studio_app, no_downloads, monkeypatch):
    import tui.app

    blocker = no_downloads / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setattr(tui.app, "screenshot_directories", lambda settings: [blocker])
    app = studio_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screenshot_command(app).callback()
        [note] = await wait_until(lambda: screenshot_notes(app), pilot=pilot)
        assert note.severity == "error", note
        assert str(blocker) in note.message and "directory" in note.message.lower()


# ---------------------------------------------------------------------------- DEMO badge


def header_ok(app) -> bool:
    """The DEMO badge and the connection state both show, whole."""
    line = screen_lines(app)[0]
    return "DEMO" in line and "● online" in line


@pytest.mark.parametrize("width", [40, 52, 64])
async def test_demo_badge_stays_visible_on_narrow_terminals(studio_app, width):
    app = studio_app()
    async with app.run_test(size=(width, 20)) as pilot:
        await settle(pilot)
        assert header_ok(app)
        await pilot.press("o")
        await settle(pilot)
        assert header_ok(app) and "Overview" in screen_lines(app)[0]
        await pilot.press("e")
        explorer(app).action_focus_table()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
        assert header_ok(app)


async def test_demo_badge_stays_after_a_resize_to_40_columns(studio_app):
    app = studio_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "embedded backend" in screen_lines(app)[0]
        await pilot.resize_terminal(40, 24)
        await settle(pilot)
        assert header_ok(app)
        assert len(screen_lines(app)[0].rstrip()) <= 40


def test_the_apps_analytics_keys_agree_with_the_screens():
    """tui.app binds the analytics keys up front (ids for the keymap, no private API)."""
    from tui.app import StudioApp

    bound = {b.id: (b.key, b.description) for b in StudioApp.BINDINGS if not isinstance(b, tuple)}
    for key, name, _cls, _help in ANALYTICS_SCREENS:
        mode = f"analytics-{name}".lower().replace(" ", "-")
        assert bound[f"app.screen.{mode}"] == (key, name)


async def test_analytics_focus_lands_on_the_figures_at_the_apps_own_pace(studio_app):
    """As in a terminal: the screen opened by its key and left to run on its own timers (no
    pilot pause forcing a refresh): once the figures are laid out the focus is on the first
    table, not left on the scrolling body of the empty screen."""
    app = studio_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        app.simulate_key("t")  # no pause after it, unlike pilot.press

        def decided() -> bool:
            screen = app.screen
            return isinstance(screen, TopicsScreen) and screen.load_count > 0 \
                and not screen.focus_pending

        await wait_until(decided, what="the topics loaded and the focus decided")
        await app.screen.wait_for_refresh()  # and it stays there
        assert app.focused is app.screen.query_one(BarChart).query_one(DataTable)
