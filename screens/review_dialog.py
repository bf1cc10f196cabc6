"""Review dialog: the verdict and note of one conversation's local review.

The verdict is a keyboard-first list (digits pick, arrows move; `0` is no verdict), the note a
plain-text box prefilled with the current note. ctrl+s (or enter on the list, for terminals
that swallow ctrl+s) or the Save button returns a `ReviewEdit`; escape returns None.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from api.text import one_line, sanitize
from screens.resume import KeepStylesOnResume

NONE = "none"  # the list's entry for "no verdict"


@dataclass(frozen=True)
class ReviewEdit:
    """What the dialog saved: the verdict (None: no verdict) and the note ("" : none)."""

    verdict: str | None
    note: str


class VerdictList(OptionList):
    """The verdict choices; the highlighted one is the choice (marked `●`, not by colour
    alone). A digit picks the entry of that number."""

    def __init__(self, verdicts: Sequence[str], chosen: str | None, *,
                 id: str | None = None) -> None:
        self.verdicts: tuple[str | None, ...] = (None, *verdicts)
        super().__init__(*(Option(self._prompt(i, False), id=str(i))
                           for i in range(len(self.verdicts))), id=id)
        self._start = self.verdicts.index(chosen) if chosen in self.verdicts else 0

    def _prompt(self, index: int, chosen: bool) -> Text:
        verdict = self.verdicts[index]
        text = Text("● " if chosen else "○ ")
        text.append(f"{index} " if index < 10 else "  ", style="bold")
        text.append(sanitize(verdict) if verdict is not None else NONE,
                    style="" if verdict is not None else "italic")
        return text

    def on_mount(self) -> None:
        self.highlighted = self._start
        self._mark(self._start)

    @property
    def chosen(self) -> str | None:
        return self.verdicts[self.highlighted or 0]

    def _mark(self, chosen: int | None) -> None:
        for index in range(len(self.verdicts)):
            self.replace_option_prompt_at_index(index, self._prompt(index, index == chosen))

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._mark(event.option_index)

    def on_key(self, event: events.Key) -> None:
        if event.character and event.character.isdigit():
            index = int(event.character)
            if index < len(self.verdicts):
                self.highlighted = index
            event.stop()
            event.prevent_default()


class ReviewDialog(KeepStylesOnResume, ModalScreen[ReviewEdit | None]):
    CSS_PATH = "review_dialog.tcss"

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", priority=True, id="review.save"),
        Binding("escape", "cancel", "Cancel", id="review.cancel"),
    ]

    def __init__(self, conversation_id: str, verdicts: Sequence[str],
                 verdict: str | None = None, note: str = "") -> None:
        super().__init__()
        self.conversation_id = conversation_id
        # a stored verdict no longer configured stays choosable: saving keeps it
        self.verdicts = tuple(verdicts) + (
            (verdict,) if verdict is not None and verdict not in verdicts else ())
        self.verdict = verdict
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="review-box"):
            title = Text("Review ", style="bold")
            title.append(one_line(self.conversation_id, 60))
            yield Static(title, id="review-title", markup=False)
            yield Label("Verdict (0-9 or arrows; enter saves)", classes="review-label")
            yield VerdictList(self.verdicts, self.verdict, id="verdicts")
            yield Label("Note (ctrl+s saves)", classes="review-label")
            yield TextArea(sanitize(self.note), soft_wrap=True, show_line_numbers=False,
                           compact=True, id="note")
            with Horizontal(id="review-bottom"):
                yield Static(Text("tab: next field · esc: cancel", style="dim"),
                             id="review-hint", markup=False)
                yield Button("Save", variant="primary", compact=True, id="save")
                yield Button("Cancel", compact=True, id="cancel")

    def on_mount(self) -> None:
        self.query_one(VerdictList).focus()

    def edit(self) -> ReviewEdit:
        """The verdict and note as they stand in the dialog."""
        return ReviewEdit(self.query_one(VerdictList).chosen,
                          self.query_one("#note", TextArea).text.strip())

    @on(Button.Pressed, "#save")
    @on(OptionList.OptionSelected, "#verdicts")
    def action_save(self) -> None:
        self.dismiss(self.edit())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
