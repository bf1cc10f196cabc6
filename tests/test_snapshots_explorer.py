"""Snapshots of the explorer (80x24, 160x48), the detail view, the help screen and the export
dialog, on the pinned demo backend (anchor 2026-06-15, seed 7, 5,000 conversations).

Every SVG was converted to PNG and looked at before being accepted.
"""
from __future__ import annotations

from app_support import settle


async def _settled(pilot) -> None:
    await settle(pilot)


def _keys(*keys: str):
    async def run_before(pilot) -> None:
        await _settled(pilot)
        for key in keys:
            await pilot.press(key)
            await _settled(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


def test_explorer_80x24(snap_compare, studio_app):
    assert snap_compare(studio_app(), terminal_size=(80, 24), run_before=_keys())


def test_explorer_160x48(snap_compare, studio_app):
    assert snap_compare(studio_app(), terminal_size=(160, 48), run_before=_keys())


def test_explorer_selection_160x48(snap_compare, studio_app):
    assert snap_compare(studio_app(), terminal_size=(160, 48),
                        run_before=_keys("F", "space", "space", "n"))


def test_conversation_detail(snap_compare, studio_app):
    assert snap_compare(studio_app(), terminal_size=(120, 40), run_before=_keys("j", "enter"))


def test_help_screen(snap_compare, studio_app):
    assert snap_compare(studio_app(), terminal_size=(100, 30),
                        run_before=_keys("question_mark"))


def test_export_dialog(snap_compare, studio_app):
    assert snap_compare(studio_app(), terminal_size=(100, 30),
                        run_before=_keys("space", "space", "x"))


def test_export_dialog_80x24(snap_compare, studio_app):
    """All matching except one, at the smallest supported size: buttons and result line in."""
    assert snap_compare(studio_app(), terminal_size=(80, 24),
                        run_before=_keys("F", "asterisk", "space", "x"))


def test_explorer_views_and_reviews_80x24(snap_compare, studio_app):
    """A built-in view (w), two conversations reviewed (m moves on) and one flagged (!)."""
    assert snap_compare(studio_app(), terminal_size=(80, 24),
                        run_before=_keys("w", "m", "m", "exclamation_mark", "k"))


def test_explorer_views_and_reviews_160x48(snap_compare, studio_app):
    """The same at 160x48: the views listed at the top of the sidebar, the active one marked;
    the unreviewed-only filter on (U)."""
    assert snap_compare(studio_app(), terminal_size=(160, 48),
                        run_before=_keys("w", "m", "m", "exclamation_mark", "U"))
