"""Unit tests of the analytics helpers: no app, no demo."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.errors import StudioError
from api.query import ConversationQuery
from screens.analytics.base import resource_dates
from screens.analytics.conversions import funnel_rows, heartbeat_warning
from screens.analytics.csat import rating_bars, top_tags
from screens.analytics.fmt import buckets, latest_playbooks, num, rate
from screens.analytics.resources import failures_first, item_titles, sparkline_rows
from screens.analytics.signals import distribution_bars
from widgets.charts import Series, fill_gaps, plain, spark


def test_fill_gaps_days_hours_and_rates():
    dates, (count, pct) = fill_gaps(
        ["2026-06-01", "2026-06-03"], [Series("n", [4, 2]), Series("r", [50.0, 25.0], total=False)]
    )
    assert dates == ["2026-06-01", "2026-06-02", "2026-06-03"]
    assert list(count.values) == [4, 0, 2]  # a day without events is a real zero
    assert list(pct.values) == [50.0, None, 25.0]  # a rate over nothing is missing
    dates, (hourly,) = fill_gaps(["2026-06-15 22:00", "2026-06-16 00:00"], [Series("n", [1, 3])])
    assert dates == ["2026-06-15 22:00", "2026-06-15 23:00", "2026-06-16 00:00"]
    assert list(hourly.values) == [1, 0, 3]
    untouched = (["b", "a"], [Series("n", [1, 2])])
    assert fill_gaps(*untouched) == untouched
    assert fill_gaps(["2026-06-02", "2026-06-01"], [Series("n", [1, 2])])[0] == [
        "2026-06-02",
        "2026-06-01",
    ]  # out of order: left as sent


def test_buckets_keep_the_hour_of_hourly_series():
    data = {
        "time_granularity": "hour",
        "time_series": [
            {"timestamp": "2026-06-15T23:00:00Z"},
            {"timestamp": "2026-06-16T00:00:00Z"},
        ],
    }
    assert buckets(data, "timestamp") == ["2026-06-15 23:00", "2026-06-16 00:00"]
    assert buckets({"time_series": [{"date": "2026-06-15"}, "junk"]}) == ["2026-06-15"]


def test_readers_tolerate_odd_values():
    assert num({"a": True}, "a") is None and num({"a": "3"}, "a") is None
    assert num({"a": float("nan")}, "a") is None and num([], "a") is None
    assert rate({"r": 0.0, "n": 0}, "r", "n") is None
    assert rate({"r": 12.5, "n": 8}, "r", "n") == 12.5


def test_plain_strips_escapes_and_never_parses_markup():
    text = plain("\x1b[2J[red]boom[/red]\x07")
    assert text.plain == "[red]boom[/red]" and not text.spans
    assert plain(None).plain == "—"
    assert spark([0, 5, 10]) == "▁▅█" and spark([]) == "" and spark([0, 0]) == "▁▁"


def test_distribution_keeps_unknown_labels_and_percent_of_scored():
    bars = distribution_bars(
        {"negative": 2, "positive": 6, "furious": 2, "neutral": "x"}, "sentiment", 10
    )
    assert [(b.key, b.value, b.pct) for b in bars] == [
        ("positive", 6, 60.0),
        ("negative", 2, 20.0),
        ("furious", 2, 20.0),
    ]
    assert distribution_bars(None, "sentiment", 10) is None
    assert distribution_bars({"low": 1}, "recontact_risk", 0)[0].pct is None


def test_heartbeat_is_judged_against_the_window_end():
    definition = {"name": "Venta", "last_event_at": "2026-06-10T12:00:00Z"}
    now = datetime(2026, 6, 16, tzinfo=UTC)
    warning = heartbeat_warning(definition, "2026-06-16T00:00:00Z", now)
    assert warning and "5.5 days" in warning and "likely broken" in warning
    assert heartbeat_warning(definition, "2026-06-11T00:00:00Z", now) is None  # old window
    assert (
        heartbeat_warning({**definition, "last_event_at": "2026-06-15T20:00:00Z"}, None, now)
        is None
    )
    assert "ever ingested" in heartbeat_warning({"name": "X", "last_event_at": None}, None, now)


def test_resource_dates_are_inclusive_days():
    q = ConversationQuery.build(start_date="2026-05-17T00:00:00Z", end_date="2026-06-16T00:00:00Z")
    assert resource_dates(q) == {"start_date": "2026-05-17", "end_date": "2026-06-15"}
    q = ConversationQuery.build(
        start_date="2026-05-17T10:00:00-03:00", end_date="2026-06-15T22:30:00-03:00"
    )
    assert resource_dates(q) == {"start_date": "2026-05-17", "end_date": "2026-06-16"}
    assert resource_dates(ConversationQuery()) == {}


def test_csat_helpers():
    bars = rating_bars({"total_rated": 4, "rating_distribution": {"5": 3, "1": 1}})
    assert [(b.label, b.value, b.pct) for b in bars] == [
        ("5★", 3, 75.0),
        ("4★", 0, 0.0),
        ("3★", 0, 0.0),
        ("2★", 0, 0.0),
        ("1★", 1, 25.0),
    ]
    assert top_tags([{"tags": ["a", "b"]}, {"tags": ["a"]}, {"tags": None}]) == [("a", 2), ("b", 1)]


def test_funnel_skips_unconfigured_and_sorts_by_rate():
    rows = funnel_rows(
        [
            (
                "b1",
                "One",
                {
                    "is_configured": True,
                    "eligible_conversations": 10,
                    "converting_conversations": 1,
                    "conversion_rate_pct": 10.0,
                },
            ),
            (
                "b2",
                "Two",
                {"is_configured": True, "eligible_conversations": 0, "conversion_rate_pct": 0.0},
            ),
            ("b3", "Three", {"is_configured": False}),
            (
                "b4",
                "Four",
                {"is_configured": True, "eligible_conversations": 5, "conversion_rate_pct": 40.0},
            ),
        ]
    )
    assert [(r["assistant"], r["rate"]) for r in rows] == [
        ("Four", 40.0),
        ("One", 10.0),
        ("Two", None),
    ]
    assert latest_playbooks(
        [
            {"base_id": "b", "name": "v1", "version_number": 1},
            {"base_id": "b", "name": "v2", "version_number": 2},
            "junk",
        ]
    ) == [("b", "v2")]


def test_resource_helpers():
    recent = [
        {"success": True, "created_at": "2"},
        {"success": False, "created_at": "1"},
        {"success": False, "created_at": "3"},
    ]
    assert [r["created_at"] for r in failures_first(recent)] == ["3", "1", "2"]
    kb = {"intercom_items": [{"id": "1", "title": "Refunds"}], "faq_items": [{"q": "?"}]}
    assert item_titles(kb) == {"1": "Refunds"}
    rows = sparkline_rows(
        "skill", {"s1": {"total": 3, "series": [{"count": 1}, {"count": 2}]}, "bad": "x"}, {}, 14
    )
    assert [str(c) for c in rows[0][1]] == ["skill", "s1", "3", "▅█", "1 2"]


ESCAPES = "\x1b[31mR\x1b[0m\x1b]52;c;AAAA\x1b\\\x1b[2J\x07"


def test_api_text_read_by_fmt_is_sanitized():
    """One reader for every label, title, caption and message: no escape sequence gets out."""
    from screens.analytics.fmt import day, text, when

    assert text({"name": f"[/]{ESCAPES}x"}, "name") == "[/]Rx"  # brackets kept: not markup
    assert text({"n": 5}, "n") == "5" and text({"n": None}, "n") is None
    assert day(f"2026-06-15{ESCAPES}") == "2026-06-15R"
    assert when(f"2026-06-15T10:00{ESCAPES}") == "2026-06-15 10:00"
    data = {"time_series": [{"date": f"2026-06-1{ESCAPES}"}], "time_granularity": "day"}
    assert buckets(data) == ["2026-06-1R"]


def test_seg_quotes_an_id_as_one_path_segment():
    from screens.analytics.fmt import seg

    assert seg("a/../b c?d#e%") == "a%2F..%2Fb%20c%3Fd%23e%25"
    assert seg("d94d27b9-4c1e") == "d94d27b9-4c1e"
    for bad in (None, "", " ", ".", ".."):
        with pytest.raises(StudioError):
            seg(bad)


def test_every_analytics_notification_is_plain_text():
    """notify() parses markup by default: every call in screens/analytics says markup=False."""
    import ast
    from pathlib import Path

    root = Path(__file__).parent.parent / "screens" / "analytics"
    calls = [
        (path.name, node.lineno, node)
        for path in sorted(root.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "notify"
    ]
    assert len(calls) >= 10
    for name, line, call in calls:
        markup = [k.value for k in call.keywords if k.arg == "markup"]
        assert len(markup) == 1 and isinstance(markup[0], ast.Constant), f"{name}:{line}"
        assert markup[0].value is False, f"{name}:{line}"
