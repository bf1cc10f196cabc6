"""The export dialog runs the same export code: a failed or incomplete export says so and
never shows "done" for a file that is not complete."""
from __future__ import annotations

import contextlib

from textual.widgets import Input, Static
from textual.worker import WorkerCancelled, WorkerFailed

from api.export import _OutputLock
from screens.export_dialog import ExportDialog


async def settle(pilot) -> None:
    for _ in range(3):
        # a failed export is what some tests want; the app cancels workers it supersedes
        with contextlib.suppress(WorkerFailed, WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def start_export(pilot, out, messages=False):
    await pilot.press("F")  # frustration handoffs: a small set
    await settle(pilot)
    await pilot.press("x")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, ExportDialog)
    dialog.query_one("#messages").value = messages
    dialog.query_one("#path", Input).value = str(out)
    await pilot.click("#start")
    await settle(pilot)
    return dialog


def status(dialog) -> str:
    return str(dialog.query_one("#export-status", Static).render())


async def test_details_that_never_come_back_fail_the_export_in_the_dialog(studio_app, tmp_path):
    app = studio_app()
    out = tmp_path / "handoffs.json"
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        faults = app.test_faults  # the demo's, changeable while the app runs
        faults.drop_field, faults.path_contains, faults.drop_rate = (
            "conversation_id", "/batch", 1.0)
        dialog = await start_export(pilot, out, messages=True)
        text = status(dialog)
        assert "Export failed — no file written" in text
        assert "did not return the messages of" in text
        assert "✓" not in text and dialog.result_path is None
        assert not out.exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith("handoffs")]
        assert not any("Export done" in (n.title or "") for n in app.test_notifications)


async def test_a_second_export_to_the_same_file_is_refused_in_the_dialog(studio_app, tmp_path):
    app = studio_app()
    out = tmp_path / "busy.json"
    lock = _OutputLock(out)
    lock.acquire()  # as another export (another app or the CLI) would hold it
    try:
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            dialog = await start_export(pilot, out)
            assert "another export is writing" in status(dialog)
            assert not out.exists()
    finally:
        lock.release()
