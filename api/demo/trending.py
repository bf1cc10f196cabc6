"""Trending topics: status, generate (an in-memory job timed by an injectable clock), job
polling and analyses computed from the conversations in scope."""
from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from api.demo import convfilter as cf
from api.demo.params import ApiError, epoch, iso, not_found
from api.demo.routes_analytics import pct
from api.demo.routing import Ctx, routes
from api.demo.store import Store

JOB_SECONDS = 3.0
PENDING_SECONDS = 0.3
WINDOW_DAYS = 7
MAX_IDS_PER_TOPIC = 200
STEPS = ((1.2, "collecting", "Collecting conversations"),
         (2.2, "clustering", "Clustering conversations into topics"),
         (JOB_SECONDS, "summarizing", "Writing topic insights"))


@dataclass
class Job:
    id: str
    project_id: str
    created: float              # clock() at creation
    started_at: str
    analysis: dict[str, Any]


@dataclass
class TrendingState:
    """Per-app in-memory jobs and generated analyses."""

    jobs: dict[str, Job] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def analyses(self, project_id: str, clock: float) -> list[dict[str, Any]]:
        return [j.analysis for j in self.jobs.values()
                if j.project_id == project_id and clock - j.created >= JOB_SECONDS]


def job_view(job: Job, now: float) -> dict[str, Any]:
    elapsed = now - job.created
    view = {"id": job.id, "status": "pending", "progress": 0, "step": "queued",
            "progress_message": "Waiting for a worker", "analysis_id": None,
            "started_at": job.started_at, "completed_at": None}
    if elapsed >= JOB_SECONDS:
        done = datetime.fromisoformat(job.started_at) + timedelta(seconds=JOB_SECONDS)
        view.update(status="completed", progress=100, step="completed",
                    progress_message="Analysis ready", analysis_id=job.analysis["id"],
                    completed_at=done.isoformat().replace("+00:00", "Z"))
    elif elapsed >= PENDING_SECONDS:
        step = next(s for s in STEPS if elapsed < s[0])
        view.update(status="running", progress=min(99, int(elapsed * 100 / JOB_SECONDS)),
                    step=step[1], progress_message=step[2])
    return view


def _scope(ctx: Ctx, payload: dict[str, Any]) -> cf.ConvFilter:
    store = ctx.store
    bases = payload.get("playbook_base_ids") or ()
    tags = payload.get("tags") or ()
    if not all(isinstance(x, str) for x in [*bases, *tags]):
        raise ApiError(422, [{"type": "list_type", "loc": ["body"],
                              "msg": "playbook_base_ids and tags must be lists of strings"}])
    end = store.now
    return cf.ConvFilter(project_ids=(ctx.project(),), start_ts=epoch(end - timedelta(days=WINDOW_DAYS)),
                         end_ts=epoch(end), playbook_base_ids=tuple(bases), tags=tuple(tags))


def compute_analysis(store: Store, scope: cf.ConvFilter) -> dict[str, Any]:
    where, args = scope.where()
    unscoped = cf.ConvFilter(project_ids=scope.project_ids, start_ts=scope.start_ts, end_ts=scope.end_ts)
    total = cf.count(store, unscoped)
    rows = store.rows(
        "SELECT coalesce(c.intent, 'other') i, count(*), sum(c.sentiment='positive'), "
        "sum(c.sentiment='neutral'), sum(c.sentiment='negative'), sum(c.has_handoff) "
        f"FROM conversations c WHERE {where} GROUP BY i ORDER BY count(*) DESC, i", args)
    analyzed = sum(r[1] for r in rows)
    topics = [_topic(store, where, args, row, analyzed) for row in rows]
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"trending:{scope}:{store.anchor}")),
        "project_id": scope.project_ids[0],
        "analysis_date": store.anchor.isoformat(),
        "playbook_base_ids": list(scope.playbook_base_ids), "tags": list(scope.tags),
        "total_conversations": total,
        "conversations_analyzed": analyzed,
        "start_date": iso(scope.start_ts), "end_date": iso(scope.end_ts),
        "topics": topics,
    }


