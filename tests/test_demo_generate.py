"""The demo database generator: determinism, caching, atomicity, and data consistency."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import sqlite3
import stat
from collections import Counter

import pytest

from api.demo import generate
from api.demo import world as W
from api.demo.content import build_messages
from api.demo.generate import ensure_demo_db, hostile_conversation_ids, resolve_params
from api.demo.plan import plan_conversation
from api.demo.world import anchor_bounds

ANCHOR = "2026-06-15"
SMALL = 400


def table_digest(path, table: str, order: str) -> str:
    conn = sqlite3.connect(path)
    try:
        h = hashlib.sha256()
        for row in conn.execute(f"SELECT * FROM {table} ORDER BY {order}"):
            h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def conn(demo_db):
    c = sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)
    yield c
    c.close()


def one(conn, sql, args=()):
    return conn.execute(sql, args).fetchone()[0]


def world_of(conn) -> W.World:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    return W.build_world(int(meta["seed"]), meta["anchor"], int(meta["size"]))


def plan_of(conn, seq: int):
    """The plan of conversation ``seq`` (checked against the database's id for it)."""
    plan = plan_conversation(world_of(conn), seq)
    assert plan.conversation_id == one(
        conn, "SELECT conversation_id FROM conversations WHERE seq = ?", (seq,))
    return plan


def rebuilt(conn, seq: int) -> dict:
    """A conversation's messages and citations built again from its plan."""
    return build_messages(world_of(conn), plan_of(conn, seq))


# --------------------------------------------------------------------------------------------
# building, caching, atomicity


def test_same_inputs_give_identical_data(tmp_path):
    a = ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path / "a")
    b = ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path / "b")
    for table, order in (("conversations", "seq"), ("resource_events", "id"),
                         ("docs", "kind, id"), ("csat_ratings", "seq"),
                         ("conversion_events", "id"), ("conv_tags", "tag, seq")):
        assert table_digest(a, table, order) == table_digest(b, table, order), table


def test_other_seed_gives_other_data(tmp_path):
    a = ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path)
    b = ensure_demo_db(size=SMALL, seed=4, anchor=ANCHOR, cache_dir=tmp_path)
    assert a != b
    assert table_digest(a, "conversations", "seq") != table_digest(b, "conversations", "seq")


@pytest.mark.parametrize("change", [{"seed": 5}, {"size": SMALL + 1}, {"anchor": "2026-06-16"}])
def test_parameter_change_regenerates(tmp_path, change):
    base = {"size": SMALL, "seed": 3, "anchor": ANCHOR}
    first = ensure_demo_db(**base, cache_dir=tmp_path)
    second = ensure_demo_db(**{**base, **change}, cache_dir=tmp_path)
    assert first != second and first.exists() and second.exists()
    meta = dict(sqlite3.connect(second).execute("SELECT key, value FROM meta").fetchall())
    expected = {**base, **change}
    assert (meta["seed"], meta["size"], meta["anchor"]) == (
        str(expected["seed"]), str(expected["size"]), expected["anchor"])


def test_existing_database_is_reused_without_rebuild(tmp_path, monkeypatch):
    path = ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path)
    before = path.stat()

    def boom(*a, **k):
        raise AssertionError("rebuilt")

    monkeypatch.setattr(generate, "build_db", boom)
    again = ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path)
    assert again == path
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_mismatching_meta_is_rebuilt(tmp_path):
    path = ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path)
    with sqlite3.connect(path) as c:
        c.execute("UPDATE meta SET value='99' WHERE key='seed'")
    assert not generate.is_ready(path, SMALL, 3, ANCHOR)
    again = ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path)
    assert generate.is_ready(again, SMALL, 3, ANCHOR)


def test_garbage_file_is_rebuilt(tmp_path):
    path = generate.demo_dir(tmp_path) / generate.db_filename(SMALL, 3, ANCHOR)
    path.write_bytes(b"not a database" * 100)
    assert ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path) == path
    assert generate.is_ready(path, SMALL, 3, ANCHOR)


