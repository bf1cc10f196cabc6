"""Eval cases, eval runs and per-case results of the demo world (api-reference-evals.md)."""
from __future__ import annotations

import random
from typing import Any

from api.demo import world as W
from api.demo.world import DAY, World

Doc = tuple[str, str, str | None, str | None, str | None, dict[str, Any]]

# name, intent, first message, termination, assertions, assertion tags
CASES = (
    ("refund-damaged-item", "refund", "My order ORD-12345 arrived broken, I want a refund.",
     "The assistant confirms the refund will be processed",
     ({"type": "tool_call_sequence", "names": ["lookup_order", "process_refund"]},
      {"type": "text", "category": "content",
       "criteria": "inform that the refund takes 5-7 business days"}), ("refund",)),
    ("refund-over-limit", "refund", "Refund my $450 order ORD-99887 now.",
     "The assistant hands off to a human", ({"type": "handoff"},), ("refund",)),
    ("where-is-my-order", "shipping", "Where is my order ORD-55555?",
     "The assistant gives a delivery estimate",
     ({"type": "tool_called", "name": "track_shipment"}, {"type": "no_handoff"}), ("shipping",)),
    ("password-reset-link", "password_reset", "I forgot my password",
     "The assistant sends a reset link",
     ({"type": "tool_called", "name": "send_password_reset"},
      {"type": "text", "category": "knows", "criteria": "the account email"}), ("password",)),
    ("duplicate-charge", "billing", "I was charged twice this month",
     "The assistant explains the pre-authorisation",
     ({"type": "text", "category": "content",
       "criteria": "explain that the duplicate disappears within 3 business days"},),
     ("billing",)),
    ("cancel-with-retention", "cancellation", "Cancel my subscription",
     "The assistant cancels or pauses the subscription",
     ({"type": "text", "category": "content", "criteria": "offer a retention discount"},
      {"type": "text", "category": "restriction", "criteria": "use emojis"}), ("cancellation",)),
    ("enterprise-pricing", "pricing", "Price for 40 seats on Business?",
     "The assistant quotes the Business price",
     ({"type": "text", "category": "content", "criteria": "quote $24 per seat per month"},),
     ("pricing",)),
    ("bug-ticket", "bug_report", "The app crashes on login, iPhone 13 iOS 17.5",
     "The assistant files a bug ticket",
     ({"type": "tool_called", "name": "INTERCOM_TICKETS_CREATE_TICKET",
       "args_match": {"ticket_type_id": "68"}}, {"type": "priority_set", "value": "high"}),
     ("bug",)),
    ("ask-for-human", "account_update", "I want to talk to a person",
     "The assistant hands off", ({"type": "handoff"},), ()),
    ("spanish-refund", "refund", "Hola, quiero el reembolso del pedido ORD-4455",
     "The assistant answers in Spanish",
     ({"type": "text", "category": "content", "criteria": "reply in Spanish"},),
     ("refund", "spanish")),
)

BASE_CASES = {
    "support": ("refund-damaged-item", "refund-over-limit", "where-is-my-order",
                "password-reset-link", "bug-ticket", "ask-for-human", "spanish-refund"),
    "billing": ("duplicate-charge", "cancel-with-retention", "refund-damaged-item",
                "refund-over-limit"),
    "sales": ("enterprise-pricing", "cancel-with-retention", "ask-for-human"),
    "travel": ("ask-for-human",),
}


def eval_docs(world: World) -> list[Doc]:
    rng = random.Random(f"evals:{world.seed}")
    docs: list[Doc] = []
    by_name = {c[0]: c for c in CASES}
    for key, names in BASE_CASES.items():
        base = world.bases[key]
        cases = [_case(rng, world, base, by_name[n], k) for k, n in enumerate(names)]
        docs += [("eval_case", c["id"], base.project_id, base.id, c["name"], c) for c in cases]
        docs += _runs(rng, world, base, cases)
    return docs


def _case(rng: random.Random, world: World, base: W.Base, spec: tuple[Any, ...],
          k: int) -> dict[str, Any]:
    name, intent, first, termination, assertions, tags = spec
    created = W.iso(world.start_ts - (20 - k) * DAY)
    scenario = {"persona": "Customer of Demo Shop", "objetivo": termination,
                "datos": [{"dato": first}], "reacciones": [], "primer_mensaje": first,
                "terminacion": termination}
    return {
        "id": W.new_id(rng), "playbook_base_id": base.id, "name": name,
        "input": first, "expected_output": termination, "tags": list(tags),
        "enabled": k != 3, "is_enabled": k != 3,
        "scenario": f"{scenario['persona']}. Goal: {termination}. First message: {first}",
        "scenario_blocks": scenario, "first_message": first, "termination": termination,
        "max_turns": 6 + k % 3, "assertions": list(assertions), "assertion_tags": list(tags),
        "tool_mocks": ({"lookup_order": {"match_kind": "any",
                                         "return_value": {"status": "delivered"}}}
                       if intent == "refund" else {}),
        "user_context": {"email": "qa@example.com"},
        "created_at": created, "updated_at": created,
    }


