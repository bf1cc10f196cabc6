"""Keys that must never trap or do nothing (issue 11, explorer part).

Every binding of every screen is pressed as a terminal sends it (`.` arrives as `full_stop`,
not `period`) and must reach its action; the sidebar's text boxes let the user out; the cursor,
presets, filter line, dates and checkbox lists behave as a keyboard user expects.
"""
from __future__ import annotations

import ast
import string
from collections.abc import Iterable
from typing import Any

import pytest
from app_support import explorer, settle
from textual.app import App
from textual.binding import Binding
from textual.keys import Keys
from textual.widget import Widget

from screens.analytics import ANALYTICS
from screens.conversation import ConversationScreen
from screens.explorer import ExplorerScreen
from screens.export_dialog import ExportDialog
from screens.help import HelpScreen
from widgets.filter_sidebar import FilterSidebar

WIDE = (160, 48)
NO_SIDEBAR = (108, 48)  # below the explorer's sidebar (110 columns)
SMALL = (80, 24)


def sidebar(app) -> FilterSidebar:
    return explorer(app).query_one(FilterSidebar)


# ---------------------------------------------------------------------------- every binding fires


class _KeyProbe(App[None]):
    """Records the key name Textual gives each typed character (what the terminal sends)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def on_key(self, event) -> None:
        self.seen.append(event.key)


_TYPED: dict[str, str] = {}  # Textual's names do not change within a run: probed once


async def typed_key_names() -> dict[str, str]:
    """key name -> the character a user types to produce it (`full_stop` -> `.`)."""
    if not _TYPED:
        chars = [c for c in string.printable if c not in "\t\n\r\x0b\x0c"]
        probe = _KeyProbe()
        async with probe.run_test() as pilot:
            for char in chars:
                await pilot.press(char)
        _TYPED.update(zip(probe.seen, chars, strict=True))
    return dict(_TYPED)


SPECIAL_KEYS = {k.value for k in Keys}


def what_to_press(key: str, typed: dict[str, str]) -> str | None:
    """What the user presses for binding key `key`, or None when no terminal sends it."""
    if key in typed:
        return typed[key]
    if key in SPECIAL_KEYS:
        return key
    return None


def own_bindings(cls: type) -> list[Binding]:
    """The BINDINGS this project declares on `cls` and its project base classes."""
    found: list[Binding] = []
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] not in ("screens", "widgets", "tui"):
            continue
        for binding in klass.__dict__.get("BINDINGS", ()):
            if isinstance(binding, Binding):
                found.append(binding)
    return found


def split_action(action: str) -> tuple[str, str, tuple]:
    """`app.quit` -> ("app", "quit", ()); `preset('S')` -> ("", "preset", ("S",))."""
    name, _, args = action.partition("(")
    namespace, _, name = name.rpartition(".")
    params = ast.literal_eval(f"({args.rstrip(')')},)") if args.strip(")") else ()
    return namespace, name, params


def focus_in(node: Widget) -> Widget | None:
    """`node` or its first focusable descendant (bindings of a container fire from inside)."""
    if node.focusable:
        return node
    return next((w for w in node.query("*") if w.focusable), None)


DISABLED: list[str] = []  # bindings turned off by check_action where they were pressed


async def press_each(pilot, node: Any, bindings: Iterable[Binding], typed: dict[str, str],
                     focus: Widget | None, skip_keys: set[str] = frozenset()) -> list[str]:
    """Press every key of `bindings` (declared on `node`) with `focus` focused; returns what
    did not reach its action. The action is replaced by a spy: no side effects. A binding
    its node disables (`check_action` False: not listed in the footer or help) is noted in
    DISABLED instead."""
    app = pilot.app
    failures: list[str] = []
    for binding in bindings:
        namespace, name, params = split_action(binding.action)
        target = {"app": app, "screen": app.screen}.get(namespace, node)
        if not callable(getattr(target, f"action_{name}", None)):
            failures.append(f"{binding.action!r} ({binding.id}): no action_{name} on "
                            f"{type(target).__name__}")
            continue
        if focus is not None and app.focused is not focus:
            focus.focus()
            await pilot.pause()
        if target.check_action(name, params) is False:
            DISABLED.append(f"{type(app.screen).__name__}:{binding.id}")
            continue
        for key in binding.key.split(","):
            key = key.strip()
            if key in skip_keys:
                continue
            press = what_to_press(key, typed)
            if press is None:
                failures.append(f"{key!r} ({binding.id}): no terminal sends this key")
                continue
            calls: list[tuple] = []
            setattr(target, f"action_{name}", lambda *args, _c=calls: _c.append(args))
            try:
                if focus is not None and app.focused is not focus:
                    focus.focus()
                    await pilot.pause()
                await pilot.press(press)
                await pilot.pause()
            finally:
                delattr(target, f"action_{name}")
            if not calls:
                where = type(app.focused).__name__ if app.focused else "nothing"
                failures.append(f"{key!r} ({binding.id}) did not reach {binding.action!r} "
                                f"(focus on {where})")
    return failures


async def check_screen(pilot, typed: dict[str, str], *, app_bindings: bool,
                       focus_for: dict[str, str] | None = None) -> list[str]:
    """Every binding of the screen and of its project widgets; the app's too (not on modals:
    a modal screen takes every key). A binding whose id is in `focus_for` is pressed with the
    focus on that selector (where it is meant to work)."""
    app = pilot.app
    screen = app.screen
    default_focus = app.focused
    failures: list[str] = []
    focus_for = focus_for or {}

    def focus_of(binding: Binding, fallback: Widget | None) -> Widget | None:
        if binding.id in focus_for:
            return screen.query_one(focus_for[binding.id])
        return fallback

    for binding in own_bindings(type(screen)):
        failures += await press_each(pilot, screen, [binding], typed,
                                     focus_of(binding, default_focus))
    seen: set[type] = set()
    for widget in list(screen.query("*")):
        bindings = own_bindings(type(widget))
        if not bindings or type(widget) in seen or not widget.display:
            continue
        seen.add(type(widget))
        target = focus_in(widget)
        if target is None:
            continue
        for binding in bindings:
            failures += await press_each(pilot, widget, [binding], typed,
                                         focus_of(binding, target))
    if app_bindings:
        # keys the screen binds itself shadow the app's on purpose (e.g. `a` on a screen)
        shadowed = {k.strip() for b in own_bindings(type(screen)) for k in b.key.split(",")}
        global_bindings = own_bindings(type(app)) + [
            Binding(key, f"open_mode('{mode}')", name, id=f"app.screen.{mode}")
            for key, mode, name, _ in app.screen_keys
        ]
        failures += await press_each(pilot, app, global_bindings, typed, default_focus,
                                     skip_keys=shadowed)
    return failures


async def open_screen(pilot, which: str) -> None:
    app = pilot.app
    if which == "explorer":
        explorer(app).action_focus_table()
    elif which == "conversation":
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConversationScreen)
    elif which == "help":
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
    else:
        assert which == "export", which
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
    await pilot.pause()


ANALYTICS_MODES = ["analytics-overview", "analytics-quality-signals", "analytics-csat",
                   "analytics-conversions", "analytics-resources", "analytics-trending-topics",
                   "analytics-configuration", "analytics-evals"]


@pytest.mark.long
@pytest.mark.parametrize("which", ["explorer", "conversation", "help", "export",
                                   *ANALYTICS_MODES])
async def test_every_binding_reaches_its_action(studio_app, which):
    typed = await typed_key_names()
    DISABLED.clear()
    analytics = which in ANALYTICS_MODES  # the app opens on it (`--screen`): actions are spied
    slugs = {entry.mode: entry.slug for entry in ANALYTICS}
    app = studio_app(screen=slugs[which]) if analytics else studio_app()
    # the explorer's own keys include the sidebar's; the other screens' do not need it
    async with app.run_test(size=WIDE if which == "explorer" else NO_SIDEBAR) as pilot:
        await settle(pilot)
        assert [m for _, m, _, _ in app.screen_keys] == ANALYTICS_MODES
        if analytics:
            assert app.current_mode == which
            await pilot.pause()
        else:
            await open_screen(pilot, which)
        modal = which in ("help", "export")
        failures = await check_screen(pilot, typed, app_bindings=not modal,
                                      focus_for={"explorer.leave": "#search"})
    assert failures == []
    # only the chart/table switch, on the screens that have no chart, and the shared window
    # where the figures do not cover it
    assert set(DISABLED) <= {"ConfigurationScreen:analytics.toggle_table",
                             "EvalsScreen:analytics.toggle_table",
                             *(f"{screen}:analytics.cycle_window" for screen in
                               ("ConfigurationScreen", "EvalsScreen", "TopicsScreen"))}


async def test_full_stop_flips_the_sort_order_and_help_shows_it(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        explorer(app).action_focus_table()
        await pilot.press(".")  # what a terminal sends for `.`: the key `full_stop`
        await settle(pilot)
        assert explorer(app).query_obj.sort_order == "asc"
        await pilot.press("question_mark")
        await settle(pilot)
        table = app.screen.query_one("DataTable")
        rows = {str(table.get_row_at(i)[2]): str(table.get_row_at(i)[1])
                for i in range(table.row_count)}
        assert rows["Sort order"] == "."
        assert "period" not in " ".join(rows.values())


# ---------------------------------------------------------------------------- leaving the sidebar


def focused_in_table(app) -> bool:
    return app.focused is explorer(app).query_one("#conversations")


@pytest.mark.long
async def test_escape_returns_to_the_table_from_every_focusable_widget(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        screen = explorer(app)
        targets = [w for w in screen.focus_chain if w.id != "conversations"]
        assert any(w.id == "search" for w in targets) and len(targets) > 10
        for widget in targets:
            widget.focus()
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert focused_in_table(app), widget
            assert isinstance(app.screen, ExplorerScreen)
        await pilot.press("escape")  # in the table, esc is the app's `back` (nothing here)
        await pilot.pause()
        assert isinstance(app.screen, ExplorerScreen) and focused_in_table(app)


async def test_tabbing_into_a_box_keeps_its_text(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        end = sidebar(app).query_one("#end_date")
        before = end.value
        assert before
        sidebar(app).query_one("#start_date").focus()
        await pilot.pause()
        await pilot.press("tab")
        assert app.focused is end
        await pilot.press("1")
        assert end.value.startswith(before)  # the first key does not wipe the value


async def test_search_then_enter_focuses_the_results(studio_app):
    app = studio_app()
    async with app.run_test(size=SMALL) as pilot:  # sidebar folded at 80 columns
        await settle(pilot)
        cid = explorer(app).table.rows[3].conversation_id
        await pilot.press("slash")
        await pilot.pause()
        assert app.focused is sidebar(app).query_one("#search")
        await pilot.press(*cid[:8])
        await pilot.press("enter")
        await settle(pilot)
        assert explorer(app).query_obj.search == cid[:8]
        assert focused_in_table(app)
        assert explorer(app).table.rows[0].conversation_id.startswith(cid[:8])
        # the sidebar `/` unfolded at 80 columns folds back: the results get the width
        assert explorer(app).has_class("-folded")
        await pilot.press("slash")
        await pilot.pause()
        assert not explorer(app).has_class("-folded")
        await pilot.press("escape")  # no search after all: back to the table, folded too
        await pilot.pause()
        assert focused_in_table(app) and explorer(app).has_class("-folded")


async def test_f_focuses_the_first_field_and_folds_back_to_the_table(studio_app):
    app = studio_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert app.focused is sidebar(app).query_one("#preset")
        await pilot.press("f")  # a Select lets the key through
        await pilot.pause()
        assert focused_in_table(app) and explorer(app).has_class("-folded")
        await pilot.press("f")
        await settle(pilot)
        sidebar(app).query_one("#tz").focus()
        await pilot.press("escape")  # the one key back, folded or not
        await pilot.pause()
        assert focused_in_table(app)


# ---------------------------------------------------------------------------- the cursor stays


async def test_resize_and_detail_toggle_keep_the_highlighted_conversation(studio_app):
    app = studio_app()
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        table = explorer(app).table
        explorer(app).action_focus_table()
        table.go_to_page(12)
        await settle(pilot)
        await pilot.press("j", "j", "j")
        await settle(pilot)
        cid = table.current().conversation_id
        page_size = table.page_size
        await pilot.press("d")  # the detail pane takes rows from the table
        await settle(pilot)
        assert table.page_size != page_size
        assert table.current().conversation_id == cid
        for size in ((160, 48), (80, 24), (120, 30), (100, 24)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            assert table.current().conversation_id == cid, size
        await pilot.press("d")
        await settle(pilot)
        assert table.current().conversation_id == cid
        assert explorer(app).query_one("DetailPane").conversation.conversation_id == cid


async def test_widening_keeps_filters_set_while_the_sidebar_was_folded(studio_app):
    app = studio_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("S")
        await settle(pilot)
        await pilot.resize_terminal(*WIDE)  # the sidebar is mounted now
        await settle(pilot)
        assert explorer(app).query_obj.sentiment == ("negative",)
        assert sidebar(app).query_one("#sentiment").selected == ["negative"]


# ---------------------------------------------------------------------------- presets combine


def filter_line(app) -> str:
    return str(explorer(app).query_one("#filter-summary").render())


async def test_presets_combine_and_toggle(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        explorer(app).action_focus_table()
        await pilot.press("S", "H")
        await settle(pilot)
        query = explorer(app).query_obj
        assert (query.sentiment, query.has_handoff) == (("negative",), True)
        rows = explorer(app).table.rows
        assert rows and all(r.sentiment_label == "negative" and r.has_handoff
                            for r in rows)
        line = filter_line(app)
        assert "sentiment negative" in line and "handoff yes" in line
        await pilot.press("S")  # off again: the handoffs stay
        await settle(pilot)
        query = explorer(app).query_obj
        assert (query.sentiment, query.has_handoff) == ((), True)
        assert "sentiment" not in filter_line(app) and "handoff yes" in filter_line(app)


# ---------------------------------------------------------------------------- filter line, arrow


async def test_filter_line_and_sort_fit_80_columns(studio_app):
    app = studio_app()
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        screen = explorer(app)
        grid = screen.query_one("#conversations")
        assert "last msg ▼" in [c.label for c in grid.columns]  # the server's default sort
        assert "sort last msg ▼" in filter_line(app)
        await pilot.press("S", "H", "R", "D")
        await pilot.press("comma", "comma", ".")  # sort by message count, ascending
        await settle(pilot)
        query = screen.query_obj
        assert (query.sort_by, query.sort_order) == ("message_count", "asc")
        labels = [c.label for c in grid.columns]
        assert "msgs▲" in labels and "last msg" in labels
        # on screen: every active filter and the sort, none cut by an ellipsis
        bar = screen.query_one("#filter-summary")
        shown = "\n".join(bar.render_line(y).text for y in range(bar.size.height))
        flat = " ".join(shown.split())
        for part in ("sentiment negative", "handoff yes", "recontact risk high",
                     "sentiment shift degraded", "sort msgs ▲"):
            assert part in flat, (part, shown)
        assert "…" not in shown
        assert bar.size.height > 1


# ---------------------------------------------------------------------------- dates


async def type_into(pilot, wid: str, text: str) -> None:
    box = sidebar(pilot.app).query_one(f"#{wid}")
    box.focus()
    box.value = text
    await pilot.press("enter")
    await settle(pilot)


def error_text(app, wid: str) -> str:
    error = sidebar(app).query_one(f"#err-{wid}")
    return str(error.render()) if error.has_class("-shown") else ""


async def test_the_end_day_typed_is_included(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await type_into(pilot, "tz", "+02:00")
        await type_into(pilot, "start_date", "2026-06-10")
        await type_into(pilot, "end_date", "2026-06-10")  # one whole day
        query = explorer(app).query_obj
        assert (query.start_date, query.end_date) == ("2026-06-10T00:00:00+02:00",
                                                     "2026-06-11T00:00:00+02:00")
        assert sidebar(app).query_one("#end_date").value == "2026-06-10"  # as typed
        assert explorer(app).table.total
        # a time is a moment: kept as typed
        await type_into(pilot, "end_date", "2026-06-10 12:30")
        assert explorer(app).query_obj.end_date == "2026-06-10T12:30:00+02:00"
        # a preset's end (midnight UTC) reads as its last day, included
        await type_into(pilot, "tz", "UTC")
        sidebar(app).query_one("#preset").value = "7d"
        await settle(pilot)
        assert explorer(app).query_obj.end_date == "2026-06-16T00:00:00Z"
        assert sidebar(app).query_one("#end_date").value == "2026-06-15"


@pytest.mark.parametrize(("start", "end", "field", "quoted"), [
    ("2026-06-10", "2026-06-01", "end_date", ("“2026-06-01”", "“2026-06-10”")),
    ("2026-13-45", "", "start_date", ("“2026-13-45”",)),
    ("2026-06-01", "10/06/2026", "end_date", ("“10/06/2026”",)),
])
async def test_date_errors_quote_what_was_typed(studio_app, start, end, field, quoted):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        await type_into(pilot, "start_date", start)
        if end:
            await type_into(pilot, "end_date", end)
        shown = error_text(app, field)
        for text in quoted:
            assert text in shown
        assert "T00:00" not in shown and "+00:00" not in shown and "00Z" not in shown


# ---------------------------------------------------------------------------- checkbox lists


def list_lines(widget) -> list[str]:
    return [widget.render_line(y).text for y in range(widget.size.height)]


async def test_checkbox_lists_show_the_state_in_shape(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await settle(pilot)
        lists = list(sidebar(app).query("SelectionList"))
        assert {w.id for w in lists} >= {"tags", "sentiment", "resources", "recontact_risk"}
        sentiment = sidebar(app).query_one("#sentiment")
        sentiment.select("negative")
        await settle(pilot)
        lines = list_lines(sentiment)
        assert [line[:3] for line in lines] == ["[x]", "[ ]", "[ ]"], lines
        assert "neg" in lines[0]
        for widget in lists:
            sidebar(app).scroll_to_widget(widget, animate=False)
            widget.focus()
            await pilot.pause()
            assert widget.highlighted is None, widget.id  # nothing looks picked on arrival
            await pilot.press("down")
            assert widget.highlighted == 0, widget.id  # the first down: the first item
            await pilot.press("down")
            assert widget.highlighted == 1, widget.id
            await pilot.press("tab")
            await pilot.pause()
            assert widget.highlighted is None, widget.id  # no bar on an unfocused list
        # space ticks the item under the cursor, drawn as [x]
        recontact = sidebar(app).query_one("#recontact_risk")
        recontact.focus()
        await pilot.press("down", "space")
        await settle(pilot)
        assert recontact.selected == [recontact.get_option_at_index(0).value]
        assert list_lines(recontact)[0].startswith("[x]")


def test_typed_dates_round_trip_with_the_end_day_included():
    from datetime import UTC
    from zoneinfo import ZoneInfo

    from api.dates import parse_typed, show_typed

    paris = ZoneInfo("Europe/Paris")
    # the day before the spring DST change: the next local midnight, at the winter offset
    assert parse_typed("2026-03-28", paris, end=True) == "2026-03-29T00:00:00+01:00"
    assert parse_typed("2026-03-28", paris) == "2026-03-28T00:00:00+01:00"
    assert parse_typed(" 2026-06-10 08:30 ", UTC, end=True) == "2026-06-10T08:30:00+00:00"
    assert parse_typed("", UTC) is None
    for typed in ("2026-06-10", "2026-06-10 08:30", "2026-06-10 08:30:15"):
        for end in (False, True):
            assert show_typed(parse_typed(typed, paris, end=end), paris, end=end) == typed
    assert show_typed("2026-06-16T00:00:00Z", UTC, end=True) == "2026-06-15"
    with pytest.raises(ValueError, match="“June 10”"):
        parse_typed("June 10", UTC)
