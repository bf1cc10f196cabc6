"""Configuration endpoints served from the `docs` table: projects, settings, schedule,
playbooks (+ versions, active history, settings), knowledge bases (+ items), API tools, evals,
and the analyst conversations."""
from __future__ import annotations

import json
import math
from typing import Any

from api.demo.params import ApiError, not_found
from api.demo.routing import Ctx, routes
from api.demo.store import Store


def _own(ctx: Ctx, kind: str, id_: str, what: str) -> dict[str, Any]:
    """A doc of the caller's project (or unscoped), 404 otherwise."""
    body = ctx.store.doc(kind, id_, ctx.key_project)
    if body is None:
        raise not_found(what)
    return body


# --- projects -----------------------------------------------------------------------------
def list_projects(ctx: Ctx) -> list[dict[str, Any]]:
    return [p for p in ctx.store.projects if p["id"] == ctx.key_project]


def get_project(ctx: Ctx) -> dict[str, Any]:
    return _own(ctx, "project", ctx.project(), "Project")


def project_settings(ctx: Ctx) -> dict[str, Any]:
    pid = ctx.project()
    return ctx.store.doc("project_settings", pid) or {
        "project_id": pid, "settings": {"personality_tone": "professional", "user_enrichment_url": None}}


def schedule(ctx: Ctx) -> dict[str, Any]:
    docs = ctx.store.docs("schedule", project_id=ctx.project())
    if not docs:
        raise not_found("Schedule")
    return docs[0]


# --- playbooks ----------------------------------------------------------------------------
def _versions(store: Store, project_id: str, base_id: str | None = None) -> list[dict[str, Any]]:
    """Playbook versions of a project, oldest first (per base)."""
    where = {"project_id": project_id}
    if base_id is not None:
        where["parent_id"] = base_id
    return [body for *_ignored, body in store.doc_rows("playbook", **where)]


def _active_history(store: Store, base_id: str | None) -> list[dict[str, Any]]:
    body = store.doc("playbook_active_history", base_id)
    items = body.get("items", []) if isinstance(body, dict) else (body or [])
    return sorted(items, key=lambda i: str(i.get("activated_at") or ""), reverse=True)


def _active_version(store: Store, project_id: str,
                    base_id: str | None) -> dict[str, Any] | None:
    versions = _versions(store, project_id, base_id)
    if not versions:
        return None
    history = _active_history(store, base_id)
    number = history[0].get("version_number") if history else None
    return next((v for v in versions if v.get("version_number") == number), versions[-1])


def list_playbooks(ctx: Ctx) -> list[dict[str, Any]]:
    p = ctx.params
    include_versions = p.boolean("include_versions", False)
    include_deleted = p.boolean("include_deleted", False)
    p.check()
    pid = ctx.project()
    versions = _versions(ctx.store, pid)
    if not include_versions:
        bases = dict.fromkeys(v.get("base_id") for v in versions)
        versions = [a for b in bases if (a := _active_version(ctx.store, pid, b))]
    return [v for v in versions if include_deleted or not v.get("is_deleted")]


def _playbook(ctx: Ctx) -> dict[str, Any]:
    """`{playbook_id}` as a version id (or a base id: its active version)."""
    pid = ctx.key_project
    ident = ctx.path["playbook_id"]
    body = ctx.store.doc("playbook", ident, pid) or _active_version(ctx.store, pid, ident)
    if body is None:
        raise not_found("Playbook")
    return body


def get_playbook(ctx: Ctx) -> dict[str, Any]:
    return _playbook(ctx)


def playbook_history(ctx: Ctx) -> list[dict[str, Any]]:
    pb = _playbook(ctx)
    keys = ("id", "version_number", "name", "created_at", "updated_at")
    versions = _versions(ctx.store, ctx.key_project, pb.get("base_id"))
    return [{k: v.get(k) for k in keys} for v in reversed(versions)]


def playbook_version(ctx: Ctx) -> dict[str, Any]:
    pb = _playbook(ctx)
    try:
        number = int(ctx.path["number"])
    except ValueError:
        raise ApiError(422, [{"type": "int_parsing", "loc": ["path", "version_number"],
                              "msg": "Input should be a valid integer"}]) from None
    versions = _versions(ctx.store, ctx.key_project, pb.get("base_id"))
    found = next((v for v in versions if v.get("version_number") == number), None)
    if found is None:
        raise not_found("Playbook version")
    return found


def _base(ctx: Ctx) -> str:
    base = ctx.path["base_id"]
    if not _versions(ctx.store, ctx.key_project, base):
        raise not_found("Playbook")
    return base


