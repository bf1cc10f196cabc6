"""Label badges: every API label is shown as a symbol + short word, coloured when colour exists.

The symbol carries the meaning on its own (NO_COLOR, 16 colours, colour-blind users). Unknown
values are shown as-is (sanitised) behind a `?`; a missing label is a dim dash.
"""
from __future__ import annotations

from rich.text import Text

from api.text import sanitize

# field -> value -> (badge text, style)
_BADGES: dict[str, dict[str, tuple[str, str]]] = {
    "sentiment": {
        "negative": ("▼ neg", "bold red"),
        "neutral": ("● neu", "yellow"),
        "positive": ("▲ pos", "green"),
    },
    "resources": {
        "irrelevant": ("✗ irrel", "bold red"),
        "partial": ("◐ part", "yellow"),
        "relevant": ("✓ rel", "green"),
    },
    "sentiment_shift": {
        "degraded": ("↘ degr", "bold red"),
        "stable": ("→ stable", ""),
        "improved": ("↗ impr", "green"),
    },
    "deflection_quality": {
        "resolved": ("✓ resolved", "green"),
        "partial": ("◐ partial", "yellow"),
        "actioned": ("⚙ actioned", "cyan"),
        "no_response": ("∅ no resp", "red"),
    },
    "handoff_reason": {
        "policy": ("⚑ policy", "magenta"),
        "user_request": ("☎ user req", "cyan"),
        "frustration": ("‼ frustr", "bold red"),
        "bot_limitation": ("⚠ bot lim", "yellow"),
    },
    "recontact_risk": {
        "high": ("▲ high", "bold red"),
        "medium": ("◆ med", "yellow"),
        "low": ("▽ low", "green"),
    },
}

MISSING = "–"


def badge(field: str, value: object) -> Text:
    """A Text badge for `value` of label `field` (never raises, never parses markup)."""
    if value is None or value == "":
        return Text(MISSING, style="dim")
    known = _BADGES.get(field, {}).get(str(value))
    if known is None:
        return Text(f"? {sanitize(str(value))}")
    label, style = known
    return Text(label, style=style)


def plain(field: str, value: object) -> str:
    """The badge as plain text (for tests and copy)."""
    return badge(field, value).plain


def outcome(has_handoff: bool | None, handoff_reason: str | None,
            deflection_quality: str | None) -> Text:
    """Handoff reason for escalated conversations, deflection quality for the others."""
    if has_handoff:
        if handoff_reason is None:
            return Text("⇪ handoff", style="magenta")
        return badge("handoff_reason", handoff_reason)
    return badge("deflection_quality", deflection_quality)
