"""Save-view dialog: asks a view's name and, when a view of that name exists, whether to
overwrite it (y/enter: yes; n/escape: back to the name). Returns the name, or None."""
from __future__ import annotations

import re
from collections.abc import Collection

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from api.text import one_line
from screens.resume import KeepStylesOnResume

VIEW_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def name_problem(name: str) -> str | None:
    """Why `name` cannot name a view (one line naming it), or None when it can."""
    if VIEW_NAME.fullmatch(name):
        return None
    if not name:
        return "Give the view a name."
    shown = one_line(name, 20)
    if len(name) > 64:
        return f"“{shown}” is {len(name)} characters long (at most 64)."
    return f"“{shown}”: use only letters, digits, _ . - (no spaces)."


class SaveViewDialog(KeepStylesOnResume, ModalScreen[str | None]):
    CSS_PATH = "save_view_dialog.tcss"

    BINDINGS = [
        Binding("escape", "back", "Cancel / back", id="save_view.back"),
        Binding("y,enter", "confirm", "Overwrite", show=False, id="save_view.confirm"),
        Binding("n", "back", "Back to the name", show=False, id="save_view.no"),
    ]

    def __init__(self, existing: Collection[str] = (), name: str | None = None) -> None:
        super().__init__()
        self.existing = frozenset(existing)
        self.initial = name or ""  # prefilled: the active view's name, say
        self.confirming: str | None = None  # the existing name asked about

    def compose(self) -> ComposeResult:
        with Vertical(id="view-box"):
            yield Label("Save the filters as a view", id="view-title")
            with Horizontal(id="view-row"):
                yield Label("Name ", id="view-label")
                yield Input(value=self.initial, max_length=200, compact=True,
                            placeholder="letters, digits, _ . -", id="view-name")
            yield Static("", id="view-error", markup=False)
            # focusable, so that y / n / enter reach the dialog and not the name box
            yield Static("", id="view-confirm", markup=False)
            with Horizontal(id="view-buttons"):
                yield Button("Save", variant="primary", compact=True, id="view-save")
                yield Button("Cancel", compact=True, id="view-cancel")

    def on_mount(self) -> None:
        self.query_one("#view-confirm", Static).can_focus = True
        self.query_one("#view-name", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "confirm":
            return self.confirming is not None
        return True

    @on(Input.Submitted, "#view-name")
    @on(Button.Pressed, "#view-save")
    def _submit(self) -> None:
        if self.confirming is not None:
            self.action_confirm()
            return
        name = self.query_one("#view-name", Input).value.strip()
        problem = name_problem(name)
        error = self.query_one("#view-error", Static)
        if problem:
            error.update(Text(problem, style="bold red"))
            return
        error.update("")
        if name not in self.existing:
            self.dismiss(name)
            return
        self.confirming = name
        self.add_class("-confirming")
        self.query_one("#view-name", Input).disabled = True
        prompt = Text(f"A view named “{name}” exists. Overwrite it?\n", style="bold yellow")
        prompt.append("y/enter: overwrite · n/esc: back to the name", style="not bold")
        confirm = self.query_one("#view-confirm", Static)
        confirm.update(prompt)
        confirm.focus()
        self.refresh_bindings()

    def action_confirm(self) -> None:
        if self.confirming is not None:
            self.dismiss(self.confirming)

    @on(Button.Pressed, "#view-cancel")
    def _cancel(self) -> None:
        self.dismiss(None)

    def action_back(self) -> None:
        if self.confirming is None:
            self.dismiss(None)
            return
        self.confirming = None
        self.remove_class("-confirming")
        name = self.query_one("#view-name", Input)
        name.disabled = False
        self.query_one("#view-confirm", Static).update("")
        name.focus()
        self.refresh_bindings()
