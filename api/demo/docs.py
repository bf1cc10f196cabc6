"""``docs`` rows: configuration entities whose body is exactly the JSON the API returns.

Each row is ``(kind, id, project_id, parent_id, sort_key, body)``; see docs/ARCHITECTURE.md for
the kinds. Bodies come from the seeded world (plus, for conversion metrics and trending topics,
from the conversations already written).
"""
from __future__ import annotations

import random
import sqlite3
from typing import Any

from api.demo import world as W
from api.demo.world import DAY, World

Doc = tuple[str, str, str | None, str | None, str | None, dict[str, Any]]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def config_docs(world: World) -> list[Doc]:
    rng = random.Random(f"docs:{world.seed}")
    docs: list[Doc] = []
    for proj in (world.main, world.other):
        docs += _project_docs(rng, world, proj)
    for base in world.bases.values():
        docs += _playbook_docs(rng, world, base)
    for kb in world.kbs:
        docs.append(("kb", kb.id, kb.project_id, None, kb.title, kb.body))
        for item in kb.items:
            if item.id:
                docs.append(("kb_item", item.id, kb.project_id, kb.id, item.title, {
                    "item_id": item.id, "item_type": item.item_type, "title": item.title,
                    "url": item.url}))
    for key, body in world.api_tools.items():
        docs.append(("api_tool", body["id"], body["project_id"], None, key, body))
    for slug, spec in W.TOOLKITS.items():
        tid = world.toolkit_ids[slug]
        docs.append(("toolkit", tid, world.main.id, None, slug,
                     {"id": tid, "slug": slug, "project_id": world.main.id, **spec}))
    for order, (name, description) in enumerate(W.SKILLS.items()):
        sid = world.skill_ids[name]
        docs.append(("skill", sid, world.main.id, None, name, {
            "id": sid, "name": name, "description": description,
            "content": f"{description} Follow the steps in order and confirm each one.",
            "trigger": name.replace("-", " "), "is_active": True, "order": order}))
    return docs


def _project_docs(rng: random.Random, world: World, proj: W.Project) -> list[Doc]:
    needs = any(kb.status in ("ADDED", "EDITED") for kb in world.kbs if kb.project_id == proj.id)
    docs: list[Doc] = [
        ("project", proj.id, proj.id, None, proj.name, {
            "id": proj.id, "name": proj.name, "account_id": world.account_id,
            "needs_retraining": needs}),
        ("project_settings", proj.id, proj.id, None, None, {
            "project_id": proj.id,
            "settings": {"personality_tone": "friendly" if proj is world.main else "professional",
                         "user_enrichment_url": ("https://crm.demo.example/enrich"
                                                 if proj is world.main else None)}}),
    ]
    for iid, name, _ in proj.inboxes:
        docs.append(("inbox", iid, proj.id, None, name, {
            "id": iid, "name": name, "channel": name.split()[0].lower()}))
    docs.append(_schedule(rng, world, proj))
    return docs


def _schedule(rng: random.Random, world: World, proj: W.Project) -> Doc:
    weekly = {}
    for i, day in enumerate(WEEKDAYS):
        open_ = i < 5 or (i == 5 and proj is world.main)
        slots = [{"start": "09:00", "end": "13:00"}, {"start": "14:00", "end": "18:00"}]
        weekly[day] = {"enabled": open_, "slots": slots if i < 5 else
                       ([{"start": "10:00", "end": "14:00"}] if open_ else [])}
    year = int(world.anchor[:4])
    overrides = [
        {"id": W.new_id(rng), "date": f"{year}-12-25", "is_available": False, "label": "Christmas"},
        {"id": W.new_id(rng), "date": f"{year}-01-01", "is_available": False,
         "label": "New Year's Day"},
        {"id": W.new_id(rng), "date": W.day_str(world.end_ts + 10 * DAY), "is_available": False,
         "label": "Team offsite"},
    ]
    sid = W.new_id(rng)
    return ("schedule", sid, proj.id, None, None, {
        "id": sid, "project_id": proj.id, "enabled": True,
        "timezone": "America/New_York" if proj is world.main else "Europe/Madrid",
        "weekly_schedule": weekly, "overrides": overrides})


def _playbook_docs(rng: random.Random, world: World, base: W.Base) -> list[Doc]:
    proj = world.main if base.project_id == world.main.id else world.other
    inbox_names = {iid: name for iid, name, _ in proj.inboxes}
    docs: list[Doc] = []
    for v in base.versions:
        docs.append(("playbook", v.id, base.project_id, base.id, f"{v.number:06d}", {
            "id": v.id, "base_id": base.id, "name": v.name, "version_number": v.number,
            "content": v.content, "kb_ids": v.kb_ids, "model": v.model,
            "is_deleted": v.is_deleted,
            "inboxes": [{"id": i, "name": inbox_names[i]} for i in base.inbox_ids],
            "project_id": base.project_id,
            "created_at": W.iso(v.created_ts), "updated_at": W.iso(v.created_ts + 3 * 3600)}))
        if v.number == 1 and base.key == "sales":
            continue  # "settings (or null if not configured)"
        docs.append(("playbook_settings", v.id, base.project_id, base.id, None, {
            "is_disabled": base.is_deleted,
            "url_shortener": {"enabled": v.number > 1, "domain": "go.demo.example"},
            "winback": {"enabled": base.key != "sales", "delay_minutes": 60,
                        "message": W.WINBACK_LINES[0], "max_attempts": 1}}))
    items = [{"version_number": n, "activated_at": W.iso(ts), "activated_by": by}
             for ts, n, by in reversed(base.history)]
    docs.append(("playbook_active_history", base.id, base.project_id, None, None,
                 {"items": items}))
    return docs


