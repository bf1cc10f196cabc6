"""Unit tests of the analytics helpers: no app, no demo."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api import models as m
from api.endpoints import configuration
from api.endpoints import resources as res
from api.endpoints.resources import item_titles, resource_dates
from api.errors import StudioError
from api.query import ConversationQuery
from screens.analytics.conversions import funnel_rows, heartbeat_warning
from screens.analytics.csat import rating_bars, top_tags
from screens.analytics.fmt import bucket_labels, finite, ratio
from screens.analytics.resources import failures_first, sparkline_rows
from screens.analytics.signals import distribution, distribution_bars, distribution_total
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
    typed = m.ConversationAnalytics.model_validate(data)
    labels = bucket_labels((b.label for b in typed.time_series), typed.time_granularity)
    assert labels == ["2026-06-15 23:00", "2026-06-16 00:00"]
    daily = m.CsatAnalytics.model_validate({"time_series": [{"date": "2026-06-15"}, "junk"]})
    assert bucket_labels((b.date for b in daily.time_series), None) == ["2026-06-15"]


def test_readers_tolerate_odd_values():
    assert ratio(0.0, 0) is None and ratio(12.5, 8) == 12.5
    odd = m.ConversationAnalytics.model_validate(
        {"deflection_rate": float("nan"), "total_conversations": "x", "total_messages": 3}
    )
    assert finite(odd.deflection_rate) is None and finite(float("inf")) is None
    assert ratio(12.5, odd.total_conversations) is None and ratio(0.0, 0) is None
    assert ratio(12.5, 8) == 12.5 and ratio(odd.deflection_rate, 8) is None


def test_plain_strips_escapes_and_never_parses_markup():
    text = plain("\x1b[2J[red]boom[/red]\x07")
    assert text.plain == "[red]boom[/red]" and not text.spans
    assert plain(None).plain == "—"
    assert spark([0, 5, 10]) == "▁▅█" and spark([]) == "" and spark([0, 0]) == "▁▁"


def test_distribution_keeps_unknown_labels_and_percent_of_scored():
    agg = m.AggregateMetrics.model_validate(
        {
            "sentiment_distribution": {
                "negative": 2, "positive": 6, "furious": 2, "neutral": "x", "odd": float("nan")
            },
            "recontact_risk_distribution": {"low": 1},
        }
    )
    bars = distribution_bars(distribution(agg, "sentiment_distribution"), "sentiment", 10)
    assert [(b.key, b.value, b.pct) for b in bars] == [
        ("positive", 6, 60.0),
        ("negative", 2, 20.0),
        ("furious", 2, 20.0),
    ]
    assert distribution(agg, "handoff_reason_distribution") is None  # left out: not 0
    assert distribution_total(distribution(agg, "handoff_reason_distribution")) is None
    assert distribution_total(distribution(agg, "sentiment_distribution")) == 10
    assert distribution_bars(None, "sentiment", 10) is None
    risk = distribution(agg, "recontact_risk_distribution")
    assert distribution_bars(risk, "recontact_risk", 0)[0].pct is None


def test_heartbeat_is_judged_against_the_window_end():
    definition = m.ConversionMetric(name="Venta", last_event_at="2026-06-10T12:00:00Z")
    now = datetime(2026, 6, 16, tzinfo=UTC)
    warning = heartbeat_warning(definition, "2026-06-16T00:00:00Z", now)
    assert warning and "5.5 days" in warning and "likely broken" in warning
    assert heartbeat_warning(definition, "2026-06-11T00:00:00Z", now) is None  # old window
    recent = definition.model_copy(update={"last_event_at": "2026-06-15T20:00:00Z"})
    assert heartbeat_warning(recent, None, now) is None
    never = m.ConversionMetric.model_validate({"name": "X", "last_event_at": None})
    assert "ever ingested" in heartbeat_warning(never, None, now)
    junk = m.ConversionMetric.model_validate({"slug": "s", "last_event_at": 12})
    assert heartbeat_warning(junk, None, now).startswith("⚠ s: no event was ever ingested")


def test_resource_dates_are_inclusive_days():
    q = ConversationQuery.build(start_date="2026-05-17T00:00:00Z", end_date="2026-06-16T00:00:00Z")
    assert resource_dates(q) == {"start_date": "2026-05-17", "end_date": "2026-06-15"}
    q = ConversationQuery.build(
        start_date="2026-05-17T10:00:00-03:00", end_date="2026-06-15T22:30:00-03:00"
    )
    assert resource_dates(q) == {"start_date": "2026-05-17", "end_date": "2026-06-16"}
    assert resource_dates(ConversationQuery()) == {}


def test_csat_helpers():
    data = {"total_rated": 4, "rating_distribution": {"5": 3, "1": 1, "4": float("nan")}}
    bars = rating_bars(m.CsatAnalytics.model_validate(data))
    assert [(b.label, b.value, b.pct) for b in bars] == [
        ("5★", 3, 75.0),
        ("4★", 0, 0.0),
        ("3★", 0, 0.0),
        ("2★", 0, 0.0),
        ("1★", 1, 25.0),
    ]
    assert rating_bars(m.CsatAnalytics(total_rated=4)) is None  # no distribution: not 0s
    ratings = m.CsatAnalytics.model_validate(
        {"ratings": [{"tags": ["a", "b"]}, {"tags": ["a"]}, {"tags": None}, "junk"]}
    ).ratings
    assert top_tags(ratings) == [("a", 2), ("b", 1)]


def test_funnel_skips_unconfigured_and_sorts_by_rate():
    answers = [
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
    rows = funnel_rows(
        (base, name, m.ConversionAnalytics.model_validate(data)) for base, name, data in answers
    )
    assert [(r["assistant"], r["rate"]) for r in rows] == [
        ("Four", 40.0),
        ("One", 10.0),
        ("Two", None),
    ]
    # the funnel's assistants: one per base id, named by its newest version
    playbooks = configuration.playbooks("p").parse(
        [
            {"base_id": "b", "name": "v1", "version_number": 1},
            {"base_id": "b", "name": "v2", "version_number": 2},
            "junk",
        ]
    )
    latest = configuration.latest_versions(playbooks)
    assert [(base, pb.name) for base, pb in latest.items()] == [("b", "v2")]


def test_resource_helpers():
    recent = [
        m.ResourceEvent.model_validate(r)
        for r in (
            {"success": True, "created_at": "2"},
            {"success": False, "created_at": "1"},
            {"success": False, "created_at": "3"},
        )
    ]
    assert [r.created_at for r in failures_first(recent)] == ["3", "1", "2"]
    kb = {
        "intercom_items": [{"id": "1", "title": "Refunds"}],
        "faq_items": [{"q": "?"}],
        "file_items": [{"item_id": 7, "title": "Manual"}, "junk", {"id": "8"}],  # undeclared
    }
    assert item_titles(res.knowledgebase("k").parse(kb)) == {"1": "Refunds", "7": "Manual"}
    answer = {"s1": {"total": 3, "series": [{"count": 1}, {"count": 2}]}, "bad": "x"}
    data = res.sparklines("p", "skills", 14).parse(answer)
    assert list(data) == ["s1"]  # an entry that is not an object is skipped
    rows = sparkline_rows("skill", data, {}, 14)
    assert [str(c) for c in rows[0][1]] == ["skill", "s1", "3", "▅█", "1 2"]
    with pytest.raises(StudioError):  # an answer that is not an object at all
        res.sparklines("p", "skills", 14).parse(["s1"])
    # the names alone (the skill filter's choices): the same request, the same entries kept
    names = res.sparkline_names("p", "skills", 14)
    assert (names.path, names.params) == (res.sparklines("p", "skills", 14).path,
                                          res.sparklines("p", "skills", 14).params)
    assert names.parse(answer) == ["s1"] and names.parse(None) == []
    with pytest.raises(StudioError):
        names.parse(["s1"])


ESCAPES = "\x1b[31mR\x1b[0m\x1b]52;c;AAAA\x1b\\\x1b[2J\x07"


def test_configuration_and_eval_helpers_read_models():
    from api.endpoints import evals
    from screens.analytics.configuration import kb_rows, version_label
    from screens.analytics.evals import case_rows, result_detail, run_rows

    versions = configuration.versions_by_assistant(
        configuration.playbooks("p", versions=True).parse(
            [{"base_id": "b", "name": "A", "version_number": n} for n in (1, 3, 2)]
            + [{"id": "solo", "name": "S"}, {"name": "no id"}, "junk"]
        )
    )
    assert {b: [v.version_number for v in vs] for b, vs in versions.items()} == {
        "b": [3, 2, 1],  # newest first
        "solo": [None],  # no base id: its own id
    }
    assert version_label(m.Playbook(name="\x1b[2Jx", version_number=2)) == "x v2"
    kbs = [m.KnowledgeBase(id="k", kb_type="FAQ", title="t", status="edited"), m.KnowledgeBase()]
    assert [str(cells[3]) for _, cells in kb_rows(kbs)] == ["", "⚠ needs retraining"]
    cases = evals.eval_cases("b").parse(
        [{"is_enabled": False, "enabled": True}, {"enabled": False}, {"assertions": ["a", "b"]}]
    )
    assert [[str(c) for c in cells[1:4]] for _, cells in case_rows(cases)] == [
        ["no", "—", "0"], ["no", "—", "0"], ["yes", "—", "2"]
    ]
    page = evals.eval_runs("b").parse(
        {"items": [{"id": "r", "playbook_version": 2.6, "error_cases": 1}], "total": "7"}
    )
    assert page.total == 7 and [str(c) for c in run_rows(page.items)[0][1][2:7:4]] == ["v3", "1"]
    result = m.EvalResult.model_validate(
        {"case_id": "c1", "assertion_results": [{"criteria": "[b]x\x1b[31m", "passed": True},
                                                {"verdict": "ambiguous", "explanation": "e"}]}
    )
    assert result_detail(result).plain == "c1\n✓ passed: [b]x\n~ ambiguous: — — e"
    with pytest.raises(StudioError):
        evals.eval_runs("b").parse([1])  # not an object at all


def test_configuration_and_eval_endpoints_quote_ids():
    from api.endpoints import evals

    assert configuration.playbook_active("a/b").path == "/playbooks/a%2Fb/active"
    assert configuration.playbook_active_history("x").path == "/playbooks/x/active/history"
    assert configuration.playbook_settings("v?1").path == "/playbooks/v%3F1/settings"
    assert configuration.schedule("p 1").path == "/projects/p%201/schedule"
    with pytest.raises(StudioError):
        evals.eval_cases("..")  # would change the path
    runs = evals.eval_runs("b#", page=2, page_size=10)
    assert (runs.path, runs.params) == ("/playbooks/b%23/eval-runs",
                                        {"page": "2", "page_size": "10"})
    assert evals.eval_results("r/1").path == "/eval-runs/r%2F1/results"


def test_api_text_read_by_fmt_is_sanitized():
    """One reader for every label, title, caption and message: no escape sequence gets out."""
    from screens.analytics.fmt import clean, day, when

    assert clean(f"[/]{ESCAPES}x") == "[/]Rx"  # brackets kept: not markup
    assert clean(None) is None
    assert day(f"2026-06-15{ESCAPES}") == "2026-06-15R"
    assert when(f"2026-06-15T10:00{ESCAPES}") == "2026-06-15 10:00"
    assert bucket_labels([f"2026-06-1{ESCAPES}"], "day") == ["2026-06-1R"]


def test_an_id_is_quoted_as_one_path_segment():
    from api.endpoints import path

    assert path("/x/{}", "a/../b c?d#e%") == "/x/a%2F..%2Fb%20c%3Fd%23e%25"
    assert path("/x/{}", "d94d27b9-4c1e") == "/x/d94d27b9-4c1e"
    for bad in (None, "", " ", ".", ".."):
        with pytest.raises(StudioError):
            path("/x/{}", bad)


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
