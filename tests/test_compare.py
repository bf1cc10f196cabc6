"""`studio-tui compare A B` (issue 14, api/compare.py): every count recomputed by brute force
over the demo's stored conversations, the JSON's exact shape, one limit=1 request per count
all in flight at once, and the errors a user can cause."""
from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from app_support import RecordingTransport
from click.testing import CliRunner

from api.demo import demo_info
from api.stats import newcombe_diff
from tui.cli import main

START, END = "2026-05-17T00:00:00Z", "2026-06-16T00:00:00Z"  # the demo's 30d window (views)
NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)  # within the pinned demo's last day
HISTORY = "2026-02-01T00:00:00Z"  # before the demo's first conversation: every version
LABELS = {
    "sentiment": ("negative", "neutral", "positive"),
    "resources": ("irrelevant", "partial", "relevant"),
    "sentiment_shift": ("improved", "stable", "degraded"),
    "deflection_quality": ("resolved", "partial", "actioned", "no_response"),
    "handoff_reason": ("policy", "user_request", "frustration", "bot_limitation"),
    "recontact_risk": ("low", "medium", "high"),
}
SCORED_BASE = ("sentiment", "sentiment_shift", "recontact_risk")


@pytest.fixture
def run(demo_db):
    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def one_error(result) -> str:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


# ------------------------------------------------------------------ brute force
@dataclass
class Row:
    ts: int
    handoff: bool
    scored: bool
    messages: int
    labels: dict
    tags: set
    versions: set
    bases: set


