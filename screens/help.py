"""Help (`?`, f1): every key of the screen the user was on, read from the bindings themselves
(public API: the screen's active bindings and the BINDINGS its widgets declare)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual.actions import parse
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static

from screens.resume import KeepStylesOnResume

Row = tuple[str, str, str, bool]  # where, keys, description, usable where the focus is now


#: what the user calls the part of the screen a binding belongs to, by class (first match in
#: the class's MRO); anything else is "screen" (its keys work on this screen)
AREAS = {"ConversationTable": "table", "PageGrid": "table", "PagedTable": "paged table",
         "DataTable": "table", "MessageView": "message", "FilterSidebar": "filters",
         "ExportDialog": "export", "Input": "text box", "TextArea": "text box",
         "SelectionList": "list", "OptionList": "list", "Choice": "list", "Tabs": "tabs",
         "Collapsible": "tool call", "Checkbox": "checkbox", "RadioSet": "choice",
         "Button": "button", "ScrollableContainer": "scrolling"}
ORDER = {"screen": 0, "global": 2}


def _where(node: Any) -> str:
    if isinstance(node, App):
        return "global"
    if isinstance(node, Screen):
        return "screen"
    return next((AREAS[cls.__name__] for cls in type(node).__mro__ if cls.__name__ in AREAS),
                "screen")


def declared_bindings(node: Any) -> list[Binding]:
    """The bindings this project declares on `node`'s class and its project base classes
    (Textual's own widgets' keys are listed when they have focus, from the active ones)."""
    found: list[Binding] = []
    for cls in type(node).__mro__:
        if cls.__module__.partition(".")[0] in ("textual", "builtins"):
            continue
        found.extend(Binding.make_bindings(cls.__dict__.get("BINDINGS", ())))
    return found


def _keys_of(keymap: Mapping[str, str], binding: Binding) -> list[Binding]:
    """`binding` with the keys the user's keymap (binding id -> keys) gives its id."""
    keys = keymap.get(binding.id or "")
    if not keys:
        return [binding]
    return [binding.with_key(key.strip()) for key in keys.split(",") if key.strip()]


def _enabled(node: Any, binding: Binding) -> bool:
    """Whether `node` runs `binding` now (its ``check_action`` says True): some keys of a
    screen only work elsewhere (esc back to the table), or not at all on it."""
    try:
        _namespace, action, parameters = parse(binding.action)
        return node.check_action(action, parameters) is True
    except Exception:  # noqa: BLE001 - a binding we cannot judge is listed as usable
        return True


def binding_rows(app: App, screen: Screen, active: Mapping[str, ActiveBinding],
                 keymap: Mapping[str, str]) -> list[Row]:
    """Every key of `screen`, not only the focused widget's: the bindings the project declares
    on the screen and on each of its widgets, the active ones (Textual's own too: scrolling,
    focus moves, as they are now) and the app's. One row per place and description; no
    widget class names; a key that does nothing where the focus is now (a widget's key while
    another has the focus, a key its screen turns off there) is listed as not usable."""
    rows: dict[tuple[str, str], tuple[list[str], list[bool]]] = {}  # -> keys, usable

    def add(where: str, binding: Binding, enabled: bool) -> None:
        if not binding.description:
            return
        keys, usable = rows.setdefault((where, binding.description), ([], [False]))
        usable[0] = usable[0] or enabled
        shown = app.get_key_display(binding)
        if shown not in keys:
            keys.append(shown)

    focused = screen.focused
    chain = set(focused.ancestors_with_self) if focused is not None else {screen}

    def add_declared(node: Any) -> None:
        for binding in declared_bindings(node):
            enabled = (node is app or node in chain) and _enabled(node, binding)
            for keyed in _keys_of(keymap, binding):
                add(_where(node), keyed, enabled)

    # the project's keys first, then Textual's own (scrolling, focus moves), then the app's
    for node in (screen, *screen.query("*")):
        add_declared(node)
    for entry in active.values():
        add(_where(entry.node), entry.binding, entry.enabled)
    add_declared(app)
    ordered = [(where, " ".join(keys), description, usable[0])
               for (where, description), (keys, usable) in rows.items()]
    ordered.sort(key=lambda row: ORDER.get(row[0], 1))  # stable: declaration order kept
    return ordered


class HelpScreen(KeepStylesOnResume, ModalScreen[None]):
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

    def __init__(self, active: Mapping[str, ActiveBinding],
                 keymap: Mapping[str, str] | None = None) -> None:
        """`active`: the bindings active where help was asked for; `keymap`: the user's
        (binding id -> keys), shown instead of the declared keys."""
        super().__init__()
        self._active = dict(active)
        self._keymap = dict(keymap or {})

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text("Keys — esc closes · ctrl+p: palette · dim: not where the "
                              "focus is"),
                         id="help-title", markup=False)
            yield DataTable(id="help-table", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("where", "keys", "action")
        stack = self.app.screen_stack
        below = stack[-2] if len(stack) > 1 else stack[-1]
        for where, keys, description, usable in binding_rows(self.app, below, self._active,
                                                             self._keymap):
            table.add_row(Text(where, style="dim"), Text(keys, style="bold" if usable else "dim"),
                          Text(description, style="" if usable else "dim"))
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)
