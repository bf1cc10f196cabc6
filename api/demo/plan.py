"""One conversation's plan: the single source of both its stored rows and its messages.

``plan_conversation(world, seq)`` is a pure function of the world (seed, anchor, size) and the
sequence number. ``generate.py`` writes the conversation row, tags, skills, playbooks,
resource events, CSAT rating and conversion events from it; ``content.py`` builds the
messages, tool calls and citations from the same plan, so both always agree.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar

from api.demo import world as W
from api.demo.world import DAY, Intent, KbItem, Story, Version, World, weighted

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

T = TypeVar("T")

SCORED_SIGNALS = ("sentiment", "resources", "sentiment_shift", "deflection_quality",
                  "handoff_reason", "recontact_risk")


@dataclass(slots=True)
class ToolCall:
    msg: int  # index of the assistant message (in the full message list) that made it
    kind: str  # 'kb_search' | 'api_tool' | 'toolkit' | 'skill' | 'list_agents' (built-in,
    # no resource event)
    name: str  # tool name as the agent calls it
    ref: str  # kb id | api tool id | toolkit slug | skill name
    arguments: dict[str, Any]
    success: bool
    error: str | None
    duration_ms: int
    result: dict[str, Any] | list[Any] | None
    event_id: str
    citations: list[KbItem] = field(default_factory=list)
    action: str | None = None


@dataclass(slots=True)
class Plan:
    seq: int
    project_id: str
    conversation_id: str
    inbox_id: str
    inbox_name: str
    intent: Intent
    participants: list[Version]
    roles: list[str]  # 'user' | 'assistant' per message
    times: list[int]
    latencies: list[int | None]  # per message; None for user messages and the winback
    owners: list[int]  # per message: index into participants of the answering playbook
    tool_calls: list[ToolCall]
    has_handoff: bool
    has_error: bool
    winback_index: int | None
    winback_answered: bool
    scored: bool
    signals: dict[str, str | None]
    tags: list[str]
    skills: list[str]
    vars: dict[str, str]
    context: dict[str, Any]
    hostile: str | None
    first_user_message: str
    last_assistant_message: str
    summary: str
    user_intent: str
    rating: tuple[int, str | None, int] | None  # (rating, remark, rated_ts)
    # (slug, value, occurred, created, meta)
    conversions: list[tuple[str, float, int, int, dict[str, Any]]]
    story: Story  # the intent's story every text follows
    handoff_reason: str | None  # how it ended, scored or not: the reason of a handoff,
    deflection: str | None  # else the deflection quality

    @property
    def subject(self) -> str:
        return self.story.subject.format(**self.vars)

    @property
    def first_ts(self) -> int:
        return self.times[0]

    @property
    def last_ts(self) -> int:
        return self.times[-1]

    @property
    def avg_latency(self) -> int | None:
        vals = [x for x in self.latencies if x is not None]
        return round(sum(vals) / len(vals)) if vals else None


class FastRandom(random.Random):
    """``randrange``/``choice`` from one ``random()`` draw instead of the stdlib's rejection
    sampling: the demo's data is defined by these draws (another sampler, other data)."""

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if step != 1:
            return super().randrange(start, stop, step)
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        return seq[int(self.random() * len(seq))]


def conversation_rng(seed: int, seq: int) -> random.Random:
    return FastRandom((seed << 32) | seq)


def story_rng(seed: int, seq: int) -> random.Random:
    """A stream of its own for the story, so that choosing it changes no other draw."""
    return FastRandom(((seed << 32) | seq) + (1 << 64))


def conversation_id_for(seed: int, seq: int) -> str:
    """External platform id: numeric, unique, increasing with seq (like Intercom/Chatwoot)."""
    return str(21_000_000 + seq * 3 + (seq * 7 + seed) % 3)


# --------------------------------------------------------------------------------------------


