"""`studio-tui impact ASSISTANT` (issue 14, api/impact.py): every deployment's windows and counts
recomputed by brute force over the demo's stored conversations, ratings and active-version
history; windows clipped at the neighbouring deployments and at now; an unknown assistant."""
from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from test_compare import _ts, expected_metrics, stored_rows

from api.demo import demo_info
from api.impact import Activation, deployment_windows
from api.stats import diff_p_value, holm, newcombe_diff
from tui.cli import main

SUPPORT = "Support Assistant"  # the name of versions 1-4; version 5 is "... (EN/ES)"


@pytest.fixture
def run(demo_db):
    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stored_history(demo_db, name: str) -> tuple[str, list[tuple[int, int]]]:
    """(base id, [(activated ts, version)] oldest first) of the assistant of that name."""
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        base = conn.execute("SELECT parent_id FROM docs WHERE kind = 'playbook' AND "
                            "json_extract(body, '$.name') = ?", (name,)).fetchone()[0]
        body = conn.execute("SELECT body FROM docs WHERE kind = 'playbook_active_history' "
                            "AND id = ?", (base,)).fetchone()[0]
    finally:
        conn.close()
    items = json.loads(body)["items"]
    return base, sorted((_ts(i["activated_at"]), i["version_number"]) for i in items)


def stored_csat(demo_db, base: str, start: int, end: int) -> tuple[int, int]:
    """(ratings of 4 or 5, ratings) of the assistant's conversations whose last message is in
    [start, end]."""
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT coalesce(sum(r.rating >= 4), 0), count(*) FROM csat_ratings r "
            "JOIN conversations c ON c.seq = r.seq WHERE c.project_id = ? "
            "AND c.last_ts BETWEEN ? AND ? AND c.seq IN "
            "(SELECT seq FROM conv_playbooks WHERE playbook_base_id = ?)",
            (demo_info(demo_db).project_id, start, end, base)).fetchone()
    finally:
        conn.close()


def expected_windows(history: list[tuple[int, int]], days: int, now: int):
    """[(before start, before end), (after start, after end)] of each deployment, from the
    rule: N days either side, before not past the previous deployment, after a second short
    of the next one and not past now."""
    span = days * 86400
    out = []
    for i, (at, _) in enumerate(history):
        before = (max(at - span, history[i - 1][0] if i else at - span), min(at - 1, now))
        after_end = min(at + span, history[i + 1][0] - 1 if i + 1 < len(history) else at + span,
                        now)
        out.append((before, (at, after_end)))
    return out


def check_metric(metric: dict, before: tuple[int, int], after: tuple[int, int]) -> None:
    got = [(metric[s]["count"], metric[s]["base"]) for s in ("a", "b")]
    assert got == [before, after], metric["metric"]
    (ca, na), (cb, nb) = before, after
    if na and nb:
        diff = newcombe_diff(cb, nb, ca, na)  # after - before
        assert metric["delta_pp"] == pytest.approx(100 * (cb / nb - ca / na), abs=0.006)
        assert metric["ci95_pp"] == pytest.approx([100 * diff.low, 100 * diff.high], abs=0.006)
        assert metric["significant"] == diff.significant
    else:
        assert metric["delta_pp"] is None and metric["ci95_pp"] is None


