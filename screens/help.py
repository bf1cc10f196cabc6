"""Help (`?`): every binding active where the user was, read from the bindings themselves."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

Row = tuple[str, str, str]  # where, keys, description


FRIENDLY = {"ConversationTable": "table", "PageGrid": "table", "DataTable": "table",
            "MessageView": "message"}
ORDER = {"screen": 0, "global": 2}


def _where(node: Any) -> str:
    if isinstance(node, App):
        return "global"
    if isinstance(node, Screen):
        return "screen"
    return FRIENDLY.get(type(node).__name__, type(node).__name__)


def _same_action(node: Any, binding: Binding) -> Iterable[Binding]:
    for bindings in node._bindings.key_to_bindings.values():
        for other in bindings:
            if other.action == binding.action:
                yield other


def binding_rows(app: App, screen: Screen, active: Mapping[str, ActiveBinding]) -> list[Row]:
    """The focused chain's bindings (`active`) plus every binding of `screen` and of the app."""
    seen: set[tuple[int, str]] = set()
    rows: list[Row] = []

    def add(node: Any, binding: Binding) -> None:
        if not binding.description or (id(node), binding.action) in seen:
            return
        seen.add((id(node), binding.action))
        keys = dict.fromkeys(app.get_key_display(b) for b in _same_action(node, binding))
        rows.append((_where(node), " ".join(keys) or binding.key, binding.description))

    for entry in active.values():
        add(entry.node, entry.binding)
    for node in (screen, app):
        for bindings in node._bindings.key_to_bindings.values():
            for binding in bindings:
                add(node, binding)
    rows.sort(key=lambda row: ORDER.get(row[0], 1))  # stable: declaration order kept
    return rows


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90%; max-width: 100; height: 90%; border: thick $primary;
                            background: $surface; }
    HelpScreen #help-title { height: 1; text-style: bold; padding: 0 1; }
    HelpScreen DataTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close help", id="help.close"),
    ]

    def __init__(self, active: Mapping[str, ActiveBinding]) -> None:
        super().__init__()
        self._active = dict(active)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Key bindings — esc closes · ctrl+p opens the command palette"),
                         id="help-title", markup=False)
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("where", "keys", "action")
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 else stack[-1]
        for where, keys, description in binding_rows(self.app, below, self._active):
            table.add_row(Text(where, style="dim"), Text(keys, style="bold"), Text(description))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
