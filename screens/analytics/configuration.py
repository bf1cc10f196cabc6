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

from api import models as m
from api.endpoints import configuration as config
from api.query import ConversationQuery
from api.text import fold, sanitize
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import when
from widgets.charts import number_cell, plain
from widgets.figures import FigureText
from widgets.tables import TitledTable

RETRAIN_STATUSES = ("EDITED", "ADDED")
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def kb_rows(kbs: list[m.KnowledgeBase]) -> list[tuple[str, list]]:
    ordered = sorted(kbs, key=lambda k: (k.kb_type or "", k.title or ""))
    rows = []
    for i, kb in enumerate(ordered):
        status = sanitize(kb.status).upper()
        flag = (
            plain("⚠ needs retraining", style="bold yellow")
            if status in RETRAIN_STATUSES
            else plain("")
        )
        rows.append(
            (
                kb.id or f"kb{i}",
                [plain(kb.kb_type), plain(kb.title), plain(kb.status), flag],
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


def version_label(version: m.Playbook) -> str:
    """'name vN' of a version (for titles and notifications: sanitized)."""
    return f"{sanitize(version.name) or '?'} v{version.version_number or 0}"


class ConfigurationScreen(AnalyticsScreen):
    TITLE = "Configuration"
    SUBTITLE = "Configuration is project-wide: the shared date range and filters do not apply"
    WINDOWED = False
    CSS_PATH = ["analytics.tcss", "configuration.tcss"]
    BINDINGS = [
        Binding("m", "mark", "Mark version for diff", id="analytics.config_mark"),
        Binding("d", "diff", "Diff marked → highlighted", id="analytics.config_diff"),
        Binding("I", "impact", "Deployment impact", id="analytics.config_impact"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.assistants: dict[str, list[m.Playbook]] = {}  # base id -> versions, newest first
        self.base_id: str | None = None
        self.marked: m.Playbook | None = None
        self.highlighted: m.Playbook | None = None

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
                    "Deployment history — I: impact of each deployment",
                    ("activated at", "version", "by"),
                    id="deployments",
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
        project = self.project
        await self.gather(
            self.swr(config.playbooks(project, versions=True), self.paint_assistants),
            self.swr(config.knowledgebases(project), self.paint_kbs),
            self.swr(config.schedule(project), self.paint_schedule),
            self.load_project(),
            self.swr(config.api_tools(project), self.paint_tools),
        )
        if self.base_id:
            await self.load_assistant(self.base_id)

    # -------------------------------------------------------------- assistants
    def paint_assistants(self, playbooks: list[m.Playbook]) -> None:
        self.assistants = config.versions_by_assistant(playbooks)
        if self.base_id not in self.assistants:
            self.base_id = next(iter(self.assistants), None)
        self.query_one("#assistants", TitledTable).set_rows(
            [
                (
                    base,
                    [
                        plain(v[0].name),
                        number_cell(str(len(v))),
                        plain(f"v{v[0].version_number or 0}"),
                        plain(v[0].model),
                    ],
                )
                for base, v in self.assistants.items()
            ],
            empty_text="no assistant in this project",
        )

    async def load_assistant(self, base_id: str) -> None:
        versions = self.assistants.get(base_id, [])
        active, history = await self.gather(
            self.fetch(config.playbook_active(base_id)),
            self.fetch(config.playbook_active_history(base_id)),
        )
        active_number = active.version_number
        active_version = next(
            (v for v in versions if v.version_number == active_number),
            versions[0] if versions else None,
        )
        settings = (
            await self.fetch(config.playbook_settings(active_version.id))
            if active_version is not None and active_version.id
            else m.PlaybookSettings()
        )
        self.paint_assistant(base_id, active_number, settings, history)

    def paint_assistant(
        self, base_id: str, active: int | None, settings: m.PlaybookSettings,
        history: m.ActiveHistory,
    ) -> None:
        versions = self.assistants.get(base_id, [])
        name = versions[0].name if versions else base_id
        self.query_one("#assistant-info", Static).update(
            key_values(
                [
                    ("Assistant", name),
                    ("Active version", None if active is None else f"v{active}"),
                    (
                        "Kill switch",
                        "ON (assistant turned off)" if settings.is_disabled else "off",
                    ),
                    ("Winback", describe(settings.winback)),
                    ("URL shortener", describe(settings.url_shortener)),
                ]
            )
        )
        self.query_one("#deployments", TitledTable).set_rows(
            [
                (
                    str(i),
                    [
                        plain(when(h.activated_at)),
                        plain(f"v{h.version_number or 0}"),
                        plain(sanitize(h.activated_by) or "system"),
                    ],
                )
                for i, h in enumerate(history.items)
            ],
            empty_text="no deployment recorded",
        )
        self.query_one("#versions", TitledTable).set_rows(
            [
                (
                    v.id or str(i),
                    [
                        plain(f"v{v.version_number or 0}"),
                        plain(v.name),
                        plain(when(v.updated_at)),
                        plain(v.model),
                    ],
                )
                for i, v in enumerate(versions)
            ]
        )
        if versions:
            self.show_instructions(versions[0])

    def _version(self, version_id: str) -> m.Playbook | None:
        for v in self.assistants.get(self.base_id or "", []):
            if v.id == version_id:
                return v
        return None

    def show_instructions(self, version: m.Playbook) -> None:
        self.highlighted = version
        title = Text(f"Instructions of {version_label(version)}\n", style="bold")
        title.append(plain(fold(sanitize(version.content) or "(no instructions)", 100)))
        self.query_one("#instructions", Static).update(title)

    def action_mark(self) -> None:
        if self.highlighted:
            self.marked = self.highlighted
            self.notify(
                f"Marked {version_label(self.marked)}: highlight another version and press d.",
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
        out = Text(f"Diff {version_label(old)} → {version_label(new)}\n", style="bold")
        out.append(
            diff_text(old.content or "", new.content or "", version_label(old), version_label(new))
        )
        self.query_one("#instructions", Static).update(out)

    def action_impact(self) -> None:
        """Deployment impact of the assistant highlighted in the assistants table (when it
        has the focus), else of the one whose deployment history is shown."""
        from screens.impact import ImpactScreen

        assistants = self.query_one("#assistants", TitledTable)
        base_id = self.base_id
        if self.focused is assistants.table and assistants.keys:
            base_id = assistants.keys[assistants.table.cursor_row].split("#", 1)[0]
        if base_id is None:
            self.notify("No assistant to show the impact of", severity="warning", markup=False)
            return
        self.app.push_screen(ImpactScreen(base_id))

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
    def paint_kbs(self, kbs: list[m.KnowledgeBase]) -> None:
        rows = kb_rows(kbs)
        pending = sum(1 for _, cells in rows if str(cells[3]))
        table = self.query_one("#kbs", TitledTable)
        table.set_title(f"Knowledge bases by type · {pending} need retraining (EDITED/ADDED)")
        table.set_rows(rows, empty_text="no knowledge base")

    def paint_schedule(self, schedule: m.Schedule) -> None:
        self.query_one("#schedule-info", Static).update(
            key_values([("Office hours", schedule.enabled), ("Time zone", schedule.timezone)])
        )
        rows = []
        for d in DAYS:
            entry = schedule.weekly_schedule.get(d) or m.DaySchedule()
            slots = ", ".join(f"{s.start or '?'}-{s.end or '?'}" for s in entry.slots)
            rows.append(
                (d, [plain(d), plain("yes" if entry.enabled else "no"), plain(slots or "—")])
            )
        self.query_one("#weekly", TitledTable).set_rows(rows)
        self.query_one("#overrides", TitledTable).set_rows(
            [
                (
                    o.id or str(i),
                    [
                        plain(o.date),
                        plain("open" if o.is_available else "closed"),
                        plain(o.label),
                    ],
                )
                for i, o in enumerate(schedule.overrides)
            ],
            empty_text="no override",
        )

    async def load_project(self) -> None:
        project, settings = await self.gather(
            self.fetch(config.project_info(self.project)),
            self.fetch(config.project_settings(self.project)),
        )
        inner = settings.settings or m.ProjectSettingsBody()
        self.query_one("#project-info", Static).update(
            key_values(
                [
                    ("Project", project.name),
                    ("Project id", project.id),
                    ("KBs need retraining", project.needs_retraining),
                    ("Personality tone", inner.personality_tone),
                    ("User enrichment URL", inner.user_enrichment_url or "not set"),
                ]
            )
        )

    def paint_tools(self, tools: list[m.ApiTool]) -> None:
        self.query_one("#tools", TitledTable).set_rows(
            [
                (
                    t.id or str(i),
                    [plain(t.name), plain(t.method), plain(t.url), plain(t.description or "")],
                )
                for i, t in enumerate(tools)
            ],
            empty_text="no API tool",
        )
