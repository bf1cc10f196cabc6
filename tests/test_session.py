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
                         conversation_id="c1", open_conversation=True)
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


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"])
def test_times_at_the_calendars_ends_are_shown_as_sent(value):
    assert parse_ts(value) is None
    assert short_time(value) == value[:11]
