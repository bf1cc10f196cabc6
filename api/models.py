"""Pydantic v2 models of the Studio Chat API's answers that the app reads (``api.endpoints``).

Tolerant by design, because a real API drifts: unknown fields are kept (``extra="allow"``),
every field is optional, ``null`` lists become ``[]``, labels are plain strings (known values
live in ``api.labels``), numbers accept int or float (or numeric strings), and a value of the
wrong type that cannot be coerced becomes ``None`` (or the field's empty default) instead of an
error. Only a payload that is not an object at all fails to parse.

Texts are kept as the API sent them; sanitize (``api.text``) when showing them.
"""
from __future__ import annotations

import math
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, WrapValidator

from api.text import as_text


def _lenient(value: Any, handler: Any) -> Any:
    """Try the declared type; on failure fall back to None (the field's 'unknown')."""
    try:
        return handler(value)
    except (ValueError, TypeError):
        return None


def _none_to_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, str):  # "a, b" from a CSV-minded server
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def _none_to_dict(value: Any) -> Any:
    return {} if value is None else value


def _lenient_int(value: Any, handler: Any) -> Any:
    """An int; a fractional number or numeric string is rounded; a boolean or anything else
    is None."""
    if isinstance(value, bool):
        return None
    try:
        return handler(value)
    except (ValueError, TypeError):
        pass
    try:
        number = float(value)
    except (ValueError, TypeError):
        return None
    return round(number) if math.isfinite(number) else None


def _list_or_empty(value: Any, handler: Any) -> Any:
    try:
        return handler(_none_to_list(value))
    except (ValueError, TypeError):
        # keep the items that do parse; drop the rest
        if isinstance(value, list):
            kept = []
            for item in value:
                try:
                    kept.extend(handler([item]))
                except (ValueError, TypeError):
                    continue
            return kept
        return []


def _dict_or_empty(value: Any, handler: Any) -> Any:
    try:
        return handler(_none_to_dict(value))
    except (ValueError, TypeError):
        # keep the entries that do parse; drop the rest
        if isinstance(value, dict):
            kept = {}
            for key, item in value.items():
                try:
                    kept.update(handler({key: item}))
                except (ValueError, TypeError):
                    continue
            return kept
        return {}


Str = Annotated[str | None, BeforeValidator(as_text), WrapValidator(_lenient)]
Int = Annotated[int | None, WrapValidator(_lenient_int)]
def _lenient_num(value: Any, handler: Any) -> Any:
    """A finite number (or numeric string); a boolean, NaN or infinity is None (no figure)."""
    if isinstance(value, bool):
        return None
    number = _lenient(value, handler)
    if isinstance(number, float) and not math.isfinite(number):
        return None
    return number


Num = Annotated[int | float | None, WrapValidator(_lenient_num)]
Bool = Annotated[bool | None, WrapValidator(_lenient)]
IntOrStr = Annotated[int | str | None, WrapValidator(_lenient)]  # ids documented as int
StrList = Annotated[list[Str], WrapValidator(_list_or_empty)]
AnyList = Annotated[list[Any], WrapValidator(_list_or_empty)]
Dict = Annotated[dict[str, Any], WrapValidator(_dict_or_empty)]
IntDict = Annotated[dict[str, Num], WrapValidator(_dict_or_empty)]


_M = TypeVar("_M")
# generic aliases: ListOf[PlaybookRef], Opt[Signals]
ListOf = Annotated[list[_M], WrapValidator(_list_or_empty)]
Opt = Annotated[_M | None, WrapValidator(_lenient)]


