"""Label values of the Studio Chat API (brief: "Metric Labels" and "Sorting").

Plain tuples of strings, in the order the brief lists them. The API may send values outside
these sets one day: code that *reads* labels must carry unknown values as-is; only code that
*validates user input* (api/query.py) rejects values not listed here.
"""
from __future__ import annotations

SENTIMENT: tuple[str, ...] = ("negative", "neutral", "positive")
RESOURCES: tuple[str, ...] = ("irrelevant", "partial", "relevant")
SENTIMENT_SHIFT: tuple[str, ...] = ("improved", "stable", "degraded")
DEFLECTION_QUALITY: tuple[str, ...] = ("resolved", "partial", "actioned", "no_response")
HANDOFF_REASON: tuple[str, ...] = ("policy", "user_request", "frustration", "bot_limitation")
RECONTACT_RISK: tuple[str, ...] = ("low", "medium", "high")

SORT_BY: tuple[str, ...] = ("last_message_at", "first_message_at", "message_count")
SORT_ORDER: tuple[str, ...] = ("desc", "asc")

# each signal of a conversation: (query field, label attribute, reason attribute) of
# api.models.Signals, in the order the brief lists them
SIGNALS: tuple[tuple[str, str, str], ...] = (
    ("sentiment", "sentiment_label", "sentiment_reason"),
    ("resources", "resources_label", "resources_reason"),
    ("sentiment_shift", "sentiment_shift", "sentiment_shift_reason"),
    ("deflection_quality", "deflection_quality", "deflection_quality_reason"),
    ("handoff_reason", "handoff_reason", "handoff_reason_detail"),
    ("recontact_risk", "recontact_risk", "recontact_risk_reason"),
)

# query field -> allowed values, for the label filters (OR logic, comma-separated)
LABEL_FIELDS: dict[str, tuple[str, ...]] = {
    "sentiment": SENTIMENT,
    "resources": RESOURCES,
    "sentiment_shift": SENTIMENT_SHIFT,
    "deflection_quality": DEFLECTION_QUALITY,
    "handoff_reason": HANDOFF_REASON,
    "recontact_risk": RECONTACT_RISK,
}
