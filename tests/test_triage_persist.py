"""Triage that persists, in the real app on the demo backend: saved views, the last session,
review marks and the review filter survive a restart (issue 13's pilot tests)."""
from __future__ import annotations

import pytest
from app_support import explorer, screen_lines, settle, wait_until

from api.session import SessionState, load_session

WIDE = (100, 48)  # the explorer without its sidebar: what these tests check is elsewhere
SIDEBAR = (160, 48)  # with it: the restored filters must also be the sidebar's


async def start(pilot) -> None:
    await settle(pilot)
    app = pilot.app
    await wait_until(lambda: app.views, pilot=pilot, what="views loaded")
    await wait_until(lambda: explorer(app).table.total is not None, pilot=pilot,
                     what="first page")


async def open_view(pilot, name: str, *keys: str):
    """The explorer on the built-in view `name` (then `keys`), its scan read to the end."""
    await start(pilot)
    screen = explorer(pilot.app)
    screen.apply_view(pilot.app.views[name])
    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)
    await wait_until(lambda: screen.triage.scan and screen.triage.scan.complete,
                     pilot=pilot, what="scan")
    await settle(pilot)
    return screen


def saved_session(app) -> SessionState | None:
    """The last session as written to disk (the explorer writes it once the user pauses)."""
    return load_session(app.session_file)


async def restored_on(pilot, highlighted: str) -> None:
    """The restarted explorer shows the negative filter again, on the same conversation."""
    screen = explorer(pilot.app)
    assert screen.query_obj.sentiment == ("negative",)
    await wait_until(lambda: screen.table.current() is not None, pilot=pilot)
    assert screen.table.current().conversation_id == highlighted


async def type_text(pilot, text: str) -> None:
    for char in text:
        await pilot.press(char)


