"""`studio-tui cost` (issue 14, api/cost.py): the whole-window figures recomputed by brute force
from the demo's stored messages, a seeded sample whose intervals cover the full figures, and
conversations without cost data counted apart, never as $0."""
from __future__ import annotations

import json
import math
import random
import sqlite3
from collections import defaultdict

import pytest
from click.testing import CliRunner

from api.cost import bootstrap_ratio, conversation_cost, sample_ids, summarize
from api.demo import demo_info
from api.demo.content import decode_extra
from tui.cli import main

START, END = "2026-05-17T00:00:00Z", "2026-06-16T00:00:00Z"  # the demo's last 30 days


@pytest.fixture
def run(demo_db):
    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def _ts(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def stored(demo_db) -> list[dict]:
    """Every conversation of the demo project: id, last_ts, handoff and its assistant
    messages' (version id, name, number, cost_usd or None), from the stored rows."""
    project = demo_info(demo_db).project_id
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        out = []
        for cid, ts, handoff, body in conn.execute(
                "SELECT c.conversation_id, c.last_ts, c.has_handoff, m.body FROM conversations c "
                "JOIN conv_messages m ON m.seq = c.seq WHERE c.project_id = ?", (project,)):
            replies = [m["metadata"] for m in json.loads(decode_extra(body))["messages"]
                       if m["role"] == "assistant"]
            out.append({"id": cid, "ts": ts, "handoff": bool(handoff), "replies": [
                (r["playbook_id"], r["playbook_name"], r["playbook_version"], r.get("cost_usd"))
                for r in replies]})
        return out
    finally:
        conn.close()


def stored_models(demo_db) -> dict[str, str]:
    """Each stored playbook version's model, from the demo's stored documents."""
    conn = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    try:
        return {vid: json.loads(body)["model"] for vid, body in conn.execute(
            "SELECT id, body FROM docs WHERE kind = 'playbook'")}
    finally:
        conn.close()


def expected(rows: list[dict], models: dict[str, str] | None = None) -> dict:
    """The figures written out: a conversation counts when every assistant message has a
    cost; one with none or only some is counted apart."""
    full = [r for r in rows if all(c is not None for *_, c in r["replies"])]
    none = [r for r in rows if all(c is None for *_, c in r["replies"])]
    cost = {r["id"]: sum(c for *_, c in r["replies"]) for r in full}
    resolved = [r for r in full if not r["handoff"]]
    versions: dict[str, dict] = defaultdict(lambda: {"convs": set(), "usd": 0.0})
    by_model: dict[str, dict] = defaultdict(lambda: {"convs": set(), "usd": 0.0})
    for r in full:
        for vid, name, number, c in r["replies"]:
            versions[vid]["convs"].add(r["id"])
            versions[vid]["usd"] += c
            versions[vid]["label"] = (name, number)
            model = (models or {}).get(vid)
            by_model[model]["convs"].add(r["id"])
            by_model[model]["usd"] += c
    return {
        "in_window": len(rows),
        "with": len(full), "without": len(none), "partial": len(rows) - len(full) - len(none),
        "total": sum(cost.values()),
        "per_conversation": sum(cost.values()) / len(full),
        "per_resolved": sum(cost[r["id"]] for r in resolved) / len(resolved),
        "resolved": len(resolved),
        "per_resolution": sum(cost.values()) / len(resolved),
        "versions": {vid: (v["label"], len(v["convs"]), v["usd"]) for vid, v in versions.items()},
        "models": {m: (len(v["convs"]), v["usd"]) for m, v in by_model.items()},
    }


def in_window(rows: list[dict], start: str, end: str) -> list[dict]:
    return [r for r in rows if _ts(start) <= r["ts"] <= _ts(end)]


def test_whole_window_matches_the_stored_messages(run, demo_db):
    models = stored_models(demo_db)
    want = expected(in_window(stored(demo_db), START, END), models)
    result = run("cost", "--start", START, "--end", END, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["cost_data"] is True and data["sample"] is None
    assert data["conversations_in_window"] == data["read"] == want["in_window"]
    assert (data["with_cost_data"], data["without_cost_data"], data["partial_cost_data"]) == \
        (want["with"], want["without"], want["partial"])
    assert want["without"] > 0 and want["partial"] > 0  # the demo has both: they are left out
    assert data["total_usd"] == pytest.approx(want["total"], abs=1e-6)
    for key, wanted in (("per_conversation", "per_conversation"),
                        ("per_ai_resolved_conversation", "per_resolved"),
                        ("per_resolution", "per_resolution")):
        assert data[key]["usd"] == pytest.approx(want[wanted], abs=1e-6), key
        assert data[key]["ci95_usd"] is None  # exact over the whole window
    assert data["per_ai_resolved_conversation"]["n"] == want["resolved"]
    got = {v["version_id"]: v for v in data["versions"]}
    assert set(got) == set(want["versions"])
    for vid, ((name, number), convs, usd) in want["versions"].items():
        row = got[vid]
        assert (row["assistant"], row["version"], row["conversations"]) == (name, number, convs)
        assert row["cost_usd"] == pytest.approx(usd, abs=1e-6)
        assert row["per_conversation"]["usd"] == pytest.approx(usd / convs, abs=1e-6)
        assert row["model"] == models[vid]
    # the demo's model prices differ: the dearest version costs over twice the cheapest
    per = sorted(v["per_conversation"]["usd"] for v in data["versions"])
    assert per[-1] > 2 * per[0]
    got_models = {m["model"]: m for m in data["models"]}
    assert set(got_models) == set(want["models"]) and len(got_models) >= 2
    for model, (convs, usd) in want["models"].items():
        assert got_models[model]["conversations"] == convs
        assert got_models[model]["cost_usd"] == pytest.approx(usd, abs=1e-6)
    dearest = [m["per_conversation"]["usd"] for m in data["models"]]
    assert dearest == sorted(dearest, reverse=True)  # the dearest model first
    assert dearest[0] > 2 * dearest[-1]
    assert list(data) == [
        "window", "conversations_in_window", "sample", "read", "not_loaded", "cost_data",
        "with_cost_data", "partial_cost_data", "without_cost_data",
        "ai_resolved_with_cost_data", "unknown_handoff", "total_usd", "per_conversation",
        "per_ai_resolved_conversation", "per_resolution", "versions", "models", "models_note",
        "note"]


def test_table_and_progress(run):
    result = run("cost", "--start", START, "--end", END)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert any(line.startswith("per AI-resolved conv.") and "$0.0" in line for line in lines)
    assert "partial (left out)" in result.stdout
    assert "read " in result.stderr and "100%" in result.stderr


def test_seeded_sample_covers_the_full_figures(run, demo_db):
    want = expected(in_window(stored(demo_db), START, END))
    result = run("cost", "--start", START, "--end", END, "--sample", 300, "--seed", 3,
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["sample"]["size"] == data["read"] == 300
    assert data["sample"]["seed"] == 3 and "bootstrap" in data["sample"]["interval"]
    assert data["conversations_in_window"] == want["in_window"]
    for key, wanted in (("per_conversation", "per_conversation"),
                        ("per_ai_resolved_conversation", "per_resolved"),
                        ("per_resolution", "per_resolution")):
        low, high = data[key]["ci95_usd"]
        assert low < data[key]["usd"] < high
        assert low <= want[wanted] <= high, (key, low, want[wanted], high)
        assert high - low < want[wanted]  # narrower than the figure itself: informative
    again = run("cost", "--start", START, "--end", END, "--sample", 300, "--seed", 3,
                "--format", "json")
    assert json.loads(again.stdout) == data  # seeded: the same sample, the same interval
    other = run("cost", "--start", START, "--end", END, "--sample", 300, "--seed", 4,
                "--format", "json")
    assert json.loads(other.stdout)["total_usd"] != data["total_usd"]


def test_a_window_without_cost_data_says_so(run, demo_db):
    """A window holding only conversations whose messages carry no cost: no figure, no $0."""
    rows = sorted(stored(demo_db), key=lambda r: r["ts"])
    bare = next(r for i, r in enumerate(rows) if not any(c for *_, c in r["replies"])
                and rows[i - 1]["ts"] < r["ts"] - 1 and rows[i + 1]["ts"] > r["ts"] + 1)
    from datetime import UTC, datetime

    def iso(ts: int) -> str:
        return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    window = ("--start", iso(bare["ts"] - 1), "--end", iso(bare["ts"] + 1))
    result = run("cost", *window, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["read"], data["without_cost_data"], data["cost_data"]) == (1, 1, False)
    assert data["total_usd"] is None and data["per_conversation"] is None
    assert data["versions"] == [] and "no cost data" in data["note"]
    table = run("cost", *window)
    assert table.exit_code == 0
    assert "no cost data" in table.stdout and "$" not in table.stdout


def test_bad_dates_are_one_line(run):
    for args, flag in ((("--start", START), "--end"), (("--start", "yesterday", "--end", END),
                                                        "--start"),
                       (("--start", END, "--end", START), "--end")):
        result = run("cost", *args)
        assert result.exit_code == 2, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and flag in lines[0], lines
    result = run("cost")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("studio-tui: error: --start and --end are required "
                                     "(YYYY-MM-DD or ISO 8601)")


# ------------------------------------------------------------------ the pieces
def _detail(costs, handoff=False, version="v1"):
    return {"conversation_id": "c", "has_handoff": handoff, "messages": [
        {"role": "user", "metadata": {}},
        *({"role": "assistant", "metadata": {
            "playbook_id": version, "playbook_name": "Bot\x1b[31m", "playbook_version": 2,
            **({} if c is None else {"cost_usd": c})}} for c in costs)]}


def test_a_conversation_is_costed_only_when_every_reply_is():
    whole = conversation_cost(_detail([0.25, 0.5]))
    assert (whole.status, whole.cost, whole.resolved) == ("complete", 0.75, True)
    assert whole.versions[0].assistant == "Bot"  # the escape sequence stripped
    assert conversation_cost(_detail([0.25, None])).status == "partial"
    assert conversation_cost(_detail([0.25, None])).cost is None
    for odd in ([None], ["0.1"], [True], [-1.0], [math.nan]):
        assert conversation_cost(_detail(odd)).status == "none", odd
    report = summarize([conversation_cost(_detail([None])), conversation_cost(_detail([]))])
    assert not report.has_cost and report.to_json()["per_conversation"] is None


def test_per_resolution_charges_handoffs_to_resolutions():
    report = summarize([conversation_cost(_detail([1.0])),
                        conversation_cost(_detail([3.0], handoff=True))])
    assert report.per_conversation.value == 2.0
    assert report.per_resolved_conversation.value == 1.0
    assert report.per_resolution.value == 4.0


def test_models_group_versions_and_an_unknown_version_is_said():
    def two(a, b):  # a conversation handed from version a to version b, $1 each
        first, second = _detail([1.0], version=a), _detail([1.0], version=b)
        first["messages"] += second["messages"][1:]
        return conversation_cost(first)

    models = {"v1": "cheap-model", "v2": "cheap-model", "v3": "dear-model"}
    report = summarize([two("v1", "v2"), conversation_cost(_detail([5.0], version="v3")),
                        conversation_cost(_detail([2.0], version="v9"))], models=models)
    rows = {m.model: (m.conversations, m.cost_usd, m.per_conversation.value)
            for m in report.models}
    # both versions of one model in one conversation: it counts once, with both costs
    assert rows == {"dear-model": (1, 5.0, 5.0), None: (1, 2.0, 2.0),
                    "cheap-model": (1, 2.0, 2.0)}
    assert [m.model for m in report.models][0] == "dear-model"
    assert {v.version_id: v.model for v in report.versions}["v9"] is None
    assert report.to_json()["models"][0]["model"] == "dear-model"


def test_bootstrap_and_sample_are_seeded_and_sound():
    values = [(float(i % 7), 1.0) for i in range(200)]
    mean = sum(x for x, _ in values) / len(values)
    low, high = bootstrap_ratio(values, random.Random(1))
    assert low < mean < high and high - low < 1.0
    assert bootstrap_ratio(values, random.Random(1)) == (low, high)
    assert bootstrap_ratio([(1.0, 1.0)], random.Random(1)) is None
    ids = [f"id{i}" for i in range(100)]
    picked = sample_ids(ids, 10, 5)
    assert len(set(picked)) == 10 and picked == sample_ids(list(reversed(ids)), 10, 5)
    assert sample_ids(ids, 500, 5) == sorted(ids)


async def test_version_models_keep_only_named_models_made_safe():
    from api.cost import version_models
    from api.models import Playbook

    class Client:
        project_id = "p"

        async def load(self, endpoint):
            return [Playbook(id="a", model="gpt\x1b[31m-4o"), Playbook(id="b", model="  \x1b[0m "),
                    Playbook(id="c", model=None), Playbook(id=None, model="x")]

    class Failing(Client):
        async def load(self, endpoint):
            raise RuntimeError("down")

    assert await version_models(Client()) == {"a": "gpt-4o"}
    assert await version_models(Failing()) is None
