"""CheckList: a SelectionList whose ticked and unticked boxes differ in shape, not only colour.

SelectionList draws the same `▐X▌` for both states (green or grey: lost in 16 colours, with
NO_COLOR or to a colour-blind eye) and keeps a highlight bar on an unfocused list that reads
as "ticked". Here a box is `[x]` or `[ ]`; no item is highlighted until the user moves in the
list (the first `down` goes to the first item, in every list) and none once it loses focus.
"""
from __future__ import annotations

from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.strip import Strip
from textual.widgets import OptionList, SelectionList
from textual.widgets.option_list import OptionDoesNotExist
from textual.widgets.selection_list import SelectionType

TICKED, UNTICKED = "[x] ", "[ ] "  # as wide as SelectionList's button and its gap


class CheckList(SelectionList[SelectionType]):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"check-list--box", "check-list--box-ticked"}

    DEFAULT_CSS = """
    CheckList > .check-list--box { color: $text-muted; }
    CheckList > .check-list--box-ticked { color: $text-success; text-style: bold; }
    """

    def on_mount(self) -> None:
        self.highlighted = None

    def on_blur(self, event: events.Blur) -> None:
        self.highlighted = None

    def render_line(self, y: int) -> Strip:
        line = OptionList.render_line(self, y)  # the prompt, without SelectionList's button
        index = self.scroll_offset.y + y
        try:
            option = self.get_option_at_index(index)
        except OptionDoesNotExist:
            return line
        ticked = option.value in self.selected
        base = next(iter(line)).style if line.cell_length else None
        base = base or self.rich_style
        box = self.get_component_rich_style(
            "check-list--box-ticked" if ticked else "check-list--box", partial=True)
        style = base + box + Style(meta={"option": index})  # a click on the box toggles it
        return Strip([Segment(TICKED if ticked else UNTICKED, style), *line])