async def test_a_saved_view_is_listed_after_a_restart_and_reopens_with_its_filters(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        await pilot.press("S", "H")  # negative handoffs
        await settle(pilot)
        await pilot.press("V")
        await type_text(pilot, "neg-handoffs")
        await pilot.press("enter")
        await settle(pilot)
        assert app.active_view == "neg-handoffs"
        saved = app.views["neg-handoffs"]
        assert saved.window == "30d" and not saved.builtin
        assert saved.query.sentiment == ("negative",) and saved.query.has_handoff is True
        assert saved.query.start_date is None  # a relative window moves with time

    app = studio_app(fresh=True)  # not the session: the view itself
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        screen = explorer(app)
        assert screen.query_obj.sentiment == ()
        assert "neg-handoffs" in app.views
        assert any(c.title == "View: neg-handoffs" for c in app.palette_commands())
        screen.apply_view(app.views["neg-handoffs"])
        await settle(pilot)
        query = screen.query_obj
        assert query.sentiment == ("negative",) and query.has_handoff is True
        assert app.active_view == "neg-handoffs"
        assert "Explorer: neg-handoffs" in screen_lines(app)[0]
        await pilot.press("R")  # a filter more: the view is modified
        await settle(pilot)
        assert "Explorer: neg-handoffs*" in screen_lines(app)[0]
        assert "view neg-handoffs (modified)" in "\n".join(screen_lines(app))


async def test_w_cycles_through_the_views(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        names = list(app.views)
        await pilot.press("w")
        await settle(pilot)
        assert app.active_view == names[0]
        await pilot.press("w")
        await settle(pilot)
        assert app.active_view == names[1]
        await pilot.press("W", "W")
        await settle(pilot)
        assert app.active_view == names[-1]
        view = app.views[names[-1]]
        assert explorer(app).query_obj == view.resolve(app.now())


async def test_the_session_reopens_filters_row_and_conversation(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        await pilot.press("S")
        await settle(pilot)
        await pilot.press("j", "j", "j")
        await settle(pilot)
        screen = explorer(app)
        highlighted = screen.table.current().conversation_id
        await wait_until(lambda: (saved := saved_session(app)) and saved.conversation_id
                         == highlighted, pilot=pilot, what="session written")

    app = studio_app()
    async with app.run_test(size=SIDEBAR) as pilot:
        await start(pilot)
        await restored_on(pilot, highlighted)
        sidebar = explorer(app).sidebar
        assert sidebar is not None and sidebar.current_query() == explorer(app).query_obj
        await pilot.press("enter")  # quit from a conversation view ...
        await settle(pilot)
        await wait_until(lambda: (saved := saved_session(app)) and saved.open_conversation,
                         pilot=pilot, what="session written")

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:  # ... lands on that conversation
        await start(pilot)
        await wait_until(lambda: type(app.screen).__name__ == "ConversationScreen",
                         pilot=pilot, what="conversation reopened")
        assert app.screen.conversation_id == highlighted
        await pilot.press("escape")
        await settle(pilot)
        assert explorer(app).table.current().conversation_id == highlighted

    app = studio_app(fresh=True)
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        assert explorer(app).query_obj.sentiment == ()
        assert app.screen is explorer(app)


async def test_review_marks_survive_a_restart_and_show_in_the_table(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        table = explorer(app).table
        first = table.current().conversation_id
        await pilot.press("m")  # reviewed, and on to the next row
        await settle(pilot)
        second = table.current().conversation_id
        assert second != first
        await pilot.press("exclamation_mark")
        await settle(pilot)
        store = await app.review_store()
        reviews = store.get([first, second])
        assert reviews[first].status == "reviewed" and reviews[second].status == "flagged"

    app = studio_app(fresh=True)
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        table = explorer(app).table
        await wait_until(lambda: first in table.reviews, pilot=pilot, what="marks read")
        assert table.reviews[first].status == "reviewed"
        # the table's rows (the detail pane below shows the highlighted id again)
        rows = [line for line in screen_lines(app) if first[:8] in line or second[:8] in line]
        rows = rows[:2]
        assert "✓" in rows[0] and "!" in rows[1]
        await pilot.press("m")  # the same key again: back to do
        await settle(pilot)
        store = await app.review_store()
        assert store.get([first])[first].status == "todo"


async def test_unreviewed_only_counts_honestly(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_view(pilot, "frustration")
        total = screen.table.total
        assert total and total < 5000
        marked = [r.conversation_id for r in screen.table.rows[:3]]
        for _ in marked:
            await pilot.press("m")
            await settle(pilot)
        await wait_until(lambda: screen.triage.scan and screen.triage.scan.complete,
                         pilot=pilot, what="scan")
        await settle(pilot)
        line = "\n".join(screen_lines(app))
        assert f"3 / {total:,} reviewed" in line
        await pilot.press("U")  # unreviewed only
        await settle(pilot)
        await wait_until(lambda: screen.table.total == total - 3, pilot=pilot,
                         what="filtered total")
        shown = {r.conversation_id for r in screen.table.rows}
        assert not shown & set(marked)
        assert f"unreviewed only: {total - 3:,}" in "\n".join(screen_lines(app))
        await pilot.press("U")  # flagged only: none yet
        await settle(pilot)
        await wait_until(lambda: screen.table.total == 0, pilot=pilot, what="no flagged")
        await pilot.press("U")
        await settle(pilot)
        assert screen.table.total == total


@pytest.mark.parametrize("template,expected", [
    ("https://app.example.com/c/{id}", "https://app.example.com/c/"),
    (None, None),
])
async def test_open_on_the_platform_uses_the_profile_template(studio_app, own_user_dirs,
                                                               template, expected):
    config = own_user_dirs / "config"
    config.mkdir(exist_ok=True)
    if template:
        (config / "config.toml").write_text(f'conversation_url = "{template}"\n')
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        cid = explorer(app).table.current().conversation_id
        await pilot.press("O")
        await settle(pilot)
        if expected:
            assert app.clipboard == expected + cid
        else:
            assert any("conversation_url" in n.message for n in app.test_notifications)


async def test_the_dialog_exports_the_unreviewed_as_one_redacted_markdown_file(studio_app,
                                                                              tmp_path):
    from textual.widgets import Checkbox, Input

    out = tmp_path / "queue.md"
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_view(pilot, "frustration")
        first = screen.table.current().conversation_id
        await pilot.press("m", "U")  # the first reviewed; the table lists the unreviewed
        await settle(pilot)
        unreviewed = screen.table.total
        await pilot.press("x")
        await settle(pilot)
        dialog = app.screen
        await pilot.click("#fmt-md")
        assert dialog.query_one("#messages", Checkbox).value  # transcripts carry them
        await pilot.click("#redact")
        dialog.query_one("#path", Input).value = str(out)
        await pilot.click("#start")
        await settle(pilot)
        text = out.read_text(encoding="utf-8")
        assert text.count("\n## Conversation ") == unreviewed
        assert f"## Conversation {first}" not in text
        assert "**Redacted:**" in text
        assert out.stat().st_mode & 0o777 == 0o600


async def test_next_after_reviewing_in_the_unreviewed_queue_skips_nothing(studio_app):
    """Under "unreviewed only", the conversation just reviewed leaves the list: J goes to the
    one that took its place, not to the one after it."""
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_view(pilot, "frustration", "U")
        queue = [r.conversation_id for r in screen.table.rows[:3]]
        await pilot.press("enter")
        await settle(pilot)
        for expected_next in queue[1:]:
            await pilot.press("m")  # reviewed: it leaves the queue
            await settle(pilot)
            await pilot.press("J")
            await settle(pilot)
            assert app.screen.conversation_id == expected_next
        await pilot.press("K")  # back: the reviewed ones are no longer listed
        await settle(pilot)
        assert app.screen.conversation_id == queue[2]


async def test_u_judges_a_new_page_by_its_own_reviews(studio_app):
    """`u` crossing onto a page reads that page's reviews before it stops on a row."""
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        table = explorer(app).table
        size = table.page_size
        store = await app.review_store()
        from api.endpoints import conversations

        client = await app.get_client()
        second = await client.load(conversations.rows(client.project_id, table.query_obj,
                                                      limit=size, offset=size))
        ids = [r.conversation_id for r in second.rows]
        store.mark(ids[:3], status="reviewed", who="other process")  # unseen by the app
        await pilot.press("G")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert table.current().conversation_id == ids[3]


async def test_quitting_right_after_a_change_keeps_it(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        await pilot.press("S", "j", "j", "q")  # no pause before quitting
        highlighted = explorer(app).table.current().conversation_id
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        await restored_on(pilot, highlighted)


async def test_all_dates_and_no_filter_is_a_session_too(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        explorer(app).set_date_preset("all")
        await settle(pilot)
        assert explorer(app).query_obj.to_text() == ""
        await pilot.press("q")
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        assert app.filters.start_date is None and app.date_preset == "all"


async def test_a_view_deleted_since_is_no_longer_shown_as_active(studio_app):
    from api.query import ConversationQuery
    from api.views import View, delete_view, save_view

    app = studio_app()
    save_view(app.settings.config_file, View("gone", ConversationQuery(tags=("billing",)),
                                             "2w"))
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        explorer(app).apply_view(app.views["gone"])
        await settle(pilot)
        assert "Explorer: gone" in screen_lines(app)[0]
        await pilot.press("q")
    delete_view(app.settings.config_file, "gone")
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        assert app.active_view is None
        assert "Explorer: gone" not in screen_lines(app)[0]
        assert explorer(app).query_obj.tags == ("billing",)  # its filters stay shown


async def test_select_all_under_the_review_filter_exports_what_is_listed(studio_app):
    from screens.export_dialog import ExportDialog

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        screen = await open_view(pilot, "frustration")
        first = screen.table.current().conversation_id
        await pilot.press("m", "U")
        await settle(pilot)
        listed = screen.table.total
        await pilot.press("asterisk", "x")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert dialog.kind == "ids" and len(dialog.target) == listed
        assert first not in dialog.target


async def test_new_since_last_look_marks_what_came_after_and_moves_on(studio_app):
    from textual.coordinate import Coordinate

    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        store = await app.review_store()
        store.set_last_look("frustration", "2026-06-13T00:00:00Z")
        screen = await open_view(pilot, "frustration")
        await wait_until(lambda: screen.triage.new_since, pilot=pilot, what="last look")
        await settle(pilot)
        newer = [r for r in screen.triage.scan.rows if r.last_message_at > "2026-06-13T"]
        assert newer and len(newer) < len(screen.triage.scan.rows)
        assert f"{len(newer):,} new since last look" in "\n".join(screen_lines(app))
        grid = screen.table.table
        marks = [grid.get_cell_at(Coordinate(i, 0)).plain for i in range(len(screen.table.rows))]
        assert sum("●" in m for m in marks) == min(len(newer), len(marks))
        assert store.last_look("frustration").startswith("2026-06-16T00:00:00")  # this look


async def test_u_in_the_conversation_view_skips_the_reviewed(studio_app):
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        rows = [r.conversation_id for r in explorer(app).table.rows[:4]]
        store = await app.review_store()
        store.mark(rows[1:3], status="reviewed", who="t")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert app.screen.conversation_id == rows[3]
        assert explorer(app).table.current().conversation_id == rows[3]


async def test_a_scan_that_fails_says_so_and_ctrl_r_reads_again(studio_app):
    """The progress of a view whose conversations could not be read is not shown as still
    being read: the line says it is not counted, and ctrl+r counts it."""
    app = studio_app()
    async with app.run_test(size=WIDE) as pilot:
        await start(pilot)
        app.test_faults.path_contains = "/conversations"
        app.test_faults.error_rate = 1.0
        explorer(app).apply_view(app.views["degraded"])
        await settle(pilot)
        text = "\n".join(screen_lines(app))
        assert "not counted" in text and "reading" not in text
        app.test_faults.error_rate = 0.0
        await pilot.press("ctrl+r")
        await settle(pilot)
        screen = explorer(app)
        await wait_until(lambda: screen.triage.scan and screen.triage.scan.complete,
                         pilot=pilot, what="scan")
        await settle(pilot)
        assert f"0 / {screen.table.total:,} reviewed" in "\n".join(screen_lines(app))


async def test_restored_filters_show_their_names_at_once_and_keep_the_page_size(
        studio_app, monkeypatch):
    """The last session keeps the names its filters showed: restored at 80 columns, the
    filter line shows them on the first frame (not ids until the lookups load), so its
    height, and the table's page size, stay as they are once the names arrive."""
    from api.query import ConversationQuery
    from widgets.conversation_table import ConversationTable
    from widgets.filter_bar import FilterBar

    narrow = (80, 24)
    app = studio_app()
    async with app.run_test(size=narrow) as pilot:
        await start(pilot)
        assistant, (inbox, inbox_name) = app.lookups.assistants[0], app.lookups.inboxes[0]
        explorer(app).apply_query(ConversationQuery.build(
            playbook_base_id=assistant.base_id, inbox_id=inbox, sentiment="negative",
            search="refund"))
        await settle(pilot)
        await wait_until(lambda: (saved := saved_session(app)) and saved.names,
                         pilot=pilot, what="session saved with names")

    asked: list[int] = []
    shown: list[str] = []
    request = ConversationTable._request

    def recording(self, force: bool = False) -> None:
        if (wanted := self.current_request()) is not None and self.is_mounted:
            asked.append(wanted.limit)
            shown.append(str(self.screen.query_one(FilterBar).render()))
        request(self, force)

    monkeypatch.setattr(ConversationTable, "_request", recording)
    app = studio_app()
    async with app.run_test(size=narrow) as pilot:
        await start(pilot)
        await settle(pilot)
        table = explorer(app).table
        assert explorer(app).query_obj.inbox_id == inbox
        assert set(asked) == {table.page_size}
        assert assistant.name in shown[0] and inbox_name in shown[0]
        assert assistant.base_id not in shown[0]


async def test_restored_names_stay_when_the_lookups_do_not_name_the_ids(studio_app):
    """Lookups that fail (or no longer list an assistant) keep the names the session had,
    on screen and in the next session."""
    from api.query import ConversationQuery
    from widgets.filter_bar import FilterBar

    app = studio_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot)
        assistant = app.lookups.assistants[0]
        explorer(app).apply_query(ConversationQuery.build(playbook_base_id=assistant.base_id))
        await settle(pilot)
        await wait_until(lambda: (saved := saved_session(app)) and saved.names,
                         pilot=pilot, what="session saved with names")

    app = studio_app(cache=False)
    app.test_faults.path_contains = "/playbooks"
    app.test_faults.error_rate = 1.0
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot)
        await settle(pilot)
        assert assistant.name in str(app.screen.query_one(FilterBar).render())
        assert explorer(app).session_state().names == ((assistant.base_id, assistant.name),)