def test_failure_midway_leaves_no_database(tmp_path, monkeypatch):
    real = generate.plan_conversation

    def failing(world, seq):
        if seq == 250:
            raise RuntimeError("disk on fire")
        return real(world, seq)

    monkeypatch.setattr(generate, "plan_conversation", failing)
    with pytest.raises(RuntimeError, match="disk on fire"):
        generate.ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path)
    leftovers = [p.name for p in (tmp_path / "demo").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []
    monkeypatch.setattr(generate, "plan_conversation", real)
    path = generate.ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path)
    assert one(sqlite3.connect(path), "SELECT count(*) FROM conversations") == SMALL


def test_stale_temp_file_of_a_crashed_build_is_removed(tmp_path):
    directory = generate.demo_dir(tmp_path)
    stale = directory / (generate.db_filename(SMALL, 3, ANCHOR) + ".tmp-1-dead")
    stale.write_bytes(b"half written")
    ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path)
    assert not stale.exists()


def test_owner_only_permissions(tmp_path):
    path = ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path / "c")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "c").stat().st_mode) == 0o700


def _build_in_child(cache_dir, queue):
    queue.put(str(ensure_demo_db(size=SMALL, seed=11, anchor=ANCHOR, cache_dir=cache_dir)))


def test_concurrent_first_use_from_two_processes(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_build_in_child, args=(str(tmp_path), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    paths = {queue.get(timeout=120) for _ in procs}
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    assert len(paths) == 1
    path = paths.pop()
    assert generate.is_ready(generate.Path(path), SMALL, 11, ANCHOR)
    problems = [msg for (msg,) in sqlite3.connect(path).execute("PRAGMA integrity_check")
                if msg != "ok" and not msg.startswith("NULL value in")]  # SQLite 3.40 false
    assert problems == []  # positive on WITHOUT ROWID tables; real NULLs are checked below
    assert one(sqlite3.connect(path), "SELECT count(*) FROM conv_playbooks "
                                      "WHERE playbook_base_id IS NULL") == 0
    assert [p.name for p in (tmp_path / "demo").iterdir() if ".tmp-" in p.name] == []


def test_parameters_from_environment_and_validation():
    env = {"STUDIO_DEMO_SIZE": "1234", "STUDIO_DEMO_SEED": "9", "STUDIO_DEMO_ANCHOR": "2026-01-31"}
    assert resolve_params(env=env) == (1234, 9, "2026-01-31")
    assert resolve_params(10, 1, "2025-02-03", env=env) == (10, 1, "2025-02-03")
    now = dt.datetime(2026, 12, 6, 2, 9, tzinfo=dt.UTC)
    assert resolve_params(env={}, now=now) == (5000, 7, "2026-12-06T02")  # today: up to now
    with pytest.raises(ValueError, match="STUDIO_DEMO_SIZE must be an integer"):
        resolve_params(env={"STUDIO_DEMO_SIZE": "lots"})
    with pytest.raises(ValueError, match="anchor"):
        resolve_params(env={"STUDIO_DEMO_ANCHOR": "2026-13-01"})
    with pytest.raises(ValueError, match="positive"):
        resolve_params(size=0, env={})
    assert resolve_params(size=generate.MAX_SIZE, env={})[0] == 200_000
    with pytest.raises(ValueError, match="demo size must be at most 200000, got 1000000"):
        resolve_params(env={"STUDIO_DEMO_SIZE": "1000000"})


# --------------------------------------------------------------------------------------------
# the pinned demo database: consistency of the whole table


def test_window_and_volume(conn):
    start, end = anchor_bounds(ANCHOR)
    assert one(conn, "SELECT count(*) FROM conversations") == 5000
    assert one(conn, "SELECT min(first_ts) FROM conversations") >= start
    assert one(conn, "SELECT max(last_ts) FROM conversations") <= end
    assert one(conn, "SELECT count(*) FROM conversations WHERE last_ts < first_ts") == 0
    main = json.loads(one(conn, "SELECT value FROM meta WHERE key='api_keys'"))
    main_pid = next(iter(main.values()))
    share = one(conn, "SELECT avg(project_id = ?) FROM conversations", (main_pid,))
    assert 0.85 < share < 0.95
    weekdays = Counter()
    for (ts,) in conn.execute("SELECT first_ts FROM conversations"):
        weekdays[dt.datetime.fromtimestamp(ts, dt.UTC).weekday()] += 1
    assert weekdays[0] > 1.5 * weekdays[6]  # Mondays busier than Sundays


SIGNAL_RULES = {
    "deflection only without handoff":
        "deflection_quality IS NOT NULL AND has_handoff = 1",
    "handoff reason only with handoff": "handoff_reason IS NOT NULL AND has_handoff = 0",
    "scored handoff has a reason": "scored = 1 AND has_handoff = 1 AND handoff_reason IS NULL",
    "scored non-handoff has a deflection":
        "scored = 1 AND has_handoff = 0 AND deflection_quality IS NULL",
    "unscored has no signal":
        "scored = 0 AND coalesce(sentiment, resources, sentiment_shift, deflection_quality, "
        "handoff_reason, recontact_risk) IS NOT NULL",
    "scored has the always-present signals":
        "scored = 1 AND (sentiment IS NULL OR sentiment_shift IS NULL OR recontact_risk IS NULL)",
    "winback answered implies sent": "winback_answered = 1 AND has_winback = 0",
}


@pytest.mark.parametrize("rule", list(SIGNAL_RULES))
def test_signal_rules_hold_over_the_whole_table(conn, rule):
    assert one(conn, f"SELECT count(*) FROM conversations WHERE {SIGNAL_RULES[rule]}") == 0


def test_bodies_agree_with_columns_and_carry_reasons(conn):
    pairs = {"sentiment_label": "sentiment", "resources_label": "resources",
             "sentiment_shift": "sentiment_shift", "deflection_quality": "deflection_quality",
             "handoff_reason": "handoff_reason", "recontact_risk": "recontact_risk"}
    reasons = {"sentiment_label": "sentiment_reason", "resources_label": "resources_reason",
               "sentiment_shift": "sentiment_shift_reason",
               "deflection_quality": "deflection_quality_reason",
               "handoff_reason": "handoff_reason_detail",
               "recontact_risk": "recontact_risk_reason"}
    cols = ", ".join(pairs.values())
    rows = conn.execute(f"SELECT body, message_count, has_handoff, {cols} FROM conversations")
    for body, count, handoff, *labels in rows:
        b = json.loads(body)
        assert b["message_count"] == count and b["has_handoff"] == bool(handoff)
        for (key, _), label in zip(pairs.items(), labels, strict=True):
            assert b[key] == label
            assert (b[reasons[key]] is None) == (label is None), key
        assert (b["summary"] is None) == (b["sentiment_label"] is None)


def test_unscored_share_and_correlations(conn):
    unscored = one(conn, "SELECT avg(scored = 0) FROM conversations")
    assert 0.04 < unscored < 0.15

    def share(where, what):
        return one(conn, f"SELECT avg({what}) FROM conversations WHERE scored = 1 AND {where}")

    frustrated = "handoff_reason = 'frustration'"
    resolved = "deflection_quality = 'resolved'"
    assert share(frustrated, "sentiment = 'negative'") > 3 * share(resolved, "sentiment = 'negative'")
    assert share(frustrated, "sentiment_shift = 'degraded'") > 2 * share(
        resolved, "sentiment_shift = 'degraded'")
    assert share(frustrated, "recontact_risk = 'high'") > share(resolved, "recontact_risk = 'high'")
    for col in ("sentiment", "sentiment_shift", "recontact_risk", "deflection_quality",
                "handoff_reason", "resources"):
        assert one(conn, f"SELECT count(DISTINCT {col}) FROM conversations") >= 3, col


def test_resources_only_when_tools_ran(conn):
    rows = conn.execute("SELECT seq, resources FROM conversations WHERE scored = 1 "
                        "AND seq % 7 = 0").fetchall()
    for seq, resources in rows:
        calls = [c for c in plan_of(conn, seq).tool_calls if c.kind != "list_agents"]
        assert (resources is not None) == bool(calls), seq


def test_tags_skills_and_playbooks_tables_match_bodies(conn):
    for seq, body in conn.execute("SELECT seq, body FROM conversations WHERE seq % 11 = 0"):
        b = json.loads(body)
        tags = [t for (t,) in conn.execute("SELECT tag FROM conv_tags WHERE seq=? ORDER BY tag",
                                           (seq,))]
        assert tags == sorted(b["tags"])
        skills = [s for (s,) in conn.execute(
            "SELECT skill_name FROM conv_skills WHERE seq=? ORDER BY skill_name", (seq,))]
        if "skills" in b:  # absent on the "missing optional fields" hostile rows
            assert skills == sorted(b["skills"] or [])
        pbs = {p for (p,) in conn.execute("SELECT playbook_id FROM conv_playbooks WHERE seq=?",
                                          (seq,))}
        assert pbs == {p["id"] for p in b["playbooks_info"]}
    multi = one(conn, "SELECT count(*) FROM (SELECT seq FROM conv_playbooks GROUP BY seq "
                      "HAVING count(*) > 1)")
    assert multi > 50


# --------------------------------------------------------------------------------------------
# messages (stored; built from the same plan as the row)


def sample_seqs(conn, n=120):
    hostile = [r[0] for r in conn.execute(
        "SELECT seq FROM conversations WHERE conversation_id IN "
        f"({','.join('?' * 12)})", hostile_conversation_ids(conn)[:12])]
    return [r[0] for r in conn.execute("SELECT seq FROM conversations WHERE seq % 41 = 0")][:n] \
        + hostile


def test_messages_match_the_row(conn):
    for seq in sample_seqs(conn):
        body_text, count, ai_count, first_ts, last_ts = conn.execute(
            "SELECT body, message_count, ai_message_count, first_ts, last_ts FROM conversations "
            "WHERE seq=?", (seq,)).fetchone()
        body = json.loads(body_text)
        detail = rebuilt(conn, seq)
        msgs = detail["messages"]
        assert len(msgs) == count
        assert sum(m["role"] == "assistant" for m in msgs) == ai_count
        assert msgs[0]["role"] == "user" and msgs[0]["content"] == body["first_user_message"]
        last_ai = [m for m in msgs if m["role"] == "assistant"][-1]
        assert last_ai["content"] == body["last_assistant_message"]
        assert msgs[0]["created_at"] == body["first_message_at"]
        assert msgs[-1]["created_at"] == body["last_message_at"]
        stamps = [m["created_at"] for m in msgs]
        assert stamps == sorted(stamps)
        info = {(p["id"], p["name"], p["version"]) for p in body["playbooks_info"]}
        for m in msgs:
            if m["role"] == "assistant":
                md = m["metadata"]
                assert (md["playbook_id"], md["playbook_name"], md["playbook_version"]) in info
        latencies = [m["metadata"]["response_latency_ms"] for m in msgs
                     if m["role"] == "assistant" and not m["is_winback"]]
        if "avg_response_latency_ms" in body:
            assert abs(sum(latencies) / len(latencies) - body["avg_response_latency_ms"]) <= 1
        assert sum(m["is_winback"] for m in msgs) == (body.get("winback_sent_at") is not None
                                                      if "winback_sent_at" in body else
                                                      sum(m["is_winback"] for m in msgs))


def test_messages_are_deterministic(conn):
    assert rebuilt(conn, 77) == rebuilt(conn, 77)


def test_tool_calls_match_resource_events(conn):
    checked = Counter()
    for seq in sample_seqs(conn, 200):
        detail = rebuilt(conn, seq)
        calls = [tc for m in detail["messages"] for tc in m["tool_calls"]]
        custom = Counter((tc["name"], tc["result"] is not None) for tc in calls
                         if tc["tool_type"] == "custom")
        events = Counter((name, bool(ok)) for name, ok in conn.execute(
            "SELECT name, success FROM resource_events WHERE seq=? AND kind != 'kb_citation'",
            (seq,)))
        assert custom == events, seq
        cited = {c["citation_id"]: (c["kb_id"], c["item_id"]) for c in detail["citations"]}
        rows = {i: (kb, item) for i, kb, item in conn.execute(
            "SELECT id, ref, item_id FROM resource_events WHERE seq=? AND kind='kb_citation'",
            (seq,))}
        assert cited == rows, seq
        loaded = sorted({a["enhanced_params"]["skill_name"] for a in calls
                         if a["name"] == "load_skill" and a["result"] is not None})
        body = json.loads(one(conn, "SELECT body FROM conversations WHERE seq=?", (seq,)))
        if "skills" in body:
            assert loaded == (body["skills"] or [])
        checked.update(k for k, _ in custom)
        checked["kb"] += len(cited)
        checked["builtin"] += sum(tc["tool_type"] == "list_agents" for tc in calls)
        checked["failed"] += sum(tc["result"] is None and "error" in tc for tc in calls)
    assert checked["load_skill"] and checked["kb"] and checked["lookup_order"]
    assert checked["builtin"] and checked["failed"]


def test_resource_events_cover_every_kind(conn):
    kinds = dict(conn.execute("SELECT kind, count(*) FROM resource_events GROUP BY kind"))
    assert set(kinds) == {"api_tool", "toolkit", "skill", "kb_citation"}
    assert one(conn, "SELECT count(*) FROM resource_events WHERE kind='skill' AND success=0 "
                     "AND error_message IS NOT NULL") > 0
    assert one(conn, "SELECT count(*) FROM resource_events WHERE kind='toolkit' AND "
                     "json_extract(input_params, '$.ticket_type_id') = '67'") > 0
    assert one(conn, "SELECT count(*) FROM resource_events WHERE kind='api_tool' AND "
                     "success=0") > 0
    assert one(conn, "SELECT count(*) FROM resource_events WHERE seq IS NULL OR "
                     "conversation_id IS NULL") == 0


# --------------------------------------------------------------------------------------------
# hostile text


def test_hostile_text_present_including_the_latest_week(conn):
    ids = hostile_conversation_ids(conn)
    start, end = anchor_bounds(ANCHOR)
    assert 40 < len(ids) < 250  # ~2% of 5000 (+ the forced newest ones)
    marks = ",".join("?" * len(ids))
    rows = conn.execute(f"SELECT body, last_ts FROM conversations WHERE conversation_id IN "
                        f"({marks})", ids).fetchall()
    texts = [json.loads(b).get("first_user_message", "") for b, _ in rows]
    recent = [json.loads(b) for b, ts in rows if ts > end - 7 * 86400]
    assert recent
    blob = "\n".join(texts)
    for needle in ("[bold]", "[/]", "\x1b[31m", "\x1b]8;;", "\x1b]52;", "\x07", "😡", "注文",
                   "أريد", "אני"):
        assert needle in blob, repr(needle)
    assert any(len(t) >= 50_000 for t in texts)
    assert "" in texts
    assert any("context" not in json.loads(b) for b, _ in rows)
    kinds_recent = {json.loads(b).get("first_user_message", "")[:5] for b, ts in rows
                    if ts > end - 7 * 86400}
    assert len(kinds_recent) >= 5


# --------------------------------------------------------------------------------------------
# docs, outcomes


def test_docs_cover_every_kind(conn):
    kinds = dict(conn.execute("SELECT kind, count(*) FROM docs GROUP BY kind"))
    for kind in ("project", "project_settings", "schedule", "inbox", "playbook",
                 "playbook_active_history", "playbook_settings", "kb", "kb_item", "api_tool",
                 "toolkit", "skill", "conversion_metric", "eval_case", "eval_run", "eval_result",
                 "trending_analysis"):
        assert kinds.get(kind), kind
    assert kinds["project"] == 2
    types = {json.loads(b)["kb_type"] for (b,) in conn.execute("SELECT body FROM docs WHERE kind='kb'")}
    assert types == {"TEXT", "FAQ", "SNIPPETS", "FILE", "NOTION", "GDRIVE", "INTERCOM"}
    statuses = {json.loads(b)["status"] for (b,) in conn.execute(
        "SELECT body FROM docs WHERE kind='kb'")}
    assert statuses == {"ACTIVE", "ADDED", "EDITED", "DELETED"}
    for (b,) in conn.execute("SELECT body FROM docs WHERE kind='playbook_active_history'"):
        items = json.loads(b)["items"]
        assert items and items == sorted(items, key=lambda i: i["activated_at"], reverse=True)
    runs = [json.loads(b) for (b,) in conn.execute("SELECT body FROM docs WHERE kind='eval_run'")]
    assert {"completed", "failed"} <= {r["status"] for r in runs}
    for run in runs:
        results = [json.loads(b) for (b,) in conn.execute(
            "SELECT body FROM docs WHERE kind='eval_result' AND parent_id=?", (run["id"],))]
        assert run["passed_cases"] == sum(r["status"] == "passed" for r in results)
        assert run["failed_cases"] == sum(r["status"] == "failed" for r in results)


def test_playbook_versions_differ_and_conversations_use_active_versions(conn):
    versions = conn.execute("SELECT parent_id, body FROM docs WHERE kind='playbook'").fetchall()
    by_base = {}
    for base, body in versions:
        by_base.setdefault(base, []).append(json.loads(body)["content"])
    assert len(by_base) >= 4 and all(len(set(c)) == len(c) for c in by_base.values())
    used = one(conn, "SELECT count(DISTINCT playbook_id) FROM conv_playbooks")
    assert used >= 8


def test_trending_analysis_points_at_real_conversations(conn):
    body = json.loads(one(conn, "SELECT body FROM docs WHERE kind='trending_analysis'"))
    assert body["analysis_date"] == "2026-06-14"
    ids = [cid for t in body["topics"] for cid in t["conversation_ids"]]
    assert ids and len(ids) == len(set(ids))
    found = one(conn, f"SELECT count(*) FROM conversations WHERE conversation_id IN "
                      f"({','.join('?' * len(ids))})", ids)
    assert found == len(ids)
    topic = body["topics"][0]
    assert sum(topic["sentiment_breakdown"].values()) <= topic["conversation_count"]
    assert topic["example_conversations"]


def test_csat_and_conversions(conn):
    keys = list(json.loads(one(conn, "SELECT value FROM meta WHERE key='api_keys'")).values())
    main, other = keys
    assert one(conn, "SELECT count(*) FROM csat_ratings WHERE project_id=?", (other,)) == 0
    ratings = dict(conn.execute("SELECT rating, count(*) FROM csat_ratings GROUP BY rating"))
    assert set(ratings) == {1, 2, 3, 4, 5} and ratings[5] > ratings[2]
    remarks = one(conn, "SELECT avg(remark IS NOT NULL) FROM csat_ratings")
    assert 0.3 < remarks < 0.5
    deflected = one(conn, "SELECT avg(c.has_handoff = 0) FROM csat_ratings r JOIN conversations c "
                          "USING (seq)")
    assert deflected > 0.9
    _, end = anchor_bounds(ANCHOR)
    metrics = {json.loads(b)["slug"]: json.loads(b) for (b,) in conn.execute(
        "SELECT body FROM docs WHERE kind='conversion_metric'")}
    assert set(metrics) == {"venta", "suscripcion"}
    for slug, m in metrics.items():
        last = dt.datetime.fromisoformat(m["last_event_at"].replace("Z", "+00:00")).timestamp()
        assert last == one(conn, "SELECT max(created_ts) FROM conversion_events "
                                 "WHERE metric_slug=?", (slug,))
        age_days = (end - last) / 86400
        assert age_days < 1 if slug == "venta" else age_days > 4
    assert one(conn, "SELECT count(DISTINCT idempotency_key) = count(*) FROM conversion_events")


def test_batch_size_does_not_change_the_data(tmp_path):
    generate.build_db(tmp_path / "one.db", 900, 5, ANCHOR)
    generate.build_db(tmp_path / "batches.db", 900, 5, ANCHOR, batch=200)
    for table, order in (("conversations", "seq"), ("resource_events", "id"),
                         ("conversion_events", "id"), ("docs", "kind, id"),
                         ("conv_messages", "seq")):
        assert table_digest(tmp_path / "one.db", table, order) == table_digest(
            tmp_path / "batches.db", table, order), table


def test_edited_generator_is_not_reused(tmp_path, monkeypatch):
    path = ensure_demo_db(size=SMALL, seed=3, anchor=ANCHOR, cache_dir=tmp_path)
    generate.generator_fingerprint.cache_clear()
    monkeypatch.setattr(generate, "GENERATOR_SOURCES", ("world.py",))
    try:
        assert not generate.is_ready(path, SMALL, 3, ANCHOR)
    finally:
        generate.generator_fingerprint.cache_clear()


def test_stored_body_equals_the_python_reference_on_every_row(conn):
    from api.demo.content import conversation_body

    world = world_of(conn)
    for seq, body in conn.execute("SELECT seq, body FROM conversations"):
        assert json.loads(body) == conversation_body(plan_conversation(world, seq)), seq


def test_stored_messages_equal_the_rebuilt_ones_on_every_row(conn):
    from api.demo.content import stored_extra_json

    world = world_of(conn)
    rows = conn.execute("SELECT seq, conversation_id FROM conversations").fetchall()
    assert one(conn, "SELECT COUNT(*) FROM conv_messages") == len(rows)
    for seq, cid in rows:
        plan = plan_conversation(world, seq)
        assert plan.conversation_id == cid
        assert json.loads(stored_extra_json(conn, seq)) == build_messages(world, plan), seq
    assert stored_extra_json(conn, 10**9) is None


def test_encoded_messages_survive_what_orjson_refuses():
    from api.demo.codec import loads_stored
    from api.demo.content import decode_extra, encode_extra

    extra = {"messages": [{"content": "bad \ud800 half, [b]markup[/b] \x1b[31m"}],
             "citations": []}
    assert json.loads(decode_extra(encode_extra(extra))) == extra
    assert loads_stored(decode_extra(encode_extra(extra))) == extra  # the app's reader


def test_cache_dir_and_parameters_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_TUI_CACHE_DIR", str(tmp_path / "env-cache"))
    monkeypatch.setenv("STUDIO_DEMO_SIZE", str(SMALL))
    monkeypatch.setenv("STUDIO_DEMO_SEED", "21")
    monkeypatch.setenv("STUDIO_DEMO_ANCHOR", "2026-03-01")
    path = ensure_demo_db()
    assert path == tmp_path / "env-cache" / "demo" / generate.db_filename(SMALL, 21, "2026-03-01")
    _, end = anchor_bounds("2026-03-01")
    assert one(sqlite3.connect(path), "SELECT max(last_ts) FROM conversations") <= end


def test_databases_of_older_generator_versions_are_removed(tmp_path):
    from api.demo import generate
    from api.demo.schema import GENERATOR_VERSION

    folder = generate.demo_dir(tmp_path)
    old = folder / f"demo-v{GENERATOR_VERSION - 1}-s7-n50-a2026-06-15.sqlite3"
    old_lock = old.with_name(old.name + ".lock")
    current_other = folder / f"demo-v{GENERATOR_VERSION}-s8-n50-a2026-06-15.sqlite3"
    for f in (old, old_lock, current_other):
        f.write_bytes(b"x")
    path = generate.ensure_demo_db(size=50, seed=7, anchor="2026-06-15", cache_dir=tmp_path)
    assert path.exists() and current_other.exists()
    assert not old.exists() and not old_lock.exists()


def test_new_id_is_the_uuid4_of_the_same_bits():
    """world.new_id formats the UUID by hand (speed): the very string uuid.UUID gives."""
    import random
    import uuid

    from api.demo.world import new_id

    for seed in range(500):
        a, b = random.Random(seed), random.Random(seed)
        assert new_id(a) == str(uuid.UUID(int=b.getrandbits(128), version=4))