# --------------------------------------------------------------------------------------------
# conversion metrics


METRICS = (
    ("venta", "Venta", "Sales attributed to a conversation (Shopify orders)", "USD", 0),
    ("suscripcion", "Suscripción", "Subscriptions saved or started after a chat", "ARS", 1),
)


def conversion_metric_docs(world: World, last_event: dict[str, int]) -> list[Doc]:
    rng = random.Random(f"metrics:{world.seed}")
    docs: list[Doc] = []
    for slug, name, description, unit, k in METRICS:
        mid = W.new_id(rng)
        created = W.iso(world.start_ts - (40 - 5 * k) * DAY)
        last = last_event.get(slug)
        docs.append(("conversion_metric", mid, world.main.id, None, created, {
            "id": mid, "project_id": world.main.id, "slug": slug, "name": name,
            "description": description, "value_label": unit, "enabled": True,
            "created_at": created, "updated_at": created,
            "ingest_url_path": f"/projects/{world.main.id}/conversion-metrics/{slug}/events",
            "last_event_at": W.iso(last) if last else None}))
    return docs


# --------------------------------------------------------------------------------------------
# trending topics (from the conversations already written)


TOPIC_TEXT = {
    "refund": ("Refund requests", "Customers asking for money back, mostly damaged items.",
               "Shorten the refund path for damaged items: photos + automatic approval."),
    "billing": ("Unexpected charges", "Duplicate charges and invoice questions.",
                "Explain pre-authorisations up front in the billing FAQ."),
    "shipping": ("Late deliveries", "Where-is-my-order and tracking not updating.",
                 "Proactively message customers when tracking stalls for 48h."),
    "password_reset": ("Login problems", "Reset emails not arriving and locked accounts.",
                       "Check the email provider: reset emails land in spam."),
    "cancellation": ("Cancellations", "Customers cancelling or pausing subscriptions.",
                     "The pause offer retains about a third; surface it earlier."),
    "pricing": ("Pricing questions", "Plan comparison and enterprise pricing.",
                "Add seat-based examples to the pricing page."),
    "plan_upgrade": ("Upgrades", "Customers upgrading plans or adding seats.",
                     "Upgrades convert well; keep the prorating explanation."),
    "account_update": ("Account changes", "Email, address and account deletion requests.",
                       "Account deletion always hands off: consider a self-serve flow."),
    "bug_report": ("App crashes and bugs", "Crash reports and checkout errors.",
                   "Spike after the last release: check crash reports for 4.2.x."),
    "product_question": ("Product questions", "Integrations, exports and stock.",
                         "Add the Shopify integration to the Help Center."),
}


def trending_docs(world: World, conn: sqlite3.Connection) -> list[Doc]:
    """One completed analysis dated the day before the anchor, over the 7 days before it."""
    end = world.start_ts + (W.DAYS - 1) * DAY - 1  # the end of the day before the anchor
    start = end + 1 - 7 * DAY
    rows = conn.execute(
        "SELECT intent, conversation_id, sentiment, has_handoff, seq FROM conversations "
        "WHERE project_id = ? AND last_ts BETWEEN ? AND ? ORDER BY last_ts DESC",
        (world.main.id, start, end)).fetchall()
    groups: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:
        groups.setdefault(row[0], []).append(row)
    total = len(rows)
    topics = [_topic(conn, intent, convs, total) for intent, convs in groups.items()]
    topics.sort(key=lambda t: -t["conversation_count"])
    rng = random.Random(f"trending:{world.seed}")
    aid = W.new_id(rng)
    analysis_date = W.day_str(end)
    body = {
        "id": aid, "project_id": world.main.id, "analysis_date": analysis_date,
        "total_conversations": total, "conversations_analyzed": total,
        "start_date": W.iso(start), "end_date": W.iso(end),
        "playbook_base_ids": [], "tags": [], "created_at": W.iso(end + 2 * 3600),
        "topics": topics[:8],
    }
    return [("trending_analysis", aid, world.main.id, None, analysis_date, body)]


def _topic(conn: sqlite3.Connection, intent: str, convs: list[tuple[Any, ...]],
           total: int) -> dict[str, Any]:
    name, description, insight = TOPIC_TEXT.get(intent, (intent, intent, ""))
    breakdown = {"positive": 0, "neutral": 0, "negative": 0}
    for c in convs:
        if c[2] in breakdown:
            breakdown[c[2]] += 1
    handoffs = sum(c[3] for c in convs)
    examples = []
    for c in convs[:3]:
        summary = conn.execute("SELECT json_extract(body, '$.summary') FROM conversations "
                               "WHERE seq = ?", (c[4],)).fetchone()[0]
        examples.append({"conversation_id": c[1], "summary": summary, "sentiment": c[2]})
    return {
        "name": name, "description": description, "insight": insight,
        "conversation_count": len(convs),
        "percentage": round(100 * len(convs) / total, 1) if total else 0.0,
        "sentiment": max(breakdown, key=breakdown.__getitem__),
        "sentiment_breakdown": breakdown,
        "handoff_count": handoffs,
        "handoff_rate": round(100 * handoffs / len(convs), 1) if convs else 0.0,
        "conversation_ids": [c[1] for c in convs],
        "example_conversations": examples,
    }