def active_version(ctx: Ctx) -> dict[str, Any]:
    base = _base(ctx)
    active = _active_version(ctx.store, ctx.key_project, base)
    assert active is not None  # _base found its versions
    return {"base_id": base, "version_number": active.get("version_number"), "playbook": active}


def active_history(ctx: Ctx) -> dict[str, Any]:
    return {"items": _active_history(ctx.store, _base(ctx))}


def playbook_settings(ctx: Ctx) -> dict[str, Any] | None:
    pb = _playbook(ctx)
    return ctx.store.doc("playbook_settings", pb["id"]) or ctx.store.doc(
        "playbook_settings", pb.get("base_id") or "")


# --- knowledge bases ----------------------------------------------------------------------
def _usage(store: Store, project_id: str, key: str) -> dict[str | None, list[dict[str, Any]]]:
    """id -> [{id, name}] of the active playbook versions referencing it under `key`."""
    usage: dict[str | None, list[dict[str, Any]]] = {}
    bases = dict.fromkeys(v.get("base_id") for v in _versions(store, project_id))
    for base in bases:
        pb = _active_version(store, project_id, base) or {}
        for ref in pb.get(key) or []:
            ref_id = ref.get("id") if isinstance(ref, dict) else ref
            usage.setdefault(ref_id, []).append({"id": pb.get("id"), "name": pb.get("name")})
    return usage


def list_kbs(ctx: Ctx) -> list[dict[str, Any]]:
    p = ctx.params
    with_usage = p.boolean("include_playbook_usage", False)
    final = p.boolean("include_final_delete", False)
    p.check()
    pid = ctx.project()
    kbs = [kb for kb in ctx.store.docs("kb", project_id=pid) if final or not kb.get("is_final_deleted")]
    usage = _usage(ctx.store, pid, "kb_ids") if with_usage else {}
    out = []
    for kb in kbs:
        kb = dict(kb)
        kb.pop("used_by_playbooks", None)
        if with_usage:
            kb["used_by_playbooks"] = usage.get(kb["id"], [])
        out.append(kb)
    return out


def get_kb(ctx: Ctx) -> dict[str, Any]:
    kb = dict(_own(ctx, "kb", ctx.path["kb_id"], "Knowledge base"))
    if str(kb.get("kb_type", "")).upper() == "INTERCOM" and "intercom_items" not in kb:
        items = ctx.store.docs("kb_item", parent_id=kb["id"])
        kb["intercom_items"] = [{"id": i.get("item_id") or i.get("id"), "title": i.get("title"),
                                 "url": i.get("url")} for i in items]
    return kb


def get_kb_item(ctx: Ctx) -> dict[str, Any]:
    _own(ctx, "kb", ctx.path["kb_id"], "Knowledge base")
    item = ctx.store.doc("kb_item", ctx.path["item_id"])
    if item is None:
        raise not_found("Knowledge base item")
    return {"item_id": item.get("item_id") or item.get("id"), "item_type": item.get("item_type"),
            "title": item.get("title"), "url": item.get("url"), **item}


# --- API tools ----------------------------------------------------------------------------
def list_api_tools(ctx: Ctx) -> list[dict[str, Any]]:
    p = ctx.params
    with_usage = p.boolean("include_playbook_usage", False)
    p.check()
    pid = ctx.project()
    tools = ctx.store.docs("api_tool", project_id=pid)
    if not with_usage:
        return tools
    usage = _usage(ctx.store, pid, "api_tools") or _usage(ctx.store, pid, "api_tool_ids")
    return [{**t, "used_by_playbooks": usage.get(t["id"], [])} for t in tools]


def get_api_tool(ctx: Ctx) -> dict[str, Any]:
    ctx.project()
    return _own(ctx, "api_tool", ctx.path["tool_id"], "API tool")


# --- evals --------------------------------------------------------------------------------
def eval_cases(ctx: Ctx) -> list[dict[str, Any]]:
    p = ctx.params
    enabled_only = p.boolean("enabled_only", False)
    p.check()
    cases = ctx.store.docs("eval_case", parent_id=_base(ctx))
    if enabled_only:
        cases = [c for c in cases if c.get("enabled", c.get("is_enabled", True))]
    return sorted(cases, key=lambda c: str(c.get("name") or ""))


def eval_case(ctx: Ctx) -> dict[str, Any]:
    return _own(ctx, "eval_case", ctx.path["case_id"], "Eval case")


def export_yaml(ctx: Ctx) -> dict[str, Any]:
    """All cases as YAML; each case in JSON flow style (YAML 1.2 is a superset of JSON)."""
    cases = eval_cases(ctx)
    if not cases:
        return {"yaml_content": "cases: []\n"}
    lines = ["cases:", *(f"  - {json.dumps(c, ensure_ascii=False)}" for c in cases)]
    return {"yaml_content": "\n".join(lines) + "\n"}


