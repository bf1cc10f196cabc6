"""Filter semantics of the demo list endpoint, against a brute-force filter over known rows."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from demo_minidb import (
    ANCHOR_TS,
    BASES,
    INBOXES,
    KEY1,
    P1,
    SKILLS,
    TAGS,
    VERSION_BASE,
    build_mini_db,
    mini_rows,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from api import labels
from api.demo import convfilter as cf
from api.demo.app import create_app
from api.demo.store import LRU

DEFAULT_BUDGET = cf.PROBE_BUDGET
SORT_KEYS = {"last_message_at": "last_ts", "first_message_at": "first_ts",
             "message_count": "message_count"}


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return build_mini_db(tmp_path_factory.mktemp("mini") / "mini.sqlite3")


@pytest.fixture(scope="module")
def client(mini):
    app = create_app(mini.path)
    with TestClient(app, headers={"X-API-Key": KEY1}) as c:
        yield c


def _instant(text: str) -> float:
    if len(text) == 10:
        text += "T00:00:00"
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def matches(c: dict, q: dict) -> bool:
    checks = [
        c["project_id"] == P1,
        "start_date" not in q or c["last_ts"] >= _instant(q["start_date"]),
        "end_date" not in q or c["last_ts"] <= _instant(q["end_date"]),
        "playbook_id" not in q or q["playbook_id"] in c["playbooks"],
        "playbook_base_id" not in q
        or q["playbook_base_id"] in {VERSION_BASE[v] for v in c["playbooks"]},
        "inbox_id" not in q or c["inbox_id"] == q["inbox_id"],
        "search" not in q or q["search"] in c["conversation_id"],
        "has_handoff" not in q or c["has_handoff"] == (q["has_handoff"] == "true"),
        "has_winback" not in q or c["has_winback"] == (q["has_winback"] == "true"),
        "tags" not in q or set(q["tags"].split(",")) <= set(c["tags"]),
        "skill_name" not in q or q["skill_name"] in c["skills"],
        "min_messages" not in q or c["message_count"] >= int(q["min_messages"]),
        "max_messages" not in q or c["message_count"] <= int(q["max_messages"]),
    ]
    checks += [c[name] in q[name].split(",") for name in labels.LABEL_FIELDS if name in q]
    return all(checks)


def brute_force(rows: list[dict], q: dict) -> list[str]:
    key = SORT_KEYS[q.get("sort_by", "last_message_at")]
    found = sorted((c for c in rows if matches(c, q)), key=lambda c: (c[key], c["seq"]),
                   reverse=q.get("sort_order", "desc") == "desc")
    return [c["conversation_id"] for c in found]


def _date_text(ts: int, style: str) -> str:
    moment = datetime.fromtimestamp(ts, UTC)
    if style == "day":
        return moment.date().isoformat()
    if style == "naive":
        return moment.replace(tzinfo=None).isoformat()
    if style == "Z":
        return moment.isoformat().replace("+00:00", "Z")
    return moment.astimezone(timezone(timedelta(hours=-3))).isoformat()


def optional(strategy):
    return st.one_of(st.none(), strategy)


# instants: anywhere in the window, or exactly on a conversation's last message (± 1 s)
EXACT = sorted({c["last_ts"] for c in mini_rows()[1]})
instants = st.one_of(st.integers(ANCHOR_TS - 45 * 86400, ANCHOR_TS + 3600),
                     st.tuples(st.sampled_from(EXACT), st.sampled_from([-1, 0, 0, 1])).map(sum))
dates = st.tuples(instants,
                  st.sampled_from(["day", "naive", "Z", "offset"])).map(lambda t: _date_text(*t))
label_values = {name: optional(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True)
                               .map(",".join)) for name, values in labels.LABEL_FIELDS.items()}
queries = st.fixed_dictionaries({}, optional={
    "start_date": dates, "end_date": dates,
    "playbook_id": st.sampled_from(sorted(VERSION_BASE) + ["pb-unknown"]),
    "playbook_base_id": st.sampled_from(sorted(BASES)),
    "inbox_id": st.sampled_from(sorted(INBOXES)),
    "search": st.sampled_from(["ic_", "conv-", "1", "42", "cw-0"]),
    "has_handoff": st.sampled_from(["true", "false"]),
    "has_winback": st.sampled_from(["true", "false"]),
    "tags": st.lists(st.sampled_from(TAGS), min_size=1, max_size=2, unique=True).map(",".join),
    "skill_name": st.sampled_from(SKILLS),
    "min_messages": st.integers(0, 20).map(str), "max_messages": st.integers(5, 40).map(str),
    "sort_by": st.sampled_from(labels.SORT_BY), "sort_order": st.sampled_from(labels.SORT_ORDER),
    **{name: strategy.filter(bool) for name, strategy in label_values.items()},
})


@pytest.mark.long
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=queries, limit=st.integers(1, 100), offset=st.integers(0, 320))
def test_list_matches_brute_force(client, mini, q, limit, offset):
    if "start_date" in q and "end_date" in q and _instant(q["start_date"]) > _instant(q["end_date"]):
        assert client.get(f"/projects/{P1}/conversations", params=q).status_code == 400
        return
    if int(q.get("min_messages", 0)) > int(q.get("max_messages", 10**6)):
        assert client.get(f"/projects/{P1}/conversations", params=q).status_code == 400
        return
    expected = brute_force(mini.conversations, q)
    for budget in (0, 10**9):  # both SQL shapes: membership sets driving, and ordered probes
        client.app.state.store.counts = LRU()
        cf.PROBE_BUDGET = budget
        try:
            r = client.get(f"/projects/{P1}/conversations",
                           params={**q, "limit": limit, "offset": offset})
        finally:
            cf.PROBE_BUDGET = DEFAULT_BUDGET
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["total"] == len(expected)
        assert (data["limit"], data["offset"]) == (limit, offset)
        assert [c["conversation_id"] for c in data["conversations"]] == expected[offset:offset + limit]
    # pages after, before and overlapping this one resume from recorded checkpoints
    for later in (offset + limit, offset + 1, max(0, offset - 3), offset + limit // 2):
        r = client.get(f"/projects/{P1}/conversations", params={**q, "limit": limit, "offset": later})
        assert [c["conversation_id"] for c in r.json()["conversations"]] == expected[later:later + limit]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=queries)
def test_summaries_agree_with_list(client, q):
    q = {k: v for k, v in q.items() if k not in ("start_date", "end_date", "min_messages", "max_messages")}
    listed = client.get(f"/projects/{P1}/conversations", params={**q, "limit": 100}).json()
    summaries = client.get(f"/projects/{P1}/conversations/summaries", params={**q, "limit": 100}).json()
    assert summaries["total"] == listed["total"]
    assert [s["conversation_id"] for s in summaries["summaries"]] == [
        c["conversation_id"] for c in listed["conversations"]]


def test_tags_are_and_labels_are_or(client, mini):
    both = client.get(f"/projects/{P1}/conversations", params={"tags": "billing,refund", "limit": 100}).json()
    assert both["total"] > 0
    assert all({"billing", "refund"} <= set(c["tags"]) for c in both["conversations"])
    either = client.get(f"/projects/{P1}/conversations",
                        params={"sentiment": "negative,positive", "limit": 100}).json()
    assert {c["sentiment_label"] for c in either["conversations"]} == {"negative", "positive"}


def test_playbook_filter_matches_any_participant_not_only_last(client, mini):
    earlier_only = [c for c in mini.conversations if c["project_id"] == P1
                    and "pb-1v1" in c["playbooks"] and c["playbook_id"] != "pb-1v1"]
    assert earlier_only, "fixture must contain multi-playbook conversations"
    ids = set(brute_force(mini.conversations, {"playbook_id": "pb-1v1"}))
    got = client.get(f"/projects/{P1}/conversations", params={"playbook_id": "pb-1v1", "limit": 100})
    assert {c["conversation_id"] for c in got.json()["conversations"]} <= ids
    assert got.json()["total"] == len(ids)
    assert {c["conversation_id"] for c in earlier_only} <= ids


def test_offsets_are_honoured_on_dates(client, mini):
    """`-03:00` shifts the bound by three hours compared with the same wall time in UTC."""
    utc = client.get(f"/projects/{P1}/conversations",
                     params={"start_date": "2026-06-01T00:00:00Z"}).json()["total"]
    art = client.get(f"/projects/{P1}/conversations",
                     params={"start_date": "2026-06-01T00:00:00-03:00"}).json()["total"]
    naive = client.get(f"/projects/{P1}/conversations",
                       params={"start_date": "2026-06-01T00:00:00"}).json()["total"]
    short = client.get(f"/projects/{P1}/conversations", params={"start_date": "2026-06-01"}).json()["total"]
    assert utc == naive == short
    assert art == len(brute_force(mini.conversations, {"start_date": "2026-06-01T03:00:00Z"}))


@pytest.mark.parametrize("params, loc", [
    ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"limit": "x"}, "limit"),
    ({"offset": "-1"}, "offset"), ({"has_handoff": "yes"}, "has_handoff"),
    ({"has_winback": "1"}, "has_winback"), ({"sentiment": "angry"}, "sentiment"),
    ({"handoff_reason": "policy,boredom"}, "handoff_reason"), ({"sort_by": "cost"}, "sort_by"),
    ({"sort_order": "up"}, "sort_order"), ({"start_date": "yesterday"}, "start_date"),
    ({"min_messages": "many"}, "min_messages"),
])
def test_bad_values_are_422_fastapi_style(client, params, loc):
    r = client.get(f"/projects/{P1}/conversations", params=params)
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert [d["loc"] for d in detail] == [["query", loc]]
    assert detail[0]["msg"] and detail[0]["type"]


def test_bad_date_order_is_400(client):
    r = client.get(f"/projects/{P1}/conversations",
                   params={"start_date": "2026-06-10", "end_date": "2026-06-01"})
    assert r.status_code == 400
    assert isinstance(r.json()["detail"], str)


@pytest.mark.parametrize("style", ["Z", "naive", "offset"])
def test_date_bounds_are_inclusive(client, mini, style):
    row = next(c for c in mini.conversations if c["project_id"] == P1)
    exact = _date_text(row["last_ts"], style)
    for q in ({"start_date": exact}, {"end_date": exact}, {"start_date": exact, "end_date": exact}):
        got = client.get(f"/projects/{P1}/conversations", params={**q, "limit": 100}).json()
        assert got["total"] == len(brute_force(mini.conversations, q))
    both = client.get(f"/projects/{P1}/conversations", params={"start_date": exact, "end_date": exact})
    assert row["conversation_id"] in [c["conversation_id"] for c in both.json()["conversations"]]
