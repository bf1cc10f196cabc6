"""The cyclic GC paused for start-up (tui/entry.py): resumed at the first frame, with the
start-up heap frozen out of the collections."""
from __future__ import annotations

import gc

import pytest
from conftest import tune_gc


@pytest.fixture
def paused_gc():
    gc.unfreeze()  # the harness's freeze (conftest.tune_gc): the app's own must show
    gc.disable()  # as the console script does
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()  # the app's frozen heap is garbage now; the harness's own freeze again
        tune_gc()


async def test_gc_resumes_at_first_frame_with_the_start_up_heap_frozen(studio_app, paused_gc):
    app = studio_app()
    async with app.run_test(size=(100, 30)):
        await app.get_client()  # returns once the first frame is on screen
        assert gc.isenabled() and gc.get_freeze_count() > 0


async def test_gc_untouched_when_it_was_not_paused(studio_app):
    gc.enable()
    frozen = gc.get_freeze_count()
    app = studio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await app.get_client()
        await pilot.pause()
        # frozen objects may die meanwhile; none is added
        assert gc.isenabled() and gc.get_freeze_count() <= frozen
