"""The explorer's session file: what a damaged or foreign one gives (nothing, or only the
fields that make sense), and how it is written."""
from __future__ import annotations

import json

import pytest

from api.dates import parse_ts, short_time
from api.session import SessionState, load_session, save_session, session_path


def test_round_trip_owner_only(tmp_path):
    path = session_path(tmp_path / "data", "https://user:pw@api.example.com", "p1")
    assert "pw" not in str(path) and "user" not in str(path)
    state = SessionState(view="v", query="sentiment:negative", preset="7d", window=None,
                         columns=("sel", "id"), review_filter="flagged", offset=40,
                         conversation_id="c1", open_conversation=True,
                         names=(("a1", "Support Assistant"), ("i1", "Email")))
    save_session(path, state)
    assert load_session(path) == state
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    other = session_path(tmp_path / "data", "https://api.example.com", "p2")
    assert other != path  # one session per API and project


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '"x"', "\xff\xfe"])
def test_a_damaged_file_is_no_session(tmp_path, text):
    path = tmp_path / "s.json"
    path.write_text(text, encoding="latin-1")
    assert load_session(path) is None


def test_odd_fields_are_left_out(tmp_path):
    data = {"preset": "bogus", "window": "9999y", "offset": -3, "columns": [1, "id"],
            "open_conversation": "yes", "view": 7, "extra": {}, "query": "tags:a"}
    state = SessionState.from_json(data)
    assert state == SessionState(query="tags:a")
    assert SessionState.from_json(json.loads('{"preset": "30d", "window": "2w"}')) == \
        SessionState(preset="30d", window="2w")


def test_names_are_plain_text_pairs_and_few():
    names = [["a1", "Bot\x1b[31m [b]x[/b]\nv2"], ["i1", ""], ["x"], [1, "y"], "z",
             ["i2", "Email"], ["i3", "Chat"], ["i4", "more"]]
    state = SessionState.from_json({"names": names})
    assert state is not None
    assert state.names == (("a1", "Bot [b]x[/b] v2"),)  # three looked at, the rest ignored
    assert SessionState.from_json({"names": "a1=Bot"}) == SessionState()


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"])
def test_times_at_the_calendars_ends_are_shown_as_sent(value):
    assert parse_ts(value) is None
    assert short_time(value) == value[:11]


def test_lookups_name_ids_from_a_session_until_they_know_better():
    from api.lookups import Assistant, Lookups
    from api.query import ConversationQuery

    query = ConversationQuery.build(playbook_base_id="a1", playbook_id="v9", inbox_id="i1")
    early = Lookups(labels={"a1": "Old name", "v9": "Old name v3"})
    assert early.assistant_name("a1") == "Old name"
    assert early.version_label("v9") == "Old name v3"
    assert early.inbox_name("i1") == "i1"  # no name known: the id
    assert early.labels_of(query) == (("a1", "Old name"), ("v9", "Old name v3"))
    loaded = Lookups(assistants=[Assistant("a1", "New name", (("v9", 3),))],
                     inboxes=[("i1", "Email")], loaded=True, labels=early.labels)
    assert loaded.labels_of(query) == (("a1", "New name"), ("v9", "New name v3"),
                                       ("i1", "Email"))
    assert Lookups().labels_of(query) == ()