def test_every_deployment_matches_the_stored_conversations(run, demo_db):
    base, history = stored_history(demo_db, SUPPORT)
    result = run("impact", SUPPORT, "--days", 7, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    now = _ts(demo_now_text())
    windows = expected_windows(history, 7, now)
    assert [(d["version"], _ts(d["deployed_at"])) for d in data] == \
        [(v, at) for at, v in history]
    rows = [r for r in stored_rows(demo_db) if base in r.bases]
    checked = 0
    for deployment, (before, after) in zip(data, windows, strict=True):
        assert list(deployment)[:5] == ["version", "deployed_at", "before", "after", "metrics"]
        assert deployment["before"] == {"start": _iso(before[0]), "end": _iso(before[1])}
        assert deployment["after"] == {"start": _iso(after[0]), "end": _iso(after[1])}
        sides = [[r for r in rows if lo <= r.ts <= hi] for lo, hi in (before, after)]
        assert deployment["conversations"] == {"before": len(sides[0]),
                                               "after": len(sides[1])}
        want = [expected_metrics(side) for side in sides]
        metrics = {m["metric"]: m for m in deployment["metrics"]}
        assert list(metrics) == [*want[0], "csat:positive"]
        for name in want[0]:
            check_metric(metrics[name], want[0][name], want[1][name])
        check_metric(metrics["csat:positive"], stored_csat(demo_db, base, *before),
                     stored_csat(demo_db, base, *after))
        p_values = [diff_p_value(m["b"]["count"], m["b"]["base"], m["a"]["count"],
                                 m["a"]["base"])
                    for m in deployment["metrics"] if m["delta_pp"] is not None]
        assert deployment["multiple_comparisons"] == {  # Holm over them all, CSAT included
            "method": "holm", "tested": len(p_values),
            "significant_after": sum(p < 0.05 for p in holm(p_values))}
        checked += bool(sides[0] and sides[1])
    assert checked >= 3  # deployments with conversations on both sides were compared


def test_windows_are_clipped_at_the_neighbouring_deployments(run, demo_db):
    """Support's rollback: v3 again for 36 hours, then v5. With 7 days, v3's after window ends
    a second before v5 and v5's before window starts at v3; with 1 day neither is clipped."""
    _, history = stored_history(demo_db, SUPPORT)
    (rollback, v3), (last, v5) = history[-2:]
    assert (v3, v5) == (3, 5) and last - rollback < 2 * 86400
    data = json.loads(run("impact", SUPPORT, "--format", "json").stdout)
    back, final = data[-2:]
    assert back["after"]["end"] == _iso(last - 1)
    assert back["clipped"]["after"] == f"until the next deployment, v5 at {_iso(last)}"
    assert final["before"]["start"] == _iso(rollback)
    assert final["clipped"]["before"].startswith("from the previous deployment, v3 at")
    table = run("impact", SUPPORT).stdout.splitlines()
    assert f"    clipped until the next deployment, v5 at {_iso(last)}" in table
    assert max(len(line) for line in table) <= 80
    assert any(line.startswith("handoff_reason:frustration") for line in table)
    data = json.loads(run("impact", SUPPORT, "--days", 1, "--format", "json").stdout)
    back, final = data[-2:]
    assert back["after"]["end"] == _iso(rollback + 86400)
    assert final["before"]["start"] == _iso(last - 86400)
    assert back["clipped"] == final["clipped"] == {"before": None, "after": None}


def test_windows_stop_at_now():
    def at(day: int) -> Activation:
        return Activation(datetime(2026, 6, day, 12, tzinfo=UTC), day, None)

    now = datetime(2026, 6, 13, tzinfo=UTC)
    (b1, a1), (b2, a2), (b3, a3) = deployment_windows([at(1), at(10), at(14)], 7, now)
    assert (b1.start, b1.end, b1.clipped) == ("2026-05-25T12:00:00Z", "2026-06-01T11:59:59Z",
                                              None)
    assert (a1.end, b2.start) == ("2026-06-08T12:00:00Z", "2026-06-03T12:00:00Z")
    assert (a2.start, a2.end, a2.clipped) == ("2026-06-10T12:00:00Z", "2026-06-13T00:00:00Z",
                                              "until now")
    assert b3 is not None and b3.end == "2026-06-13T00:00:00Z"  # it ends now, not at day 14
    assert b3.clipped == "from the previous deployment, v10 at 2026-06-10T12:00:00Z"
    assert a3 is None  # a deployment after now has no after yet


def test_an_assistant_by_base_id_and_the_newest_name(run, demo_db):
    base, history = stored_history(demo_db, SUPPORT)
    by_id = run("impact", base, "--format", "json")
    by_name = run("impact", "support assistant (en/es)", "--format", "json")
    assert by_id.exit_code == by_name.exit_code == 0, by_id.stderr
    assert json.loads(by_id.stdout) == json.loads(by_name.stdout)
    assert len(json.loads(by_id.stdout)) == len(history)


def test_an_unknown_assistant_lists_the_known_ones(run):
    result = run("impact", "Suport Assistant")
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "DEMO" in lines[0]  # the demo notice, then the error
    assert lines[1].startswith("studio-tui: error: unknown assistant 'Suport Assistant'; "
                               "known: ")
    assert "Billing Assistant (" in lines[1] and "Support Assistant (EN/ES) (" in lines[1]


def test_days_out_of_range_is_bad_input(run):
    result = run("impact", SUPPORT, "--days", 0)
    assert result.exit_code == 2
    assert "--days" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def demo_now_text() -> str:
    from conftest import DEMO_ANCHOR

    from api.demo.anchor import demo_now

    return demo_now(DEMO_ANCHOR).strftime("%Y-%m-%dT%H:%M:%SZ")
