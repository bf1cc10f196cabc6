"""Figures that know whether they belong to the load on screen.

A widget showing figures (a chart, a table, KPI tiles, a line of text) is in one of four
states, which the analytics base screen (screens/analytics/base.py) moves it between:

- ``fresh``: painted by the current load;
- ``outdated``: a reload is running and has not repainted it yet (dimmed: its opacity, which
  reaches the plot or table inside it, where text-opacity would dim only the widget's own
  lines; set inline, since a class would restyle its whole subtree twice per reload);
- ``failed``: its load failed: the error is shown *in place of* the figures, which are cleared
  (figures of another window or filters must never stay under the new heading);
- ``stale``: its load failed, but its figures are of the same window and filters (a ctrl+r
  during an outage, a cached answer the API could not refresh): kept, and visibly marked.

The widget only knows how to show each state (``show_failed`` / ``show_stale``); it calls
``painted()`` whenever it shows new figures. Marks are plain ``Text`` (API text inside them
is never markup).
"""

from __future__ import annotations

from collections.abc import Hashable

from rich.text import Text
from textual.widgets import Static

from api.text import one_line

FAILED = "not loaded (API error)"
STALE = "stale"
OUTDATED_OPACITY = 0.55


def failed_text(reason: str) -> str:
    """What replaces the figures (the header and the notification say ctrl+r retries)."""
    return f"{FAILED} — {one_line(reason, 200)}"


def stale_text(reason: str) -> str:
    return f"⚠ {STALE} — {one_line(reason, 120)}"


class FigureState:
    """Mixin for a Widget holding figures of one load (see the module docstring)."""

    paint_count: int = 0  # how many times it showed new figures
    figure_state: str = "fresh"
    #: the screen's scope (window, filters, view) the figures were painted for; set by the screen
    figure_scope: Hashable = None
    _before_reload = "fresh"

    def painted(self) -> None:
        """Call whenever new figures are shown: they are of the load running now."""
        self.paint_count += 1
        if self.figure_state != "fresh":
            self._dim(False)
            self.figure_state = "fresh"
            self.remove_class("-failed", "-stale")  # type: ignore[attr-defined]
            self.clear_mark()

    def mark_outdated(self) -> None:
        """A reload started: dim the figures until it repaints them (or fails)."""
        if self.figure_state in ("fresh", "stale"):
            self._before_reload = self.figure_state
            self.figure_state = "outdated"
            self._dim(True)

    def mark_restored(self) -> None:
        """The reload ended without repainting these figures (hidden or unchanged parts):
        back to what they were (a stale mark stays: they were not refreshed)."""
        if self.figure_state == "outdated":
            self._dim(False)
            self.figure_state = self._before_reload

    def mark_failed(self, reason: str) -> None:
        """Replace the figures with the error."""
        self._dim(False)
        self.figure_state = "failed"
        self.remove_class("-stale")  # type: ignore[attr-defined]
        self.add_class("-failed")  # type: ignore[attr-defined]
        self.show_failed(failed_text(reason))

    def mark_stale(self, reason: str) -> None:
        """Keep the figures (same window and filters), marked as not refreshed."""
        self._dim(False)
        self.figure_state = "stale"
        self.remove_class("-failed")  # type: ignore[attr-defined]
        self.add_class("-stale")  # type: ignore[attr-defined]
        self.show_stale(stale_text(reason))

    def _dim(self, on: bool) -> None:
        """Dim (or undim) an outdated widget; its state says whether it is dimmed now."""
        if self.figure_state == "outdated":
            self.styles.opacity = OUTDATED_OPACITY if on else None  # type: ignore[attr-defined]

    # ---------------------------------------------------------------- per widget
    def show_failed(self, text: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def show_stale(self, text: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def clear_mark(self) -> None:
        """Remove what ``show_stale`` added (``show_failed``'s text is replaced by the paint)."""


class FigureText(FigureState, Static):
    """A line (or block) of figures as text: ``update`` paints, the marks replace/prefix it."""

    def __init__(self, content: object = "", **kwargs: object) -> None:
        kwargs.setdefault("markup", False)
        super().__init__(content, **kwargs)  # type: ignore[arg-type]
        self._figures: object = content

    def update(self, content: object = "", *, layout: bool = True) -> None:
        self._figures = content
        self.painted()
        super().update(content, layout=layout)  # type: ignore[arg-type]

    def show_failed(self, text: str) -> None:
        self._figures = ""
        Static.update(self, Text(text, style="bold"))

    def show_stale(self, text: str) -> None:
        shown = Text(text + "\n", style="yellow")
        figures = self._figures
        shown.append(figures if isinstance(figures, Text) else Text(str(figures)))
        Static.update(self, shown)

    def clear_mark(self) -> None:
        figures = self._figures
        Static.update(self, figures if isinstance(figures, Text) else Text(str(figures)))