class Model(BaseModel):
    """Base of every API model: extra fields kept, populate by name, never frozen."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, coerce_numbers_to_str=True)

    def get(self, name: str, default: Any = None) -> Any:
        """A field or an extra field by name (for fields the models do not declare)."""
        value = getattr(self, name, None)
        if value is None and self.model_extra:
            value = self.model_extra.get(name)
        return default if value is None else value


# -- conversations --------------------------------------------------------------------------


class PlaybookRef(Model):
    id: Str = None
    name: Str = None
    version: Int = None


class Signals(Model):
    """The scoring signals: a label and its reason each (all None on unscored conversations)."""

    sentiment_label: Str = None
    sentiment_reason: Str = None
    resources_label: Str = None
    resources_reason: Str = None
    summary: Str = None
    user_intent: Str = None
    sentiment_shift: Str = None
    sentiment_shift_reason: Str = None
    deflection_quality: Str = None
    deflection_quality_reason: Str = None
    handoff_reason: Str = None
    handoff_reason_detail: Str = None
    recontact_risk: Str = None
    recontact_risk_reason: Str = None


class Conversation(Signals):
    """One conversation of the list endpoint (every metadata field inline)."""

    conversation_id: Str = None
    inbox_id: Str = None  # not in the reference's list item; read when sent
    inbox_name: Str = None
    playbook_name: Str = None
    playbook_version: Int = None
    playbooks_info: ListOf[PlaybookRef] = Field(default_factory=list)
    message_count: Int = None
    first_message_at: Str = None
    last_message_at: Str = None
    first_user_message: Str = None
    last_assistant_message: Str = None
    has_handoff: Bool = None
    has_error: Bool = None
    tags: StrList = Field(default_factory=list)
    skills: StrList = Field(default_factory=list)
    avg_response_latency_ms: Num = None
    model: Str = None
    winback_sent_at: Str = None
    context: Dict = Field(default_factory=dict)


class Window(Model):
    """The paging envelope of the list endpoints."""

    total: Int = None
    limit: Int = None
    offset: Int = None


class ConversationPage(Window):
    conversations: ListOf[Conversation] = Field(default_factory=list)


class ToolCall(Model):
    id: Str = None
    name: Str = None
    arguments: Str = None
    result: Str = None
    tool_type: Str = None
    enhanced_params: Any = None


class Message(Model):
    role: Str = None
    content: Str = None
    created_at: Str = None
    metadata: Dict = Field(default_factory=dict)
    tool_calls: ListOf[ToolCall] = Field(default_factory=list)
    is_winback: Bool = None
    attachments: AnyList = Field(default_factory=list)


class Citation(Model):
    citation_id: Str = None
    kb_id: Str = None
    item_id: Str = None
    content: Str = None
    file_name: Str = None


class ConversationDetail(Conversation):
    messages: ListOf[Message] = Field(default_factory=list)
    citations: ListOf[Citation] = Field(default_factory=list)
    # the answer as the API sent it (api.endpoints.conversations.detail keeps it): what
    # "copy JSON" copies, so that a user debugging the API sees its values, not ours
    _answer: Any = PrivateAttr(default=None)

    @property
    def answer(self) -> Any:
        return self._answer if self._answer is not None else self.model_dump(
            mode="json", exclude_unset=True)


# -- analytics ------------------------------------------------------------------------------


class TimeBucket(Model):
    timestamp: Str = None
    date: Str = None
    total_conversations: Int = None
    conversations_with_handoff: Int = None
    avg_response_latency_ms: Num = None
    min_response_latency_ms: Num = None
    max_response_latency_ms: Num = None
    p99_response_latency_ms: Num = None

    @property
    def label(self) -> str:
        return self.timestamp or self.date or ""


class Breakdown(Model):
    """A ``by_playbook`` / ``by_tag`` / ``by_assistant`` row (the name and id keys vary)."""

    name: Str = None
    playbook_name: Str = None
    assistant_name: Str = None
    tag: Str = None
    id: Str = None
    playbook_id: Str = None
    playbook_base_id: Str = None
    base_id: Str = None
    total_conversations: Int = None
    conversations_with_handoff: Int = None
    conversations_without_handoff: Int = None
    deflection_rate: Num = None


class ConversationAnalytics(Model):
    total_conversations: Int = None
    total_messages: Int = None
    conversations_with_handoff: Int = None
    conversations_without_handoff: Int = None
    deflection_rate: Num = None
    avg_messages_per_conversation: Num = None
    avg_response_latency_ms: Num = None
    winback_sent_count: Int = None
    winback_answered_count: Int = None
    winback_conversion_rate: Num = None
    by_playbook: ListOf[Breakdown] = Field(default_factory=list)
    by_tag: ListOf[Breakdown] = Field(default_factory=list)
    time_series: ListOf[TimeBucket] = Field(default_factory=list)
    time_granularity: Str = None


class AccountAnalytics(Model):
    total_conversations: Int = None
    total_messages: Int = None
    total_ai_messages: Int = None
    conversations_with_handoff: Int = None
    conversations_without_handoff: Int = None
    deflection_rate: Num = None
    avg_messages_per_conversation: Num = None
    by_assistant: ListOf[Breakdown] = Field(default_factory=list)
    time_series: ListOf[TimeBucket] = Field(default_factory=list)
    time_granularity: Str = None


class AggregateMetrics(Model):
    total_conversations: Int = None
    total_scored_conversations: Int = None
    coverage_percentage: Num = None
    sentiment_distribution: IntDict = Field(default_factory=dict)
    resources_distribution: IntDict = Field(default_factory=dict)
    sentiment_shift_distribution: IntDict = Field(default_factory=dict)
    deflection_quality_distribution: IntDict = Field(default_factory=dict)
    handoff_reason_distribution: IntDict = Field(default_factory=dict)
    recontact_risk_distribution: IntDict = Field(default_factory=dict)


class CsatBucket(Model):
    date: Str = None
    total: Int = None
    positive: Int = None
    neutral: Int = None
    negative: Int = None
    csat_pct: Num = None
    eligible: Int = None
    response_rate_pct: Num = None


class CsatRating(Model):
    conversation_id: Str = None
    rating: Int = None
    remark: Str = None
    rated_at: Str = None
    tags: StrList = Field(default_factory=list)
    first_message_at: Str = None


class CsatAnalytics(Model):
    is_configured: Bool = None
    total_rated: Int = None
    csat_score_pct: Num = None
    dsat_score_pct: Num = None
    eligible_deflected: Int = None
    response_rate_pct: Num = None
    rating_distribution: IntDict = Field(default_factory=dict)
    positive_count: Int = None
    neutral_count: Int = None
    negative_count: Int = None
    time_series: ListOf[CsatBucket] = Field(default_factory=list)
    time_granularity: Str = None
    ratings: ListOf[CsatRating] = Field(default_factory=list)
    ratings_offset: Int = None


class ConversionMetric(Model):
    id: Str = None
    project_id: Str = None
    slug: Str = None
    name: Str = None
    description: Str = None
    value_label: Str = None
    enabled: Bool = None
    created_at: Str = None
    updated_at: Str = None
    ingest_url_path: Str = None
    last_event_at: Str = None


class ConversionBucket(Model):
    date: Str = None
    event_count: Int = None
    total_value: Num = None
    converting_conversations: Int = None


class ConversionEvent(Model):
    id: IntOrStr = None
    conversation_id: Str = None
    match_value: Str = None
    idempotency_key: Str = None
    value: Num = None
    occurred_at: Str = None
    metadata: Opt[dict[str, Any]] = None
    tags: StrList = Field(default_factory=list)


class ConversionAnalytics(Model):
    is_configured: Bool = None
    definition: Opt[ConversionMetric] = None
    total_events: Int = None
    total_value: Num = None
    avg_value: Num = None
    converting_conversations: Int = None
    eligible_conversations: Int = None
    conversion_rate_pct: Num = None
    avg_value_per_conversation: Num = None
    time_granularity: Str = None
    time_series: ListOf[ConversionBucket] = Field(default_factory=list)
    events: ListOf[ConversionEvent] = Field(default_factory=list)
    events_offset: Int = None
    total_events_filtered: Int = None


# -- resource analytics ---------------------------------------------------------------------


class ResourceBucket(Model):
    date: Str = None
    count: Int = None
    success_count: Int = None
    avg_duration_ms: Num = None


class ResourceEvent(Model):
    """A ``recent`` row of api-tool, toolkit or skill analytics."""

    id: Str = None
    tool_name: Str = None
    toolkit_slug: Str = None
    action_name: Str = None
    skill_name: Str = None
    input_params: Any = None
    output_result: Any = None
    request_meta: Any = None
    success: Bool = None
    error_message: Str = None
    duration_ms: Num = None
    created_at: Str = None
    conversation_id: Str = None


class ActionCount(Model):
    action_name: Str = None
    count: Int = None
    success_count: Int = None


class ParamCount(Model):
    value: Str = None
    count: Int = None


class ResourceAnalytics(Model):
    """``/analytics/api-tools``, ``/analytics/toolkits`` and ``/analytics/skills``."""

    total_calls: Int = None
    successful_calls: Int = None
    failed_calls: Int = None
    avg_duration_ms: Num = None
    tool_config: Opt[dict[str, Any]] = None
    by_action: ListOf[ActionCount] = Field(default_factory=list)
    by_param: ListOf[ParamCount] = Field(default_factory=list)
    time_series: ListOf[ResourceBucket] = Field(default_factory=list)
    recent: ListOf[ResourceEvent] = Field(default_factory=list)


class SourceCount(Model):
    source: Str = None
    count: Int = None


class KBCount(Model):
    kb_id: Str = None
    title: Str = None
    count: Int = None


class DateCount(Model):
    date: Str = None
    count: Int = None


class KBCitationEvent(Model):
    kb_id: Str = None
    item_id: Str = None
    source: Str = None
    created_at: Str = None
    conversation_id: Str = None


class KBAnalytics(Model):
    total_citations: Int = None
    by_source: ListOf[SourceCount] = Field(default_factory=list)
    by_kb: ListOf[KBCount] = Field(default_factory=list)
    time_series: ListOf[DateCount] = Field(default_factory=list)
    recent: ListOf[KBCitationEvent] = Field(default_factory=list)


class ItemCount(Model):
    item_id: Str = None
    title: Str = None
    count: Int = None


class KBItemsAnalytics(Model):
    total_items_cited: Int = None
    items: ListOf[ItemCount] = Field(default_factory=list)


class Sparkline(Model):
    total: Int = None
    series: ListOf[DateCount] = Field(default_factory=list)


def parse_sparklines(data: Any) -> dict[str, Sparkline]:
    """``{name: {total, series}}``; entries that are not objects are skipped."""
    if not isinstance(data, dict):
        return {}
    return {
        str(name): Sparkline.model_validate(value)
        for name, value in data.items()
        if isinstance(value, dict)
    }


# -- trending topics ------------------------------------------------------------------------


class TopicExample(Model):
    conversation_id: Str = None
    summary: Str = None


class TrendingTopic(Model):
    name: Str = None
    description: Str = None
    insight: Str = None
    conversation_count: Int = None
    percentage: Num = None
    sentiment: Str = None
    sentiment_breakdown: IntDict = Field(default_factory=dict)
    handoff_count: Int = None
    handoff_rate: Num = None
    conversation_ids: StrList = Field(default_factory=list)
    example_conversations: ListOf[TopicExample] = Field(default_factory=list)


class TrendingAnalysis(Model):
    id: Str = None
    analysis_date: Str = None
    total_conversations: Int = None
    conversations_analyzed: Int = None
    start_date: Str = None
    end_date: Str = None
    topics: ListOf[TrendingTopic] = Field(default_factory=list)


class TrendingStatus(Model):
    status: Str = None
    analysis: Opt[TrendingAnalysis] = None


class TrendingJob(Model):
    id: Str = None
    job_id: Str = None
    status: Str = None
    progress: Num = None
    step: Str = None
    progress_message: Str = None
    analysis_id: Str = None
    started_at: Str = None
    completed_at: Str = None

    @property
    def key(self) -> str | None:
        return self.job_id or self.id


# -- configuration --------------------------------------------------------------------------


class NamedRef(Model):
    id: Str = None
    name: Str = None


class Playbook(Model):
    id: Str = None
    base_id: Str = None
    name: Str = None
    version_number: Int = None
    content: Str = None
    kb_ids: StrList = Field(default_factory=list)
    model: Str = None
    is_deleted: Bool = None
    inboxes: ListOf[NamedRef] = Field(default_factory=list)
    created_at: Str = None
    updated_at: Str = None


class ActiveVersion(Model):
    base_id: Str = None
    version_number: Int = None
    playbook: Opt[Playbook] = None


class Activation(Model):
    version_number: Int = None
    activated_at: Str = None
    activated_by: Str = None


class ActiveHistory(Model):
    items: ListOf[Activation] = Field(default_factory=list)


class PlaybookSettings(Model):
    is_disabled: Bool = None
    url_shortener: Opt[dict[str, Any]] = None
    winback: Opt[dict[str, Any]] = None


class FaqItem(Model):
    questions: StrList = Field(default_factory=list)
    answer: Str = None


class IntercomItem(Model):
    id: Str = None
    title: Str = None
    url: Str = None


class KnowledgeBase(Model):
    id: Str = None
    title: Str = None
    kb_type: Str = None
    status: Str = None
    content: Str = None
    faq_items: ListOf[FaqItem] = Field(default_factory=list)
    snippet_items: AnyList = Field(default_factory=list)
    intercom_items: ListOf[IntercomItem] = Field(default_factory=list)
    used_by_playbooks: ListOf[NamedRef] = Field(default_factory=list)


class KBItem(Model):
    item_id: Str = None
    item_type: Str = None
    title: Str = None
    url: Str = None


class Project(Model):
    id: Str = None
    name: Str = None
    account_id: Str = None
    needs_retraining: Bool = None


class ProjectSettingsBody(Model):
    personality_tone: Str = None
    user_enrichment_url: Str = None


class ProjectSettings(Model):
    project_id: Str = None
    settings: Opt[ProjectSettingsBody] = None


class Slot(Model):
    start: Str = None
    end: Str = None


class DaySchedule(Model):
    enabled: Bool = None
    slots: ListOf[Slot] = Field(default_factory=list)


class ScheduleOverride(Model):
    id: Str = None
    date: Str = None
    is_available: Bool = None
    label: Str = None


class Schedule(Model):
    id: Str = None
    enabled: Bool = None
    timezone: Str = None
    weekly_schedule: Annotated[dict[str, DaySchedule], WrapValidator(_dict_or_empty)] = Field(
        default_factory=dict)
    overrides: ListOf[ScheduleOverride] = Field(default_factory=list)


class ApiTool(Model):
    id: Str = None
    name: Str = None
    description: Str = None
    url: Str = None
    method: Str = None
    headers: Any = None
    parameters: Any = None
    used_by_playbooks: ListOf[NamedRef] = Field(default_factory=list)


# -- evals ----------------------------------------------------------------------------------


class EvalCase(Model):
    id: Str = None
    name: Str = None
    input: Str = None
    expected_output: Str = None
    scenario: Any = None
    first_message: Str = None
    termination: Str = None
    max_turns: Int = None
    tags: StrList = Field(default_factory=list)
    enabled: Bool = None
    is_enabled: Bool = None
    assertions: AnyList = Field(default_factory=list)
    created_at: Str = None


class EvalRun(Model):
    id: Str = None
    name: Str = None
    playbook_name: Str = None
    playbook_version: Int = None
    status: Str = None
    passed_cases: Int = None
    failed_cases: Int = None
    error_cases: Int = None
    total_cases: Int = None
    created_at: Str = None
    completed_at: Str = None


class EvalRunPage(Model):
    items: ListOf[EvalRun] = Field(default_factory=list)
    total: Int = None
    page: Int = None
    page_size: Int = None
    total_pages: Int = None


class AssertionResult(Model):
    criteria: Str = None
    passed: Bool = None
    verdict: Str = None
    rewrite_suggestion: Str = None
    explanation: Str = None


class SimulatedTurn(Model):
    role: Str = None
    content: Str = None


class EvalResult(Model):
    id: Str = None
    case_id: Str = None
    case_name: Str = None
    case_scenario: Str = None
    status: Str = None
    total_assertions: Int = None
    passed_assertions: Int = None
    failed_assertions: Int = None
    assertion_results: ListOf[AssertionResult] = Field(default_factory=list)
    tag_results: Dict = Field(default_factory=dict)
    conversation: ListOf[SimulatedTurn] = Field(default_factory=list)
    error_message: Str = None


__all__ = [
    name
    for name, value in list(globals().items())
    if isinstance(value, type) and issubclass(value, Model)
] + ["parse_sparklines", "Model"]
