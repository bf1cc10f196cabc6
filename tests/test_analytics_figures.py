"""Figures that never mislead (issue 11): rates over 100% flagged, gaps drawn as gaps, the base
of every percentage stated and used, totals that do not add up explained, counts drawn as
steps with whole-number ticks, hourly ticks, axes over the whole window, and demo data whose
rates, clock and texts agree with each other.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from analytics_harness import HarnessApp, demo_client, screen_text, settle
from test_analytics_hostile import hostile_app
from test_analytics_screens import select_row
from textual.app import App, ComposeResult

from api.query import ConversationQuery
from screens.analytics.conversions import ConversionsScreen
from screens.analytics.csat import CsatScreen
from screens.analytics.overview import OverviewScreen
from screens.analytics.signals import SignalsScreen
from widgets.charts import BarChart, Series, TimeChart
from widgets.tables import TitledTable

SIZE = (120, 60)


def untouched(data: Any) -> Any:
    return data


# -------------------------------------------------------------------- the chart widget
class ChartApp(App[None]):
    def __init__(self, chart: TimeChart | BarChart) -> None:
        super().__init__()
        self.chart = chart

    def compose(self) -> ComposeResult:
        yield self.chart


class PlotSpy:
    """Records what a chart asks plotext to draw (public plotext calls only)."""

    def __init__(self, chart: TimeChart | BarChart) -> None:
        self.calls: dict[str, list[tuple[tuple, dict]]] = {}
        plt = chart.plot.plt
        for name in ("plot", "bar", "xticks", "yticks", "xlim", "ylim"):
            self._wrap(plt, name)

    def _wrap(self, plt: Any, name: str) -> None:
        original = getattr(plt, name)

        def record(*args: Any, **kwargs: Any) -> Any:
            self.calls.setdefault(name, []).append((args, kwargs))
            return original(*args, **kwargs)

        setattr(plt, name, record)

    def lines(self) -> list[tuple[list[float], list[float], dict]]:
        return [(list(a[0]), list(a[1]), k) for a, k in self.calls.get("plot", [])]


def table_rows(chart: TimeChart) -> list[list[str]]:
    from textual.widgets import DataTable

    table = chart.query_one(".chart-table", DataTable)
    return [
        [str(getattr(c, "plain", c)) for c in table.get_row_at(i)] for i in range(table.row_count)
    ]


def caption(chart: TimeChart) -> str:
    from textual.widgets import Static

    return str(chart.query_one(".chart-caption", Static).content)


async def test_hourly_ticks_name_the_hours():
    chart = TimeChart("per hour")
    async with ChartApp(chart).run_test(size=(120, 30)) as pilot:
        spy = PlotSpy(chart)
        start = datetime(2026, 6, 15, 0, tzinfo=UTC)
        dates = [(start + timedelta(hours=h)).strftime("%Y-%m-%d %H:%M") for h in range(24)]
        chart.set_series(dates, [Series("n", [h % 3 for h in range(24)])])
        await pilot.pause()
    (ticks, labels), _ = spy.calls["xticks"][-1]
    assert len(set(labels)) == len(labels) > 2  # not the same day on every tick
    assert all(":00" in label for label in labels)


async def test_counts_are_steps_with_whole_number_ticks():
    chart = TimeChart("events")
    async with ChartApp(chart).run_test(size=(120, 30)) as pilot:
        spy = PlotSpy(chart)
        chart.set_series(
            ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04"],
            [Series("events", [0, 1, 0, 2])],
        )
        await pilot.pause()
    for xs, ys, _ in spy.lines():
        assert set(ys) <= {0, 1, 2}  # never a value between two days' counts
        for x, y in zip(xs, ys, strict=True):
            if float(x).is_integer():  # at a bucket's centre the step holds its count
                assert y == [0, 1, 0, 2][int(x)]
        # each bucket is a flat step: its two ends share the value
        assert all(ys[i] == ys[i + 1] for i in range(0, len(ys) - 1, 2))
    ticks = [t for (args, _) in spy.calls["yticks"] for t in args[0]]
    assert ticks and all(float(t).is_integer() for t in ticks)


async def test_rate_gaps_are_gaps_in_the_plot_and_the_caption():
    chart = TimeChart("csat")
    async with ChartApp(chart).run_test(size=(120, 30)) as pilot:
        spy = PlotSpy(chart)
        chart.set_series(
            ["2026-06-01", "2026-06-02", "2026-06-03", "2026-06-04"],
            [Series("CSAT", [50.0, None, 25.0, None], "%", total=False)],
        )
        await pilot.pause()
        text = caption(chart)
        rows = table_rows(chart)
    segments = [(xs, ys) for xs, ys, _ in spy.lines()]
    assert segments and all(None not in ys for _, ys in segments)
    for xs, _ in segments:  # no line bridges the empty day 06-02
        assert not (min(xs) < 1 < max(xs)) and not (min(xs) < 3 < max(xs))
    assert [r[1] for r in rows] == ["50%", "—", "25%", "—"]
    assert "last —" in text and "last 0" not in text  # the last day is empty, not 0%
    assert "avg 37.5%" in text


async def test_a_rate_over_100_is_shown_flagged_and_left_out_of_the_summary():
    chart = TimeChart("response rate")
    async with ChartApp(chart).run_test(size=(120, 30)) as pilot:
        spy = PlotSpy(chart)
        chart.set_series(
            ["2026-06-01", "2026-06-02", "2026-06-03"],
            [Series("response rate", [20.0, 150.0, 40.0], "%", total=False, limit=100)],
        )
        await pilot.pause()
        text = caption(chart)
        rows = table_rows(chart)
    assert rows[1][1] == "150% ⚠"  # as received, flagged
    assert "avg 30%" in text and "max 40%" in text and "150" not in text.split("⚠")[0]
    assert "⚠" in text and "over 100%" in text
    assert all(150.0 not in ys for _, ys, _ in spy.lines())


async def test_the_x_axis_covers_the_whole_window():
    chart = TimeChart("events")
    window = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC))
    async with ChartApp(chart).run_test(size=(120, 30)) as pilot:
        spy = PlotSpy(chart)
        chart.set_series(["2026-06-04", "2026-06-05"], [Series("events", [3, 1])], window=window)
        await pilot.pause()
        rows = table_rows(chart)
    assert [r[0] for r in rows] == [f"2026-06-0{d}" for d in range(1, 8)]
    assert [r[1] for r in rows] == ["0", "0", "0", "3", "1", "0", "0"]
    (lo, hi), _ = spy.calls["xlim"][-1]
    assert lo <= 0 and hi >= 6


async def test_bars_are_one_row_each_beside_their_table_row():
    """Each bar is one row, drawn once, beside its table row (plotext drew some twice)."""
    from textual.widgets import DataTable

    from widgets.charts import Bar
    from widgets.hbars import HBars

    chart = BarChart("ratings")
    async with ChartApp(chart).run_test(size=(120, 30)) as pilot:
        chart.set_bars([Bar("5", "5★", 582), Bar("4", "4★", 0), Bar("1", "1★", 291),
                        Bar("2", "2★", 1)])
        await pilot.pause()
        bars = chart.query_one(HBars)
        lines = bars.render().plain.split("\n")
        table = chart.query_one(DataTable)
        assert bars.region.y + 1 == table.region.y + 1  # the scale sits beside the header
        assert len(lines) == 1 + table.row_count == 5
        assert lines[0].startswith("0") and lines[0].rstrip().endswith("582")
        width = bars.content_size.width
        assert lines[1] == "█" * width  # the largest fills the width
        assert lines[2] == ""  # zero: no bar
        assert abs(len(lines[3].rstrip()) - width / 2) <= 1
        assert lines[4] in "▏▎▍▌▋▊▉" and lines[4]  # a small count is still visible
        await pilot.press("tab", "down", "down")
        assert bars.highlight == table.cursor_row == 2


def test_bar_blocks_are_scaled_in_eighths():
    from widgets.hbars import bar_text

    assert bar_text(10, 10, 4) == "████"
    assert bar_text(5, 10, 4) == "██"
    assert bar_text(1, 8, 2) == "▎"  # two eighths of a cell
    assert bar_text(1, 1000, 2) == "▏"  # a non-zero value never draws nothing
    for odd in (float("nan"), float("inf"), -3):
        assert bar_text(odd, 10, 4) == ""


# -------------------------------------------------------------------- CSAT: rates over 100%
def csat_answer(response_rate: float, bucket_rates: list[float | None]) -> dict:
    series = [
        {
            "date": f"2026-06-1{i}",
            "total": 2,
            "positive": 1,
            "neutral": 0,
            "negative": 1,
            "csat_pct": 50.0,
            "eligible": 2,
            "response_rate_pct": r,
        }
        for i, r in enumerate(bucket_rates)
    ]
    return {
        "is_configured": True,
        "total_rated": 8,
        "csat_score_pct": 50.0,
        "dsat_score_pct": 50.0,
        "eligible_deflected": 6,
        "response_rate_pct": response_rate,
        "rating_distribution": {"1": 4, "5": 4},
        "positive_count": 4,
        "neutral_count": 0,
        "negative_count": 4,
        "time_series": series,
        "time_granularity": "day",
        "ratings": [],
        "ratings_offset": 0,
    }


async def test_csat_rate_over_100_from_the_api_is_flagged_not_averaged(demo_db):
    answer = csat_answer(133.3, [100.0, 150.0, 50.0])
    app = hostile_app(demo_db, CsatScreen, answers={"/csat/analytics": answer}, poison_fn=untouched)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        text = screen_text(app.screen)
        trend = caption(app.screen.query_one("#trend", TimeChart))
    assert "Response rate: 133.3% ⚠" in text  # as received, flagged
    assert "150% ⚠" in text  # the bucket, in the chart's table
    line = next(x for x in trend.splitlines() if x.startswith("response rate"))
    assert "avg 75%" in line and "max 100%" in line  # the 150% is in neither


# -------------------------------------------------------------------- signals: the right base
async def test_each_distribution_uses_and_states_its_base(demo_db):
    app = HarnessApp(demo_client(demo_db), SignalsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        agg = await app.client.get(
            f"/projects/{app.client.project_id}/conversations/metrics/aggregate",
            app.filters.aggregate_params(),
        )
        screen = app.screen
        handoff = screen.query_one("#handoff_reason", BarChart)
        deflection = screen.query_one("#deflection_quality", BarChart)
        sentiment = screen.query_one("#sentiment", BarChart)
        titles = {c.id: c.title for c in (handoff, deflection, sentiment)}
    handoffs = sum(agg["handoff_reason_distribution"].values())
    resolved = sum(agg["deflection_quality_distribution"].values())
    scored = agg["total_scored_conversations"]
    assert handoffs < scored and resolved < scored
    assert sum(b.pct for b in handoff.bars) == pytest.approx(100)
    assert sum(b.pct for b in deflection.bars) == pytest.approx(100)
    assert sum(b.pct for b in sentiment.bars) == pytest.approx(100)
    assert f"{handoffs:,} scored handoffs" in titles["handoff_reason"]
    assert f"{resolved:,} scored AI-resolved" in titles["deflection_quality"]
    assert f"{scored:,} scored" in titles["sentiment"]


# -------------------------------------------------------------------- totals that do not add up
def analytics_without_base_ids(real: dict) -> dict:
    rows = [
        {k: v for k, v in row.items() if k not in ("playbook_base_id", "playbook_id")}
        for row in real["by_playbook"]
    ]
    return {**real, "by_playbook": rows}


async def test_by_playbook_rows_drill_down_by_name_without_a_base_id(demo_db):
    client = demo_client(demo_db)
    real = await client.get(
        f"/projects/{client.project_id}/conversations/analytics",
        ConversationQuery.build(
            start_date="2026-05-17T00:00:00+00:00", end_date="2026-06-16T00:00:00+00:00"
        ).analytics_params(),
    )
    playbooks = await client.get(f"/projects/{client.project_id}/playbooks")
    await client.aclose()
    expected = {p["name"]: p["base_id"] for p in playbooks}
    app = hostile_app(
        demo_db,
        OverviewScreen,
        answers={"/conversations/analytics": analytics_without_base_ids(real)},
        poison_fn=untouched,
    )
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#by-assistant", TitledTable)
        key = table.keys[0]
        name = real["by_playbook"][0]["playbook_name"]
        await select_row(pilot, table, key)
        await settle(pilot)
        text = screen_text(app.screen)
    assert app.drilled and app.drilled[-1].playbook_base_id == expected[name]
    assert "last active assistant" in text  # the footnote: rows vs the drill-down


async def test_conversion_funnel_explains_why_it_exceeds_the_topline(demo_db):
    app = HarnessApp(demo_client(demo_db), ConversionsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        topline = await app.client.get(
            f"/projects/{app.client.project_id}/conversion-metrics/venta/analytics",
            app.filters.conversion_params(),
        )
        funnel = screen.query_one("#funnel", TitledTable)
        eligible = sum(int(str(row[1]).replace(",", "")) for row in funnel.rows_text())
        text = screen_text(screen)
        await select_row(pilot, funnel, funnel.keys[0])
    assert eligible > topline["eligible_conversations"]  # two assistants: counted under both
    assert f"{eligible:,}" in text and f"{topline['eligible_conversations']:,}" in text
    assert "counts under each" in text and "do not add up to the topline" in text
    # a row counts eligible (AI-resolved) conversations: so does its drill-down
    assert app.drilled[-1] == app.filters.replace(
        playbook_base_id=funnel.keys[0], has_handoff=False
    )


# -------------------------------------------------------------------- demo data
def demo_conn(demo_db) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)


@pytest.mark.parametrize(
    ("days", "tags"), [(30, ("billing",)), (1, ("billing",)), (90, ()), (1, ())]
)
async def test_demo_csat_rated_is_a_subset_of_eligible_in_every_bucket(demo_db, days, tags):
    client = demo_client(demo_db)
    end = datetime(2026, 6, 16, tzinfo=UTC)
    query = ConversationQuery.build(
        start_date=(end - timedelta(days=days)).isoformat(), end_date=end.isoformat(), tags=tags
    )
    data = await client.get(f"/projects/{client.project_id}/csat/analytics", query.csat_params())
    await client.aclose()
    assert data["total_rated"] <= data["eligible_deflected"]
    assert 0 <= data["response_rate_pct"] <= 100
    assert data["time_series"]
    for bucket in data["time_series"]:
        assert bucket["total"] <= bucket["eligible"], bucket
        rate = bucket["response_rate_pct"]
        assert rate is None or 0 <= rate <= 100, bucket


def test_demo_ratings_are_on_deflected_conversations(demo_db):
    with demo_conn(demo_db) as conn:
        handoffs = conn.execute(
            "SELECT count(*) FROM csat_ratings r JOIN conversations c ON c.seq = r.seq "
            "WHERE c.has_handoff"
        ).fetchone()[0]
    assert handoffs == 0


def conversations(conn: sqlite3.Connection) -> list[tuple[dict, list[dict]]]:
    """(body, messages) of every conversation that carries no hostile text."""
    from api.demo.content import decode_extra
    from api.demo.generate import hostile_conversation_ids

    hostile = set(hostile_conversation_ids(conn))
    out = []
    rows = conn.execute(
        "SELECT c.body, m.body FROM conversations c JOIN conv_messages m USING (seq)"
    ).fetchall()
    for body, blob in rows:
        conv = json.loads(body)
        if conv["conversation_id"] not in hostile:
            out.append((conv, json.loads(decode_extra(blob))["messages"]))
    return out


def test_demo_texts_of_a_conversation_tell_one_story(demo_db):
    with demo_conn(demo_db) as conn:
        convs = conversations(conn)
    assert len(convs) > 4000
    vat = [c for c, _ in convs if "VAT" in c["first_user_message"] and c["summary"]]
    assert vat and all("VAT" in c["summary"] and "VAT" in c["user_intent"] for c in vat)
    fit = [m for c, m in convs if "doesn't fit" in c["first_user_message"]]
    assert fit and not any("damage" in x["content"].lower() for m in fit for x in m)
    for conv, messages in convs:
        sentiment, shift = conv["sentiment_label"], conv["sentiment_shift"]
        assert (sentiment, shift) not in (("negative", "improved"), ("positive", "degraded"))
        users = [m["content"] for m in messages if m["role"] == "user"]
        reason = conv.get("handoff_reason")
        if reason == "frustration":
            assert sentiment == "negative" and any("annoyed" in u or "harto" in u for u in users)
        if reason == "user_request":
            assert any("person" in u for u in users), users
        for message in messages:
            if message["content"] == "Yes all good now, thanks!":
                assert conv["deflection_quality"] in (None, "resolved")


def test_demo_ratings_agree_with_their_conversation(demo_db):
    with demo_conn(demo_db) as conn:
        rows = conn.execute(
            "SELECT r.rating, r.remark, c.sentiment, c.intent FROM csat_ratings r "
            "JOIN conversations c USING (seq)"
        ).fetchall()
    assert rows
    for rating, remark, sentiment, intent in rows:
        assert not (sentiment == "negative" and rating == 5)
        assert not (sentiment == "positive" and rating <= 2)
        assert not (remark and "refund" in remark.lower() and intent != "refund")


def test_demo_now_is_never_in_the_future(tmp_path):
    from api.demo import demo_now, resolve_anchor
    from api.demo.generate import ensure_demo_db, resolve_params
    from api.demo.store import Store

    now = datetime(2026, 6, 15, 14, 30, tzinfo=UTC)
    assert resolve_params(env={}, now=now)[2] == "2026-06-15T14"  # today: up to this hour
    assert resolve_anchor("2026-06-15", now) == "2026-06-15T14"
    assert resolve_anchor("2026-06-14", now) == "2026-06-14"  # a past day: all of it
    assert demo_now(None, now) == datetime(2026, 6, 15, 14, tzinfo=UTC)
    path = ensure_demo_db(size=600, seed=3, anchor="2026-06-15T14", cache_dir=tmp_path)
    cut = datetime(2026, 6, 15, 14, tzinfo=UTC).timestamp()
    with sqlite3.connect(path) as conn:
        for table, column in (
            ("conversations", "last_ts"),
            ("resource_events", "ts"),
            ("csat_ratings", "ts"),
            ("conversion_events", "created_ts"),
        ):
            assert conn.execute(f"SELECT max({column}) FROM {table}").fetchone()[0] < cut, table
        today = conn.execute(
            "SELECT count(*) FROM conversations WHERE first_ts >= ?", (cut - 14 * 3600,)
        ).fetchone()[0]
    assert today > 0  # the anchor day has its conversations so far
    assert Store(path).now == datetime(2026, 6, 15, 14, tzinfo=UTC)


async def test_the_app_clock_on_the_demo_is_not_ahead_of_the_wall_clock(tmp_path):
    from api.config import load_settings
    from tui.app import StudioApp

    settings = load_settings().replace(cache_dir=tmp_path, demo_anchor=None)
    wall = datetime.now(UTC)
    app = StudioApp(settings, client_factory=lambda: None)
    assert wall - timedelta(hours=1) <= app.now() <= datetime.now(UTC)
    today = wall.date().isoformat()
    pinned = StudioApp(settings.replace(demo_anchor=today), client_factory=lambda: None)
    assert pinned.now() <= datetime.now(UTC)


async def test_a_missing_value_is_never_drawn_as_a_zero_bar(demo_db):
    app = HarnessApp(demo_client(demo_db), ConversionsScreen)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.paint_funnel(
            [
                {
                    "base_id": "a",
                    "assistant": "A",
                    "eligible": 10,
                    "converting": 1,
                    "rate": 10.0,
                    "value": 5.0,
                },
                {
                    "base_id": "b",
                    "assistant": "B",
                    "eligible": 0,
                    "converting": 0,
                    "rate": None,
                    "value": 0.0,
                },
            ]
        )
        await pilot.pause()
        bars = screen.query_one("#funnel-chart", BarChart).bars
        rows = screen.query_one("#funnel", TitledTable).rows_text()
    assert [b.key for b in bars] == ["a"]  # B has no rate: no bar, not a 0% one
    assert rows[1][3] == "—"


def test_sparklines_leave_a_missing_day_blank():
    from api.endpoints import resources as res
    from screens.analytics.resources import sparkline_rows
    from widgets.charts import spark

    assert spark([2, None, 4]) == "▅ █"
    answer = {"s": {"total": 6, "series": [{"count": 2}, {}, {"count": 4}]}}
    rows = sparkline_rows("skill", res.sparklines("p", "skills", 14).parse(answer), {}, 14)
    assert str(rows[0][1][4]) == "2 — 4"


def test_a_newer_hour_replaces_the_database_of_an_earlier_one_unless_it_is_read(tmp_path):
    from api.demo.generate import ensure_demo_db
    from api.demo.store import Store

    first = ensure_demo_db(size=300, seed=3, anchor="2026-06-15T10", cache_dir=tmp_path)
    second = ensure_demo_db(size=300, seed=3, anchor="2026-06-15T11", cache_dir=tmp_path)
    assert not first.exists() and second.exists()  # nobody read the 10:00 one
    reader = Store(second)  # a running app reads the 11:00 one
    third = ensure_demo_db(size=300, seed=3, anchor="2026-06-15T12", cache_dir=tmp_path)
    assert second.exists() and third.exists()
    del reader
    import gc

    gc.collect()
    fourth = ensure_demo_db(size=300, seed=3, anchor="2026-06-15T13", cache_dir=tmp_path)
    assert fourth.exists() and not second.exists() and not third.exists()
    full_day = ensure_demo_db(size=300, seed=3, anchor="2026-06-14", cache_dir=tmp_path)
    assert full_day.exists()


def test_rate_and_amount_ticks_are_even_round_numbers():
    from widgets.charts import nice_ticks, tick_texts

    assert nice_ticks(100) == [0, 25, 50, 75, 100]
    assert nice_ticks(1235.51) == [0, 500, 1000, 1500]
    assert tick_texts(nice_ticks(0.9)) == ["0.00", "0.25", "0.50", "0.75", "1.00"]
    assert tick_texts([0, 2.5, 5]) == ["0.0", "2.5", "5.0"]
    for top in (0.013, 7, 38.1, 99.9, 1e6 + 1):
        ticks = nice_ticks(top)
        steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
        assert ticks[0] == 0 and ticks[-1] >= top and len(steps) == 1 and 3 <= len(ticks) <= 6