def plan_conversation(world: World, seq: int) -> Plan:
    rng = conversation_rng(world.seed, seq)
    day = world.day_of(seq)
    hostile = W.hostile_kind(world.seed, seq, world.size)
    main = hostile is not None or rng.random() < 0.9
    project = world.main if main else world.other
    inbox_id, inbox_name = _pick_inbox(rng, project)
    intent = _pick_intent(rng, world, day)
    first_ts = world.start_ts + day * DAY + W.pick_second_of_day(rng, world.hours_of(day))
    participants = _pick_participants(rng, world, intent, main, day, first_ts)
    v = _story_vars(rng, intent)
    story = _pick_story(story_rng(world.seed, seq), intent, v["locale"].startswith("es"))
    has_error = rng.random() < 0.025
    outcome = _outcome(rng, intent, inbox_name, has_error)
    if participants[-1].id == world.frustrating_version:  # planted: draws for these only
        outcome = _more_frustration(rng, outcome)
    roles, winback_index, answered = _roles(rng, outcome, has_error)
    times, latencies = _timeline(rng, world, roles, winback_index, first_ts, inbox_name,
                                 participants[-1].model)
    owners = _owners(roles, len(participants))
    calls = _tool_calls(rng, world, intent, story, outcome, roles, winback_index, v, main)
    _apply_tool_latency(latencies, calls)
    scored = rng.random() >= (0.06 + (0.45 if times[-1] > world.end_ts - DAY else 0.0))
    misled = world.misleading_item is not None and any(
        i is world.misleading_item for c in calls for i in c.citations)
    signals = (_signals(rng, outcome, calls, has_error, misled) if scored
               else dict.fromkeys(SCORED_SIGNALS))
    tags = _tags(rng, intent, story, signals, v)
    skills = sorted({c.ref for c in calls if c.kind == "skill" and c.success})
    first_user, last_ai = _edge_texts(rng, story, outcome, roles, winback_index, answered,
                                      has_error, v, hostile, seq)
    plan = Plan(
        seq, project.id, conversation_id_for(world.seed, seq), inbox_id, inbox_name, intent,
        participants, roles, times, latencies, owners, calls, outcome["handoff"], has_error,
        winback_index, answered, scored, signals, tags, skills, v, _context(rng, v, hostile),
        hostile, first_user, last_ai, "",
        rng.choice((story.phrase,)),  # one draw, as when the phrase was drawn from the intent's
        None, [], story, outcome["reason"], outcome["deflection"])
    plan.summary = _summary(plan, outcome)
    if main:
        plan.rating = _rating(rng, world, plan)
        plan.conversions = _conversions(rng, world, plan)
    return plan


def _pick_story(rng: random.Random, intent: Intent, spanish: bool) -> Story:
    """One of the intent's stories, among those opening in the customer's language."""
    fits = [s for s in intent.stories if any(_is_spanish(o) == spanish for o in s.openers)]
    return rng.choice(fits or intent.stories)


def _pick_inbox(rng: random.Random, project: W.Project) -> tuple[str, str]:
    x = rng.random() * sum(w for *_, w in project.inboxes)
    for iid, name, w in project.inboxes:
        x -= w
        if x < 0:
            return iid, name
    return project.inboxes[-1][0], project.inboxes[-1][1]


def _pick_intent(rng: random.Random, world: World, day: int) -> Intent:
    if day == world.incident_day and rng.random() < 0.45:  # an outage: bug reports spike
        return W.INTENT_BY_KEY["bug_report"]
    x = rng.random() * _INTENT_TOTAL
    for intent in W.INTENTS:
        x -= intent.weight
        if x < 0:
            return intent
    return W.INTENTS[-1]


_INTENT_TOTAL = sum(i.weight for i in W.INTENTS)


def _pick_participants(rng: random.Random, world: World, intent: Intent, main: bool, day: int,
                       ts: int) -> list[Version]:
    if not main:
        return [world.bases["travel"].active_version(ts)]
    key = weighted(rng, intent.bases)
    if day < 15 and intent.key in ("product_question", "pricing") and rng.random() < 0.5:
        key = "legacy"
    last = world.bases[key].active_version(ts)
    if key != "legacy" and rng.random() < 0.07:  # started with another assistant
        first_key = "sales" if key != "sales" else "support"
        return [world.bases[first_key].active_version(ts), last]
    return [last]


