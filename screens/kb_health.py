"""KB article health: the knowledge-base items cited over a window, ranked by the negative
conversations they are cited in beyond the project's base rate (what `studio-tui kb-health`
reports), read with progress, and the conversations citing an item one key away.

The list endpoint cannot filter by a set of ids, so enter opens the citing conversations in
the list of exact ids (screens/analytics/ids.py, read through the batch endpoint).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, ProgressBar, Static

from api.text import one_line
from screens.resume import KeepStylesOnResume
from screens.services import services
from widgets.footer import KeyBar
from widgets.status_header import StatusHeader

if TYPE_CHECKING:
    from api.kb_health import ItemHealth, KBHealth, Progress

COLUMNS = ("item", "KB", "conv", "neg%", "lift", "excess", "hoff%", "irr%")
KB_CHARS = 12
#: cells the columns other than the title take: theirs, every column's padding, the body's
#: padding and the table's scrollbar
OTHER_CELLS = 62
STAGES = {"citations": "reading citations", "conversations": "reading conversations",
          "titles": "resolving titles"}


def _pct(fraction: float | None) -> str:
    return "–" if fraction is None else f"{100 * fraction:.1f}"


def _num(value: float | None, sign: str = "") -> str:
    return "–" if value is None else f"{value:{sign}.1f}"


def item_cells(item: ItemHealth, title_chars: int) -> list[str | Text]:
    """One row of the table: API text shortened to one plain line, a missing share a dash."""
    negative, handoff, irrelevant = (item.rates[n] for n in ("negative", "handoff",
                                                             "irrelevant_resources"))
    excess = negative.excess
    return [
        Text(one_line(item.title or item.item_id or "(no item id)", title_chars)),
        Text(one_line(item.kb_title or item.kb_id, KB_CHARS)),
        f"{item.conversations:,}",
        _pct(negative.share),
        _num(negative.lift),
        Text(_num(excess, "+"), style="bold" if excess is not None and excess >= 1 else ""),
        _pct(handoff.share),
        _pct(irrelevant.share),
    ]


class KBHealthScreen(KeepStylesOnResume, Screen[None]):
    """Every KB item cited over a window, against the project's base rates."""

    CSS_PATH = "kb_health.tcss"
    AUTO_FOCUS = "#kb-items"
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="kb_health.back"),
        Binding("c", "raise_cap", "Raise the cap ×2", id="kb_health.raise_cap"),
        Binding("ctrl+r", "run", "Read again", show=False, id="kb_health.run"),
    ]

    @dataclass
    class Read(Message):
        """Progress of one reading (posted from the worker; the latest replaces the queued)."""

        progress: Progress
        run: int  # the reading it belongs to: a late one of an older reading is dropped

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, KBHealthScreen.Read)

    def __init__(self, start: str | None = None, end: str | None = None,
                 kb_id: str | None = None, *, cap: int | None = None) -> None:
        """`start`/`end` None: the app's shared window; `kb_id` None: every knowledge base;
        `cap`: citations read at most (None: the API layer's default)."""
        from api.kb_health import DEFAULT_CAP

        super().__init__()
        self.start, self.end, self.kb_id = start, end, kb_id
        self.cap = cap or DEFAULT_CAP
        self.result: KBHealth | None = None
        self.runs = 0  # readings started; the one in progress is the latest

    def compose(self) -> ComposeResult:
        yield StatusHeader("KB article health")
        with Vertical(id="kb-health-body"):
            yield Static("", id="kb-health-status", markup=False)
            yield ProgressBar(total=None, show_eta=False, id="kb-health-progress")
            yield Static("", id="kb-health-base", markup=False)
            yield DataTable(id="kb-items", cursor_type="row", zebra_stripes=True)
            yield Static("", id="kb-health-note", markup=False)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one("#kb-items", DataTable).add_columns(*(Text(c) for c in COLUMNS))
        self.action_run()

    def window(self) -> tuple[str | None, str]:
        """(start, end): the ones given, else the shared window's; an open end is the end
        of today (UTC), as the date presets end."""
        from api.dates import ISO, stable_end

        app = services(self)
        start = self.start or app.filters.start_date
        end = self.end or app.filters.end_date
        return start, end or stable_end(app.now(), timedelta(days=1)).strftime(ISO)

    def action_run(self) -> None:
        self.runs += 1
        self.add_class("-reading")
        self.query_one("#kb-health-progress", ProgressBar).update(total=None, progress=0)
        self.query_one("#kb-health-status", Static).update(
            f"reading up to {self.cap:,} citations…")
        self._read(self.runs, *self.window(), self.kb_id, self.cap)

    def action_raise_cap(self) -> None:
        if self.result is not None and not self.result.capped:
            self.notify(f"Every citation is read already ({self.result.citations_read:,}).",
                        timeout=3, markup=False)
            return
        self.cap *= 2
        self.action_run()

    @work(exclusive=True, group="kb_health", exit_on_error=False)
    async def _read(self, run: int, start: str | None, end: str, kb_id: str | None,
                    cap: int) -> None:
        from api.kb_health import kb_health

        def progress(p: Progress) -> None:
            self.post_message(self.Read(p, run))

        app = services(self)
        try:
            if start is None:
                raise ValueError("the shared window has no start date (all): choose a date "
                                 "range in the explorer")
            client = await app.get_client()
            result = await kb_health(client, client.project_id, start, end, kb_id=kb_id,
                                     cap=cap, progress=progress)
        except Exception as exc:  # noqa: BLE001 - one line in place of the figures
            if run == self.runs:
                self._failed(one_line(str(exc) or type(exc).__name__, 300))
            return
        if run != self.runs:
            return  # stale: a newer reading (a raised cap, ctrl+r) started meanwhile
        self.result = result
        self._show(result)

    @on(Read)
    def _progress(self, event: Read) -> None:
        if event.run != self.runs or not self.has_class("-reading"):
            return  # queued behind its own result, or an older reading's
        p = event.progress
        self.query_one("#kb-health-progress", ProgressBar).update(total=p.total,
                                                                  progress=p.done)
        total = f"{p.total:,}" if p.total is not None else "?"
        self.query_one("#kb-health-status", Static).update(
            f"{STAGES.get(p.stage, p.stage)} {p.done:,}/{total}…")

    def _failed(self, line: str) -> None:
        self.remove_class("-reading")
        self.result = None
        self.query_one("#kb-items", DataTable).clear()
        for part in ("#kb-health-base", "#kb-health-note"):
            self.query_one(part, Static).update("")
        self.query_one("#kb-health-status", Static).update(
            Text(f"✗ {line}", style="bold red"))

    def _show(self, result: KBHealth) -> None:
        self.remove_class("-reading")
        kb = "" if result.kb_id is None else \
            f" · KB {one_line(result.kb_title or result.kb_id, 40)}"
        self.query_one("#kb-health-status", Static).update(
            f"days {result.days[0]} → {result.days[1]} (UTC){kb} · {len(result.items):,} "
            f"items cited in "
            f"{result.cited:,} conversations · {result.citations_read:,} of "
            f"{result.citations_total:,} citations read")
        rate = result.base_rate
        self.query_one("#kb-health-base", Static).update(
            f"base rates over {result.conversations:,} conversations: negative "
            f"{_pct(rate('negative'))}% of scored · handoff {_pct(rate('handoff'))}% · "
            f"irrelevant {_pct(rate('irrelevant_resources'))}% of rated")
        table = self.query_one("#kb-items", DataTable)
        table.clear()
        title_chars = max(12, self.size.width - OTHER_CELLS)
        for index, item in enumerate(result.items):
            table.add_row(*item_cells(item, title_chars), key=str(index))
        notes = []
        if result.capped:  # the API layer's note names the CLI's flag; here it is a key
            notes.append(f"cap reached: the {result.citations_read:,} most recent of "
                         f"{result.citations_total:,} citations read · c: raise the cap")
        if result.unlabelled:
            notes.append(f"{result.unlabelled:,} cited conversations not found: left out")
        notes.append("ranked by excess = negatives − base rate × scored; lift = neg% / base; "
                     "enter: the citing conversations")
        self.query_one("#kb-health-note", Static).update("\n".join(notes))

    @on(DataTable.RowSelected, "#kb-items")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        self.open_item(event.cursor_row)

    def open_item(self, row: int) -> None:
        """The conversations citing the item of `row`, as a list of exact ids."""
        from screens.analytics.ids import ConversationIdsScreen

        result = self.result
        if result is None or not 0 <= row < len(result.items):
            return
        item = result.items[row]
        if not item.conversation_ids:
            self.notify("No conversation whose labels were read cites this item.",
                        severity="warning", timeout=3, markup=False)
            return
        name = one_line(item.title or item.item_id or "(no item id)", 60)
        kb = one_line(item.kb_title or item.kb_id, 40)
        self.app.push_screen(ConversationIdsScreen(
            list(item.conversation_ids),
            f"Citing {name} ({kb}) · {result.start} → {result.end}"))
