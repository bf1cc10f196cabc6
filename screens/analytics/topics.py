"""Trending topics: the latest analysis, or generating one with the current assistant/tag filters.

``.../insights/trending-topics/status`` (``playbook_base_ids`` plural, ``tags``) gives the latest
analysis. ``a`` posts ``.../generate`` and a worker polls ``.../job/{id}`` until it is done,
showing its progress; a 409 means an analysis was already generated today, which the screen
explains. Enter on a topic opens its conversations in the explorer (exact ids).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, ProgressBar, Static

from api.errors import ConflictError
from api.query import ConversationQuery
from api.text import sanitize
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import day, fmt_int, fmt_rate, items, num, obj, seg, text
from widgets.charts import Bar, BarChart, number_cell, plain
from widgets.figures import FigureText
from widgets.tables import TitledTable

ALREADY_TODAY = (
    "A trending-topics analysis was already generated today (the API allows one "
    "per day, 409): showing the latest analysis instead."
)
#: job statuses that mean "poll again"; any other one ends the polling
ACTIVE_STATUSES = ("pending", "running")


def topic_rows(topics: list[dict]) -> list[tuple[str, list]]:
    rows = []
    for i, t in enumerate(topics):
        breakdown = obj(t.get("sentiment_breakdown"))
        mood = " ".join(
            f"{sign}{fmt_int(num(breakdown, k)) or 0}"
            for sign, k in (("+", "positive"), ("~", "neutral"), ("-", "negative"))
        )
        rows.append(
            (
                str(i),
                [
                    plain(text(t, "name")),
                    number_cell(fmt_int(num(t, "conversation_count")) or "—"),
                    number_cell(fmt_rate(num(t, "percentage")) or "—"),
                    plain(text(t, "sentiment")),
                    plain(mood),
                    number_cell(fmt_rate(num(t, "handoff_rate")) or "—"),
                ],
            )
        )
    return rows


def topic_detail(topic: dict) -> Text:
    out = Text()
    out.append(text(topic, "name") or "—", style="bold")
    for label, key in (("About", "description"), ("Insight", "insight")):
        if text(topic, key):
            out.append(f"\n{label}: ", style="dim")
            out.append(plain(text(topic, key)))
    examples = items(topic, "example_conversations")[:3]
    for ex in examples:
        out.append("\n• ", style="dim")
        out.append(plain(text(ex, "summary") or text(ex, "conversation_id") or ""))
    return out


class TopicsScreen(AnalyticsScreen):
    TITLE = "Trending topics"
    CSS_PATH = ["analytics.tcss", "topics.tcss"]
    BINDINGS = [Binding("a", "generate", "Generate analysis", id="analytics.topics_generate")]
    POLL_INTERVAL = 1.0  # seconds between job polls (tests set 0)
    FOLLOW_LIMIT = 600.0  # seconds: stop polling a job that never ends
    KEEP_ON_RELOAD = frozenset({"generate"})  # a started analysis outlives a filter change
    WINDOWED = False  # an analysis covers its own window (the filter line shows it)

    def __init__(self) -> None:
        super().__init__()
        self.topics: list[dict] = []
        self.job_status: str | None = None
        self.analysis_window: str | None = None  # "start → end" of the analysis shown

    def scope_of(self, filters: ConversationQuery) -> Hashable:
        return (filters.playbook_base_id, filters.tags)  # the status takes no dates

    def scope_text(self, filters: ConversationQuery) -> Text:
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("analysis window ", style="bold")
        line.append(self.analysis_window or "— (latest analysis)")
        line.append_text(self.filters_text(filters))
        line.append(" · not the shared window", style="dim")
        return line

    def compose_body(self) -> ComposeResult:
        yield FigureText("", id="status", classes="analytics-note")
        yield ProgressBar(total=100, id="progress", show_eta=False)
        yield Static("", id="job", classes="analytics-note", markup=False)
        yield BarChart(
            "Share of conversations by topic — enter: its conversations",
            value_label="conversations",
            id="shares",
        )
        yield TitledTable(
            "Topics — enter: open its conversations in the explorer",
            ("topic", "convs", "share", "sentiment", "+ ~ -", "handoff"),
            id="topics",
        )
        yield FigureText("", id="detail")

    def status_params(self, filters: ConversationQuery) -> dict[str, str]:
        params = {}
        if filters.playbook_base_id:
            params["playbook_base_ids"] = filters.playbook_base_id
        if filters.tags:
            params["tags"] = ",".join(filters.tags)
        return params

    @property
    def base(self) -> str:
        return f"/projects/{self.pid}/conversations/insights/trending-topics"

    async def load(self, filters: ConversationQuery) -> None:
        await self.swr_path(f"{self.base}/status", self.status_params(filters), self.paint_status)

    def paint_status(self, data: Any, note: str = "") -> None:
        data = obj(data)
        analysis = obj(data.get("analysis"))
        if not analysis:
            status = text(data, "status") or "none"
            message = (
                "An analysis is being generated."
                if status == "pending"
                else "No trending-topics analysis for these filters yet."
            )
            self.analysis_window = None
            self.show_scope(self.scope_text(self.filters))
            self.query_one("#status", Static).update(
                f"{note}{message} Press a to generate one with the current assistant/tag filters."
            )
            self.paint_topics([])
            return
        self.paint_analysis(analysis, note)

    def paint_analysis(self, analysis: dict, note: str = "") -> None:
        window = f"{day(analysis.get('start_date'))} → {day(analysis.get('end_date'))}"
        self.analysis_window = window  # what the figures cover, from the answer itself
        self.show_scope(self.scope_text(self.filters))
        self.query_one("#status", Static).update(
            f"{note}Analysis of {day(analysis.get('analysis_date'))} · window {window} · "
            f"{fmt_int(num(analysis, 'conversations_analyzed')) or '—'} conversations analysed of "
            f"{fmt_int(num(analysis, 'total_conversations')) or '—'} · a: generate a new one"
        )
        self.paint_topics(items(analysis, "topics"))

    def paint_topics(self, topics: list[dict]) -> None:
        self.topics = topics
        self.query_one("#shares", BarChart).set_bars(
            [
                Bar(
                    str(i),
                    text(t, "name") or "?",
                    num(t, "conversation_count"),
                    num(t, "percentage"),
                )
                for i, t in enumerate(topics)
                if num(t, "conversation_count") is not None  # no count: no bar, not a 0 one
            ],
            empty_text="no topics",
        )
        self.query_one("#topics", TitledTable).set_rows(topic_rows(topics), empty_text="no topics")
        self.query_one("#detail", Static).update(topic_detail(topics[0]) if topics else "")

    # -------------------------------------------------------------- generation
    def action_generate(self) -> None:
        if self.job_status in ("pending", "running"):
            self.notify("An analysis is already being generated.", markup=False)
            return
        self.run_task(self.generate(self.filters), "generate")

    async def generate(self, filters: ConversationQuery) -> None:
        body: dict[str, Any] = {}
        if filters.playbook_base_id:
            body["playbook_base_ids"] = [filters.playbook_base_id]
        if filters.tags:
            body["tags"] = list(filters.tags)
        self.set_job("pending", 0, "starting…")
        try:
            job = obj(await self.client.post(f"{self.base}/generate", body, idempotent=False))
            job_id = text(job, "job_id") or text(job, "id")
            if job_id is None:
                self.stop_job("the API started no job (its answer has no job id)")
                return
            await self.follow(job_id)
        except ConflictError:
            self.set_job(None)
            self.notify(ALREADY_TODAY, severity="warning", timeout=8, markup=False)
            data = await self.client.get(
                f"{self.base}/status", self.status_params(filters), cache=False
            )
            self.paint_status(data, note="Already generated today (409). ")
        except BaseException:
            self.set_job(None)  # failed or cancelled: a new generation can be started
            raise

    async def follow(self, job_id: str) -> None:
        """Poll the job until it completes, fails, reports any other status (cancelled,
        error, unknown: never polled forever) or takes longer than ``FOLLOW_LIMIT``."""
        deadline = time.monotonic() + self.FOLLOW_LIMIT
        while True:
            job = obj(await self.client.get(f"{self.base}/job/{seg(job_id)}", cache=False))
            status = text(job, "status")
            message = text(job, "progress_message") or text(job, "step") or status or ""
            if status == "completed":
                await self.show_completed(text(job, "analysis_id"))
                return
            if status not in ACTIVE_STATUSES:
                reason = "failed" if status == "failed" else f"ended with status {status!r}"
                self.stop_job(f"{reason}: {message or 'no reason given'}")
                return
            self.set_job(status, num(job, "progress") or 0, message)
            if time.monotonic() >= deadline:
                self.stop_job(
                    f"still {status} after {self.FOLLOW_LIMIT:.0f} s: stopped waiting "
                    "(press a later to see whether it finished)"
                )
                return
            await asyncio.sleep(self.POLL_INTERVAL)

    async def show_completed(self, analysis_id: str | None) -> None:
        if analysis_id is None:
            self.stop_job("completed without an analysis id: nothing to show")
            return
        analysis = await self.client.get(f"{self.base}/analysis/{seg(analysis_id)}")
        self.set_job("completed", 100, "completed")
        self.paint_analysis(obj(analysis))

    def stop_job(self, why: str) -> None:
        """The job will not complete here: say why on one line, ready for a new one."""
        self.set_job(None)
        self.notify(f"Topic analysis {why}", severity="error", timeout=8, markup=False)

    def set_job(self, status: str | None, progress: float = 0, message: str = "") -> None:
        self.job_status = status
        self.set_class(status in ("pending", "running"), "-running")
        self.query_one("#progress", ProgressBar).update(progress=progress)
        self.query_one("#job", Static).update(
            "" if status is None else f"Generating: {progress:.0f}% · {message}"
        )

    # -------------------------------------------------------------- drill-down
    def _topic(self, key: str) -> dict:
        return self.topics[int(key)] if key.isdigit() and int(key) < len(self.topics) else {}

    def open_topic(self, key: str) -> None:
        topic = self._topic(key)
        ids = [str(i) for i in topic.get("conversation_ids") or [] if i]
        name = sanitize(text(topic, "name") or "topic")
        self.open_conversations(
            ids, f"Topic “{name}”: its conversations, as the analysis lists them"
        )

    def on_titled_table_selected(self, event: TitledTable.Selected) -> None:
        self.open_topic(event.key)

    def on_bar_chart_selected(self, event: BarChart.Selected) -> None:
        self.open_topic(event.bar.key)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is not None and event.data_table.parent is self.query_one("#topics"):
            topic = self._topic(str(event.row_key.value))
            if topic:
                self.query_one("#detail", Static).update(topic_detail(topic))
