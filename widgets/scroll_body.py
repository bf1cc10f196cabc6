"""A screen's scrolling body that restyles only itself when it gains or loses focus.

On a focus change Textual restyles the widget and every widget inside it, for rules that
style a descendant by its ancestor's focus (`Tabs:focus .-active`). No rule styles anything
inside a body by the body's focus (only its own outline changes), so the figures or messages
inside are not restyled twice at each move of the focus. A rule of that kind added later
would need the default back.
"""
from __future__ import annotations

from textual.containers import VerticalScroll


class ScrollBody(VerticalScroll):
    def watch_has_focus(self, has_focus: bool) -> None:
        self.app.stylesheet.update_nodes([self], animate=True)
