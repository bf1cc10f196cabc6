"""Choice, the sidebar's one-line select: Select's keys, values and messages, its list mounted
only while open, and a line that says what is chosen (or the prompt, dimmed) in any width."""
from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Select

from widgets import choice as choice_module
from widgets.choice import NULL, Choice, ChoiceList


class ChoiceApp(App[None]):
    CSS = "Vertical { width: 30; } Choice { width: 1fr; }"

    def __init__(self) -> None:
        super().__init__()
        self.changes: list[tuple[str | None, object]] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Choice([("30 days", "30d"), ("7 days", "7d"), ("90 days", "90d")],
                         value="30d", allow_blank=False, id="window")
            yield Choice([("Alpha", "a"), ("Beta", "b"), ("Gamma ray", "g")],
                         prompt="any assistant", id="assistant")
            yield Input(id="after")

    def on_choice_changed(self, event: Choice.Changed) -> None:
        self.changes.append((event.control.id, event.value))


def line(choice: Choice) -> str:
    return choice.render().plain


async def test_keys_open_the_list_pick_and_close_it():
    app = ChoiceApp()
    async with app.run_test() as pilot:
        choice = app.query_one("#assistant", Choice)
        assert choice.value is NULL and choice.is_blank()
        assert line(choice).startswith("any assistant") and line(choice).endswith(" ▼ ")
        assert not choice.query(ChoiceList)  # no list mounted while closed
        choice.focus()
        await pilot.press("enter")
        listed = choice.query_one(ChoiceList)
        assert app.focused is listed and choice.expanded and "▲" in line(choice)
        assert listed.highlighted == 0  # the blank, where the value is
        await pilot.press("down", "down", "enter")
        assert choice.value == "b" and app.changes == [("assistant", "b")]
        assert app.focused is choice and not choice.expanded
        await pilot.pause()
        assert not choice.query(ChoiceList)
        assert line(choice).startswith("Beta ")
        for key in ("space", "up", "down"):  # Select's other keys open it too
            await pilot.press(key)
            assert choice.expanded and choice.query_one(ChoiceList).highlighted == 2, key
            await pilot.press("escape")
            assert not choice.expanded and app.focused is choice, key
        assert app.changes == [("assistant", "b")]  # closing changes nothing


async def test_leaving_the_list_closes_it_and_keeps_the_value():
    app = ChoiceApp()
    async with app.run_test() as pilot:
        choice = app.query_one("#window", Choice)
        choice.focus()
        await pilot.press("enter", "down")
        app.query_one("#after", Input).focus()
        await pilot.pause()
        assert not choice.expanded and not choice.query(ChoiceList)
        assert choice.value == "30d" and app.changes == []


async def test_typing_jumps_to_the_option_holding_it_earliest(monkeypatch):
    app = ChoiceApp()
    async with app.run_test() as pilot:
        choice = app.query_one("#assistant", Choice)
        choice.focus()
        await pilot.press("enter", "r", "a")  # "ra": only "Gamma ray" holds it
        assert choice.query_one(ChoiceList).highlighted == 3
        await pilot.press("q")  # typed into the list, not to the app's bindings
        assert app.is_running and choice.query_one(ChoiceList).highlighted == 3
        await pilot.press("enter")
        assert choice.value == "g"
        monkeypatch.setattr(choice_module, "SEARCH_RESET_S", 0.0)  # each key a new search
        await pilot.press("enter", "b")
        assert choice.query_one(ChoiceList).highlighted == 2  # "Beta"
        await pilot.press("y")  # "any assistant" holds it at 2, "Gamma ray" at 8
        assert choice.query_one(ChoiceList).highlighted == 0


async def test_a_click_opens_the_list_and_a_click_on_an_option_picks_it():
    app = ChoiceApp()
    async with app.run_test() as pilot:
        choice = app.query_one("#assistant", Choice)
        await pilot.click("#assistant")
        assert choice.expanded and app.focused is choice.query_one(ChoiceList)
        await pilot.click(ChoiceList, offset=(2, 1))  # the second line: "Alpha"
        assert choice.value == "a" and not choice.expanded
        await pilot.click("#assistant")
        assert choice.expanded
        await pilot.click("#window")  # another widget: closed, the value kept
        assert not choice.expanded and choice.value == "a"


async def test_values_as_select_has_them():
    app = ChoiceApp()
    async with app.run_test() as pilot:
        window, assistant = app.query_one("#window", Choice), app.query_one("#assistant", Choice)
        assert window.value == "30d" and NULL is Select.NULL
        with pytest.raises(ValueError):
            window.value = "1y"
        with pytest.raises(ValueError):
            window.clear()  # no blank to go back to
        assistant.value = "g"
        assistant.clear()
        await pilot.pause()
        assert assistant.value is NULL
        assert app.changes == [("assistant", "g"), ("assistant", NULL)]
        app.changes.clear()
        assistant.value = "a"
        assistant.set_options([("Delta", "d"), ("Alpha", "a")])  # resets, as Select's does
        window.set_options([("1 day", "1d")])  # no blank: the first option
        await pilot.pause()
        assert assistant.value is NULL and window.value == "1d"
        assert app.changes == [("assistant", "a"), ("assistant", NULL), ("window", "1d")]
        assert line(assistant).startswith("any assistant")
        assistant.focus()
        await pilot.press("enter")
        listed = assistant.query_one(OptionList)
        assert [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)] \
            == ["any assistant", "Delta", "Alpha"]


async def test_the_line_fits_its_width_and_dims_the_prompt():
    app = ChoiceApp()
    async with app.run_test() as pilot:
        choice = app.query_one("#assistant", Choice)
        choice.set_options([("An assistant with a very long name indeed", "long")])
        choice.value = "long"
        await pilot.pause()
        text = line(choice)
        assert len(text) == choice.size.width == 30
        assert text.endswith("… ▼ ") and text.startswith("An assistant")
        prompt = choice.get_component_rich_style("choice--prompt").color
        choice.clear()
        await pilot.pause()
        rendered = choice.render()
        assert any(span.style == choice.get_component_rich_style("choice--prompt")
                   for span in rendered.spans) and prompt is not None
