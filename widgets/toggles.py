"""Radio buttons and checkboxes whose on and off states differ in shape, not only colour.

Textual draws the same mark in both states (lost in 16 colours, with NO_COLOR or to a
colour-blind eye); these draw the mark only when on.
"""
from __future__ import annotations

from typing import Any

from textual.widgets import Checkbox, RadioButton


class _Shaped:
    ON = "X"
    OFF = " "
    value: bool
    BUTTON_INNER: str

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shape()

    def watch_value(self) -> None:
        super().watch_value()  # type: ignore[misc]
        self._shape()

    def _shape(self) -> None:
        self.BUTTON_INNER = self.ON if self.value else self.OFF
        self.refresh()  # type: ignore[attr-defined]


class RadioChoice(_Shaped, RadioButton):
    """A RadioButton drawn `●` when chosen and empty when not."""

    ON = "●"


class TickBox(_Shaped, Checkbox):
    """A Checkbox drawn `X` when ticked and empty when not."""