def _story_vars(rng: random.Random, intent: Intent) -> dict[str, str]:
    first = rng.choice(W.FIRST_NAMES)
    initial = rng.choice(W.LAST_INITIALS)
    ascii_first = first.lower().replace("é", "e")
    return {
        "name": f"{first} {initial}.",
        "email": f"{ascii_first}.{initial.lower()}{rng.randrange(10, 99)}@example.com",
        "order": f"ORD-{rng.randrange(10000, 99999)}",
        "amount": f"${rng.randrange(9, 320)}.{rng.choice(('00', '50', '99'))}",
        "plan": rng.choice(W.PLANS),
        "tracking": f"1Z{rng.randrange(10**9, 10**10)}",
        "ticket": str(rng.randrange(4000, 9999)),
        "day": str(rng.randrange(1, 28)),
        "locale": rng.choice(W.LOCALES),
    }


class HandedOff(TypedDict):
    handoff: Literal[True]
    reason: str
    deflection: None


class Deflected(TypedDict):
    handoff: Literal[False]
    reason: None
    deflection: str


# how a conversation ends: a handoff (and its reason) or a deflection quality
Outcome = HandedOff | Deflected


def _outcome(rng: random.Random, intent: Intent, inbox_name: str, has_error: bool) -> Outcome:
    p = intent.handoff_p * (1.25 if inbox_name == "Email" else 1.0) + (0.25 if has_error else 0)
    if rng.random() < p:
        return {"handoff": True, "reason": weighted(rng, intent.handoff_reasons),
                "deflection": None}
    table = {"resolved": 55, "partial": 20, "actioned": 12, "no_response": 13}
    if has_error:
        table = {"resolved": 5, "partial": 25, "actioned": 5, "no_response": 65}
    return {"handoff": False, "reason": None, "deflection": weighted(rng, table)}


# the planted frustrating version: some deflections and other handoffs become frustration ones
MORE_FRUSTRATION = (0.15, 0.5)
# the planted misleading article: most conversations citing it turn negative
MISLED_NEGATIVE = 0.85


def _more_frustration(rng: random.Random, outcome: Outcome) -> Outcome:
    if outcome["handoff"]:
        if outcome["reason"] != "frustration" and rng.random() < MORE_FRUSTRATION[1]:
            return {"handoff": True, "reason": "frustration", "deflection": None}
    elif rng.random() < MORE_FRUSTRATION[0]:
        return {"handoff": True, "reason": "frustration", "deflection": None}
    return outcome


def _roles(rng: random.Random, outcome: Outcome,
           has_error: bool) -> tuple[list[str], int | None, bool]:
    mean = 2.6 if outcome["handoff"] else 1.6
    if outcome["reason"] == "frustration":
        mean = 4.0
    pairs = 1 + min(int(rng.expovariate(1 / mean)), 13)
    if outcome["reason"] in W.HANDOFF_ASKS:  # room for the customer's ask before the handoff
        pairs = max(pairs, 2)
    roles = ["user", "assistant"] * pairs
    winback, answered = None, False
    winback_p: dict[str | None, float] = {"no_response": 0.55, "partial": 0.25, "resolved": 0.04}
    wb_p = winback_p.get(outcome["deflection"], 0)
    if not has_error and rng.random() < wb_p:
        winback = len(roles)
        roles.append("assistant")
        answered = rng.random() < 0.35
        if answered:
            roles.append("user")
    return roles, winback, answered


