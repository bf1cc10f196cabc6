"""KeyBar: the footer, one widget drawing the focused widget's shown bindings on one line.

Textual's Footer is a container of one FooterKey widget per binding, recomposed (every key
removed and mounted again) on each bindings signal: styling and laying out a dozen widgets
delays the explorer's first frame and every focus move. Here the keys are spans
of one Text: a bindings signal recomputes the list and repaints only when it changed.

Same look as Footer (its component colours, the command palette key on the right behind a thin
rule), disabled keys dimmed, a key under the mouse highlighted, a click presses the key.
Keys that do not fit are left out, never shown without their label; the help key (it lists them
all) and the palette key always stay.
"""
from __future__ import annotations

from typing import Any, NamedTuple

from rich.text import Text
from textual import events
from textual.reactive import reactive
from textual.screen import Screen
from textual.widget import Widget


class ShownKey(NamedTuple):
    key: str          # the binding's key, as pressed (``simulate_key``)
    display: str      # how the app displays it (``^p``, ``?``, ...)
    description: str
    enabled: bool
    keep: bool = False  # kept when the keys do not fit (the help key: it lists the others)


KEPT_ACTIONS = ("help", "app.help")


class KeyBar(Widget, can_focus=False):
    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"keybar--key", "keybar--description", "keybar--hover"}
    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        color: $footer-foreground;
        background: $footer-background;
    }
    KeyBar > .keybar--key {
        color: $footer-key-foreground;
        background: $footer-key-background;
        text-style: bold;
    }
    KeyBar > .keybar--description {
        color: $footer-description-foreground;
        background: $footer-description-background;
    }
    KeyBar > .keybar--hover { background: $block-hover-background; }
    """

    hover: reactive[int | None] = reactive(None)
    """Index in ``spans`` of the key under the mouse."""

    def __init__(self, *, show_command_palette: bool = True, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_command_palette = show_command_palette
        self.keys: tuple[ShownKey, ...] = ()
        self.palette: ShownKey | None = None
        self.spans: list[tuple[int, int, ShownKey]] = []  # (start, end, key) as drawn

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._update_keys()

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen) -> None:
        # (Footer ignores the signal while the app is unfocused: the bindings are in flux)
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._update_keys()

    def _update_keys(self) -> None:
        keys, palette = self.shown_keys()
        if (keys, palette) != (self.keys, self.palette):
            self.keys, self.palette = keys, palette
            self.refresh()

    def shown_keys(self) -> tuple[tuple[ShownKey, ...], ShownKey | None]:
        """The shown bindings of the focus chain (one per action) and the palette key."""
        app = self.app
        keys: list[ShownKey] = []
        actions: set[str] = set()
        palette = None
        for _node, binding, enabled, _tooltip in self.screen.active_bindings.values():
            shown = ShownKey(binding.key, app.get_key_display(binding), binding.description,
                             enabled, binding.action in KEPT_ACTIONS)
            if binding.key == app.COMMAND_PALETTE_BINDING:
                if self.show_command_palette and app.ENABLE_COMMAND_PALETTE:
                    palette = shown
            elif binding.show and binding.action not in actions:
                actions.add(binding.action)
                keys.append(shown)
        return tuple(keys), palette

    # ---------------------------------------------------------------- drawing
    def render(self) -> Text:
        width = self.size.width
        key_style = self.get_component_rich_style("keybar--key")
        description_style = self.get_component_rich_style("keybar--description")
        hover_style = self.get_component_rich_style("keybar--hover", partial=True)
        tail = self._label(self.palette) if self.palette else ""
        room = width - (len(tail) + 1 if tail else 0)
        text = Text(no_wrap=True, overflow="crop", end="")
        self.spans = []
        for index, key in enumerate(self._fitting(room)):
            self._append(text, key, key_style, description_style,
                         hover_style if index == self.hover else None)
        if self.palette is not None:
            text.append(" " * max(0, room - text.cell_len))
            text.append("▏")
            self._append(text, self.palette, key_style, description_style,
                         hover_style if self.hover == len(self.spans) else None)
        return text

    def _fitting(self, room: int) -> list[ShownKey]:
        """The keys to draw in ``room`` cells, in order, each with its description: the kept
        ones (help) reserve their room first, then the others in order until one does not fit
        (the order is their importance: a later, shorter key never takes an earlier one's
        place); a key is never drawn without its label (the help screen lists them all)."""
        used = 0
        shown: set[ShownKey] = set()
        for key in self.keys:
            if key.keep and used + len(self._label(key)) <= room:
                shown.add(key)
                used += len(self._label(key))
        for key in self.keys:
            if key.keep:
                continue
            if used + len(self._label(key)) > room:
                break
            shown.add(key)
            used += len(self._label(key))
        return [key for key in self.keys if key in shown]

    @staticmethod
    def _label(key: ShownKey) -> str:
        return f" {key.display} {key.description} " if key.description else f" {key.display} "

    def _append(self, text: Text, key: ShownKey, key_style: Any, description_style: Any,
                hover: Any) -> None:
        start = text.cell_len
        text.append(f" {key.display} ", key_style)
        if key.description:
            text.append(f"{key.description} ", description_style)
        end = text.cell_len
        if not key.enabled:
            text.stylize("dim", start, end)
        if hover is not None:
            text.stylize(hover, start, end)
        self.spans.append((start, end, key))

    # ---------------------------------------------------------------- mouse
    def _index_at(self, x: int) -> int | None:
        return next((i for i, (start, end, _) in enumerate(self.spans) if start <= x < end),
                    None)

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self.hover = self._index_at(event.x)

    def on_leave(self, _event: events.Leave) -> None:
        self.hover = None

    def on_click(self, event: events.Click) -> None:
        index = self._index_at(event.x)
        if index is None:
            return
        key = self.spans[index][2]
        if key.enabled:
            self.app.simulate_key(key.key)
        else:
            self.app.bell()
