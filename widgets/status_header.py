"""Screen header: project, API base (DEMO badge), connection state (online / offline / stale).

It reads the app's `settings`, `project_name`, `connection` and `connection_detail` and follows
them, so every screen's header agrees.
"""
from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from api.config import public_url
from api.text import sanitize

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

    def __init__(self, title: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.screen_title = title

    def on_mount(self) -> None:
        app = self.app
        if hasattr(app, "connection"):
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
        settings = getattr(self.app, "settings", None)
        demo = bool(getattr(settings, "demo", False))
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" studio-tui ", style="bold reverse")
        if self.screen_title:
            text.append(f" {self.screen_title}", style="bold")
        text.append(" │ ", style="dim")
        project = self.project or getattr(settings, "project_id", None) or ""
        text.append(sanitize(project) or "…", style="bold")
        text.append(" │ ", style="dim")
        if demo:
            text.append(" DEMO ", style="bold reverse")
            text.append(" embedded backend", style="dim")
        else:
            text.append(sanitize(public_url(getattr(settings, "base_url", ""))), style="dim")
        label, style = _STATES.get(self.state, (self.state, ""))
        text.append(" │ ", style="dim")
        text.append(label, style=style)
        if self.detail:
            text.append(f" {sanitize(self.detail)}", style="dim")
        return text
