"""Configuration: assistants (versions, active version, deployments, settings, instructions and
diffs), knowledge bases (EDITED/ADDED flagged as needing retraining), office hours, project
settings and API tools. Configuration is not filtered by the shared window.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from api.query import ConversationQuery
from api.text import fold
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import items, num, obj, seg, text, when
from widgets.charts import number_cell, plain
from widgets.figures import FigureText
from widgets.tables import TitledTable

RETRAIN_STATUSES = ("EDITED", "ADDED")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def group_versions(playbooks: Any) -> dict[str, list[dict]]:
    """base id -> its versions, newest first."""
    groups: dict[str, list[dict]] = {}
    for pb in items(playbooks):
        base = text(pb, "base_id") or text(pb, "id")
        if base:
            groups.setdefault(base, []).append(pb)
    for versions in groups.values():
        versions.sort(key=lambda v: num(v, "version_number") or 0, reverse=True)
    return groups


def kb_rows(kbs: Any) -> list[tuple[str, list]]:
    ordered = sorted(
        items(kbs), key=lambda k: (str(k.get("kb_type") or ""), str(k.get("title") or ""))
    )
    rows = []
    for i, kb in enumerate(ordered):
        status = (text(kb, "status") or "").upper()
        flag = (
            plain("⚠ needs retraining", style="bold yellow")
            if status in RETRAIN_STATUSES
            else plain("")
        )
        rows.append(
            (
                text(kb, "id") or f"kb{i}",
                [
                    plain(text(kb, "kb_type")),
                    plain(text(kb, "title")),
                    plain(text(kb, "status")),
                    flag,
                ],
            )
        )
    return rows


def diff_text(old: str, new: str, old_name: str, new_name: str) -> Text:
    out = Text()
    lines = list(
        difflib.unified_diff(
            fold(old, 0).splitlines(),
            fold(new, 0).splitlines(),
            old_name,
            new_name,
            lineterm="",
            n=2,
        )
    )
    if not lines:
        return Text(f"{old_name} and {new_name} have the same instructions.")
    for line in lines:
        style = (
            "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else "cyan"
            if line.startswith("@@")
            else ""
        )
        out.append(line + "\n", style=style)
    return out


def key_values(pairs: list[tuple[str, Any]]) -> Text:
    out = Text()
    for label, value in pairs:
        out.append(f"{label}: ", style="dim")
        out.append(plain(value if not isinstance(value, bool) else ("yes" if value else "no")))
        out.append("\n")
    out.rstrip()
    return out


def describe(value: Any) -> str:
    """A settings sub-object as 'key=value, ...' (untrusted: sanitized by the caller)."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "—"
    return "—" if value is None else str(value)


