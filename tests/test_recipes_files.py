"""The brief's Analysis Recipes run unchanged on files written by `studio-tui fetch` and
`studio-tui export` (against the in-process demo), and the recipe that shells out to
`python3 scripts/fetch.py` runs with that script being our `fetch` (over loopback HTTP).

Recipes, expected outputs and windows are shared with tests/test_recipes_http.py, which runs
the same recipes on files saved the way the brief's own scripts save them.
"""
from __future__ import annotations

import json
import os
import shutil
import sys

import pytest
from click.testing import CliRunner
from test_recipes_http import DAYS, EXPECT, OUTCOME_WINDOW, RECIPES, WINDOW, _check, _run

from tui.cli import main


def _cli(*args) -> str:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _fetch(work, name, path, params=None):
    pairs = [f"{k}={v}" for k, v in (params or {}).items()]
    _cli("fetch", path, *(["--params", *pairs] if pairs else []), "-o", work / name)
    return json.loads((work / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def workdir(demo_db, tmp_path_factory):
    work = tmp_path_factory.mktemp("recipes-cli")
    kbs = _fetch(work, "kbs.json", "/projects/{pid}/knowledgebases")
    intercom = next(kb["id"] for kb in kbs if kb["kb_type"] == "INTERCOM")
    metrics = _fetch(work, "conversion_metrics.json", "/projects/{pid}/conversion-metrics")
    slug = metrics[0]["slug"]
    for name, path, params in [
        ("analytics.json", "/projects/{pid}/conversations/analytics", WINDOW),
        ("metrics_agg.json", "/projects/{pid}/conversations/metrics/aggregate", WINDOW),
        ("api_tool_usage.json", "/projects/{pid}/analytics/api-tools", DAYS),
        ("toolkit_usage.json", "/projects/{pid}/analytics/toolkits", DAYS),
        ("skill_usage.json", "/projects/{pid}/analytics/skills", DAYS),
        ("kb_item_traffic.json", f"/projects/{{pid}}/analytics/kbs/{intercom}/items",
         {"limit": 50}),
        ("top_intercom_items.json", f"/projects/{{pid}}/analytics/kbs/{intercom}/items",
         {"limit": 10}),
        ("intercom_kb.json", f"/knowledgebases/{intercom}", None),
        ("api_tool_sparklines.json", "/projects/{pid}/analytics/api-tools/sparklines", None),
        ("toolkit_sparklines.json", "/projects/{pid}/analytics/toolkit-calls/sparklines", None),
        ("skill_sparklines.json", "/projects/{pid}/analytics/skills/sparklines", None),
        ("csat.json", "/projects/{pid}/csat/analytics", OUTCOME_WINDOW),
        ("csat_dsat_table.json", "/projects/{pid}/csat/analytics",
         {**OUTCOME_WINDOW, "max_rating": 2, "ratings_limit": 50}),
        ("metric_analytics.json", f"/projects/{{pid}}/conversion-metrics/{slug}/analytics",
         OUTCOME_WINDOW),
        ("playbooks.json", "/projects/{pid}/playbooks", None),
    ]:
        _fetch(work, name, path, params)
    _cli("export", "--start", WINDOW["start_date"], "--end", WINDOW["end_date"],
         "-o", work / "all_conversations.json")
    return work


@pytest.mark.parametrize("name", sorted(set(EXPECT) - {"conversion_funnel"}))
def test_recipe_runs_on_files_from_our_cli(name, workdir):
    shutil.copy(RECIPES / f"{name}.py", workdir / f"{name}.py")
    _check(name, _run(workdir / f"{name}.py", workdir))


def test_exported_file_is_what_the_recipes_expect(workdir):
    data = json.loads((workdir / "all_conversations.json").read_text(encoding="utf-8"))
    assert list(data) == ["exported_at", "total_matched", "total_exported", "conversations"]
    assert data["total_exported"] == data["total_matched"] == len(data["conversations"]) > 0


SHIM = """\
import subprocess, sys
# scripts/fetch.py of the brief, replaced by `studio-tui fetch` (same arguments)
sys.exit(subprocess.call([{python!r}, "-c", "from tui.cli import main; main()", "fetch",
                          *sys.argv[1:]]))
"""


def test_conversion_funnel_recipe_with_our_fetch_as_scripts_fetch(demo_db, workdir):
    from api.demo.server import running_server

    if shutil.which("python3") is None:
        pytest.skip("the recipe runs `python3`, not on PATH")
    slug = json.loads((workdir / "conversion_metrics.json").read_text())[0]["slug"]
    text = (RECIPES / "conversion_funnel.py").read_text().replace("/SLUG/", f"/{slug}/")
    (workdir / "conversion_funnel.py").write_text(text)
    (workdir / "scripts").mkdir(exist_ok=True)
    (workdir / "scripts" / "fetch.py").write_text(SHIM.format(python=sys.executable))
    with running_server(db_path=demo_db) as server:
        env = {**os.environ, "STUDIO_API_URL": server.url,
               "STUDIO_API_TOKEN": server.info.api_key,
               "STUDIO_PROJECT_ID": server.info.project_id}
        out = _run(workdir / "conversion_funnel.py", workdir, env)
    _check("conversion_funnel", out)
