"""Columns dialog: which columns of the explorer table are shown, and in what order.

Every column of api.columns.TABLE_COLUMNS is listed with what it shows: the shown ones first,
ticked, in their order, then the hidden ones. Space shows or hides the highlighted column, `K`
and `J` (or shift+up/down) move it; enter gives the shown keys in order, escape None. The
selection mark cannot be hidden and one data column at least stays shown.
"""
from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, SelectionList, Static
from textual.widgets.selection_list import Selection

from api.columns import TABLE_COLUMNS, check_columns
from screens.resume import KeepStylesOnResume
from widgets.check_list import CheckList
from widgets.conversation_table import COLUMN_BY_KEY, WIDE_WIDTH

ALWAYS = "sel"  # the selection mark: `space` in the table would select rows unseen
HINT = "space show/hide · K/J move · enter apply · esc cancel"


def _prompt(key: str) -> Text:
    prompt = Text(f"{key:<10}", style="bold")
    prompt.append(TABLE_COLUMNS[key])
    if COLUMN_BY_KEY[key].wide_only:
        prompt.append(f" (tables {WIDE_WIDTH}+ wide)", style="dim")
    return prompt


class ColumnsDialog(KeepStylesOnResume, ModalScreen[tuple[str, ...] | None]):
    CSS_PATH = "columns_dialog.tcss"

    BINDINGS = [
        Binding("K,shift+up", "move(-1)", "Move the column up", id="columns.move_up"),
        Binding("J,shift+down", "move(1)", "Move the column down", id="columns.move_down"),
        # priority: the list would take enter as a toggle
        Binding("enter", "apply", "Apply", priority=True, id="columns.apply"),
        Binding("escape", "cancel", "Cancel", id="columns.cancel"),
    ]

    def __init__(self, shown: tuple[str, ...] | list[str]) -> None:
        super().__init__()
        keys = list(check_columns(shown))  # ValueError naming an unknown key
        if ALWAYS not in keys:
            keys.insert(0, ALWAYS)
        self._shown = set(keys)
        self._order = keys + [k for k in TABLE_COLUMNS if k not in self._shown]

    def compose(self) -> ComposeResult:
        with Vertical(id="columns-box"):
            yield Label("Table columns", id="columns-title")
            yield Static(HINT, id="columns-hint", markup=False)
            yield CheckList[str](*self._selections(), id="column-list")
            yield Static("", id="columns-error", markup=False)
            with Horizontal(id="columns-buttons"):
                yield Button("Apply", variant="primary", compact=True, id="apply")
                yield Button("Cancel", compact=True, id="cancel")

    def _selections(self) -> list[Selection[str]]:
        return [Selection(_prompt(k), k, k in self._shown) for k in self._order]

    @property
    def column_list(self) -> CheckList[str]:
        return self.query_one("#column-list", CheckList)

    def on_mount(self) -> None:
        self.column_list.focus()
        self.call_after_refresh(self._highlight, 0)

    def _highlight(self, index: int) -> None:
        self.column_list.highlighted = index

    def _say(self, message: str) -> None:
        self.query_one("#columns-error", Static).update(Text(message, style="bold red"))

    @property
    def chosen(self) -> tuple[str, ...]:
        """The keys shown, in the order listed."""
        return tuple(k for k in self._order if k in self._shown)

    # ----------------------------------------------------------------- actions
    # space is the list's own key (a click toggles too): refusals are undone after the fact
    @on(SelectionList.SelectionToggled, "#column-list")
    def _toggled(self, event: SelectionList.SelectionToggled[str]) -> None:
        key = event.selection.value
        ticked = set(self.column_list.selected)
        if key == ALWAYS and key not in ticked:
            refused = "The selection mark is always shown."
        elif key not in ticked and ticked <= {ALWAYS}:
            refused = "At least one data column stays shown."
        else:
            self._shown = ticked
            self._say("")
            return
        self.column_list.select(key)
        self._say(refused)

    def action_move(self, delta: int) -> None:
        index = self.column_list.highlighted
        if index is None or not 0 <= index + delta < len(self._order):
            return
        order = self._order
        order[index], order[index + delta] = order[index + delta], order[index]
        self.column_list.clear_options()
        self.column_list.add_options(self._selections())
        self.column_list.highlighted = index + delta

    @on(Button.Pressed, "#apply")
    def action_apply(self) -> None:
        focused = self.focused
        if isinstance(focused, Button) and focused.id != "apply":
            focused.press()  # enter on another button presses it, as anywhere else
            return
        self.dismiss(self.chosen)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
