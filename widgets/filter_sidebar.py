"""Filter sidebar covering every query dimension of the list endpoint.

Widgets hold raw user input; on every change the sidebar rebuilds a `ConversationQuery` with
`ConversationQuery.build(**raw)`. A `QueryError` is shown inline under its field and nothing is
applied; a valid query that differs from the last one is announced with `FilterSidebar.Changed`.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option

from api.dates import PRESETS, parse_typed, preset_range, show_typed
from api.labels import LABEL_FIELDS, SORT_BY, SORT_ORDER
from api.lookups import Lookups
from api.query import ConversationQuery, QueryError
from api.text import sanitize
from widgets.check_list import CheckList
from widgets.choice import NULL, Choice
from widgets.labels import plain

TRI_STATE = [("any", "any"), ("yes", "yes"), ("no", "no")]
TITLES = {
    "sentiment": "Sentiment (any of)",
    "resources": "Resources (any of)",
    "sentiment_shift": "Sentiment shift (any of)",
    "deflection_quality": "Deflection quality (any of)",
    "handoff_reason": "Handoff reason (any of)",
    "recontact_risk": "Recontact risk (any of)",
}
INPUT_FIELDS = ("start_date", "end_date", "tz", "min_messages", "max_messages", "search")


def parse_tz(value: str) -> tzinfo:
    """`UTC`, `Z`, `+02:00`, `-0330` or an IANA name; raises ValueError."""
    value = value.strip()
    if value in ("", "UTC", "utc", "Z", "z"):
        return UTC
    if value[0] in "+-":
        digits = value[1:].replace(":", "")
        if not digits.isdigit() or len(digits) not in (2, 4):
            raise ValueError("offset must look like +02:00")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(delta if value[0] == "+" else -delta)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None


# the selects filled from lookups, with an "any" blank; the others hold fixed choices
BLANKABLE = ("playbook_base_id", "playbook_id", "inbox_id", "skill_name")


class FilterSidebar(VerticalScroll):
    """Every filter; emits `Changed(query, preset)` with a validated query."""

    DEFAULT_CSS = """
    FilterSidebar { width: 36; height: 1fr; padding: 0 1; background: $panel; }
    FilterSidebar .heading { margin-top: 1; text-style: bold; color: $text-accent; width: 1fr; }
    FilterSidebar Choice, FilterSidebar Input { width: 1fr; margin-bottom: 0; }
    FilterSidebar Input { background: $boost; }
    FilterSidebar SelectionList { height: auto; max-height: 10; border: none; padding: 0; }
    FilterSidebar #views { height: auto; max-height: 8; border: none; padding: 0; }
    FilterSidebar .hint { color: $text-muted; }
    FilterSidebar .error { color: $text-error; display: none; }
    FilterSidebar .error.-shown { display: block; }
    FilterSidebar Horizontal { height: auto; }
    FilterSidebar Horizontal > * { width: 1fr; }
    """

    class Changed(Message):
        """A valid new query; `tz` is the time zone the user reads dates in."""

        def __init__(self, query: ConversationQuery, preset: str, tz: tzinfo) -> None:
            super().__init__()
            self.query, self.preset, self.tz = query, preset, tz

    class SearchSubmitted(Message):
        """Enter in the id search box (after the query it typed, if valid, was applied)."""

    class ViewChosen(Message):
        """Enter on a saved view of the list."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    def __init__(self, now: datetime, tz: tzinfo = UTC, **kwargs: Any) -> None:
        """`now`: where date presets end; `tz`: the time zone dates are shown in now."""
        super().__init__(**kwargs)
        self.now = now
        self._last: ConversationQuery | None = None
        self._last_tz = tz
        self._lookups = Lookups()
        # the options each lookup-filled select holds now (label, value), as we set them
        self._choices: dict[str, list[tuple[Any, str]]] = {}
        self.preset = "30d"
        self._preset_dates: tuple[str | None, str | None] = preset_range("30d", now)

    # ----------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        # text boxes keep their text on focus (select_on_focus=False): tabbing through the
        # sidebar must not leave the next key to wipe a date or the time zone
        yield Label("Views (w: next)", classes="heading")
        yield OptionList(id="views", compact=True)
        yield Label("Date range (last activity)", classes="heading")
        yield Label("from .. to, both days included", classes="hint")
        yield Choice(options=[(p, p) for p in PRESETS], value="30d", allow_blank=False, id="preset")
        yield Input(compact=True, select_on_focus=False, placeholder="start  YYYY-MM-DD [HH:MM]", id="start_date")
        yield self._error("start_date")
        yield Input(compact=True, select_on_focus=False, placeholder="end  YYYY-MM-DD [HH:MM]", id="end_date")
        yield self._error("end_date")
        yield Input(compact=True, select_on_focus=False, value="UTC", placeholder="time zone: UTC, +02:00, Europe/Paris", id="tz")
        yield self._error("tz")
        yield Label("Assistant", classes="heading")
        yield Choice(options=[], prompt="any assistant", id="playbook_base_id")
        yield Choice(options=[], prompt="any version", id="playbook_id")
        yield Label("Inbox", classes="heading")
        yield Choice(options=[], prompt="any inbox", id="inbox_id")
        with Horizontal():
            yield Label("Handoff", classes="heading")
            yield Label("Winback", classes="heading")
        with Horizontal():
            yield Choice(options=TRI_STATE, value="any", allow_blank=False, id="has_handoff")
            yield Choice(options=TRI_STATE, value="any", allow_blank=False, id="has_winback")
        yield Label("Tags (all of)", classes="heading")
        yield CheckList[str](id="tags")
        for field, values in LABEL_FIELDS.items():
            yield Label(TITLES[field], classes="heading")
            yield CheckList[str](*((Text(plain(field, v)), v) for v in values), id=field)
        yield Label("Messages (min .. max)", classes="heading")
        with Horizontal():
            yield Input(compact=True, select_on_focus=False, placeholder="min", id="min_messages", type="integer")
            yield Input(compact=True, select_on_focus=False, placeholder="max", id="max_messages", type="integer")
        yield self._error("min_messages")
        yield self._error("max_messages")
        yield Label("Skill loaded", classes="heading")
        yield Choice(options=[], prompt="any skill", id="skill_name")
        yield Label("Conversation id contains", classes="heading")
        yield Input(compact=True, select_on_focus=False, placeholder="search id", id="search")
        yield self._error("search")
        yield Label("Sort", classes="heading")
        with Horizontal():
            yield Choice(options=[(s.replace("_", " "), s) for s in SORT_BY], value=SORT_BY[0],
                         allow_blank=False, id="sort_by")
            yield Choice(options=[(o, o) for o in SORT_ORDER], value=SORT_ORDER[0], allow_blank=False,
                         id="sort_order")
        yield self._error("general")

    @staticmethod
    def _error(field: str) -> Static:
        return Static("", id=f"err-{field}", classes="error", markup=False)

    # ----------------------------------------------------------------- lookups
    def set_lookups(self, lookups: Lookups) -> None:
        """Fill the choice widgets from `lookups`, keeping the current values."""
        self._lookups = lookups
        self._set_options("playbook_base_id", [(a.name, a.base_id) for a in lookups.assistants])
        self._set_options("inbox_id", [(name, iid) for iid, name in lookups.inboxes])
        self._set_options("skill_name", [(s, s) for s in lookups.skills])
        self._set_versions(lookups)
        tags = self.query_one("#tags", SelectionList)
        chosen = set(tags.selected) | set(self._last.tags if self._last else ())
        tags.clear_options()
        tags.add_options([(Text(sanitize(t)), t, t in chosen)  # API text: never markup
                          for t in sorted(set(lookups.tags) | chosen)])

    def _set_options(self, wid: str, options: Iterable[tuple[str, str]]) -> None:
        select = self.query_one(f"#{wid}", Choice)
        value = select.value
        options = list(options)
        self._choices[wid] = [(Text(sanitize(label)), value) for label, value in options]
        select.set_options(self._choices[wid])
        if value != NULL and any(v == value for _, v in options):
            select.value = value

    def _set_versions(self, lookups: Lookups) -> None:
        base = self._value("playbook_base_id")
        versions = []
        for assistant in lookups.assistants:
            if base is None or assistant.base_id == base:
                prefix = "" if base else f"{assistant.name} "
                versions += [(f"{prefix}v{n}", vid) for vid, n in assistant.versions]
        self._set_options("playbook_id", versions)

    # ----------------------------------------------------------------- reading
    def _value(self, wid: str) -> Any:
        value = self.query_one(f"#{wid}", Choice).value
        return None if value == NULL else value

    def _text(self, wid: str) -> str:
        return self.query_one(f"#{wid}", Input).value.strip()

    def tz(self) -> tzinfo:
        return parse_tz(self._text("tz"))

    def raw(self) -> dict[str, Any]:
        """The loose input for `ConversationQuery.build` (raises QueryError for the tz)."""
        try:
            tz = self.tz()
        except ValueError as exc:
            raise QueryError("tz", str(exc)) from None
        if self.preset == "custom":
            dates = tuple(self._typed_date(wid, tz) for wid in ("start_date", "end_date"))
        else:  # the exact bounds of the preset (stable cache keys)
            dates = self._preset_dates
        raw: dict[str, Any] = {"start_date": dates[0], "end_date": dates[1]}
        for wid in ("playbook_base_id", "playbook_id", "inbox_id", "skill_name", "sort_by",
                    "sort_order"):
            raw[wid] = self._value(wid)
        for wid in ("has_handoff", "has_winback"):
            value = self._value(wid)
            raw[wid] = None if value in (None, "any") else value
        for wid in ("tags", *LABEL_FIELDS):
            raw[wid] = list(self.query_one(f"#{wid}", SelectionList).selected)
        for wid in ("min_messages", "max_messages", "search"):
            raw[wid] = self._text(wid) or None
        if raw["sort_by"] == SORT_BY[0] and raw["sort_order"] == SORT_ORDER[0]:
            raw["sort_by"] = raw["sort_order"] = None  # the server default
        return raw

    def _typed_date(self, wid: str, tz: tzinfo) -> str | None:
        try:
            return parse_typed(self._text(wid), tz, end=wid == "end_date")
        except ValueError as exc:
            raise QueryError(wid, str(exc)) from None

    def current_query(self) -> ConversationQuery:
        return ConversationQuery.build(**self.raw())

    # ----------------------------------------------------------------- writing
    def set_query(self, query: ConversationQuery, preset: str | None = None) -> None:
        """Show `query` in the widgets (no Changed message for it)."""
        self._last = query
        if preset is not None:
            self.preset = preset
            self.query_one("#preset", Choice).value = preset
        if self.preset != "custom":
            self._preset_dates = (query.start_date, query.end_date)
        tz: tzinfo = UTC
        try:
            tz = self.tz()
        except ValueError:
            pass
        self._show_dates(query.start_date, query.end_date, tz)
        for wid in ("playbook_base_id", "playbook_id", "inbox_id", "skill_name"):
            self._select(wid, getattr(query, wid))
        for wid in ("has_handoff", "has_winback"):
            value = getattr(query, wid)
            self._select(wid, "any" if value is None else ("yes" if value else "no"))
        self._select("sort_by", query.sort_by or SORT_BY[0])
        self._select("sort_order", query.sort_order or SORT_ORDER[0])
        for wid in ("tags", *LABEL_FIELDS):
            self._select_many(wid, getattr(query, wid))
        for wid in ("min_messages", "max_messages"):
            value = getattr(query, wid)
            self.query_one(f"#{wid}", Input).value = "" if value is None else str(value)
        self.query_one("#search", Input).value = query.search or ""
        self._show_error(None)

    def _show_dates(self, start: str | None, end: str | None, tz: tzinfo) -> None:
        self.query_one("#start_date", Input).value = show_typed(start, tz)
        self.query_one("#end_date", Input).value = show_typed(end, tz, end=True)

    def _select(self, wid: str, value: Any) -> None:
        select = self.query_one(f"#{wid}", Choice)
        blankable = wid in BLANKABLE
        if value is None:
            if blankable:
                select.clear()
            return
        choices = self._choices.setdefault(wid, [])
        if blankable and not any(v == value for _, v in choices):
            # e.g. a drill-down to an assistant the lookups do not know (yet)
            choices.append((Text(sanitize(value)), value))
            select.set_options(choices)
        select.value = value

    def _select_many(self, wid: str, values: tuple[str, ...]) -> None:
        selection = self.query_one(f"#{wid}", SelectionList)
        present = {selection.get_option_at_index(i).value for i in range(selection.option_count)}
        for value in values:
            if value not in present:
                selection.add_option((Text(sanitize(value)), value))
        selection.deselect_all()
        for value in values:
            selection.select(value)

    def set_views(self, names: list[str], active: str | None) -> None:
        """The saved views, the one shown marked."""
        views = self.query_one("#views", OptionList)
        views.clear_options()
        views.add_options(
            Option(Text(f"{'▸ ' if name == active else '  '}{sanitize(name)}"), id=name)
            for name in names)
        if active in names:
            views.highlighted = names.index(active)

    # ----------------------------------------------------------------- events
    @on(OptionList.OptionSelected, "#views")
    def _view_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(self.ViewChosen(event.option.id))

    @on(Choice.Changed, "#preset")
    def _preset_changed(self, event: Choice.Changed) -> None:
        event.stop()
        preset = str(event.value)
        if preset == self.preset:
            return
        self.preset = preset
        if preset == "custom":
            return
        start, end = self._preset_dates = preset_range(preset, self.now)
        tz: tzinfo = UTC
        try:
            tz = self.tz()
        except ValueError:
            pass
        self._show_dates(start, end, tz)
        self._apply()

    @on(Choice.Changed, "#playbook_base_id")
    def _assistant_changed(self, event: Choice.Changed) -> None:
        event.stop()
        self._set_versions(self._lookups)
        self._apply()

    @on(Choice.Changed)
    @on(SelectionList.SelectedChanged)
    def _choice_changed(self, event: Message) -> None:
        event.stop()
        self._apply()

    @on(Input.Submitted)
    def _input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id in ("start_date", "end_date") and self.preset != "custom":
            self.preset = "custom"
            self.query_one("#preset", Choice).value = "custom"
        self._apply()
        if event.input.id == "search":
            self.post_message(self.SearchSubmitted())

    def _apply(self) -> None:
        if self._last is None:  # mounting: its widgets' first Changed are not the user's
            return
        try:
            query = ConversationQuery.build(**self.raw())
        except QueryError as exc:
            self._show_error(self._as_typed(exc))
            return
        self._show_error(None)
        tz = self.tz()
        if query != self._last or tz != self._last_tz:
            self._last, self._last_tz = query, tz
            self.post_message(self.Changed(query, self.preset, tz))

    def _as_typed(self, error: QueryError) -> QueryError:
        """The range error in the user's words (what the boxes hold, not the timestamps
        sent)."""
        if error.field == "end_date" and error.other == "start_date":
            start, end = self._text("start_date"), self._text("end_date")
            return QueryError("end_date", f"until “{end}” must be after start “{start}” "
                              "(the end day is included)", "start_date")
        return error

    def _show_error(self, error: QueryError | None) -> None:
        for widget in self.query(".error"):
            widget.remove_class("-shown")
        if error is None:
            return
        field = error.field if error.field in (*INPUT_FIELDS, "general") else "general"
        target = self.query_one(f"#err-{field}", Static)
        target.update(Text(f"✗ {error}"))
        target.add_class("-shown")
        self.notify(str(error), title="Filter not applied", severity="warning", markup=False)
