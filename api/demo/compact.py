"""Compact storage of conversations: ``body`` is a VIRTUAL generated column.

Readers see exactly the table of ``schema.SCHEMA_SQL`` (same column names in the same order,
``body`` = the list-endpoint JSON object with every field), but the database stores only the
per-conversation variable parts (texts, tags, context, ...) in trailing ``x_*`` columns; SQLite
composes ``body`` on read with ``json_object`` and CASE tables built from the seeded world
(playbook names/versions/models, inbox names, reason templates). That keeps the largest demo
small without changing what ``SELECT body FROM conversations`` returns.

``content.conversation_body(plan)`` is the Python reference of the same object; the tests check
that both agree on every row.
"""
from __future__ import annotations

import re
import sqlite3
from typing import Any

from api.demo import world as W
from api.demo.content import OPTIONAL_KEYS_DROPPED
from api.demo.plan import Plan
from api.demo.schema import SCHEMA_SQL

LOGICAL_COLUMNS = (
    "seq", "project_id", "conversation_id", "inbox_id", "playbook_id", "playbook_base_id",
    "message_count", "ai_message_count", "first_ts", "last_ts", "has_handoff", "has_error",
    "has_winback", "winback_answered", "scored", "sentiment", "resources", "sentiment_shift",
    "deflection_quality", "handoff_reason", "recontact_risk", "avg_latency_ms", "intent", "body")
STORED = ("x_first_playbook", "x_user", "x_ai", "x_subject", "x_tools", "x_user_intent",
          "x_tags", "x_skills", "x_winback_ts", "x_context", "x_drop")
CONV_INSERT = (f"INSERT INTO conversations ({', '.join(LOGICAL_COLUMNS[:-1] + STORED)}) "
               f"VALUES ({','.join('?' * (len(LOGICAL_COLUMNS) - 1 + len(STORED)))})")
EVENT_COLUMNS = ("id", "project_id", "kind", "ref", "name", "item_id", "source", "seq",
                 "conversation_id", "ts", "success", "error_message", "duration_ms",
                 "input_params", "output_result", "request_meta")
EVENT_INSERT = (f"INSERT INTO resource_events ({', '.join(EVENT_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(EVENT_COLUMNS))})")
ISO = "'%Y-%m-%dT%H:%M:%SZ'"


def q(text: str | int | None) -> str:
    """SQL literal."""
    if text is None:
        return "NULL"
    if isinstance(text, int):
        return str(text)
    return "'" + str(text).replace("'", "''") + "'"


def case(column: str, mapping: dict[str, Any]) -> str:
    whens = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in mapping.items())
    return f"CASE {column} {whens} END"


def reason_sql(column: str, table: dict[str, Any]) -> str:
    """The ``_reason`` of content.py: template (variant seq % n) with {subject} filled in."""
    whens = []
    for label, text in table.items():
        variants = text if isinstance(text, tuple) else (text,)
        for k, variant in enumerate(variants):
            cond = f"{column} = {q(label)}"
            if len(variants) > 1:
                cond += f" AND seq % {len(variants)} = {k}"
            whens.append(f"WHEN {cond} THEN {q(variant)}")
    return f"replace(CASE {' '.join(whens)} END, '{{subject}}', x_subject)"


def _summary_sql() -> str:
    ends = {"resolved": "Resolved by the assistant.", "partial": "Partly answered.",
            "actioned": "The assistant opened a ticket.",
            "no_response": "The customer stopped replying."}
    end = (f"CASE WHEN has_handoff THEN 'Handed off to a human (' || "
           f"replace(handoff_reason, '_', ' ') || ').' ELSE {case('deflection_quality', ends)} END")
    return (f"CASE WHEN scored THEN 'Customer asked about ' || x_subject || '.' || "
            f"coalesce(' Used ' || x_tools || '.', '') || ' ' || {end} END")


def _bool(column: str) -> str:
    return f"json(CASE WHEN {column} THEN 'true' ELSE 'false' END)"


