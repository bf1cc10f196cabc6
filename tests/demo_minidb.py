"""A small hand-filled demo database (schema.SCHEMA_SQL) whose rows the tests know exactly.

`build_mini_db(path)` returns a `MiniDB` with the conversation rows as Python dicts, so filter
tests can compare the app's answers with a brute-force filter over the same rows.
"""
from __future__ import annotations

import json
import random
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from api import labels
from api.demo import schema

ANCHOR = "2026-06-15"
ANCHOR_TS = 1781568000  # 2026-06-16T00:00:00Z, the end of the anchor day
P1, P2 = "proj-aaaa", "proj-bbbb"
KEY1, KEY2 = "sbs_demo_key_one", "sbs_demo_key_two"
BASES = {"base-1": ("Support Bot", ["pb-1v1", "pb-1v2"]), "base-2": ("Sales Bot", ["pb-2v1", "pb-2v2"])}
VERSION_BASE = {v: b for b, (_, vs) in BASES.items() for v in vs}
INBOXES = {"inbox-web": "Website Chat", "inbox-wa": "WhatsApp", "inbox-mail": "Email"}
TAGS = ["billing", "refund", "vip", "bug", "shipping"]
SKILLS = ["refund-process", "order-lookup", "escalation"]
INTENTS = ["refund", "billing", "shipping", "password_reset"]


@dataclass
class MiniDB:
    path: Path
    conversations: list[dict] = field(default_factory=list)   # row dicts incl. tags/skills/playbooks


def _conversation(rng: random.Random, seq: int) -> dict:
    project = P1 if rng.random() < 0.8 else P2
    versions = rng.sample(sorted(VERSION_BASE), rng.choice((1, 1, 2)))
    last_ts = ANCHOR_TS - rng.randrange(0, 40 * 86400)
    count = rng.randrange(1, 30)
    handoff = rng.random() < 0.3
    scored = rng.random() < 0.85 and count >= 2
    skills = sorted(rng.sample(SKILLS, rng.choice((0, 0, 1, 2))))
    cid = rng.choice(("conv-", "ic_", "cw-")) + f"{seq * 7919 % 100000:05d}"

    def pick(values: tuple[str, ...], present: bool = True) -> str | None:
        return rng.choice(values) if scored and present else None

    return {
        "seq": seq, "project_id": project, "conversation_id": cid,
        "inbox_id": rng.choice(sorted(INBOXES)), "playbooks": versions,
        "playbook_id": versions[-1], "playbook_base_id": VERSION_BASE[versions[-1]],
        "message_count": count, "ai_message_count": count // 2,
        "first_ts": last_ts - rng.randrange(0, 3 * 3600), "last_ts": last_ts,
        "has_handoff": handoff, "has_error": rng.random() < 0.05, "has_winback": rng.random() < 0.2,
        "winback_answered": False, "scored": scored,
        "sentiment": pick(labels.SENTIMENT), "resources": pick(labels.RESOURCES, bool(skills)),
        "sentiment_shift": pick(labels.SENTIMENT_SHIFT),
        "deflection_quality": pick(labels.DEFLECTION_QUALITY, not handoff),
        "handoff_reason": pick(labels.HANDOFF_REASON, handoff),
        "recontact_risk": pick(labels.RECONTACT_RISK),
        "avg_latency_ms": rng.randrange(300, 5000), "intent": rng.choice(INTENTS),
        "tags": sorted(rng.sample(TAGS, rng.choice((0, 1, 1, 2, 3)))), "skills": skills,
    }