def _runs(rng: random.Random, world: World, base: W.Base, cases: list[dict[str, Any]]) -> list[Doc]:
    docs: list[Doc] = []
    n_runs = 6 if base.key == "support" else 4
    for r in range(n_runs):
        created_ts = world.end_ts - (75 - r * 70 // n_runs) * DAY - rng.randrange(DAY)
        version = base.active_version(created_ts)
        status = "failed" if r == 2 else ("cancelled" if r == 4 else "completed")
        run_id = W.new_id(rng)
        results = [_result(rng, run_id, c, version.number, status, i)
                   for i, c in enumerate(cases) if c["enabled"]]
        if status == "cancelled":
            results = results[: len(results) // 2]
        counts = {s: sum(1 for x in results if x["status"] == s)
                  for s in ("passed", "failed", "error")}
        run: dict[str, Any] = {
            "id": run_id, "playbook_base_id": base.id, "playbook_id": version.id,
            "playbook_name": version.name, "playbook_version": version.number,
            "name": f"{base.name} v{version.number} regression" if r % 2 == 0 else None,
            "status": status, "trigger_source": ("ui", "cli", "api", "cron")[r % 4],
            "total_cases": len([c for c in cases if c["enabled"]]),
            "passed_cases": counts["passed"], "failed_cases": counts["failed"],
            "error_cases": counts["error"], "model": None,
            "simulator_model": "anthropic/claude-sonnet-4", "judge_model": "openai/gpt-4o",
            "error_message": "Provider rate limit exceeded (429) after 5 retries"
            if status == "failed" else None,
            "created_at": W.iso(created_ts), "started_at": W.iso(created_ts + 5),
            "completed_at": W.iso(created_ts + 60 + 40 * len(results)),
        }
        docs.append(("eval_run", run_id, base.project_id, base.id, run["created_at"], run))
        docs += [("eval_result", x["id"], base.project_id, run_id, f"{i:04d}", x)
                 for i, x in enumerate(results)]
    return docs


def _result(rng: random.Random, run_id: str, case: dict[str, Any], version: int, run_status: str,
            i: int) -> dict[str, Any]:
    p_pass = 0.55 + 0.08 * version
    if run_status == "failed" and i >= 2:
        status = "error"
    else:
        status = "passed" if rng.random() < p_pass else "failed"
    verdicts = [_assertion("termination: " + case["termination"], status != "failed" or
                           rng.random() < 0.5, rng)]
    if verdicts[0]["passed"] and status != "error":
        for a in case["assertions"]:
            criteria = a.get("criteria") or f"{a['type']} {a.get('name', '')}".strip()
            verdicts.append(_assertion(criteria, status == "passed" or rng.random() < 0.5, rng))
        if status == "failed" and all(v["passed"] for v in verdicts):
            verdicts[-1] = _assertion(verdicts[-1]["criteria"], False, rng)
    passed = sum(v["verdict"] == "passed" for v in verdicts)
    failed = sum(v["verdict"] == "failed" for v in verdicts)
    first = case["first_message"]
    return {
        "id": W.new_id(rng), "run_id": run_id, "case_id": case["id"], "case_name": case["name"],
        "case_scenario": case["scenario"], "status": status,
        "total_assertions": len(verdicts), "passed_assertions": passed,
        "failed_assertions": failed, "assertion_results": verdicts,
        "tag_results": {t: status == "passed" for t in case["assertion_tags"]},
        "conversation": [] if status == "error" else [
            {"role": "user", "content": first},
            {"role": "assistant", "content": "Let me check that for you."},
            {"role": "user", "content": "Thanks."},
            {"role": "assistant", "content": case["expected_output"] + "."}],
        "error_message": "Judge output could not be parsed" if status == "error" else None,
    }


def _assertion(criteria: str, ok: bool, rng: random.Random) -> dict[str, Any]:
    ambiguous = ok and rng.random() < 0.05
    verdict = "ambiguous" if ambiguous else ("passed" if ok else "failed")
    out = {"criteria": criteria, "passed": ok, "verdict": verdict,
           "explanation": ("The transcript shows it: \"" + criteria[:40] + "\"." if ok
                           else "No assistant turn satisfies the criterion.")}
    if ambiguous:
        out["rewrite_suggestion"] = f"State precisely what counts: {criteria}"
    return out
