"""Screen header: project, API base (DEMO badge), connection state (online / offline / stale).

Like Textual's own `Header`, it follows the app it is in: the app's `settings`, and its
`project_name`, `connection` and `connection_detail` reactives when it has them (an app without
them shows "connecting"), so every screen's header agrees.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

from rich.cells import cell_len
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from api.config import public_url
from api.text import sanitize

if TYPE_CHECKING:
    from api.config import Settings


class HeaderSource(Protocol):
    """What the header reads of its app."""

    settings: Settings

_STATES = {
    "connecting": ("◌ connecting", "dim"),
    "online": ("● online", "green"),
    "stale": ("◐ stale cache", "yellow"),
    "offline": ("○ offline", "bold red"),
    "error": ("✗ API error", "bold red"),
}


def connection_state(result: Any) -> tuple[str, str]:
    """(state, detail) for a client Result."""
    age = getattr(result, "age_s", None)
    if getattr(result, "offline", False):
        return "offline", f"(cached {_age(age)} ago)" if age is not None else ""
    if getattr(result, "stale", False):
        return "stale", f"({_age(age)} old, refreshing)" if age is not None else ""
    return "online", ""


def _age(seconds: float | None) -> str:
    seconds = int(seconds or 0)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


class StatusHeader(Widget):
    """One line at the top of each screen."""

    DEFAULT_CSS = """
    StatusHeader { dock: top; height: 1; width: 1fr; background: $panel; }
    """

    state: reactive[str] = reactive("connecting")
    detail: reactive[str] = reactive("")
    project: reactive[str] = reactive("")
    #: (label, style) the screen sets about its own figures (loading, some not loaded):
    #: shown instead of the app's connection state, which another screen's success may set
    screen_state: reactive[tuple[str, str] | None] = reactive(None)
    screen_title: reactive[str] = reactive("")  # the screen's name (and what it shows)

    def __init__(self, title: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_reactive(StatusHeader.screen_title, title)

    def on_mount(self) -> None:
        app = self.app
        if hasattr(app, "connection"):  # (a test harness may have no connection state)
            self.watch(app, "connection", self._set_state)
            self.watch(app, "connection_detail", self._set_detail)
            self.watch(app, "project_name", self._set_project)

    def _set_state(self, value: str) -> None:
        self.state = value

    def _set_detail(self, value: str) -> None:
        self.detail = value

    def _set_project(self, value: str) -> None:
        self.project = value

    def render(self) -> Text:
        """Everything that fits: on a narrow terminal the less useful parts go first (the
        backend's description, the detail, the app's name), then the project name and the
        title are shortened; the DEMO badge and the connection state always stay."""
        settings = cast(HeaderSource, self.app).settings
        demo = settings.demo
        project = sanitize(self.project or settings.project_id or "") or "…"
        label, state_style = _STATES.get(self.state, (self.state, ""))
        detail = f" {sanitize(self.detail)}" if self.detail else ""
        if self.screen_state is not None:
            (label, state_style), detail = self.screen_state, ""
        base = "" if demo else sanitize(public_url(settings.base_url))
        width = self.size.width or 80
        for level in range(4):
            # 0: all; 1: no backend description; 2: no detail either; 3: no app name either
            parts = self._parts(
                brand=level < 3, title=self.screen_title, project=project, demo=demo,
                backend=(" embedded backend" if demo else base) if level < 1 else "",
                state=(label, state_style), detail=detail if level < 2 else "")
            if parts.cell_len <= width:
                return parts
        # still too wide: shorten the project name (to a few letters), then the title, then
        # the project name again, keeping the rest whole
        title, short = self.screen_title, project

        def build() -> Text:
            return self._parts(brand=False, title=title, project=short, demo=demo, backend="",
                               state=(label, state_style), detail="")

        steps = [("project", 4), ("title", 3), ("project", 1), ("title", 0)]
        for part, least in steps:
            while build().cell_len > width:
                current = short if part == "project" else title
                if cell_len(current) <= least:
                    break
                shorter = _shorten(current, cell_len(current) - 1) if least else ""
                if part == "project":
                    short = shorter
                else:
                    title = shorter if cell_len(shorter) > 1 else ""
        return build()

    @staticmethod
    def _parts(*, brand: bool, title: str, project: str, demo: bool, backend: str,
               state: tuple[str, str], detail: str) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        if brand:
            text.append(" studio-tui ", style="bold reverse")
        if title:
            text.append(f" {title}", style="bold")
        text.append(" │ " if brand or title else " ", style="dim")
        text.append(project, style="bold")
        text.append(" │ ", style="dim")
        if demo:
            text.append(" DEMO ", style="bold reverse")
        if backend:
            text.append(backend, style="dim")
        text.append(" │ ", style="dim")
        text.append(state[0], style=state[1])
        if detail:
            text.append(detail, style="dim")
        return text


def _shorten(text: str, room: int) -> str:
    """`text` in `room` cells, ending with … when cut."""
    shortened = Text(text)
    shortened.truncate(room, overflow="ellipsis")
    return shortened.plain
