"""Export dialog: the selection or all matching conversations to JSON, CSV, JSONL, Markdown or
Parquet.

Runs `api.export.run_export` (the same code as `studio-tui export`) in a worker; progress
messages coalesce; the export can be cancelled; an existing file needs a second confirmation.
The selection is ("ids", [...]), ("query", query) or ("except", (query, [excluded ids])):
all matching but the rows the user unpicked, exported as the query minus those ids.
CSV has two column sets: "full" (every documented list field, the default here) and
"brief" (the brief's columns and bytes).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import (
    Button,
    Checkbox,
    Input,
    Label,
    ProgressBar,
    RadioSet,
    Static,
)
from textual.worker import Worker, WorkerState

from api.text import sanitize
from screens.resume import KeepStylesOnResume
from screens.services import services
from widgets.toggles import RadioChoice, TickBox

FORMATS = ("json", "csv", "jsonl", "md", "parquet")


def _file_id(path: Path) -> tuple[int, int, int] | None:
    """What identifies the file now at `path` (None: no file); the export publishes by
    renaming a new file there, so a change means it was written."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class ExportDialog(KeepStylesOnResume, ModalScreen[Path | None]):
    CSS_PATH = "export_dialog.tcss"

    BINDINGS = [
        Binding("escape", "cancel", "Cancel / close", id="export.cancel"),
    ]

    class Progress(Message):
        """Export progress; a newer one replaces a queued older one (no flooding)."""

        def __init__(self, done: int, total: int | None, written: int) -> None:
            super().__init__()
            self.done, self.total, self.written = done, total, written

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ExportDialog.Progress)

    def __init__(self, selection: tuple[str, Any], query: Any, total: int | None) -> None:
        super().__init__()
        self.kind, self.target = selection
        self.query_obj = query
        self.total = total
        self.running = False
        self.confirm_overwrite: Path | None = None
        self.result_path: Path | None = None
        self._path_edited = False
        self._redact = False
        self._auto_path = ""  # the name last written by the dialog (not by the user)
        self._target: tuple[Path, Any] | None = None  # the running export's file + its id

    # ----------------------------------------------------------------- layout
    def _selected_label(self) -> tuple[str, bool]:
        """The "selected" choice's label, and whether there is a selection."""
        if self.kind == "except":
            excluded = len(self.target[1])
            count = "?" if self.total is None else f"{max(0, self.total - excluded):,}"
            return f"Selected conversations ({count}) — all matching except {excluded:,}", True
        ids = self.target if self.kind == "ids" else []
        return f"Selected conversations ({len(ids):,})", bool(ids)

    def compose(self) -> ComposeResult:
        label, selected = self._selected_label()
        self._auto_path = self._default_path("json")
        with Vertical(id="export-box"):
            yield Label("Export conversations", id="export-title")
            with RadioSet(id="scope", compact=True):
                yield RadioChoice(label, value=selected, disabled=not selected, id="scope-ids")
                total = "?" if self.total is None else f"{self.total:,}"
                yield RadioChoice(f"All matching the filters ({total})", value=not selected,
                                  id="scope-query")
            with RadioSet(id="format", compact=True):
                for index, fmt in enumerate(FORMATS):
                    yield RadioChoice(fmt.upper(), value=index == 0, id=f"fmt-{fmt}")
            with RadioSet(id="columns", compact=True, disabled=True):
                yield RadioChoice("CSV: all fields", value=True, id="cols-full")
                yield RadioChoice("CSV: the brief's columns", id="cols-brief")
            with Horizontal(id="ticks"):
                yield TickBox("Messages and citations (slower)", compact=True, id="messages")
                yield TickBox("Redact emails, phones, cards", value=services(self).redact,
                              compact=True, id="redact")
            with Horizontal(id="path-row"):
                yield Label("File ", id="path-label")
                yield Input(value=self._auto_path, compact=True, id="path")
            yield Static("", id="export-error", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Static("", id="export-status", markup=False)
            with Horizontal(id="export-buttons"):
                yield Button("Export", variant="primary", compact=True, id="start")
                yield Button("Cancel", compact=True, id="cancel")

    def on_mount(self) -> None:
        self.query_one("#path", Input).focus()

    def _default_path(self, fmt: str) -> str:
        stamp = services(self).now().strftime("%Y%m%d-%H%M")
        return f"./conversations-{stamp}.{fmt}"

    # ----------------------------------------------------------------- form
    @property
    def fmt(self) -> str:
        pressed = self.query_one("#format", RadioSet).pressed_button
        return (pressed.id or "fmt-json").removeprefix("fmt-") if pressed else "json"

    @property
    def columns(self) -> str:
        pressed = self.query_one("#columns", RadioSet).pressed_button
        return "brief" if pressed is not None and pressed.id == "cols-brief" else "full"

    @on(RadioSet.Changed, "#format")
    def _format_changed(self) -> None:
        csv_chosen = self.fmt == "csv"
        self.query_one("#columns", RadioSet).disabled = not csv_chosen
        # a CSV file never holds the messages: not offered rather than silently dropped; a
        # Markdown transcript always does
        messages = self.query_one("#messages", Checkbox)
        messages.disabled = self.fmt in ("csv", "md")
        if self.fmt == "md":
            messages.value = True
        if not self._path_edited:
            self._auto_path = self._default_path(self.fmt)
            self.query_one("#path", Input).value = self._auto_path

    @on(Input.Changed, "#path")
    def _path_changed(self, event: Input.Changed) -> None:
        # the Input reports every change, the dialog's own (its first value) included
        self._path_edited = event.value != self._auto_path
        if self.confirm_overwrite is not None and self._absolute(event.value) != self.confirm_overwrite:
            self.confirm_overwrite = None  # a different file: ask again if it exists
            self.query_one("#start", Button).label = "Export"

    @staticmethod
    def _absolute(raw: str) -> Path:
        path = Path(raw.strip()).expanduser()
        return path if path.is_absolute() else Path.cwd() / path

    @on(Input.Submitted, "#path")
    def _path_submitted(self) -> None:
        self.action_start()

    def _error(self, message: str) -> None:
        self.query_one("#export-error", Static).update(Text(message, style="bold red"))

    def _resolve_path(self) -> Path | None:
        raw = self.query_one("#path", Input).value.strip()
        if not raw:
            self._error("Give a file name.")
            return None
        path = self._absolute(raw)
        if not path.parent.is_dir():
            self._error(f"Directory {path.parent} does not exist.")
            return None
        if path.is_dir():
            self._error(f"{path} is a directory.")
            return None
        if path.exists() and self.confirm_overwrite != path:
            self.confirm_overwrite = path
            self._error(f"{path.name} exists — press Export again to overwrite it.")
            self.query_one("#start", Button).label = "Overwrite"
            return None
        return path

    # ----------------------------------------------------------------- actions
    @on(Button.Pressed, "#start")
    def action_start(self) -> None:
        if self.running:
            return
        if self.result_path is not None:
            self.dismiss(self.result_path)
            return
        path = self._resolve_path()
        if path is None:
            return
        self._error("")
        scope = self.query_one("#scope", RadioSet).pressed_button
        selected = scope is not None and scope.id == "scope-ids"
        ids = exclude = None
        query = self.target if self.kind == "query" else self.query_obj
        if selected and self.kind == "ids":
            ids = list(self.target)
        elif selected and self.kind == "except":
            query, exclude = self.target
        messages = self.query_one("#messages", Checkbox).value and self.fmt != "csv"
        self._redact = self.query_one("#redact", Checkbox).value
        self.running = True
        self._target = (path, _file_id(path))
        self.add_class("-running")
        self.query_one("#start", Button).disabled = True
        self.query_one("#export-status", Static).update("starting…")
        self._export(path, query, ids, messages, exclude, self.columns)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        if self.running:  # the outcome is reported when the worker has really stopped
            self.workers.cancel_group(self, "export")
            self.query_one("#export-status", Static).update("cancelling…")
            return
        self.dismiss(self.result_path)

    @work(exclusive=True, group="export", exit_on_error=False)
    async def _export(self, path: Path, query: Any, ids: list[str] | None,
                      messages: bool, exclude: list[str] | None, columns: str) -> Any:
        from api.export import run_export

        def progress(p: Any) -> None:
            self.post_message(self.Progress(p.done, p.total, p.written))

        client = await services(self).get_client()
        return await run_export(client, query, path, self.fmt, messages, progress=progress,
                                ids=ids, exclude_ids=exclude, columns=columns,
                                redact=self._redact)

    @on(Worker.StateChanged)
    def _export_stopped(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "export" or not worker.is_finished or self._target is None:
            return
        path, before = self._target
        self._target = None
        if event.state == WorkerState.SUCCESS:
            self._done(path, worker.result)
        elif event.state == WorkerState.ERROR:
            error = worker.error
            reason = sanitize(str(error)) or type(error).__name__
            self._finish(Text(f"✗ Export failed — no file written: {reason}", style="bold red"))
        elif _file_id(path) not in (None, before):  # the publish was under way: it completed
            self.result_path = path
            self._finish(Text(f"Export finished before the cancel: written to {path}",
                              style="yellow"))
            self.query_one("#start", Button).label = "Close"
        else:
            self._finish(Text("Export cancelled — no file written.", style="yellow"))

    def _done(self, path: Path, report: Any) -> None:
        self.result_path = path
        if report.partial:  # published with rows missing or lacking their messages
            self._finish(Text(f"⚠ Incomplete: {report.summary()}", style="bold yellow"))
        else:
            self._finish(Text(f"✓ {report.summary()}", style="green"))
        self.query_one("#start", Button).label = "Close"
        if report.partial:
            self.notify(f"Exported {report.total_exported:,} conversations to {path}, with "
                        "some missing or without messages", title="Export incomplete",
                        severity="warning", timeout=8, markup=False)
        else:
            self.notify(f"Exported {report.total_exported:,} conversations to {path}",
                        title="Export done", timeout=8, markup=False)

    def _finish(self, status: Text) -> None:
        self.running = False
        self.remove_class("-running")
        self.query_one("#start", Button).disabled = False
        self.query_one("#export-status", Static).update(status)

    @on(Progress)
    def _progress(self, event: Progress) -> None:
        if not self.running:
            return
        bar = self.query_one("#progress", ProgressBar)
        bar.update(total=event.total, progress=event.done)
        total = "?" if event.total is None else f"{event.total:,}"
        self.query_one("#export-status", Static).update(
            f"{event.done:,} / {total} conversations ({event.written:,} written) — esc cancels")
