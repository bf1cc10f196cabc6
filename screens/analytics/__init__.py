"""The analytics screens. The app declares a mode, a key binding and a palette command per entry
of `ANALYTICS`; a screen's module is imported when its mode is first opened.

Keys (chosen to avoid the explorer's q ? e / n p j k g G space enter esc):
o overview · s quality signals · c CSAT · v conversions · r resources · t trending topics ·
i configuration (assistants, KBs, schedule, tools) · l evals.

Inside the analytics screens: x chart/table view, w next date window (24h/7d/30d/90d, shared),
ctrl+r reload bypassing the cache, n/p next/
previous page of a focused paged table, enter on a bar's or a row's line drills down.
Importing this package loads no screen (nor Textual); plotext is imported when a chart mounts.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from textual.screen import Screen


class AnalyticsEntry(NamedTuple):
    """One analytics screen: its key, name and description, and where its class lives."""

    key: str
    name: str
    module: str  # under screens.analytics
    class_name: str
    description: str

    @property
    def slug(self) -> str:
        """The screen's name on the command line ("Quality signals" -> "quality-signals")."""
        return self.name.lower().replace(" ", "-")

    @property
    def mode(self) -> str:
        """The app's mode for this screen ("analytics-quality-signals")."""
        return f"analytics-{self.slug}"

    def screen_class(self) -> type[Screen]:
        """The screen's class (imports its module)."""
        module = importlib.import_module(f"{__name__}.{self.module}")
        screen_class: type[Screen] = getattr(module, self.class_name)
        return screen_class

    def make_screen(self) -> Screen:
        """A new screen: the factory the app's `MODES` holds."""
        return self.screen_class()()


ANALYTICS = (
    AnalyticsEntry(
        "o", "Overview", "overview", "OverviewScreen",
        "Totals, deflection, handoffs, latency, winbacks; by assistant and tag; account-wide",
    ),
    AnalyticsEntry(
        "s", "Quality signals", "signals", "SignalsScreen",
        "Coverage and sentiment, resources, shift, deflection, handoff reason, recontact risk",
    ),
    AnalyticsEntry(
        "c", "CSAT", "csat", "CsatScreen",
        "CSAT/DSAT, response rate, ratings with remarks, DSAT drill-down",
    ),
    AnalyticsEntry(
        "v", "Conversions", "conversions", "ConversionsScreen",
        "Conversion metrics: topline, trend, events, ingest heartbeat, funnel by assistant",
    ),
    AnalyticsEntry(
        "r", "Resources", "resources", "ResourcesScreen",
        "API tools, toolkits, skills, knowledge-base citations, activity sparklines",
    ),
    AnalyticsEntry(
        "t", "Trending topics", "topics", "TopicsScreen",
        "Latest topic analysis, or generate one",
    ),
    AnalyticsEntry(
        "i", "Configuration", "configuration", "ConfigurationScreen",
        "Assistants, versions and diffs, KBs needing retraining, office hours, settings, API tools",
    ),
    AnalyticsEntry(
        "l", "Evals", "evals", "EvalsScreen",
        "Eval cases, runs and per-case results per assistant",
    ),
)


# what `studio-tui --screen NAME` accepts: the explorer, then each analytics screen
START_SCREENS = ("explorer", *(e.slug for e in ANALYTICS))


def start_mode(screen: str) -> str:
    """The app's mode for a name of `START_SCREENS` (ValueError for any other)."""
    if screen == "explorer":
        return screen
    for entry in ANALYTICS:
        if entry.slug == screen:
            return entry.mode
    raise ValueError(f"unknown screen {screen!r} (known: {', '.join(START_SCREENS)})")


def __getattr__(name: str) -> Any:
    # `ANALYTICS_SCREENS` (tests, benchmarks): (key, name, screen class, description) of
    # every screen; importing them all is what this package avoids at start-up
    if name == "ANALYTICS_SCREENS":
        return [(e.key, e.name, e.screen_class(), e.description) for e in ANALYTICS]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ANALYTICS", "ANALYTICS_SCREENS", "START_SCREENS", "AnalyticsEntry", "start_mode"]
