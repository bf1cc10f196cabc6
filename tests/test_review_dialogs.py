"""The review dialog (verdict + note) and the save-view dialog (name, overwrite confirmed),
driven with the pilot in a bare app: keys, results, and hostile text shown literally."""
from __future__ import annotations

import pytest
from app_support import screen_lines
from textual.app import App
from textual.widgets import Input, Static, TextArea

from screens.review_dialog import ReviewDialog, ReviewEdit, VerdictList
from screens.save_view_dialog import SaveViewDialog

VERDICTS = ("bot_correct", "bot_wrong", "kb_gap", "tool_failure", "should_handoff",
            "needs_followup")
UNSET = object()
HOSTILE_ID = "\x1b]0;owned\x07[bold red]c-1[/]\u202eevil\x1b[2J"
HOSTILE_NOTE = "[link=http://x]click[/link] \x1b[31mred\x1b[0m\u202e"


class Host(App[None]):
    """Shows one dialog and keeps what it returned."""

    def __init__(self, dialog) -> None:
        super().__init__()
        self.dialog = dialog
        self.result = UNSET

    def on_mount(self) -> None:
        self.push_screen(self.dialog, self._done)

    def _done(self, result) -> None:
        self.result = result


def shown(app) -> str:
    return "\n".join(screen_lines(app))


# ---------------------------------------------------------------------------- review dialog


async def test_digits_pick_arrows_move_and_ctrl_s_saves_the_verdict_and_note():
    app = Host(ReviewDialog("c-1", VERDICTS, verdict="kb_gap", note="first look"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.dialog
        assert dialog.query_one(VerdictList).chosen == "kb_gap"  # the current one chosen
        assert dialog.query_one("#note", TextArea).text == "first look"
        await pilot.press("2")
        assert dialog.query_one(VerdictList).chosen == "bot_wrong"
        await pilot.press("down", "down")
        assert dialog.query_one(VerdictList).chosen == "tool_failure"
        assert "● 4 tool_failure" in shown(app)  # the choice is marked by shape
        await pilot.press("tab")
        assert app.focused is dialog.query_one("#note", TextArea)
        await pilot.press("end", "space", "2")  # a digit in the note is typed, not a pick
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.result == ReviewEdit("tool_failure", "first look 2")


async def test_zero_clears_the_verdict_and_enter_on_the_list_saves():
    app = Host(ReviewDialog("c-1", VERDICTS, verdict="bot_wrong"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("0", "enter")
        await pilot.pause()
    assert app.result == ReviewEdit(None, "")


async def test_escape_cancels_and_the_save_button_saves():
    app = Host(ReviewDialog("c-1", VERDICTS, note="keep"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("3", "escape")
        await pilot.pause()
    assert app.result is None

    app = Host(ReviewDialog("c-1", VERDICTS))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("6")
        await pilot.click("#save")
        await pilot.pause()
    assert app.result == ReviewEdit("needs_followup", "")


async def test_a_stored_verdict_no_longer_configured_is_kept():
    app = Host(ReviewDialog("c-1", VERDICTS, verdict="legacy_label", note="n"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert "legacy_label" in shown(app)
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert app.result == ReviewEdit("legacy_label", "n")


async def test_hostile_id_and_note_are_shown_literally():
    app = Host(ReviewDialog(HOSTILE_ID, VERDICTS, note=HOSTILE_NOTE))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        screen = shown(app)
        assert "[bold red]c-1[/]evil" in screen  # markup as typed, escapes removed
        assert "owned" not in screen and "\x1b" not in screen and "\u202e" not in screen
        note = app.dialog.query_one("#note", TextArea).text
        assert note == "[link=http://x]click[/link] red"
        assert "[link=http://x]click[/link] red" in screen


# ---------------------------------------------------------------------------- save view


async def test_a_new_valid_name_is_returned():
    app = Host(SaveViewDialog({"negative"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*"kb-gaps_v1.2", "enter")
        await pilot.pause()
    assert app.result == "kb-gaps_v1.2"


@pytest.mark.parametrize(("typed", "says"), [
    ("my view", "“my view”: use only letters, digits, _ . - (no spaces)."),
    ("x" * 65, "” is 65 characters long (at most 64)."),
    ("[red]x[/]\x1b[2J", "“[red]x[/]”: use only letters, digits"),
])
async def test_a_bad_name_is_refused_in_one_line_naming_it(typed, says):
    app = Host(SaveViewDialog())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.dialog.query_one("#view-name", Input).value = typed
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is UNSET  # still asking
        error = app.dialog.query_one("#view-error", Static)
        assert says in shown(app)
        assert error.size.height == 1
        assert "\n" not in str(error.render())
        # fixed, it goes through and the error is gone
        app.dialog.query_one("#view-name", Input).value = "fixed"
        await pilot.press("enter")
        await pilot.pause()
    assert app.result == "fixed"


async def test_empty_name_is_refused():
    app = Host(SaveViewDialog())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is UNSET
        assert "Give the view a name." in shown(app)


async def test_an_existing_name_asks_to_overwrite_n_goes_back_y_confirms():
    app = Host(SaveViewDialog({"handoffs", "other"}, name="handoffs"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.dialog
        name_box = dialog.query_one("#view-name", Input)
        await pilot.press("enter")
        await pilot.pause()
        assert app.result is UNSET
        assert "A view named “handoffs” exists. Overwrite it?" in shown(app)
        await pilot.press("n")  # back to the name, which can be changed
        await pilot.pause()
        assert app.result is UNSET
        assert app.focused is name_box and not name_box.disabled
        assert name_box.value == "handoffs"  # the n was not typed into it
        assert "Overwrite it?" not in shown(app)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("escape")  # escape goes back too, not out
        await pilot.pause()
        assert app.result is UNSET and app.focused is name_box
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.result == "handoffs"


async def test_enter_confirms_the_overwrite_and_escape_on_the_name_cancels():
    app = Host(SaveViewDialog({"handoffs"}, name="handoffs"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
    assert app.result == "handoffs"

    app = Host(SaveViewDialog({"handoffs"}, name="handoffs"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.result is None
