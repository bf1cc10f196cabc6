"""The analytics screens. The app binds each key and adds a palette command per entry.

Keys (chosen to avoid the explorer's q ? e / n p j k g G space enter esc):
o overview · s quality signals · c CSAT · v conversions · r resources · t trending topics ·
i configuration (assistants, KBs, schedule, tools) · l evals.

Inside the analytics screens: x chart/table view, w next date window (24h/7d/30d/90d, shared),
ctrl+r reload bypassing the cache, n/p next/
previous page of a focused paged table, enter on a bar's or a row's line drills down.
Importing this package loads Textual widgets only; plotext is imported when a chart mounts.
"""

from __future__ import annotations

from screens.analytics.configuration import ConfigurationScreen
from screens.analytics.conversions import ConversionsScreen
from screens.analytics.csat import CsatScreen
from screens.analytics.evals import EvalsScreen
from screens.analytics.overview import OverviewScreen
from screens.analytics.resources import ResourcesScreen
from screens.analytics.signals import SignalsScreen
from screens.analytics.topics import TopicsScreen

ANALYTICS_SCREENS = [
    (
        "o",
        "Overview",
        OverviewScreen,
        "Totals, deflection, handoffs, latency, winbacks; by assistant and tag; account-wide",
    ),
    (
        "s",
        "Quality signals",
        SignalsScreen,
        "Coverage and sentiment, resources, shift, deflection, handoff reason, recontact risk",
    ),
    ("c", "CSAT", CsatScreen, "CSAT/DSAT, response rate, ratings with remarks, DSAT drill-down"),
    (
        "v",
        "Conversions",
        ConversionsScreen,
        "Conversion metrics: topline, trend, events, ingest heartbeat, funnel by assistant",
    ),
    (
        "r",
        "Resources",
        ResourcesScreen,
        "API tools, toolkits, skills, knowledge-base citations, activity sparklines",
    ),
    ("t", "Trending topics", TopicsScreen, "Latest topic analysis, or generate one"),
    (
        "i",
        "Configuration",
        ConfigurationScreen,
        "Assistants, versions and diffs, KBs needing retraining, office hours, settings, API tools",
    ),
    ("l", "Evals", EvalsScreen, "Eval cases, runs and per-case results per assistant"),
]

__all__ = ["ANALYTICS_SCREENS"]
