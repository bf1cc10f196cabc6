"""Command palette provider: every screen, triage preset and action the app declares."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

if TYPE_CHECKING:
    from tui.app import StudioApp


class PaletteCommand(NamedTuple):
    title: str
    help: str
    callback: Callable[[], Any]


class StudioCommands(Provider):
    """Asks the app (`palette_commands()`) for its commands, so nothing is listed twice.
    Titles and help are shown as plain text (the palette parses strings as markup)."""

    def _commands(self) -> list[PaletteCommand]:
        return cast("StudioApp", self.app).palette_commands()

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(Content(command.title), command.callback,
                               help=escape(command.help))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.title)
            if score > 0:
                yield Hit(score, matcher.highlight(escape(command.title)), command.callback,
                          help=escape(command.help))
