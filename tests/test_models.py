"""Models tolerate what real APIs send: missing, extra, null, unknown and mistyped fields."""
from __future__ import annotations

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api import models as m

EVERY_MODEL = [
    v for v in vars(m).values()
    if isinstance(v, type) and issubclass(v, m.Model) and v is not m.Model
]


@pytest.mark.parametrize("model", EVERY_MODEL, ids=lambda c: c.__name__)
def test_every_model_parses_an_empty_object(model):
    obj = model.model_validate({})
    for name in model.model_fields:
        value = getattr(obj, name)
        assert value is None or value == [] or value == {}, name


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@pytest.mark.parametrize("model", EVERY_MODEL, ids=lambda c: c.__name__)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_field_accepts_any_json_value(model, data):
    names = list(model.model_fields) + ["unknown_extra"]
    payload = data.draw(st.dictionaries(st.sampled_from(names), json_values, max_size=8))
    model.model_validate(payload)  # never raises


def test_conversation_odd_payload():
    c = m.Conversation.model_validate({
        "conversation_id": 12345,            # number -> text
        "message_count": "17",               # numeric string -> int
        "avg_response_latency_ms": 812.5,    # float kept
        "has_handoff": "true",
        "tags": None,                        # null list -> []
        "skills": None,
        "playbooks_info": [{"id": "pb", "version": "3"}, "junk", None],
        "sentiment_label": "ecstatic",       # unknown label kept as-is
        "deflection_quality": None,
        "context": ["not", "a", "dict"],     # wrong type -> {}
        "brand_new_field": {"x": 1},         # extra kept
    })
    assert c.conversation_id == "12345" and c.message_count == 17
    assert c.avg_response_latency_ms == 812.5 and c.has_handoff is True
    assert c.tags == [] and c.skills == []
    assert [p.id for p in c.playbooks_info] == ["pb"] and c.playbooks_info[0].version == 3
    assert c.sentiment_label == "ecstatic"
    assert c.context == {}
    assert c.model_extra["brand_new_field"] == {"x": 1}
    assert c.get("brand_new_field") == {"x": 1} and c.get("nope", 5) == 5
    dumped = c.model_dump()
    assert dumped["brand_new_field"] == {"x": 1}


def test_detail_with_messages_tool_calls_and_citations():
    d = m.ConversationDetail.model_validate({
        "conversation_id": "c1",
        "messages": [
            {"role": "user", "content": "hi", "created_at": "2026-06-01T10:00:00Z"},
            {"role": "assistant", "content": None, "metadata": None,
             "tool_calls": [{"id": "t", "name": "search_knowledge_base",
                             "arguments": {"q": "refund"}, "result": None,
                             "tool_type": "brand_new_type"}],
             "is_winback": 0},
            "garbage",
        ],
        "citations": [{"citation_id": 1, "kb_id": "kb", "content": "excerpt"}],
    })
    assert len(d.messages) == 2
    call = d.messages[1].tool_calls[0]
    assert call.arguments == '{"q": "refund"}' and call.tool_type == "brand_new_type"
    assert d.messages[1].metadata == {} and d.messages[1].is_winback is False
    assert d.citations[0].citation_id == "1"


def test_wrong_but_coercible_numbers():
    a = m.AggregateMetrics.model_validate({
        "total_conversations": 10.0, "coverage_percentage": "87.5",
        "sentiment_distribution": {"negative": "3", "neutral": 2.0, "joyful": 1, "bad": "x"},
    })
    assert a.total_conversations == 10 and a.coverage_percentage == 87.5
    assert a.sentiment_distribution["negative"] == 3
    assert a.sentiment_distribution["joyful"] == 1
    assert a.sentiment_distribution["bad"] is None


def test_sparklines_parse_and_skip_junk():
    sp = m.parse_sparklines({"tool": {"total": "4", "series": [{"date": "d", "count": 4}]},
                             "bad": [1, 2]})
    assert list(sp) == ["tool"] and sp["tool"].total == 4
    assert [p.count for p in sp["tool"].series] == [4]
    assert m.parse_sparklines(["not", "a", "dict"]) == {}


def test_csat_unconfigured_and_conversion_unconfigured():
    c = m.CsatAnalytics.model_validate({"is_configured": False})
    assert c.is_configured is False and c.ratings == [] and c.rating_distribution == {}
    conv = m.ConversionAnalytics.model_validate({"is_configured": False, "definition": None})
    assert conv.definition is None and conv.events == []


def test_nested_optional_objects_tolerate_junk():
    s = m.TrendingStatus.model_validate({"status": "none", "analysis": "nope"})
    assert s.analysis is None
    a = m.ActiveVersion.model_validate({"base_id": "b", "playbook": {"name": "P", "x": 1}})
    assert a.playbook.name == "P"
    sched = m.Schedule.model_validate({"weekly_schedule": {"monday": {"enabled": True, "slots": [
        {"start": "09:00", "end": "17:00"}]}, "tuesday": None}})
    assert sched.weekly_schedule["monday"].slots[0].start == "09:00"


def test_non_object_payload_is_an_error():
    with pytest.raises(pydantic.ValidationError):
        m.Conversation.model_validate(["a", "list"])


def test_infinite_and_nan_numbers_do_not_crash():
    c = m.Conversation.model_validate({"message_count": float("inf"), "playbook_version": "nan"})
    assert c.message_count is None and c.playbook_version is None


def test_numbers_are_finite_and_never_booleans():
    """A figure is a number or nothing: NaN, infinity and booleans become None, never 'nan%'
    or a count of 1."""
    from api.models import AggregateMetrics

    odd = AggregateMetrics.model_validate({
        "total_conversations": True, "total_scored_conversations": "nan",
        "coverage_percentage": float("inf"),
    })
    assert odd.total_conversations is None
    assert odd.total_scored_conversations is None
    assert odd.coverage_percentage is None
    fine = AggregateMetrics.model_validate({"total_conversations": "12",
                                            "coverage_percentage": 93.5})
    assert fine.total_conversations == 12 and fine.coverage_percentage == 93.5


def test_a_conversation_keeps_the_answer_as_sent_for_copy_json():
    """The view reads the model (lenient); "copy JSON" copies what the API sent."""
    from api.endpoints import conversations

    raw = {"conversation_id": "c1", "message_count": "7.6", "tags": "a, b",
           "has_handoff": {"x": 1}, "messages": [{"role": "user"}, "junk"]}
    detail = conversations.detail("p", "c1").parse(raw)
    assert detail.message_count == 8 and detail.tags == ["a", "b"]
    assert detail.answer == raw
