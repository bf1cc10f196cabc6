"""The demo's planted effects (api/demo/world.py PLANTED_*), found by the comparative commands
and screens of issue 14 without being told where they are: the support assistant's v4 hands
off for frustration far more often, and one help-center article is cited mostly in negative
conversations. (That the demo's models cost differently is checked in tests/test_cost.py.)"""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest
from app_support import screen_lines, settle, wait_until
from click.testing import CliRunner

from tui.cli import main

FRUSTRATION = "handoff_reason:frustration"


@pytest.fixture(scope="module")
def world():
    from api.demo import world as W

    return W.build_world(int(os.environ["STUDIO_DEMO_SEED"]), os.environ["STUDIO_DEMO_ANCHOR"],
                         int(os.environ["STUDIO_DEMO_SIZE"]))


def _run(*args) -> dict | list:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _metric(metrics: list[dict], name: str) -> dict:
    return next(m for m in metrics if m["metric"] == name)


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_impact_finds_the_worse_deployment_and_its_rollback(demo_db, world):
    from api.demo.world import PLANTED_VERSION

    base = world.bases[PLANTED_VERSION[0]]
    deployments = _run("impact", base.name, "--format", "json")
    worse = next(d for d in deployments if d["version"] == PLANTED_VERSION[1])
    frustration = _metric(worse["metrics"], FRUSTRATION)
    assert frustration["significant"] and frustration["ci95_pp"][0] > 0, frustration
    assert _metric(worse["metrics"], "deflection rate")["delta_pp"] < 0
    assert worse["multiple_comparisons"]["significant_after"] >= 1  # it survives Holm
    # the table marks it ** (significant after Holm's correction too), under its version
    table = CliRunner().invoke(main, ["impact", base.name], catch_exceptions=False).stdout
    section = table.split(f"v{PLANTED_VERSION[1]} deployed")[1].split(" deployed ")[0]
    line = next(row for row in section.splitlines() if row.startswith(FRUSTRATION))
    assert line.endswith(" **"), line
    # the next deployment (the rollback) brings frustration handoffs back down
    after = deployments[deployments.index(worse) + 1]
    assert _metric(after["metrics"], FRUSTRATION)["delta_pp"] < 0
    # no other deployment of the assistant shows a significant rise
    for other in deployments:
        if other is not worse:
            metric = _metric(other["metrics"], FRUSTRATION)
            assert not (metric["significant"] and metric["delta_pp"] > 0), other["version"]


def test_compare_finds_the_worse_version_against_its_neighbours(demo_db, world):
    from api.demo.world import PLANTED_VERSION

    key, number = PLANTED_VERSION
    versions = world.bases[key].versions
    window = ("--start", _iso(world.start_ts), "--end", _iso(world.end_ts))
    for neighbour in (versions[number - 2], versions[number]):  # the one before and after
        data = _run("compare", f"playbook:{neighbour.id}",
                    f"playbook:{versions[number - 1].id}", *window, "--format", "json")
        metric = _metric(data["metrics"], FRUSTRATION)
        assert metric["significant"] and metric["ci95_pp"][0] > 0, (neighbour.number, metric)
        assert data["multiple_comparisons"]["significant_after"] >= 1
        assert data["b"]["conversations"] > 100 and data["a"]["conversations"] > 100


def _last_30_days(world) -> tuple[str, str]:
    end = datetime.fromtimestamp(world.end_ts + 1, UTC)
    return (end - timedelta(days=30)).strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")


def test_kb_health_ranks_the_misleading_article_first(demo_db, world):
    start, end = _last_30_days(world)
    data = _run("kb-health", "--start", start, "--end", end, "--format", "json")
    planted = world.misleading_item
    top, runner_up = data["items"][0], data["items"][1]
    assert (top["kb_id"], top["item_id"], top["title"]) == \
        (planted.kb_id, planted.id, planted.title)
    negative = top["negative"]
    assert negative["pct"] > 50 and negative["lift"] > 2, negative  # mostly negative
    assert negative["ci95_pct"][0] > negative["base_rate_pct"]  # not a fluke of a few
    assert negative["excess"] > 2 * runner_up["negative"]["excess"]


async def test_the_kb_health_screen_shows_it_on_top(studio_app, world):
    from screens.kb_health import KBHealthScreen

    app = studio_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        start, end = _last_30_days(world)
        screen = KBHealthScreen(start, end)
        app.push_screen(screen)
        await wait_until(lambda: screen.result is not None, pilot=pilot, what="KB health")
        await settle(pilot)
        first = [str(c) for c in screen.query_one("#kb-items").get_row_at(0)]
        assert world.misleading_item.title in " ".join(first)
        assert world.misleading_item.title in "\n".join(screen_lines(app))
