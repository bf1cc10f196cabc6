"""Trending topics: the latest analysis, or generating one with the current assistant/tag filters.

The status (api.endpoints.trending, assistant and tags only) gives the latest analysis. ``a``
starts a generation and a worker polls its job until it is done, showing its progress; a 409
means an analysis was already generated today, which the screen explains. Enter on a topic
opens its conversations in the explorer (exact ids).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Hashable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, ProgressBar, Static

from api import models as m
from api.endpoints import trending
from api.errors import ConflictError
from api.query import ConversationQuery
from api.text import sanitize
from screens.analytics.base import AnalyticsScreen
from screens.analytics.fmt import day, fmt_int, fmt_rate
from widgets.charts import Bar, BarChart, number_cell, plain
from widgets.figures import FigureText
from widgets.tables import TitledTable

ALREADY_TODAY = (
    "A trending-topics analysis was already generated today (the API allows one "
    "per day, 409): showing the latest analysis instead."
)
#: job statuses that mean "poll again"; any other one ends the polling
ACTIVE_STATUSES = ("pending", "running")


def clean(value: str | None) -> str | None:
    """API text safe to show; None (unknown) stays None."""
    return None if value is None else sanitize(value)


def finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def topic_rows(topics: list[m.TrendingTopic]) -> list[tuple[str, list]]:
    rows = []
    for i, t in enumerate(topics):
        breakdown = t.sentiment_breakdown
        mood = " ".join(
            f"{sign}{fmt_int(finite(breakdown.get(k))) or 0}"
            for sign, k in (("+", "positive"), ("~", "neutral"), ("-", "negative"))
        )
        rows.append(
            (
                str(i),
                [
                    plain(t.name),
                    number_cell(fmt_int(t.conversation_count) or "—"),
                    number_cell(fmt_rate(finite(t.percentage)) or "—"),
                    plain(t.sentiment),
                    plain(mood),
                    number_cell(fmt_rate(finite(t.handoff_rate)) or "—"),
                ],
            )
        )
    return rows


def topic_detail(topic: m.TrendingTopic) -> Text:
    out = Text()
    out.append(sanitize(topic.name) or "—", style="bold")
    for label, value in (("About", topic.description), ("Insight", topic.insight)):
        if sanitize(value):
            out.append(f"\n{label}: ", style="dim")
            out.append(plain(value))
    for ex in topic.example_conversations[:3]:
        out.append("\n• ", style="dim")
        out.append(plain(sanitize(ex.summary) or sanitize(ex.conversation_id)))
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
        self.topics: list[m.TrendingTopic] = []
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

    async def load(self, filters: ConversationQuery) -> None:
        await self.swr(trending.status(self.project, filters), self.paint_status)

    def paint_status(self, status: m.TrendingStatus, note: str = "") -> None:
        analysis = status.analysis
        if analysis is None or not analysis.model_fields_set:  # none, or an empty object
            message = (
                "An analysis is being generated."
                if status.status == "pending"
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

    def paint_analysis(self, analysis: m.TrendingAnalysis, note: str = "") -> None:
        window = f"{day(analysis.start_date)} → {day(analysis.end_date)}"
        self.analysis_window = window  # what the figures cover, from the answer itself
        self.show_scope(self.scope_text(self.filters))
        self.query_one("#status", Static).update(
            f"{note}Analysis of {day(analysis.analysis_date)} · window {window} · "
            f"{fmt_int(analysis.conversations_analyzed) or '—'} conversations analysed of "
            f"{fmt_int(analysis.total_conversations) or '—'} · a: generate a new one"
        )
        self.paint_topics(analysis.topics)

    def paint_topics(self, topics: list[m.TrendingTopic]) -> None:
        self.topics = topics
        self.query_one("#shares", BarChart).set_bars(
            [
                Bar(str(i), sanitize(t.name) or "?", count, finite(t.percentage))
                for i, t in enumerate(topics)
                if (count := t.conversation_count) is not None  # no count: no bar, not a 0 one
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
        self.set_job("pending", 0, "starting…")
        try:
            job_id = (await trending.generate(self.client, self.project, filters)).key
            if not job_id:
                self.stop_job("the API started no job (its answer has no job id)")
                return
            await self.follow(job_id)
        except ConflictError:
            self.set_job(None)
            self.notify(ALREADY_TODAY, severity="warning", timeout=8, markup=False)
            status = await self.fetch(trending.status(self.project, filters, cache=False))
            self.paint_status(status, note="Already generated today (409). ")
        except BaseException:
            self.set_job(None)  # failed or cancelled: a new generation can be started
            raise

    async def follow(self, job_id: str) -> None:
        """Poll the job until it completes, fails, reports any other status (cancelled,
        error, unknown: never polled forever) or takes longer than ``FOLLOW_LIMIT``."""
        deadline = time.monotonic() + self.FOLLOW_LIMIT
        while True:
            job = await self.fetch(trending.job(self.project, job_id))
            status = clean(job.status)
            message = clean(job.progress_message) or clean(job.step) or status or ""
            if status == "completed":
                await self.show_completed(job.analysis_id)
                return
            if status not in ACTIVE_STATUSES:
                reason = "failed" if status == "failed" else f"ended with status {status!r}"
                self.stop_job(f"{reason}: {message or 'no reason given'}")
                return
            self.set_job(status, finite(job.progress) or 0, message)
            if time.monotonic() >= deadline:
                self.stop_job(
                    f"still {status} after {self.FOLLOW_LIMIT:.0f} s: stopped waiting "
                    "(press a later to see whether it finished)"
                )
                return
            await asyncio.sleep(self.POLL_INTERVAL)

    async def show_completed(self, analysis_id: str | None) -> None:
        if not analysis_id:
            self.stop_job("completed without an analysis id: nothing to show")
            return
        analysis = await self.fetch(trending.analysis(self.project, analysis_id))
        self.set_job("completed", 100, "completed")
        self.paint_analysis(analysis)

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
    def _topic(self, key: str) -> m.TrendingTopic | None:
        return self.topics[int(key)] if key.isdigit() and int(key) < len(self.topics) else None

    def open_topic(self, key: str) -> None:
        topic = self._topic(key)
        ids = [i for i in topic.conversation_ids if i] if topic is not None else []
        name = (sanitize(topic.name) if topic is not None else "") or "topic"
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
            if topic is not None:
                self.query_one("#detail", Static).update(topic_detail(topic))