def _ts(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def stored_rows(demo_db) -> list[Row]:
    project = demo_info(demo_db).project_id
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        tags: dict[int, set] = {}
        for tag, seq in conn.execute("SELECT tag, seq FROM conv_tags"):
            tags.setdefault(seq, set()).add(tag)
        versions: dict[int, set] = {}
        bases: dict[int, set] = {}
        for version, base, seq in conn.execute(
                "SELECT playbook_id, playbook_base_id, seq FROM conv_playbooks"):
            versions.setdefault(seq, set()).add(version)
            bases.setdefault(seq, set()).add(base)
        names = ", ".join(LABELS)
        return [
            Row(ts, bool(handoff), bool(scored), count, dict(zip(LABELS, values, strict=True)),
                tags.get(seq, set()), versions.get(seq, set()), bases.get(seq, set()))
            for seq, ts, handoff, scored, count, *values in conn.execute(
                f"SELECT seq, last_ts, has_handoff, scored, message_count, {names} "
                "FROM conversations WHERE project_id = ?", (project,))
        ]
    finally:
        conn.close()


def in_cohort(row: Row, cohort: dict) -> bool:
    """``cohort``: {"since", "until", "version", "tags", "handoff", <label field>: set}."""
    return all([
        _ts(cohort["since"]) <= row.ts <= _ts(cohort["until"]),
        "version" not in cohort or cohort["version"] in row.versions,
        "tags" not in cohort or cohort["tags"] <= row.tags,
        "handoff" not in cohort or row.handoff == cohort["handoff"],
        *(row.labels[f] in cohort[f] for f in LABELS if f in cohort),
    ])


def expected_metrics(rows: list[Row]) -> dict[str, tuple[int, int]]:
    """metric -> (count, base), with the bases written out from the issue and the Quality
    signals screen: scored; scored with tool use; scored AI-resolved; scored handoffs."""
    out = {"deflection rate": (sum(not r.handoff for r in rows), len(rows))}
    scored = [r for r in rows if r.scored]
    bases = {
        "resources": [r for r in scored if r.labels["resources"] is not None],
        "deflection_quality": [r for r in scored if not r.handoff
                               and r.labels["deflection_quality"] is not None],
        "handoff_reason": [r for r in scored if r.handoff
                           and r.labels["handoff_reason"] is not None],
    }
    for field, values in LABELS.items():
        base = scored if field in SCORED_BASE else bases[field]
        for value in values:
            out[f"{field}:{value}"] = (sum(r.labels[field] == value for r in base), len(base))
    return out


def check_against(data: dict, rows: list[Row], cohort_a: dict, cohort_b: dict) -> None:
    a = [r for r in rows if in_cohort(r, cohort_a)]
    b = [r for r in rows if in_cohort(r, cohort_b)]
    assert a and b
    assert (data["a"]["conversations"], data["b"]["conversations"]) == (len(a), len(b))
    want_a, want_b = expected_metrics(a), expected_metrics(b)
    assert [m["metric"] for m in data["metrics"]] == list(want_a)
    for metric in data["metrics"]:
        name = metric["metric"]
        got = [(metric[s]["count"], metric[s]["base"]) for s in ("a", "b")]
        assert got == [want_a[name], want_b[name]], name
        (ca, na), (cb, nb) = want_a[name], want_b[name]
        if na and nb:
            assert metric["a"]["pct"] == round(100 * ca / na, 2)
            assert metric["delta_pp"] == pytest.approx(100 * (cb / nb - ca / na), abs=0.006)
            low, high = metric["ci95_pp"]
            assert low <= metric["delta_pp"] <= high
            diff = newcombe_diff(cb, nb, ca, na)
            assert [low, high] == pytest.approx([100 * diff.low, 100 * diff.high], abs=0.006)
            assert metric["significant"] == (low > 0 or high < 0)
        else:
            assert metric["delta_pp"] is None and metric["ci95_pp"] is None
            assert metric["significant"] is False


def two_versions(rows: list[Row], demo_db) -> tuple[str, str]:
    """The two most used versions of one assistant."""
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        found = conn.execute(
            "SELECT p.playbook_base_id, p.playbook_id, count(*) FROM conv_playbooks p "
            "JOIN conversations c ON c.seq = p.seq WHERE c.project_id = ? "
            "AND c.last_ts BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY 3 DESC",
            (demo_info(demo_db).project_id, _ts(HISTORY), _ts(END))).fetchall()
    finally:
        conn.close()
    first = found[0]
    second = next(row for row in found[1:] if row[0] == first[0])
    return first[1], second[1]


def test_two_versions_match_the_stored_conversations(run, demo_db):
    rows = stored_rows(demo_db)
    v1, v2 = two_versions(rows, demo_db)
    result = run("compare", f"playbook:{v1}", f"playbook:{v2}", "--start", HISTORY,
                 "--end", END, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    check_against(data, rows, {"since": HISTORY, "until": END, "version": v1},
                  {"since": HISTORY, "until": END, "version": v2})
    # average messages from the conversation analytics, against the stored counts
    for side, version in (("a", v1), ("b", v2)):
        cohort = [r for r in rows if in_cohort(r, {"since": HISTORY, "until": END,
                                                   "version": version})]
        mean = sum(r.messages for r in cohort) / len(cohort)
        assert data["average_messages"][side] == pytest.approx(mean, abs=0.01)
    assert data["average_messages"]["source"] == "conversation analytics"


def test_a_view_and_a_query_with_overlapping_labels(run, demo_db):
    """The built-in view `frustration` (30d) against a query without dates: the view's window
    applies to both; a cohort filtering a label counts 0 of the other labels."""
    rows = stored_rows(demo_db)
    result = run("compare", "frustration", "handoff:yes sentiment:negative,neutral tags:refund",
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["window"] == {"start": START, "end": END}
    window = {"since": START, "until": END}
    check_against(data, rows, {**window, "handoff": True, "handoff_reason": {"frustration"}},
                  {**window, "handoff": True, "sentiment": {"negative", "neutral"},
                   "tags": {"refund"}})
    metrics = {m["metric"]: m for m in data["metrics"]}
    assert metrics["deflection rate"]["a"]["count"] == 0
    assert metrics["sentiment:positive"]["b"]["count"] == 0
    assert metrics["deflection_quality:resolved"]["a"]["base"] == 0
    assert data["average_messages"]["a"] is None
    assert "reason" in data["average_messages"]["note"] or "handoff" in \
        data["average_messages"]["note"]


def test_the_json_has_exactly_the_documented_keys(run, demo_db):
    result = run("compare", "negative", "handoffs", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["a", "b", "window", "metrics", "multiple_comparisons",
                          "average_messages"]
    for side in ("a", "b"):
        assert list(data[side]) == ["label", "query", "conversations"]
    assert data["a"]["label"] == "negative"
    assert data["a"]["query"].endswith("sentiment:negative")
    assert list(data["window"]) == ["start", "end"]
    assert len(data["metrics"]) == 21
    for metric in data["metrics"]:
        assert list(metric) == ["metric", "a", "b", "delta_pp", "ci95_pp", "significant"]
        assert list(metric["a"]) == list(metric["b"]) == ["count", "base", "pct"]
    note = data["multiple_comparisons"]
    assert note["method"] == "holm"
    tested = [m for m in data["metrics"] if m["delta_pp"] is not None]
    assert note["tested"] == len(tested)
    assert note["significant_after"] <= sum(m["significant"] for m in tested)


def test_the_table_fits_80_columns(run, demo_db):
    result = run("compare", "negative", "handoffs")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("handoff_reason:frustration") for line in lines)
    assert any(line.startswith("Holm over ") for line in lines)


# ------------------------------------------------------------------ requests
async def test_one_limit_1_request_per_count_all_at_once(demo_db, tmp_path):
    from api.cache import ResponseCache
    from api.client import StudioClient
    from api.compare import cohort_from, compare, count_queries, same_window
    from api.config import Secret, load_settings
    from api.demo.app import create_app

    in_flight = peak = 0

    class Slow(httpx.AsyncBaseTransport):
        """The demo app, each answer held 50 ms: requests sent one after another never
        overlap."""

        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=create_app(demo_db))

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            try:
                await asyncio.sleep(0.05)
                return await self.inner.handle_async_request(request)
            finally:
                in_flight -= 1

    info = demo_info(demo_db)
    transport = RecordingTransport(Slow())
    settings = load_settings()
    now = NOW
    a = cohort_from("frustration", tmp_path / "config.toml", now)
    b = cohort_from("handoff:yes tags:billing", tmp_path / "config.toml", now)
    wa, wb = same_window(a, b)
    wanted = len({*count_queries(wa), *count_queries(wb)})

    def client() -> StudioClient:
        return StudioClient(settings, base_url=info.base_url, project_id=info.project_id,
                            token=Secret(info.api_key), transport=transport, max_tries=1,
                            concurrency=wanted,
                            cache=ResponseCache(tmp_path / "cache"))

    async with client() as c:
        first = await compare(c, info.project_id, a, b)
    lists = transport.params_of("/conversations")
    assert len(lists) == len(transport.requests) == wanted  # no analytics: labels filtered
    assert all(params["limit"] == "1" for params in lists)
    assert len({tuple(sorted(p.items())) for p in lists}) == wanted  # each count asked once
    assert peak == wanted  # every one in flight together
    async with client() as c:  # through the cache: nothing asked again
        again = await compare(c, info.project_id, a, b)
    assert len(transport.requests) == wanted
    assert again.to_json() == first.to_json()


# ------------------------------------------------------------------ errors
def test_an_unknown_name_that_is_no_query_lists_the_views(run):
    line = one_error(run("compare", "frustratoin", "handoffs"))
    assert "A:" in line and "frustratoin" in line and "known: negative, handoffs" in line
    assert "search:frustratoin" in line  # how to mean the id search a bare word would be
    assert run("compare", "search:abc", "handoffs").exit_code == 0


def test_a_bad_query_names_its_field(run):
    line = one_error(run("compare", "handoffs", "sentiment:furious"))
    assert "B:" in line and "sentiment" in line and "furious" in line


def test_end_before_start(run):
    line = one_error(run("compare", "negative", "handoffs", "--start", "2026-06-10",
                         "--end", "2026-06-01"))
    assert "--end" in line and "--start" in line


def test_a_bad_date_names_its_flag(run):
    line = one_error(run("compare", "negative", "handoffs", "--start", "yesterday"))
    assert line.startswith("studio-tui: error: --start:")


def test_cohorts_over_different_dates_need_a_window(run):
    line = one_error(run("compare", "since:2026-06-01 handoff:yes",
                         "since:2026-06-02 handoff:yes"))
    assert "different dates" in line and "--start" in line


def test_cohorts_without_a_window_compare_over_every_date(run):
    """No dates given and none in the cohorts: every date (the counts from the list endpoint,
    which takes no dates; the aggregate metrics require them and are not asked)."""
    result = run("compare", "handoff:yes", "", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["window"] == {"start": None, "end": None}
    assert 0 < data["a"]["conversations"] < data["b"]["conversations"]


def test_ids_are_not_a_cohort(run):
    line = one_error(run("compare", "ids:abc", "handoffs"))
    assert "ids" in line


async def test_cohorts_of_dates_and_versions_take_their_signals_from_the_aggregates(
        demo_db, tmp_path):
    """Such a cohort needs two list counts (deflection) and one aggregate request, not one
    count per label; the figures are checked against the stored conversations above."""
    from api.client import StudioClient
    from api.compare import by_aggregate, cohort_from, compare
    from api.config import Secret, load_settings
    from api.demo.app import create_app

    info = demo_info(demo_db)
    transport = RecordingTransport(httpx.ASGITransport(app=create_app(demo_db)))
    a = cohort_from("since:2026-05-17 until:2026-06-16", tmp_path / "c.toml", NOW)
    b = cohort_from("since:2026-05-17 until:2026-06-16 tags:billing", tmp_path / "c.toml", NOW)
    assert by_aggregate(a.query) and by_aggregate(b.query)
    async with StudioClient(load_settings(), base_url=info.base_url,
                            project_id=info.project_id, token=Secret(info.api_key),
                            transport=transport, max_tries=1, cache=None) as client:
        result = await compare(client, info.project_id, a, b)
    paths = [r.url.path for r in transport.requests]
    assert sum(p.endswith("/conversations") for p in paths) == 4
    assert sum(p.endswith("/metrics/aggregate") for p in paths) == 2
    negative = next(m for m in result.metrics if m.name == "sentiment:negative")
    assert 0 < negative.a.count <= negative.a.base < result.conversations[0]


def test_holm_marks_only_what_survives_the_correction():
    from api.compare import ALPHA, Comparison, Metric, Side, holm_adjusted

    def metric(name, p_value):
        return Metric(name, Side(10, 100), Side(30, 100), None, None,
                      p_value is not None and p_value < ALPHA, p_value)

    metrics = (metric("a", 0.0001), metric("b", 0.03), metric("c", 0.9), metric("d", None))
    result = Comparison(None, None, (100, 100), metrics, holm_adjusted(metrics), (None, None),
                        None)
    assert result.holm_kept == (True, False, False, False)  # b: 0.03 x 3 tests is not < 0.05
    assert sum(result.holm_kept) == result.significant_after == 1