def _topic(store: Store, where: str, args: list[Any], row: tuple[Any, ...],
           analyzed: int) -> dict[str, Any]:
    intent, n, pos, neu, neg, handoffs = row
    found = store.rows(
        "SELECT c.conversation_id, c.body FROM conversations c WHERE "
        f"{where} AND coalesce(c.intent, 'other') = ? ORDER BY c.last_ts DESC LIMIT ?",
        [*args, intent, MAX_IDS_PER_TOPIC])
    breakdown = {"positive": pos, "neutral": neu, "negative": neg}
    name = str(intent).replace("_", " ").replace("-", " ").capitalize()
    rate = pct(handoffs, n)
    examples = []
    for cid, body in found[:3]:
        data = json.loads(body)
        examples.append({"conversation_id": cid, "summary": data.get("summary"),
                         "user_intent": data.get("user_intent")})
    return {
        "name": name,
        "description": f"Conversations about {name.lower()}.",
        "insight": (f"{rate:.0f}% of {name.lower()} conversations were handed off; "
                    f"{pct(neg, n):.0f}% read negative."),
        "conversation_count": n, "percentage": pct(n, analyzed),
        "sentiment": max(breakdown, key=lambda k: breakdown[k]) if n else "neutral",
        "sentiment_breakdown": breakdown, "handoff_count": handoffs, "handoff_rate": rate,
        "conversation_ids": [cid for cid, _ in found], "example_conversations": examples,
    }


def _state(ctx: Ctx) -> tuple[TrendingState, float]:
    return ctx.state.trending, ctx.state.clock()


def _same_scope(analysis: dict[str, Any], bases: tuple[str, ...], tags: tuple[str, ...]) -> bool:
    return (sorted(analysis.get("playbook_base_ids") or []) == sorted(bases)
            and sorted(analysis.get("tags") or []) == sorted(tags))


def _latest(ctx: Ctx) -> dict[str, Any] | None:
    """The newest analysis (generated here, else stored) for the requested scope."""
    p = ctx.params
    bases, tags = p.csv("playbook_base_ids"), p.csv("tags")
    trending, now = _state(ctx)
    stored = ctx.store.docs("trending_analysis", project_id=ctx.project())
    candidates = [a for a in [*stored, *trending.analyses(ctx.project(), now)]
                  if _same_scope(a, bases, tags)]
    return candidates[-1] if candidates else None


def status(ctx: Ctx) -> dict[str, Any]:
    trending, now = _state(ctx)
    pid = ctx.project()
    running = any(j.project_id == pid and now - j.created < JOB_SECONDS for j in trending.jobs.values())
    analysis = _latest(ctx)
    state = "pending" if running else ("completed" if analysis else "none")
    return {"status": state, "analysis": analysis}


def generate(ctx: Ctx) -> dict[str, Any]:
    payload = ctx.body if isinstance(ctx.body, dict) else {}
    scope = _scope(ctx, payload)
    trending, now = _state(ctx)
    with trending.lock:
        if any(j.project_id == scope.project_ids[0] for j in trending.jobs.values()):
            raise ApiError(409, "Analysis already generated today")
        job = Job(id=str(uuid.uuid4()), project_id=scope.project_ids[0], created=now,
                  started_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                  analysis=compute_analysis(ctx.store, scope))
        trending.jobs[job.id] = job
    return {"job_id": job.id, "status": "pending"}


def job(ctx: Ctx) -> dict[str, Any]:
    trending, now = _state(ctx)
    found = trending.jobs.get(ctx.path["job_id"])
    if found is None or found.project_id != ctx.project():
        raise not_found("Job")
    return job_view(found, now)


def analysis(ctx: Ctx) -> dict[str, Any]:
    trending, now = _state(ctx)
    aid = ctx.path["analysis_id"]
    for found in trending.analyses(ctx.project(), now):
        if found["id"] == aid:
            return found
    stored = ctx.store.doc("trending_analysis", aid, ctx.project())
    if stored is None:
        raise not_found("Analysis")
    return stored


PREFIX = "/projects/{pid}/conversations/insights/trending-topics"
ROUTES = routes(
    ("GET", f"{PREFIX}/status", status),
    ("POST", f"{PREFIX}/generate", generate),
    ("GET", f"{PREFIX}/job/{{job_id}}", job),
    ("GET", f"{PREFIX}/analysis/{{analysis_id}}", analysis),
)
