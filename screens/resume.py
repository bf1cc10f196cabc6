"""Screens shown again with the styles they have.

Textual restyles every widget of a screen each time it is shown (a mode switched to, a screen
pushed or switched to), in case the CSS changed meanwhile. The first showing needs it: a
screen's own stylesheet is loaded after the screen was first styled. After that, only a
theme changes the CSS here, and `StudioApp.refresh_css` restyles a screen that missed one
when it is shown again: the restyle of the whole screen at every switch back is skipped.
"""
from __future__ import annotations

from textual import events


class KeepStylesOnResume:
    """Mixin for a Screen subclass (listed before it)."""

    _shown_before = False

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        if self._shown_before:
            event.refresh_styles = False
        self._shown_before = True