class ConfigurationScreen(AnalyticsScreen):
    TITLE = "Configuration"
    SUBTITLE = "Configuration is project-wide: the shared date range and filters do not apply"
    WINDOWED = False
    CSS_PATH = ["analytics.tcss", "configuration.tcss"]
    BINDINGS = [
        Binding("m", "mark", "Mark version for diff", id="analytics.config_mark"),
        Binding("d", "diff", "Diff marked → highlighted", id="analytics.config_diff"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.assistants: dict[str, list[dict]] = {}
        self.base_id: str | None = None
        self.marked: dict | None = None
        self.highlighted: dict | None = None

    def scope_of(self, filters: ConversationQuery) -> Hashable:
        return "project"  # no filter applies: only ctrl+r reloads

    def scope_text(self, filters: ConversationQuery) -> Text:
        return Text("window: not applied — the project's configuration as it is now")

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="tabs"):
            with TabPane("Assistants", id="tab-assistants"):
                yield TitledTable(
                    "Assistants — enter: versions, deployments and settings",
                    ("assistant", "versions", "latest", "model"),
                    id="assistants",
                )
                yield FigureText("", id="assistant-info")
                yield TitledTable(
                    "Deployment history", ("activated at", "version", "by"), id="deployments"
                )
                yield TitledTable(
                    "Versions — enter: instructions · m: mark · d: diff marked → this",
                    ("version", "name", "updated", "model"),
                    id="versions",
                )
                yield FigureText("", id="instructions")
            with TabPane("Knowledge bases", id="tab-kbs"):
                yield TitledTable(
                    "Knowledge bases by type", ("type", "title", "status", "training"), id="kbs"
                )
            with TabPane("Office hours", id="tab-schedule"):
                yield FigureText("", id="schedule-info")
                yield TitledTable("Weekly schedule", ("day", "open", "hours"), id="weekly")
                yield TitledTable("Overrides", ("date", "available", "label"), id="overrides")
            with TabPane("Project", id="tab-project"):
                yield FigureText("", id="project-info")
            with TabPane("API tools", id="tab-tools"):
                yield TitledTable("API tools", ("name", "method", "url", "description"), id="tools")

    async def load(self, filters: ConversationQuery) -> None:
        p = f"/projects/{self.pid}"
        await self.gather(
            self.swr_path(f"{p}/playbooks", {"include_versions": "true"}, self.paint_assistants),
            self.swr_path(f"{p}/knowledgebases", None, self.paint_kbs),
            self.swr_path(f"{p}/schedule", None, self.paint_schedule),
            self.load_project(),
            self.swr_path(f"{p}/api-tools", None, self.paint_tools),
        )
        if self.base_id:
            await self.load_assistant(self.base_id)

    # -------------------------------------------------------------- assistants
    def paint_assistants(self, data: Any) -> None:
        self.assistants = group_versions(data)
        if self.base_id not in self.assistants:
            self.base_id = next(iter(self.assistants), None)
        self.query_one("#assistants", TitledTable).set_rows(
            [
                (
                    base,
                    [
                        plain(text(v[0], "name")),
                        number_cell(str(len(v))),
                        plain(f"v{num(v[0], 'version_number') or 0:.0f}"),
                        plain(text(v[0], "model")),
                    ],
                )
                for base, v in self.assistants.items()
            ],
            empty_text="no assistant in this project",
        )

    async def load_assistant(self, base_id: str) -> None:
        versions = self.assistants.get(base_id, [])
        active, history = await self.gather(
            self.fetch_path(f"/playbooks/{seg(base_id)}/active"),
            self.fetch_path(f"/playbooks/{seg(base_id)}/active/history"),
        )
        active_number = num(active, "version_number")
        active_version = next(
            (v for v in versions if num(v, "version_number") == active_number),
            versions[0] if versions else {},
        )
        settings = (
            obj(await self.fetch_path(f"/playbooks/{seg(text(active_version, 'id'))}/settings"))
            if text(active_version, "id")
            else {}
        )
        self.paint_assistant(base_id, active_number, settings, history)

    def paint_assistant(
        self, base_id: str, active: float | None, settings: dict, history: Any
    ) -> None:
        versions = self.assistants.get(base_id, [])
        name = text(versions[0], "name") if versions else base_id
        self.query_one("#assistant-info", Static).update(
            key_values(
                [
                    ("Assistant", name),
                    ("Active version", None if active is None else f"v{active:.0f}"),
                    (
                        "Kill switch",
                        "ON (assistant turned off)" if settings.get("is_disabled") else "off",
                    ),
                    ("Winback", describe(settings.get("winback"))),
                    ("URL shortener", describe(settings.get("url_shortener"))),
                ]
            )
        )
        self.query_one("#deployments", TitledTable).set_rows(
            [
                (
                    str(i),
                    [
                        plain(when(h.get("activated_at"))),
                        plain(f"v{num(h, 'version_number') or 0:.0f}"),
                        plain(text(h, "activated_by") or "system"),
                    ],
                )
                for i, h in enumerate(items(history, "items"))
            ],
            empty_text="no deployment recorded",
        )
        self.query_one("#versions", TitledTable).set_rows(
            [
                (
                    text(v, "id") or str(i),
                    [
                        plain(f"v{num(v, 'version_number') or 0:.0f}"),
                        plain(text(v, "name")),
                        plain(when(v.get("updated_at"))),
                        plain(text(v, "model")),
                    ],
                )
                for i, v in enumerate(versions)
            ]
        )
        if versions:
            self.show_instructions(versions[0])

    def _version(self, version_id: str) -> dict:
        for v in self.assistants.get(self.base_id or "", []):
            if text(v, "id") == version_id:
                return v
        return {}

    def _label(self, version: dict) -> str:
        return f"{text(version, 'name') or '?'} v{num(version, 'version_number') or 0:.0f}"

    def show_instructions(self, version: dict) -> None:
        self.highlighted = version
        title = Text(f"Instructions of {self._label(version)}\n", style="bold")
        title.append(plain(fold(text(version, "content") or "(no instructions)", 100)))
        self.query_one("#instructions", Static).update(title)

    def action_mark(self) -> None:
        if self.highlighted:
            self.marked = self.highlighted
            self.notify(
                f"Marked {self._label(self.marked)}: highlight another version and press d.",
                markup=False,
            )

    def action_diff(self) -> None:
        if not (self.marked and self.highlighted):
            self.notify(
                "Mark a version (m), highlight another one, then press d.",
                severity="warning",
                markup=False,
            )
            return
        old, new = self.marked, self.highlighted
        out = Text(f"Diff {self._label(old)} → {self._label(new)}\n", style="bold")
        out.append(
            diff_text(
                text(old, "content") or "",
                text(new, "content") or "",
                self._label(old),
                self._label(new),
            )
        )
        self.query_one("#instructions", Static).update(out)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.data_table.parent is self.query_one("#versions"):
            version = self._version(str(event.row_key.value))
            if version:
                self.show_instructions(version)

    def on_titled_table_selected(self, event: TitledTable.Selected) -> None:
        if event.table.id == "assistants":
            self.base_id = event.key
            self.marked = None
            self.run_task(
                self.load_assistant(event.key),
                "assistant",
                sections=("#assistant-info", "#deployments", "#versions", "#instructions"),
            )
        elif event.table.id == "versions":
            version = self._version(event.key)
            if version:
                self.show_instructions(version)

    # -------------------------------------------------------------- other tabs
    def paint_kbs(self, data: Any) -> None:
        rows = kb_rows(data)
        pending = sum(1 for _, cells in rows if str(cells[3]))
        table = self.query_one("#kbs", TitledTable)
        table.set_title(f"Knowledge bases by type · {pending} need retraining (EDITED/ADDED)")
        table.set_rows(rows, empty_text="no knowledge base")

    def paint_schedule(self, data: Any) -> None:
        data = obj(data)
        self.query_one("#schedule-info", Static).update(
            key_values(
                [
                    (
                        "Office hours",
                        data.get("enabled") if isinstance(data.get("enabled"), bool) else None,
                    ),
                    ("Time zone", text(data, "timezone")),
                ]
            )
        )
        weekly = obj(data.get("weekly_schedule"))
        rows = []
        for d in DAYS:
            entry = obj(weekly.get(d))
            slots = ", ".join(
                f"{text(s, 'start') or '?'}-{text(s, 'end') or '?'}" for s in items(entry, "slots")
            )
            rows.append(
                (d, [plain(d), plain("yes" if entry.get("enabled") else "no"), plain(slots or "—")])
            )
        self.query_one("#weekly", TitledTable).set_rows(rows)
        self.query_one("#overrides", TitledTable).set_rows(
            [
                (
                    text(o, "id") or str(i),
                    [
                        plain(text(o, "date")),
                        plain("open" if o.get("is_available") else "closed"),
                        plain(text(o, "label")),
                    ],
                )
                for i, o in enumerate(items(data, "overrides"))
            ],
            empty_text="no override",
        )

    async def load_project(self) -> None:
        project, settings = await self.gather(
            self.fetch_path(f"/projects/{self.pid}"), self.fetch_path(f"/projects/{self.pid}/settings")
        )
        inner = obj(obj(settings).get("settings"))
        self.query_one("#project-info", Static).update(
            key_values(
                [
                    ("Project", text(project, "name")),
                    ("Project id", text(project, "id")),
                    ("KBs need retraining", obj(project).get("needs_retraining")),
                    ("Personality tone", text(inner, "personality_tone")),
                    ("User enrichment URL", text(inner, "user_enrichment_url") or "not set"),
                ]
            )
        )

    def paint_tools(self, data: Any) -> None:
        self.query_one("#tools", TitledTable).set_rows(
            [
                (
                    text(t, "id") or str(i),
                    [
                        plain(text(t, "name")),
                        plain(text(t, "method")),
                        plain(text(t, "url")),
                        plain(text(t, "description") or ""),
                    ],
                )
                for i, t in enumerate(items(data))
            ],
            empty_text="no API tool",
        )