def _iso(ts: int) -> str:
    from datetime import UTC, datetime
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _body(c: dict) -> str:
    names = {v: BASES[VERSION_BASE[v]][0] for v in VERSION_BASE}
    body = {
        "conversation_id": c["conversation_id"], "inbox_name": INBOXES[c["inbox_id"]],
        "playbook_name": names[c["playbook_id"]], "playbook_version": int(c["playbook_id"][-1]),
        "playbooks_info": [{"id": v, "name": names[v], "version": int(v[-1])} for v in c["playbooks"]],
        "message_count": c["message_count"], "first_message_at": _iso(c["first_ts"]),
        "last_message_at": _iso(c["last_ts"]), "first_user_message": f"[bold]help[/] {c['intent']}",
        "last_assistant_message": "Done \x1b[31m!", "has_handoff": c["has_handoff"],
        "has_error": c["has_error"], "tags": c["tags"], "skills": c["skills"] or None,
        "avg_response_latency_ms": c["avg_latency_ms"],
        "sentiment_label": c["sentiment"], "resources_label": c["resources"],
        "summary": f"Customer asked about {c['intent']}." if c["scored"] else None,
        "user_intent": c["intent"] if c["scored"] else None,
        "sentiment_shift": c["sentiment_shift"], "deflection_quality": c["deflection_quality"],
        "handoff_reason": c["handoff_reason"], "recontact_risk": c["recontact_risk"],
        "recontact_risk_reason": "reason" if c["scored"] else None,
        "model": "gpt-4o-mini", "winback_sent_at": _iso(c["last_ts"]) if c["has_winback"] else None,
        "context": {"email": "someone@example.com"},
    }
    return json.dumps(body)


def _docs(conn: sqlite3.Connection) -> None:
    rows = []
    for pid, name in ((P1, "Acme Support"), (P2, "Acme Sales")):
        rows.append(("project", pid, pid, None, name,
                     {"id": pid, "name": name, "account_id": "acct-1", "needs_retraining": False}))
        rows.append(("project_settings", pid, pid, None, None,
                     {"project_id": pid, "settings": {"personality_tone": "professional",
                                                      "user_enrichment_url": None}}))
        rows.append(("schedule", f"sched-{pid}", pid, None, None,
                     {"id": f"sched-{pid}", "enabled": True, "timezone": "UTC",
                      "weekly_schedule": {}, "overrides": []}))
    for base, (name, versions) in BASES.items():
        for n, vid in enumerate(versions, 1):
            rows.append(("playbook", vid, P1, base, f"{n:04d}", {
                "id": vid, "base_id": base, "name": name, "version_number": n, "content": "Be nice.",
                "kb_ids": ["kb-faq"], "model": "gpt-4o-mini", "is_deleted": False,
                "inboxes": [], "created_at": f"2026-0{n}-01T00:00:00Z", "updated_at": f"2026-0{n}-01T00:00:00Z"}))
            rows.append(("playbook_settings", vid, P1, base, None,
                         {"is_disabled": False, "url_shortener": {}, "winback": {"enabled": True}}))
        rows.append(("playbook_active_history", base, P1, None, None, {"items": [
            {"version_number": 1, "activated_at": "2026-01-01T00:00:00Z", "activated_by": None},
            {"version_number": 2, "activated_at": "2026-02-01T00:00:00Z", "activated_by": "ana"}]}))
        rows.append(("eval_case", f"case-{base}", P1, base, None, {
            "id": f"case-{base}", "name": f"refund-{base}", "input": "I want a refund",
            "expected_output": "refund", "tags": ["refund"], "enabled": True}))
        rows.append(("eval_run", f"run-{base}", P1, base, "2026-06-01T00:00:00Z", {
            "id": f"run-{base}", "playbook_name": name, "playbook_version": 2, "status": "completed",
            "passed_cases": 1, "failed_cases": 0, "total_cases": 1, "created_at": "2026-06-01T00:00:00Z"}))
        rows.append(("eval_result", f"res-{base}", P1, f"run-{base}", None, {
            "id": f"res-{base}", "case_id": f"case-{base}", "case_name": f"refund-{base}",
            "case_scenario": "refund", "status": "passed", "total_assertions": 1,
            "passed_assertions": 1, "failed_assertions": 0, "assertion_results": [],
            "tag_results": {}, "conversation": []}))
    rows.append(("kb", "kb-faq", P1, None, None, {"id": "kb-faq", "title": "FAQ", "kb_type": "FAQ",
                                                  "status": "ACTIVE", "faq_items": []}))
    rows.append(("kb", "kb-ic", P1, None, None, {"id": "kb-ic", "title": "Help Center",
                                                 "kb_type": "INTERCOM", "status": "ACTIVE"}))
    rows.append(("kb_item", "item-1", P1, "kb-ic", None, {"id": "item-1", "item_type": "intercom",
                                                          "title": "Refunds", "url": "https://x/1"}))
    rows.append(("api_tool", "tool-1", P1, None, None, {"id": "tool-1", "name": "lookup_order",
                                                        "method": "GET", "url": "https://api/x"}))
    rows.append(("conversion_metric", "cm-1", P1, None, None, {
        "id": "cm-1", "project_id": P1, "slug": "venta", "name": "Venta", "value_label": "USD",
        "enabled": True, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "ingest_url_path": "/x", "last_event_at": "2026-06-10T00:00:00Z"}))
    conn.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?)",
                     [(k, i, p, pa, s, json.dumps(b)) for k, i, p, pa, s, b in rows])


