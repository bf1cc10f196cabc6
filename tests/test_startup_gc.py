"""The cyclic GC paused for start-up (tui/entry.py, run_app): resumed at the first frame with
the start-up heap frozen, its garbage collected later while no key is being pressed."""
from __future__ import annotations

import gc
import time

import pytest
from app_support import wait_until

import tui.app as tui_app


@pytest.fixture
def paused_gc(monkeypatch):
    collections: list[float] = []
    real_collect = gc.collect

    def recording_collect(*args):
        collections.append(time.monotonic())
        return real_collect(*args)

    monkeypatch.setattr(gc, "collect", recording_collect)
    monkeypatch.setattr(tui_app, "FREEZE_AFTER_S", 1.0)  # "idle" = no input for 0.5 s
    gc.disable()  # as run_app does
    try:
        yield collections
    finally:
        gc.enable()
        gc.unfreeze()


async def test_gc_resumes_at_first_frame_and_collects_when_idle(studio_app, paused_gc):
    app = studio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await app._first_frame.wait()
        assert gc.isenabled() and gc.get_freeze_count() > 0
        app._last_input = time.monotonic()  # keys keep coming: the collection waits
        pressed_until = time.monotonic() + 1.5
        while time.monotonic() < pressed_until:
            await pilot.press("j")
            await pilot.pause(0.05)
        assert not paused_gc  # never during the key presses
        await wait_until(lambda: paused_gc, pilot=pilot, timeout=5)  # quiet now: it runs
        assert len(paused_gc) == 1 and paused_gc[0] >= pressed_until
        assert gc.isenabled() and gc.get_freeze_count() > 0


async def test_gc_untouched_when_it_was_not_paused(studio_app, monkeypatch):
    monkeypatch.setattr(tui_app, "FREEZE_AFTER_S", 0.1)
    gc.enable()  # (another test may have left it frozen: see paused_gc)
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    app = studio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await app._first_frame.wait()
        await pilot.pause(0.3)
        assert gc.isenabled() and gc.get_freeze_count() == frozen
