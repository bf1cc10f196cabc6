"""Horizontal bars drawn with block characters, one text row per value.

The first row is the scale (0 and the largest value); each following row is one bar, so the
bars line up with the rows of a one-line-per-row table placed beside them (a DataTable with
its header). Bars are scaled to the widget's width with eighth-cell precision; a value that is
not a finite non-negative number draws no bar.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.text import Text
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

_EIGHTHS = " ▏▎▍▌▋▊▉"


def _drawable(value: float) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value >= 0


def bar_text(value: float, top: float, width: int) -> str:
    """The blocks of ``value`` on a scale where ``top`` fills ``width`` cells."""
    if width <= 0 or top <= 0 or not _drawable(value):
        return ""
    eighths = round(min(value, top) / top * width * 8)
    if value > 0 and eighths == 0:
        eighths = 1  # a non-zero count never looks like nothing
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


class HBars(Widget):
    """Bars of ``values`` under a scale row; ``highlight`` marks one bar (e.g. a cursor row)."""

    COMPONENT_CLASSES = {"hbars--bar", "hbars--highlight", "hbars--scale"}
    DEFAULT_CSS = """
    HBars { height: auto; min-width: 10; }
    HBars > .hbars--bar { color: $primary; }
    HBars > .hbars--highlight { color: $accent; }
    HBars > .hbars--scale { color: $text-muted; }
    """

    values: reactive[tuple[float, ...]] = reactive((), layout=True)
    highlight: reactive[int | None] = reactive(None)

    def set_values(self, values: Sequence[float]) -> None:
        self.values = tuple(values)

    def top(self) -> float:
        return max((v for v in self.values if _drawable(v)), default=0.0)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.values) + 1 if self.values else 0

    def render(self) -> Text:
        width = self.content_size.width
        top = self.top()
        scale_style = self.get_component_rich_style("hbars--scale")
        right = _fmt(top)
        text = Text("0" + right.rjust(max(1, width - 1)), style=scale_style, no_wrap=True)
        bar_style = self.get_component_rich_style("hbars--bar")
        mark_style = self.get_component_rich_style("hbars--highlight")
        for i, value in enumerate(self.values):
            text.append("\n")
            text.append(bar_text(value, top, width), mark_style if i == self.highlight else bar_style)
        return text
