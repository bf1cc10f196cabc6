"""Footer that recomposes its keys only when the keys it shows change.

Textual's Footer recomposes (removes and mounts every key) on each bindings signal: three
times before the explorer's first frame, and again on every focus move, with the same keys.
Here the signals coalesce (one pending refresh at a time) and a refresh whose shown bindings
are unchanged does nothing. Keys bound to the footer's `compact` start with its value
(Textual's start compact and are restyled twice as the binding lands).
"""
from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class QuietFooter(Footer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pending = False
        self._shown: tuple | None = None

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._pending:
            self._pending = True
            self.call_after_refresh(self._refresh_keys)

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
            yield widget

    async def _refresh_keys(self) -> None:
        self._pending = False
        if not self.is_attached or not self.screen.is_active:  # e.g. its screen was popped
            self._shown = None  # compose afresh when it is back
            return
        shown = self.shown_keys()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()

    def shown_keys(self) -> tuple:
        """What the footer would show: the shown bindings, their display and state."""
        app = self.app
        keys = tuple(
            (binding.key, app.get_key_display(binding), binding.description, binding.action,
             enabled, tooltip)
            for _, binding, enabled, tooltip in self.screen.active_bindings.values()
            if binding.show or binding.key == app.COMMAND_PALETTE_BINDING
        )
        return keys, self.compact, self.show_command_palette