def conversations_ddl(world: W.World) -> str:
    versions = [v for b in world.bases.values() for v in b.versions]
    names = {v.id: v.name for v in versions}
    numbers = {v.id: v.number for v in versions}
    models = {v.id: v.model for v in versions}
    inboxes = {iid: name for p in (world.main, world.other) for iid, name, _ in p.inboxes}

    def info(col: str) -> str:
        return f"json_object('id', {col}, 'name', {case(col, names)}, 'version', {case(col, numbers)})"

    fields = [
        ("conversation_id", "conversation_id"),
        ("inbox_name", case("inbox_id", inboxes)),
        ("playbook_name", case("playbook_id", names)),
        ("playbook_version", case("playbook_id", numbers)),
        ("playbooks_info", f"CASE WHEN x_first_playbook IS NULL THEN json_array({info('playbook_id')}) "
                           f"ELSE json_array({info('x_first_playbook')}, {info('playbook_id')}) END"),
        ("message_count", "message_count"),
        ("first_message_at", f"strftime({ISO}, first_ts, 'unixepoch')"),
        ("last_message_at", f"strftime({ISO}, last_ts, 'unixepoch')"),
        ("first_user_message", "x_user"),
        ("last_assistant_message", "x_ai"),
        ("has_handoff", _bool("has_handoff")),
        ("has_error", _bool("has_error")),
        ("tags", "json(x_tags)"),
        ("skills", "json(x_skills)"),
        ("avg_response_latency_ms", "avg_latency_ms"),
        ("sentiment_label", "sentiment"),
        ("sentiment_reason", reason_sql("sentiment", W.SENTIMENT_REASONS)),
        ("resources_label", "resources"),
        ("resources_reason", reason_sql("resources", W.RESOURCES_REASONS)),
        ("summary", _summary_sql()),
        ("user_intent", "x_user_intent"),
        ("sentiment_shift", "sentiment_shift"),
        ("sentiment_shift_reason", reason_sql("sentiment_shift", W.SHIFT_REASONS)),
        ("deflection_quality", "deflection_quality"),
        ("deflection_quality_reason", reason_sql("deflection_quality", W.DEFLECTION_REASONS)),
        ("handoff_reason", "handoff_reason"),
        ("handoff_reason_detail", reason_sql("handoff_reason", W.HANDOFF_DETAILS)),
        ("recontact_risk", "recontact_risk"),
        ("recontact_risk_reason", reason_sql("recontact_risk", W.RISK_REASONS)),
        ("model", case("playbook_id", models)),
        ("winback_sent_at", f"strftime({ISO}, x_winback_ts, 'unixepoch')"),
        ("context", "json(x_context)"),
    ]
    obj = "json_object(" + ", ".join(f"{q(k)}, {v}" for k, v in fields) + ")"
    dropped = ", ".join(q(f"$.{k}") for k in OPTIONAL_KEYS_DROPPED)
    generated = (f"body TEXT GENERATED ALWAYS AS (\n"
                 f"    CASE WHEN x_drop THEN json_remove(x_full, {dropped}) ELSE x_full END) VIRTUAL,\n"
                 "  x_first_playbook TEXT, x_user TEXT, x_ai TEXT, x_subject TEXT, x_tools TEXT,\n"
                 "  x_user_intent TEXT, x_tags TEXT, x_skills TEXT, x_winback_ts INTEGER,\n"
                 "  x_context TEXT, x_drop INTEGER NOT NULL DEFAULT 0,\n"
                 f"  x_full TEXT GENERATED ALWAYS AS ({obj}) VIRTUAL")
    return _logical_ddl("conversations").replace("body TEXT NOT NULL", generated)


def _logical_ddl(table: str) -> str:
    """The CREATE TABLE statement of ``table`` in schema.SCHEMA_SQL."""
    match = re.search(rf"CREATE TABLE {table}\(.*?\);", SCHEMA_SQL, re.DOTALL)
    if match is None:
        raise RuntimeError(f"schema.SCHEMA_SQL has no table {table}")
    return match.group(0)


def events_ddl() -> str:
    return _logical_ddl("resource_events").replace(
        "created_at TEXT NOT NULL",
        f"created_at TEXT GENERATED ALWAYS AS (strftime({ISO}, ts, 'unixepoch')) VIRTUAL")



def replace_tables(conn: sqlite3.Connection, world: W.World) -> None:
    """Swap the plain ``conversations``/``resource_events`` of SCHEMA_SQL for compact ones."""
    logical = tuple(r[1] for r in conn.execute("PRAGMA table_info(conversations)"))
    events = tuple(r[1] for r in conn.execute("PRAGMA table_info(resource_events)"))
    expected_events = EVENT_COLUMNS[:10] + ("created_at",) + EVENT_COLUMNS[10:]
    if logical != LOGICAL_COLUMNS or events != expected_events:
        raise RuntimeError("schema.SCHEMA_SQL changed: update api/demo/compact.py to match")
    conn.execute("DROP TABLE conversations")
    conn.execute("DROP TABLE resource_events")
    conn.execute(conversations_ddl(world))
    conn.execute(events_ddl())


def conversation_row(plan: Plan) -> tuple[Any, ...]:
    """Values for CONV_INSERT (logical columns without body, then the x_* columns)."""
    s = plan.signals
    last = plan.participants[-1]
    used = sorted({c.name for c in plan.tool_calls})
    return (
        plan.seq, plan.project_id, plan.conversation_id, plan.inbox_id, last.id, last.base_id,
        len(plan.roles), plan.roles.count("assistant"), plan.first_ts, plan.last_ts,
        int(plan.has_handoff), int(plan.has_error), int(plan.winback_index is not None),
        int(plan.winback_answered), int(plan.scored), s["sentiment"], s["resources"],
        s["sentiment_shift"], s["deflection_quality"], s["handoff_reason"], s["recontact_risk"],
        plan.avg_latency, plan.intent.key,
        plan.participants[0].id if len(plan.participants) > 1 else None,
        plan.first_user_message, plan.last_assistant_message,
        plan.subject, ", ".join(used) or None,
        plan.user_intent if plan.scored else None, W.dumps(plan.tags),
        W.dumps(plan.skills) if plan.skills else None,
        plan.times[plan.winback_index] if plan.winback_index is not None else None,
        W.dumps(plan.context), int(plan.hostile == "missing"))
