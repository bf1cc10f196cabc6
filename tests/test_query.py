"""ConversationQuery: validation names the field, params, text round trip."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api import labels
from api.query import ConversationQuery, QueryError


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"start_date": "2026-13-01"}, "start_date"),
        ({"end_date": "yesterday"}, "end_date"),
        ({"start_date": "2026-06-02", "end_date": "2026-06-01"}, "end_date"),
        ({"start_date": "2026-06-01", "end_date": "2026-06-01"}, "end_date"),
        ({"min_messages": "-1"}, "min_messages"),
        ({"max_messages": "many"}, "max_messages"),
        ({"min_messages": 5, "max_messages": 3}, "min_messages"),
        ({"sentiment": "negative,angry"}, "sentiment"),
        ({"resources": ["relevant", "useless"]}, "resources"),
        ({"sentiment_shift": "worse"}, "sentiment_shift"),
        ({"deflection_quality": "great"}, "deflection_quality"),
        ({"handoff_reason": "boredom"}, "handoff_reason"),
        ({"recontact_risk": "extreme"}, "recontact_risk"),
        ({"has_handoff": "maybe"}, "has_handoff"),
        ({"has_winback": "2"}, "has_winback"),
        ({"sort_by": "created_at"}, "sort_by"),
        ({"sort_order": "up"}, "sort_order"),
        ({"tags": ["a,b"]}, "tags"),
        ({"colour": "red"}, "colour"),
        ({"search": 12}, "search"),
    ],
)
def test_validation_names_the_field(raw, field):
    with pytest.raises(QueryError) as info:
        ConversationQuery.build(**raw)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert "\n" not in str(info.value)


def test_dates_are_normalised():
    q = ConversationQuery.build(start_date="2026-06-01", end_date="2026-06-10T12:30:00")
    assert q.start_date == "2026-06-01T00:00:00Z"
    assert q.end_date == "2026-06-10T12:30:00Z"
    q = ConversationQuery.build(start_date="2026-06-01T00:00:00+00:00",
                                end_date="2026-06-02T00:00:00-03:00")
    assert q.start_date == "2026-06-01T00:00:00Z"
    assert q.end_date == "2026-06-02T00:00:00-03:00"


def test_offsets_are_compared_as_instants():
    # 2026-06-01T01:00-03:00 is 04:00Z: after 02:00Z although the wall clock is earlier
    q = ConversationQuery.build(start_date="2026-06-01T02:00:00Z",
                                end_date="2026-06-01T01:00:00-03:00")
    assert q.end_date == "2026-06-01T01:00:00-03:00"
    with pytest.raises(QueryError, match="end_date"):
        ConversationQuery.build(start_date="2026-06-01T05:00:00Z",
                                end_date="2026-06-01T01:00:00-03:00")


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("Yes", True), ("1", True), ("false", False), ("no", False), ("0", False),
    ("", None), (True, True), (False, False), (None, None),
])
def test_booleans(text, value):
    assert ConversationQuery.build(has_handoff=text).has_handoff is value


def test_to_params_full():
    q = ConversationQuery.build(
        start_date="2026-06-01", end_date="2026-06-15", playbook_id="pv", playbook_base_id="pb",
        inbox_id="in", search="123", skill_name="refund-process", has_handoff="yes",
        has_winback="false", tags="billing, refund,billing", sentiment="Negative,neutral",
        resources=["partial"], sentiment_shift="degraded", deflection_quality="actioned",
        handoff_reason="frustration,bot_limitation", recontact_risk="high", min_messages="2",
        max_messages=20, sort_by="message_count", sort_order="ASC", conversation_ids=["x"],
    )
    assert q.to_params() == {
        "start_date": "2026-06-01T00:00:00Z", "end_date": "2026-06-15T00:00:00Z",
        "playbook_id": "pv", "playbook_base_id": "pb", "inbox_id": "in", "search": "123",
        "skill_name": "refund-process", "has_handoff": "true", "has_winback": "false",
        "tags": "billing,refund", "sentiment": "negative,neutral", "resources": "partial",
        "sentiment_shift": "degraded", "deflection_quality": "actioned",
        "handoff_reason": "frustration,bot_limitation", "recontact_risk": "high",
        "min_messages": "2", "max_messages": "20", "sort_by": "message_count",
        "sort_order": "asc",
    }
    assert q.analytics_params() == {
        "start_date": "2026-06-01T00:00:00Z", "end_date": "2026-06-15T00:00:00Z",
        "playbook_id": "pv", "playbook_base_ids": "pb", "tags": "billing,refund",
    }
    assert q.aggregate_params() == {
        "start_date": "2026-06-01T00:00:00Z", "end_date": "2026-06-15T00:00:00Z",
        "playbook_id": "pv", "playbook_base_id": "pb", "tags": "billing,refund",
        "inbox_id": "in",
    }
    assert q.csat_params() == q.conversion_params() == {
        "start_date": "2026-06-01T00:00:00Z", "end_date": "2026-06-15T00:00:00Z",
        "tags": "billing,refund", "playbook_base_id": "pb",
    }


def test_empty_query_has_no_params_and_no_text():
    q = ConversationQuery.build(search="  ", tags="", has_handoff=None, min_messages="")
    assert q == ConversationQuery()
    assert q.to_params() == {}
    assert q.to_text() == ""
    assert ConversationQuery.from_text("") == q


def test_query_is_frozen_and_replace_validates():
    q = ConversationQuery.build(min_messages=3)
    with pytest.raises(AttributeError):
        q.min_messages = 4  # type: ignore[misc]
    assert q.replace(max_messages=5).max_messages == 5
    with pytest.raises(QueryError, match="min_messages"):
        q.replace(max_messages=2)


def test_text_form_example():
    q = ConversationQuery.from_text(
        "sentiment:negative,neutral handoff:yes tags:billing,refund since:2026-06-01 "
        "until:2026-06-15 'search:a b' sort:message_count order:asc min:2"
    )
    assert q == ConversationQuery.build(
        sentiment=["negative", "neutral"], has_handoff=True, tags=["billing", "refund"],
        start_date="2026-06-01", end_date="2026-06-15", search="a b",
        sort_by="message_count", sort_order="asc", min_messages=2,
    )
    assert "handoff:yes" in q.to_text()
    assert "'search:a b'" in q.to_text()
    assert ConversationQuery.from_text("12345").search == "12345"  # a bare word searches
    assert ConversationQuery.from_text("has_handoff:false").has_handoff is False


@pytest.mark.parametrize(("text", "field"), [
    ("sentiment:furious", "sentiment"), ("since:soon", "start_date"),
    ("'unclosed", "text"), ("min:1 min:2", "min_messages"), ("a b", "search"),
])
def test_text_form_errors(text, field):
    with pytest.raises(QueryError) as info:
        ConversationQuery.from_text(text)
    assert info.value.field == field


# ---------------------------------------------------------------------- property test
_text = st.text(min_size=1, max_size=12).filter(lambda s: s.strip())
_items = st.text(alphabet=st.characters(blacklist_characters=","), min_size=1,
                 max_size=10).filter(lambda s: s.strip())


def _labels(values):
    return st.lists(st.sampled_from(values), unique=True, max_size=len(values)).map(tuple)


_datetimes = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                          timezones=st.sampled_from([None, UTC, timezone(timedelta(hours=-3)),
                                                     timezone(timedelta(hours=5, minutes=30))]))


@st.composite
def queries(draw):
    raw = {
        "start_date": draw(st.none() | _datetimes),
        "end_date": None,
        "playbook_id": draw(st.none() | _text),
        "playbook_base_id": draw(st.none() | _text),
        "inbox_id": draw(st.none() | _text),
        "search": draw(st.none() | _text),
        "skill_name": draw(st.none() | _text),
        "has_handoff": draw(st.none() | st.booleans()),
        "has_winback": draw(st.none() | st.booleans()),
        "tags": draw(st.lists(_items, max_size=4)),
        "conversation_ids": draw(st.lists(_items, max_size=3)),
        "min_messages": draw(st.none() | st.integers(0, 50)),
        "sort_by": draw(st.none() | st.sampled_from(labels.SORT_BY)),
        "sort_order": draw(st.none() | st.sampled_from(labels.SORT_ORDER)),
    }
    for name, values in labels.LABEL_FIELDS.items():
        raw[name] = draw(_labels(values))
    if raw["start_date"] is not None and draw(st.booleans()):
        raw["end_date"] = raw["start_date"] + timedelta(minutes=draw(st.integers(1, 10**6)))
    if draw(st.booleans()):
        raw["max_messages"] = (raw["min_messages"] or 0) + draw(st.integers(0, 50))
    return ConversationQuery.build(**raw)


@given(queries())
def test_text_round_trip(q):
    assert ConversationQuery.from_text(q.to_text()) == q


@given(queries())
def test_params_rebuild_the_same_query(q):
    rebuilt = ConversationQuery.build(**q.to_params(), conversation_ids=q.conversation_ids)
    # a comma-joined list cannot hold items with surrounding spaces, which build strips anyway
    assert rebuilt == q