def eval_runs(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    page = p.integer("page", 1, ge=1)
    size = p.integer("page_size", 10, ge=1, le=100)
    p.check()
    runs = ctx.store.docs("eval_run", parent_id=_base(ctx))
    runs.sort(key=lambda r: str(r.get("created_at") or ""), reverse=True)
    start = (page - 1) * size
    return {"items": runs[start:start + size], "total": len(runs), "page": page,
            "page_size": size, "total_pages": math.ceil(len(runs) / size)}


def eval_run(ctx: Ctx) -> dict[str, Any]:
    return _own(ctx, "eval_run", ctx.path["run_id"], "Eval run")


def eval_run_results(ctx: Ctx) -> list[dict[str, Any]]:
    _own(ctx, "eval_run", ctx.path["run_id"], "Eval run")
    return ctx.store.docs("eval_result", parent_id=ctx.path["run_id"])


def eval_result(ctx: Ctx) -> dict[str, Any]:
    result = dict(_own(ctx, "eval_result", ctx.path["result_id"], "Eval result"))
    result.pop("case_name", None)
    result.pop("case_scenario", None)
    return result


# --- analyst conversations ----------------------------------------------------------------
def _analyst_sessions(store: Store, project_id: str) -> list[dict[str, Any]]:
    docs = store.docs("analyst_conversation", project_id=project_id)
    if docs:
        return docs
    anchor = store.anchor.isoformat()
    questions = ("What drove handoffs last week?", "Which KB articles are cited most?",
                 "Compare deflection across assistants")
    return [{"id": f"analyst-{i + 1}", "title": q, "created_at": f"{anchor}T0{i + 8}:00:00Z",
             "message_count": 2} for i, q in enumerate(questions)]


def analyst_conversations(ctx: Ctx) -> dict[str, Any]:
    p = ctx.params
    limit = p.integer("limit", 50, ge=1, le=500)
    offset = p.integer("offset", 0, ge=0)
    p.check()
    sessions = _analyst_sessions(ctx.store, ctx.key_project)
    return {"conversations": sessions[offset:offset + limit], "total": len(sessions)}


def analyst_messages(ctx: Ctx) -> dict[str, Any]:
    session = next((s for s in _analyst_sessions(ctx.store, ctx.key_project)
                    if s["id"] == ctx.path["conversation_id"]), None)
    if session is None:
        raise not_found("Analyst conversation")
    if "messages" in session:
        return {"messages": session["messages"]}
    return {"messages": [
        {"role": "user", "content": session["title"], "created_at": session["created_at"]},
        {"role": "assistant", "content": "I fetched the conversation analytics and summarised them.",
         "created_at": session["created_at"],
         "tool_calls": [{"name": "fetch", "arguments": "{\"path\": \"conversations/analytics\"}",
                         "explanation": "Totals and breakdowns for the window."}]},
    ]}


ROUTES = routes(
    ("GET", "/projects", list_projects),
    ("GET", "/projects/{pid}", get_project),
    ("GET", "/projects/{pid}/settings", project_settings),
    ("GET", "/projects/{pid}/schedule", schedule),
    ("GET", "/projects/{pid}/playbooks", list_playbooks),
    ("GET", "/playbooks/{playbook_id}", get_playbook),
    ("GET", "/playbooks/{playbook_id}/history", playbook_history),
    ("GET", "/playbooks/{playbook_id}/versions/{number}", playbook_version),
    ("GET", "/playbooks/{base_id}/active", active_version),
    ("GET", "/playbooks/{base_id}/active/history", active_history),
    ("GET", "/playbooks/{playbook_id}/settings", playbook_settings),
    ("GET", "/projects/{pid}/knowledgebases", list_kbs),
    ("GET", "/knowledgebases/{kb_id}", get_kb),
    ("GET", "/knowledgebases/{kb_id}/items/{item_id}", get_kb_item),
    ("GET", "/projects/{pid}/api-tools", list_api_tools),
    ("GET", "/projects/{pid}/api-tools/{tool_id}", get_api_tool),
    ("GET", "/playbooks/{base_id}/eval-cases", eval_cases),
    ("GET", "/playbooks/{base_id}/eval-cases/export-yaml", export_yaml),
    ("GET", "/eval-cases/{case_id}", eval_case),
    ("GET", "/playbooks/{base_id}/eval-runs", eval_runs),
    ("GET", "/eval-runs/{run_id}", eval_run),
    ("GET", "/eval-runs/{run_id}/results", eval_run_results),
    ("GET", "/eval-results/{result_id}", eval_result),
    ("GET", "/analyst/conversations", analyst_conversations),
    ("GET", "/analyst/conversations/{conversation_id}/messages", analyst_messages),
)
