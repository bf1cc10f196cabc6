"""Every Analysis Recipe of the brief runs unchanged on JSON fetched over HTTP from the demo.

Each recipe (tests/recipes/, copied verbatim) runs in a subprocess with cwd = a temp dir holding
the files it reads, fetched from the demo app the way the brief's `fetch.py` would save them.
The conversion funnel recipe shells out to `python3 scripts/fetch.py`: the temp dir gets a tiny
stdlib-only shim that calls a loopback uvicorn server started by the test.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from api.demo import demo_info
from api.demo.app import create_app

RECIPES = Path(__file__).parent / "recipes"
WINDOW = {"start_date": "2026-05-16T00:00:00Z", "end_date": "2026-06-15T23:59:59Z"}
DAYS = {"start_date": "2026-05-16", "end_date": "2026-06-15"}
OUTCOME_WINDOW = {"start_date": "2026-04-01T00:00:00Z", "end_date": "2026-05-01T00:00:00Z"}

FETCH_SHIM = '''\
import argparse, json, os, sys, urllib.error, urllib.parse, urllib.request
ap = argparse.ArgumentParser()
ap.add_argument("path"); ap.add_argument("--params", nargs="*", default=[])
ap.add_argument("--method", "-X", default="GET"); ap.add_argument("--body"); ap.add_argument("-o")
a = ap.parse_args()
query = urllib.parse.urlencode([tuple(p.split("=", 1)) for p in a.params])
url = os.environ["STUDIO_API_URL"] + a.path + ("?" + query if query else "")
req = urllib.request.Request(url, method=a.method, data=a.body.encode() if a.body else None,
                             headers={"X-API-Key": os.environ["STUDIO_API_TOKEN"],
                                      "Content-Type": "application/json"})
try:
    data = json.load(urllib.request.urlopen(req, timeout=30))
except urllib.error.HTTPError as e:
    print(f"HTTP {e.code}: {e.read().decode()}", file=sys.stderr); sys.exit(1)
text = json.dumps(data, indent=2, ensure_ascii=False)
if a.o:
    open(a.o, "w").write(text)
else:
    print(text)
'''


@pytest.fixture(scope="module")
def api(demo_db):
    info = demo_info(demo_db)
    with TestClient(create_app(demo_db), headers={"X-API-Key": info.api_key}) as client:
        yield client, info


def _get(api, path: str, params: dict | None = None):
    client, info = api
    r = client.get(path.replace("{pid}", info.project_id), params=params or {})
    assert r.status_code == 200, (path, r.text[:300])
    return r.json()


def _export_all(api, params: dict) -> dict:
    """What export_conversations.py writes: every page, `offset += limit` until a short page."""
    conversations, offset = [], 0
    while True:
        page = _get(api, "/projects/{pid}/conversations", {**params, "limit": 100, "offset": offset})
        conversations += page["conversations"]
        if len(page["conversations"]) < 100:
            break
        offset += 100
    return {"exported_at": "2026-06-15T00:00:00Z", "total_matched": page["total"],
            "total_exported": len(conversations), "conversations": conversations}


def _kb_of_type(api, kb_type: str) -> str:
    kbs = _get(api, "/projects/{pid}/knowledgebases")
    return next(kb["id"] for kb in kbs if kb["kb_type"] == kb_type)


def _files(api) -> dict[str, object]:
    intercom = _kb_of_type(api, "INTERCOM")
    slug = _get(api, "/projects/{pid}/conversion-metrics")[0]["slug"]
    return {
        "analytics.json": _get(api, "/projects/{pid}/conversations/analytics", WINDOW),
        "metrics_agg.json": _get(api, "/projects/{pid}/conversations/metrics/aggregate", WINDOW),
        "api_tool_usage.json": _get(api, "/projects/{pid}/analytics/api-tools", DAYS),
        "toolkit_usage.json": _get(api, "/projects/{pid}/analytics/toolkits", DAYS),
        "skill_usage.json": _get(api, "/projects/{pid}/analytics/skills", DAYS),
        "kbs.json": _get(api, "/projects/{pid}/knowledgebases"),
        "kb_item_traffic.json": _get(api, f"/projects/{{pid}}/analytics/kbs/{intercom}/items",
                                     {"limit": 50}),
        "top_intercom_items.json": _get(api, f"/projects/{{pid}}/analytics/kbs/{intercom}/items",
                                        {"limit": 10}),
        "intercom_kb.json": _get(api, f"/knowledgebases/{intercom}"),
        "api_tool_sparklines.json": _get(api, "/projects/{pid}/analytics/api-tools/sparklines"),
        "toolkit_sparklines.json": _get(api, "/projects/{pid}/analytics/toolkit-calls/sparklines"),
        "skill_sparklines.json": _get(api, "/projects/{pid}/analytics/skills/sparklines"),
        "all_conversations.json": _export_all(api, WINDOW),
        "csat.json": _get(api, "/projects/{pid}/csat/analytics", OUTCOME_WINDOW),
        "csat_dsat_table.json": _get(api, "/projects/{pid}/csat/analytics",
                                     {**OUTCOME_WINDOW, "max_rating": 2, "ratings_limit": 50}),
        "metric_analytics.json": _get(api, f"/projects/{{pid}}/conversion-metrics/{slug}/analytics",
                                      OUTCOME_WINDOW),
        "playbooks.json": _get(api, "/projects/{pid}/playbooks"),
    }


# recipe -> patterns its output must match (each number group must be > 0)
EXPECT = {
    "deflection_rate": [r"Total conversations: (\d+)", r"Handoffs: (\d+)", r"AI-resolved: (\d+)",
                        r"By Playbook:\n .+: [\d.]+% deflection \((\d+) convs\)"],
    "sentiment_deep_dive": [r"Scored: (\d+)/", r" positive: (\d+)", r" neutral: (\d+)", r" negative: (\d+)"],
    "signal_analysis": [r" resolved: (\d+)", r" user_request: (\d+)", r" frustration: (\d+)",
                        r" high: (\d+)", r" improved: (\d+)", r" degraded: (\d+)"],
    "api_tool_usage": [r"Total calls: (\d+)", r"Failed: (\d+)", r"\d{4}-\d\d-\d\d: (\d+) calls"],
    "toolkit_actions": [r"Total calls: (\d+)", r"By Action:\n .+: (\d+) calls"],
    "skill_usage": [r"Total skill loads: (\d+)", r"Failed: (\d+)", r"FAIL: \S+"],
    "kb_citation_items": [r"Top (\d+) cited items", r" \S+: (\d+) citations"],
    "top_intercom_articles": [r" 1\. [^\n]*[A-Za-z][^\n]* — (\d+) citations"],
    "sparkline_overview": [r"API Tool activity.*\n \S+: (\d+) total", r"Toolkit activity.*\n \S+: (\d+) total",
                           r"Skill activity.*\n \S+: (\d+) total"],
    "conversation_metadata": [r"Total: (\d+) conversations", r"Negative handoffs: (\d+)",
                              r"Skills loaded:\n \S+: (\d+)", r"High recontact risk: (\d+)",
                              r"Handoff Reasons:\n \S+: (\d+)", r"Deflection Quality:\n \S+: (\d+)"],
    "csat_score": [r"Rated conversations: (\d+)", r"5★: +(\d+)", r"1★: +(\d+)",
                   r"Daily CSAT % \(skipping empty buckets\):\n \d{4}-\d\d-\d\d: +[\d.]+% over (\d+)"],
    "dsat_drilldown": [r"Showing (\d+) of", r"Top tags among 1–2★ ratings:\n \S+: (\d+)",
                       r"\[\S+\] [12]★: \S+"],
    "conversion_topline": [r"Events: (\d+)", r"Converting conversations: (\d+)",
                           r"Eligible \(deflected\) conversations: (\d+)"],
    "conversion_funnel": [r"Assistant +Eligible +Convert +Rate +Value\n.+ (\d+) +(\d+) +[\d.]+% +[\d.]+"],
}


@pytest.fixture(scope="module")
def workdir(api, tmp_path_factory):
    work = tmp_path_factory.mktemp("recipes")
    for name, data in _files(api).items():
        (work / name).write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    (work / "scripts").mkdir()
    (work / "scripts" / "fetch.py").write_text(FETCH_SHIM)
    return work


def _run(script: Path, cwd: Path, env: dict | None = None) -> str:
    proc = subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _check(name: str, out: str) -> None:
    for pattern in EXPECT[name]:
        match = re.search(pattern, out)
        assert match, f"{name}: {pattern!r} not in output:\n{out[:2000]}"
        assert all(int(g) > 0 for g in match.groups()), f"{name}: zero in {match.group(0)!r}"


def test_every_recipe_is_covered():
    assert {p.stem for p in RECIPES.glob("*.py")} == set(EXPECT)


@pytest.mark.parametrize("name", sorted(set(EXPECT) - {"conversion_funnel"}))
def test_recipe_prints_non_trivial_figures(name, workdir):
    shutil.copy(RECIPES / f"{name}.py", workdir / f"{name}.py")
    _check(name, _run(workdir / f"{name}.py", workdir))


def test_conversion_funnel_recipe_over_loopback(api, demo_db, workdir):
    """The recipe shells out to scripts/fetch.py; the shim talks to a real uvicorn server."""
    import os

    from api.demo.server import running_server

    if shutil.which("python3") is None:
        pytest.skip("the recipe runs `python3`, not on PATH")
    slug = _get(api, "/projects/{pid}/conversion-metrics")[0]["slug"]
    # `SLUG` is the brief's placeholder; a user substitutes their metric's slug.
    text = (RECIPES / "conversion_funnel.py").read_text().replace("/SLUG/", f"/{slug}/")
    (workdir / "conversion_funnel.py").write_text(text)
    with running_server(db_path=demo_db) as server:
        env = {**os.environ, "STUDIO_API_URL": server.url, "STUDIO_API_TOKEN": server.info.api_key,
               "STUDIO_PROJECT_ID": server.info.project_id}
        out = _run(workdir / "conversion_funnel.py", workdir, env)
    _check("conversion_funnel", out)
