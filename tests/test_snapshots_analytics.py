"""Snapshots of every analytics screen at 120x40 and of the overview at 80x24, in StudioApp on
the pinned demo (anchor 2026-06-15, seed 7, 5,000 conversations), without a response cache.

Each SVG was converted to PNG and looked at before it was accepted (see the commit message).
Regenerate with ``pytest tests/test_snapshots_analytics.py --snapshot-update`` after a reviewed
change of the screens or of the demo generator.
"""

from __future__ import annotations

import pytest
from analytics_harness import settle
from app_support import make_app

from screens.analytics import ANALYTICS_SCREENS

KEYS = {name: key for key, name, _, _ in ANALYTICS_SCREENS}


def _app(tmp_path):
    return make_app(tmp_path, size=5000, seed=7, anchor="2026-06-15", cache=False)


def _open(key: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)  # the figures in, and the focus where the screen put it

    return run_before


@pytest.mark.parametrize("name", list(KEYS))
def test_screen_120x40(snap_compare, tmp_path, name):
    assert snap_compare(_app(tmp_path), terminal_size=(120, 40), run_before=_open(KEYS[name]))


def test_overview_80x24(snap_compare, tmp_path):
    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=_open("o"))


def test_signals_table_view_80x24(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await _open("s")(pilot)
        await pilot.press("x")
        await pilot.pause()

    assert snap_compare(_app(tmp_path), terminal_size=(80, 24), run_before=run_before)
