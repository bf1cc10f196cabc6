"""Choice: a one-line select, light enough for a sidebar to hold nine of them.

Textual's Select is six widgets (a line of three Statics, and an OptionList kept mounted and
hidden for its list): nine of them were half of the filter sidebar's widgets and most of its
restyles and layouts as it mounted (figures: bench/README.md). A Choice draws its line itself
and mounts its list only while it is open. It looks like a compact Select and offers the part
of Select's API the sidebar uses, with the same meaning: `value` (`Select.NULL` when blank),
`set_options` (which resets the value), `clear`, and a `Changed` message on every change. The
keys are Select's too: enter, space, up or down open the list, which takes the focus; enter or a
click picks, escape or leaving the list closes it; typing jumps to the option whose text holds
what was typed earliest.
"""
from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from rich.console import RenderableType
from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import OptionList, Select
from textual.widgets.option_list import Option

NULL = Select.NULL
SEARCH_RESET_S = 0.7  # as Select: typing after this pause starts a new search


class ChoiceList(OptionList):
    """The open list of a Choice (its child while open)."""

    BINDINGS = [Binding("escape", "dismiss", "Close the list")]
    ALLOW_SELECT = False

    def __init__(self, choice: Choice, options: list[Option], highlighted: int | None) -> None:
        super().__init__(*options, compact=True)
        self.choice = choice
        self._start = highlighted
        self._query = ""
        self._typed_at = 0.0

    def on_mount(self) -> None:
        self.highlighted = self._start
        self.scroll_to_highlight()

    def action_dismiss(self) -> None:
        self.choice.close(refocus=True)

    def _on_blur(self, event: events.Blur) -> None:
        self.choice.close(refocus=False)
        self.suppress_click()  # a click on the line that took the focus closes, not reopens

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        return character is not None and character.isprintable()

    async def _on_key(self, event: events.Key) -> None:
        if event.character is None or not event.is_printable:
            return
        event.stop()
        event.prevent_default()
        now = time.monotonic()
        if now - self._typed_at > SEARCH_RESET_S:
            self._query = ""
        self._typed_at = now
        self._query += event.character
        index = self.choice.find(self._query)
        if index is not None:
            self.highlighted = index
            self.scroll_to_highlight()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choice.pick(event.option_index)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()


class Choice(Widget, can_focus=True):
    COMPONENT_CLASSES = {"choice--prompt", "choice--arrow"}

    DEFAULT_CSS = """
    Choice {
        height: 1;
        width: 1fr;
        color: $foreground;
        background: $surface;
        pointer: pointer;
        &:focus { background-tint: $foreground 5%; }
        &:ansi { color: ansi_default; background: ansi_default; }
        & > .choice--prompt { color: $foreground 50%; }
        & > .choice--arrow { color: $foreground 50%; }
        & > ChoiceList {
            width: 1fr;
            height: auto;
            max-height: 12;
            offset-y: 1;
            overlay: screen;
            constrain: none inside;
            color: $foreground;
            background: $surface;
            &:focus { background-tint: $foreground 5%; }
            & > .option-list--option { padding: 0 1; }
        }
    }
    """

    BINDINGS = [Binding("enter,down,space,up", "open", "Show the choices", show=False)]
    ALLOW_SELECT = False

    value: var[Any] = var(NULL, init=False)
    """The chosen value, or `Select.NULL` when none is."""

    class Changed(Message):
        """The value changed (by the user or by code), as Select's `Changed`."""

        def __init__(self, select: Choice, value: Any) -> None:
            super().__init__()
            self.select, self.value = select, value

        @property
        def control(self) -> Choice:
            return self.select

    def __init__(self, options: Iterable[tuple[RenderableType, Any]], *, prompt: str = "Select",
                 allow_blank: bool = True, value: Any = NULL, id: str | None = None) -> None:
        super().__init__(id=id)
        self.prompt = prompt
        self._blank_allowed = allow_blank
        self._entries: list[tuple[RenderableType, Any]] = []
        self._setup(options)
        if value is NULL and not allow_blank:
            value = self._entries[0][1]
        self.set_reactive(Choice.value, self.validate_value(value))
        self._list: ChoiceList | None = None

    # ---------------------------------------------------------------- Select's API
    def set_options(self, options: Iterable[tuple[RenderableType, Any]]) -> None:
        """New options; the value is reset (blank, or the first option without a blank)."""
        self.close(refocus=self.has_focus_within)
        self._setup(options)
        self.value = NULL if self._blank_allowed else self._entries[0][1]
        self.refresh()

    def clear(self) -> None:
        if not self._blank_allowed:
            raise ValueError(f"{self.id or 'this choice'} has no blank")
        self.value = NULL

    def is_blank(self) -> bool:
        return self.value is NULL

    def _setup(self, options: Iterable[tuple[RenderableType, Any]]) -> None:
        self._entries = [("", NULL)] if self._blank_allowed else []
        self._entries += list(options)
        if not self._entries:
            raise ValueError("a choice without a blank needs options")

    def validate_value(self, value: Any) -> Any:
        if not any(value == known for _, known in self._entries):
            raise ValueError(f"{value!r} is not one of the choices")
        return value

    def watch_value(self, value: Any) -> None:
        self.refresh()
        self.post_message(self.Changed(self, value))

    # ---------------------------------------------------------------- the list
    @property
    def expanded(self) -> bool:
        return self._list is not None

    def action_open(self) -> None:
        if self.expanded:
            return
        options = [Option(Text(self.prompt, style="dim")) if value is NULL
                   else Option(label) for label, value in self._entries]
        index = self._index_of(self.value)
        self._list = ChoiceList(self, options, 0 if index is None else index)
        self.mount(self._list)
        self._list.focus(scroll_visible=False)
        self.refresh()

    def close(self, *, refocus: bool) -> None:
        """Close the list, if open; `refocus`: give the focus back to the line."""
        shown = self._list
        if shown is None:
            return
        self._list = None
        shown.remove()
        if refocus:
            self.focus()
        self.refresh()

    def pick(self, index: int) -> None:
        value = self._entries[index][1]
        self.close(refocus=True)
        if value != self.value:
            self.value = value

    def find(self, typed: str) -> int | None:
        """The option whose text holds `typed` earliest (first such option on a tie)."""
        typed = typed.lower()
        best: tuple[int, int] | None = None
        for index, (label, value) in enumerate(self._entries):
            text = self.prompt if value is NULL else label
            plain = text.plain if isinstance(text, Text) else str(text)
            at = plain.lower().find(typed)
            if at != -1 and (best is None or at < best[0]):
                best = (at, index)
        return None if best is None else best[1]

    def _index_of(self, value: Any) -> int | None:
        return next((i for i, (_, known) in enumerate(self._entries) if known == value), None)

    def on_click(self, event: events.Click) -> None:
        if event.widget is not self:
            return
        event.stop()
        if self.expanded:
            self.close(refocus=True)
        else:
            self.focus()
            self.action_open()

    # ---------------------------------------------------------------- drawing
    def render(self) -> Text:
        index = None if self.value is NULL else self._index_of(self.value)
        label = self.prompt if index is None else self._entries[index][0]
        text = label.copy() if isinstance(label, Text) else Text(str(label))
        text.no_wrap = True
        room = max(0, self.size.width - 3)  # " ▼ " (" ▲ " while open) on the right
        text.truncate(room, overflow="ellipsis", pad=True)
        if index is None:
            text.stylize(self.get_component_rich_style("choice--prompt"))
        text.append(" " + ("▲" if self.expanded else "▼") + " ",
                    self.get_component_rich_style("choice--arrow"))
        return text