def _events(conn: sqlite3.Connection, rng: random.Random, convs: list[dict]) -> None:
    for n, c in enumerate(convs):
        ts = c["last_ts"]
        created = _iso(ts)
        if c["project_id"] == P1 and rng.random() < 0.5:
            kind, ref, name = rng.choice((("api_tool", "tool-1", "lookup_order"),
                                          ("toolkit", "SLACK", "SLACK_SEND_MESSAGE"),
                                          ("skill", "refund-process", "refund-process"),
                                          ("kb_citation", "kb-ic", "Refunds")))
            ok = rng.random() < 0.8
            conn.execute("INSERT INTO resource_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
                f"ev-{n}", P1, kind, ref, name, "item-1" if kind == "kb_citation" else None,
                "intercom" if kind == "kb_citation" else None, c["seq"], c["conversation_id"], ts,
                created, int(ok), None if ok else "timeout", rng.randrange(10, 900),
                json.dumps({"ticket_type_id": rng.choice(("67", "68"))}), json.dumps({"ok": ok}), None))
        if c["project_id"] == P1 and not c["has_handoff"] and rng.random() < 0.4:
            conn.execute("INSERT INTO csat_ratings VALUES (?,?,?,?,?,?,?)", (
                c["seq"], P1, c["conversation_id"], rng.randrange(1, 6),
                rng.choice((None, "great", "slow")), created, ts))
        if c["project_id"] == P1 and rng.random() < 0.2:
            conn.execute("INSERT INTO conversion_events (project_id, metric_slug, seq, conversation_id,"
                         " value, occurred_at, ts, created_ts, metadata, match_value, idempotency_key)"
                         " VALUES (?,?,?,?,?,?,?,?,?,?,?)", (
                             P1, "venta", c["seq"], c["conversation_id"], rng.randrange(10, 500) * 1.0,
                             created, ts, ts, json.dumps({"sku": "A"}), c["conversation_id"], f"k{n}"))


def mini_rows(n: int = 400, seed: int = 3) -> tuple[random.Random, list[dict]]:
    rng = random.Random(seed)
    return rng, [_conversation(rng, seq) for seq in range(1, n + 1)]


def build_mini_db(path: Path, n: int = 400, seed: int = 3) -> MiniDB:
    rng, convs = mini_rows(n, seed)
    conn = sqlite3.connect(path)
    conn.executescript(schema.SCHEMA_SQL)
    meta = {"generator_version": str(schema.GENERATOR_VERSION), "seed": str(seed), "size": str(n),
            "anchor": ANCHOR, "created_at": "2026-06-15T00:00:00Z",
            "api_keys": json.dumps({KEY1: P1, KEY2: P2})}
    conn.executemany("INSERT INTO meta VALUES (?,?)", meta.items())
    cols = ("seq project_id conversation_id inbox_id playbook_id playbook_base_id message_count "
            "ai_message_count first_ts last_ts has_handoff has_error has_winback winback_answered "
            "scored sentiment resources sentiment_shift deflection_quality handoff_reason "
            "recontact_risk avg_latency_ms intent").split()
    for c in convs:
        conn.execute(f"INSERT INTO conversations ({','.join(cols)}, body) VALUES "
                     f"({','.join('?' * (len(cols) + 1))})", [c[k] for k in cols] + [_body(c)])
        conn.executemany("INSERT INTO conv_tags VALUES (?,?)", [(t, c["seq"]) for t in c["tags"]])
        conn.executemany("INSERT INTO conv_skills VALUES (?,?)", [(s, c["seq"]) for s in c["skills"]])
        conn.executemany("INSERT INTO conv_playbooks VALUES (?,?,?)",
                         [(v, VERSION_BASE[v], c["seq"]) for v in c["playbooks"]])
    _docs(conn)
    _events(conn, rng, convs)
    conn.executescript(schema.INDEX_SQL)
    conn.commit()
    conn.close()
    return MiniDB(path=path, conversations=convs)