def _timeline(rng: random.Random, world: World, roles: list[str], winback: int | None,
              first_ts: int, inbox: str, model: str) -> tuple[list[int], list[int | None]]:
    base_latency = W.MODELS.get(model, (1500,))[0]
    slow_user = inbox == "Email"
    times: list[int] = [first_ts]
    lats: list[int | None] = [None]
    for i in range(1, len(roles)):
        lat: int | None
        if i == winback:
            gap, lat = rng.randrange(1800, 6 * 3600), None
        elif roles[i] == "assistant":
            lat = int(base_latency * rng.lognormvariate(0, 0.35))
            gap = max(1, lat // 1000)
        else:
            lat = None
            gap = int(rng.expovariate(1 / (5400 if slow_user else 70))) + 8
        times.append(times[-1] + gap)
        lats.append(lat)
    overflow = times[-1] - world.end_ts
    if overflow > 0:  # never after the anchor's end of day
        times = [t - overflow for t in times]
    return times, lats


def _owners(roles: list[str], n: int) -> list[int]:
    """Which participant answered each message: the first playbook handles the first half."""
    if n == 1:
        return [0] * len(roles)
    switch = max(2, len(roles) // 2)
    return [0 if i < switch else n - 1 for i in range(len(roles))]


def _assistant_slots(roles: list[str]) -> list[int]:
    return [i for i, r in enumerate(roles) if r == "assistant"]


def _tool_calls(rng: random.Random, world: World, intent: Intent, story: Story, outcome: Outcome,
                roles: list[str], winback: int | None, v: dict[str, Any],
                main: bool) -> list[ToolCall]:
    slots = [i for i in _assistant_slots(roles) if i != winback]
    calls: list[ToolCall] = []
    first, mid, last = slots[0], slots[len(slots) // 2], slots[-1]
    if main:
        for k, skill in enumerate(intent.skills):
            if rng.random() < (0.7 if k == 0 else 0.2):
                calls.append(_skill_call(rng, world, first, skill))
    items = world.kb_items_by_intent.get(intent.key if main else "other", [])
    if items and rng.random() < 0.68:
        calls.append(_kb_call(rng, first, items, story))
        if len(slots) > 2 and rng.random() < 0.15:
            calls.append(_kb_call(rng, mid, items, story))
    tool_keys = intent.api_tools if main else ("booking_lookup",)
    for k, key in enumerate(tool_keys):
        if rng.random() < (0.75 if k == 0 else 0.55):
            calls.append(_api_call(rng, world, mid, key, v, outcome))
    if main:
        calls.extend(_toolkit_calls(rng, intent, story, outcome, last, v))
    if outcome["handoff"] and rng.random() < 0.5:  # built-in: who can take it over?
        calls.append(ToolCall(last, "list_agents", "list_agents", "", {}, True, None,
                              rng.randrange(30, 200),
                              [{"id": 162, "name": "Lautaro"}, {"id": 171, "name": "Sofía"}],
                              W.new_id(rng)))
    return calls


def _skill_call(rng: random.Random, world: World, msg: int, skill: str) -> ToolCall:
    ok = rng.random() >= 0.06
    return ToolCall(msg, "skill", "load_skill", skill, {"skill_name": skill}, ok,
                    None if ok else rng.choice(W.SKILL_ERRORS), rng.randrange(20, 400),
                    {"loaded": skill} if ok else None, W.new_id(rng))


def _kb_call(rng: random.Random, msg: int, items: list[KbItem], story: Story) -> ToolCall:
    query = rng.choice((story.phrase,))  # one draw, as when drawn from the intent's phrases
    ok = rng.random() >= 0.02
    cited = rng.sample(items, min(len(items), rng.choice((1, 1, 1, 1, 2, 3)))) if ok else []
    result = [{"title": i.title, "kb_id": i.kb_id, "item_id": i.id or None} for i in cited]
    return ToolCall(msg, "kb_search", "search_knowledge_base", cited[0].kb_id if cited else "",
                    {"query": query}, ok, None if ok else "Search backend timeout",
                    rng.randrange(120, 900), result if ok else None, W.new_id(rng), cited)


def _api_call(rng: random.Random, world: World, msg: int, key: str, v: dict[str, Any],
              outcome: Outcome) -> ToolCall:
    tool = world.api_tools[key]
    spec = next(t for t in W.API_TOOLS + W.OTHER_API_TOOLS if t.key == key)
    args = {
        "order_id": v["order"], "amount": float(v["amount"].strip("$")),
        "reason": "damaged", "email": v["email"], "tracking_number": v["tracking"],
        "booking_ref": "NB" + v["order"][4:],
    }
    args = {p[0]: args[p[0]] for p in spec.params}
    fail_p = 0.08 + (0.2 if outcome["reason"] == "bot_limitation" else 0.0)
    ok = rng.random() >= fail_p
    result = _api_result(key, v) if ok else {"error": "request failed"}
    return ToolCall(msg, "api_tool", key, tool["id"], args, ok,
                    None if ok else rng.choice(spec.errors), rng.randrange(90, 2500), result,
                    W.new_id(rng))


def _api_result(key: str, v: dict[str, Any]) -> dict[str, Any]:
    return {
        "lookup_order": {"order_id": v["order"], "status": "delivered", "total": v["amount"]},
        "process_refund": {"refund_id": "RF-" + v["ticket"], "status": "pending"},
        "get_subscription": {"plan": v["plan"], "status": "active", "renews_on": "2026-07-03"},
        "send_password_reset": {"sent": True},
        "track_shipment": {"status": "in_transit", "last_scan": "Regional hub"},
        "booking_lookup": {"status": "confirmed"},
    }[key]


def _toolkit_calls(rng: random.Random, intent: Intent, story: Story, outcome: Outcome, msg: int,
                   v: dict[str, Any]) -> list[ToolCall]:
    calls = []
    ticket_type = intent.ticket_type or "68"
    wants_ticket = outcome["deflection"] == "actioned" or (
        outcome["handoff"] and intent.ticket_type and rng.random() < 0.3)
    if wants_ticket:
        ok = rng.random() >= 0.05
        args = {"ticket_type_id": ticket_type, "contact_email": v["email"],
                "title": f"{story.subject.format(**v)}"[:80],
                "description": f"Opened by the assistant for {v['name']}."}
        calls.append(ToolCall(
            msg, "toolkit", "INTERCOM_TICKETS_CREATE_TICKET", "INTERCOM_TICKETS", args, ok,
            None if ok else "Intercom API error 422: contact not found",
            rng.randrange(300, 1800),
            {"ticket_id": v["ticket"], "state": "submitted"} if ok else None, W.new_id(rng),
            action="INTERCOM_TICKETS_CREATE_TICKET"))
    if outcome["handoff"] and (outcome["reason"] == "frustration" or rng.random() < 0.15):
        ok = rng.random() >= 0.03
        args = {"channel": rng.choice(W.SLACK_CHANNELS),
                "message": f"Escalation: {v['name']} needs help with "
                           f"{story.subject.format(**v)}"}
        calls.append(ToolCall(
            msg, "toolkit", "SLACK_SEND_MESSAGE", "SLACK", args, ok,
            None if ok else "channel_not_found", rng.randrange(150, 900),
            {"ok": True, "ts": f"17{rng.randrange(10**8, 10**9)}.{rng.randrange(1000, 9999)}"}
            if ok else {"ok": False}, W.new_id(rng), action="SLACK_SEND_MESSAGE"))
    return calls


def _apply_tool_latency(latencies: list[int | None], calls: list[ToolCall]) -> None:
    for c in calls:
        latency = latencies[c.msg]
        if latency is not None:
            latencies[c.msg] = latency + c.duration_ms


# outcome case -> (sentiment weights, recontact risk weights)
BY_CASE: dict[str | None, tuple[dict[str, int], dict[str, int]]] = {
    "frustration": ({"negative": 80, "neutral": 15, "positive": 5},
                    {"low": 5, "medium": 35, "high": 60}),
    "policy": ({"negative": 40, "neutral": 48, "positive": 12},
               {"low": 30, "medium": 50, "high": 20}),
    "user_request": ({"negative": 28, "neutral": 55, "positive": 17},
                     {"low": 35, "medium": 45, "high": 20}),
    "bot_limitation": ({"negative": 45, "neutral": 45, "positive": 10},
                       {"low": 20, "medium": 45, "high": 35}),
    "resolved": ({"negative": 5, "neutral": 30, "positive": 65},
                 {"low": 80, "medium": 17, "high": 3}),
    "partial": ({"negative": 25, "neutral": 55, "positive": 20},
                {"low": 25, "medium": 50, "high": 25}),
    "actioned": ({"negative": 10, "neutral": 50, "positive": 40},
                 {"low": 55, "medium": 38, "high": 7}),
    "no_response": ({"negative": 25, "neutral": 60, "positive": 15},
                    {"low": 20, "medium": 45, "high": 35}),
}
SHIFT_BY_SENTIMENT = {
    "negative": {"degraded": 55, "stable": 38, "improved": 7},
    "neutral": {"degraded": 10, "stable": 70, "improved": 20},
    "positive": {"degraded": 2, "stable": 48, "improved": 50},
}


def _signals(rng: random.Random, outcome: Outcome, calls: list[ToolCall],
             has_error: bool, misled: bool = False) -> dict[str, Any]:
    case = outcome["reason"] or outcome["deflection"]
    sentiment = weighted(rng, BY_CASE[case][0])
    if has_error and sentiment == "positive":
        sentiment = "neutral"
    if misled and rng.random() < MISLED_NEGATIVE:
        sentiment = "negative"
    if case == "frustration":  # escalated for frustration: the customer was not content
        sentiment = "negative"
    shift = weighted(rng, SHIFT_BY_SENTIMENT[sentiment])
    if case == "frustration" and shift == "improved":
        shift = "degraded"
    # a negative conversation did not end calmer, a positive one did not turn sour
    if (sentiment, shift) in (("negative", "improved"), ("positive", "degraded")):
        shift = "stable"
    resources = None
    if any(c.kind != "list_agents" for c in calls):  # KB/tools/skills, not built-ins
        failures = sum(not c.success for c in calls)
        table = {"relevant": 60, "partial": 28, "irrelevant": 12}
        if failures or sentiment == "negative":
            table = {"relevant": 25, "partial": 40, "irrelevant": 35}
        resources = weighted(rng, table)
    return {"sentiment": sentiment, "resources": resources, "sentiment_shift": shift,
            "deflection_quality": outcome["deflection"], "handoff_reason": outcome["reason"],
            "recontact_risk": weighted(rng, BY_CASE[case][1])}


def _tags(rng: random.Random, intent: Intent, story: Story, signals: dict[str, Any],
          v: dict[str, Any]) -> list[str]:
    tags = set(intent.tags if story.tags is None else story.tags)
    if rng.random() < 0.05:
        tags.add("vip")
    if rng.random() < (0.15 if signals["sentiment"] == "negative" else 0.03):
        tags.add("urgent")
    if rng.random() < (0.2 if intent.key in ("pricing", "plan_upgrade") else 0.02):
        tags.add("enterprise")
    if rng.random() < 0.1:
        tags.add("returning-customer")
    if rng.random() < 0.03:
        tags.add("promo")
    if v["locale"].startswith("es"):
        tags.add("spanish")
    return sorted(tags)


def _edge_texts(rng: random.Random, story: Story, outcome: Outcome, roles: list[str],
                winback: int | None, answered: bool, has_error: bool, v: dict[str, Any],
                hostile: str | None, seq: int) -> tuple[str, str]:
    first = rng.choice(_openers(story, v["locale"].startswith("es"))).format(**v)
    if hostile:
        first = W.HUGE_TEXT if hostile == "huge" else (W.hostile_text(hostile, seq) or first)
        if hostile == "empty":
            first = ""
    if winback is not None:
        last = rng.choice(W.WINBACK_LINES)
    elif has_error:
        last = W.ERROR_LINES[0]
    elif outcome["handoff"]:
        last = rng.choice(W.HANDOFF_LINES)
    elif outcome["deflection"] in ("resolved", "actioned"):
        last = rng.choice(story.resolved).format(**v)
    else:
        last = rng.choice(story.answers).format(**v)
    if hostile == "markup":
        last = f"You wrote: {first} — let me check that for you."
    return first, last


SPANISH_WORDS = ("hola", "quiero", "cobraron", "se cierra", "¿")


def _is_spanish(text: str) -> bool:
    return any(w in text.lower() for w in SPANISH_WORDS)


def _openers(story: Story, spanish: bool) -> tuple[str, ...]:
    """Openers in the customer's language (Spanish ones only for es-* locales)."""
    return tuple(o for o in story.openers if _is_spanish(o) == spanish) or story.openers


def _context(rng: random.Random, v: dict[str, Any], hostile: str | None) -> dict[str, Any]:
    name = v["name"]
    if hostile in ("markup", "rtl", "cjk", "ansi"):
        name = W.HOSTILE_SAMPLES[hostile][:24]
    ctx = {"name": name, "email": v["email"], "locale": v["locale"]}
    if rng.random() < 0.6:
        ctx["plan"] = v["plan"]
    return ctx


def _summary(plan: Plan, outcome: Outcome) -> str:
    subject = plan.subject
    used = sorted({c.name for c in plan.tool_calls})
    tools = f" Used {', '.join(used)}." if used else ""
    if outcome["handoff"]:
        end = f"Handed off to a human ({outcome['reason'].replace('_', ' ')})."
    else:
        end = {"resolved": "Resolved by the assistant.", "partial": "Partly answered.",
               "actioned": "The assistant opened a ticket.",
               "no_response": "The customer stopped replying."}[outcome["deflection"]]
    return f"Customer asked about {subject}.{tools} {end}"


RATING_BY_SENTIMENT = {  # a rating never contradicts how the conversation went
    "positive": {5: 62, 4: 30, 3: 8},
    "neutral": {5: 25, 4: 35, 3: 25, 2: 10, 1: 5},
    "negative": {4: 5, 3: 20, 2: 35, 1: 40},
}


def _rating(rng: random.Random, world: World, plan: Plan) -> tuple[int, str | None, int] | None:
    """The CSAT survey goes to AI-resolved (deflected) conversations only, the ones CSAT's
    response rate counts as eligible; it is answered minutes after the last message."""
    if rng.random() >= 0.3 or plan.has_handoff:
        return None
    dist = RATING_BY_SENTIMENT[plan.signals["sentiment"] or "neutral"]
    rating = int(weighted(rng, tuple(dist.items())))
    remark = rng.choice(W.REMARKS[rating]) if rng.random() < 0.4 else None
    ts = plan.last_ts + rng.randrange(30, 45 * 60)
    return (rating, remark, ts) if ts <= world.end_ts else None


def _conversions(rng: random.Random, world: World,
                 plan: Plan) -> list[tuple[str, float, int, int, dict[str, Any]]]:
    if plan.has_handoff:
        return []
    out = []
    sales = plan.intent.key in ("pricing", "plan_upgrade", "product_question")
    recent = plan.last_ts > world.end_ts - 2 * DAY  # the live integration: fresh heartbeat
    if rng.random() < (0.18 if sales else 0.02) + (0.3 if recent and sales else 0.0):
        occurred = plan.last_ts + rng.randrange(600, 3 * 3600 if recent else 3 * DAY)
        created = occurred + rng.randrange(300, 5400)
        if created <= world.end_ts:
            value = round(min(rng.lognormvariate(4.6, 0.7), 2500.0), 2)
            out.append(("venta", value, occurred, created,
                        {"order_id": plan.vars["order"], "source": "shopify",
                         "items": rng.randrange(1, 5)}))
    retention = plan.intent.key in ("billing", "cancellation", "plan_upgrade")
    if retention and rng.random() < 0.12:
        occurred = plan.last_ts + rng.randrange(3600, 2 * DAY)
        created = occurred + rng.randrange(600, 7200)
        if created <= world.end_ts - 4 * DAY:  # this integration stopped 4 days ago
            out.append(("suscripcion", float(rng.randrange(4999, 29999)), occurred, created,
                        {"plan": plan.vars["plan"], "billing": "monthly"}))
    return out
