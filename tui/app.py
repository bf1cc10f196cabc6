"""StudioApp: wiring only — screens, global bindings, shared filters, client, command palette.

The protocol other screens rely on:
- `app.client` — the one StudioClient (`await app.get_client()` creates it off the UI thread).
- `app.filters` — watchable (`var`) ConversationQuery of the SHARED filters (dates, assistant, tags).
- `app.date_preset` — which date preset produced `filters` ("30d", ..., "custom").
- `app.drill_down(query)` — open the explorer with `query` applied; `esc` there comes back.
- `app.lookups` — watchable `api.lookups.Lookups` (choices and names), loaded once in a worker.
- `app.now()` — the clock (the demo anchor on the demo backend, so data and tests agree).
- `app.note_result(result)` / `app.report_error(exc, retry)` — connection state + notifications.
- `app.views` / `app.active_view` — saved views (config.toml) and the one the explorer shows;
  `app.review_store()` — the local reviews of this API and project; `app.restored` — the last
  session of the explorer (None with `--fresh`).
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar
from weakref import WeakSet

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen

from api.dates import preset_range, window_range
from api.errors import StudioError
from api.lookups import Lookups, load_lookups
from api.query import SHARED_FIELDS, ConversationQuery, QueryError
from api.session import SessionState, load_session, save_session, session_path
from screens.analytics import ANALYTICS, start_mode
from screens.services import ReviewsChanged
from tui.commands import PaletteCommand, StudioCommands
from widgets.status_header import connection_state

if TYPE_CHECKING:
    from textual.theme import Theme

    from api.endpoints import Endpoint
    from api.reviews import ReviewStore
    from api.views import View

T = TypeVar("T")

log = logging.getLogger(__name__)

DEFAULT_PRESET = "30d"
DEFAULT_VERDICTS = ("bot_correct", "bot_wrong", "kb_gap", "tool_failure", "should_handoff",
                    "needs_followup")  # until the config is read (api.reviews has the same)
FIRST_PAGE_WAIT = 0.3  # seconds the client waits for the cached first page to be painted
MAX_BACK = 20  # drill-downs remembered for `esc`


class BackStep(NamedTuple):
    """Where a drill-down came from: `esc` on the explorer returns to that screen and the
    shared filters it showed."""

    mode: str
    filters: ConversationQuery
    preset: str


def shared_part(query: ConversationQuery) -> ConversationQuery:
    """Only the fields shared between the explorer and the analytics screens."""
    return ConversationQuery(**{name: getattr(query, name) for name in SHARED_FIELDS})


def screenshot_directories(settings: Any) -> list[Path]:
    """Where a screenshot may go, in order: the Downloads folder when there is one, the
    working directory, the app's cache directory."""
    import platformdirs

    found: list[Path] = []
    try:
        downloads = platformdirs.user_downloads_path()
        if downloads.is_dir():
            found.append(downloads)
    except (OSError, RuntimeError):  # no home directory
        pass
    try:
        found.append(Path.cwd())
    except OSError:  # the working directory was removed
        pass
    cache = getattr(settings, "cache_dir", None)
    if cache:
        found.append(Path(cache) / "screenshots")
    return found


def write_new_file(directory: Path, name: str, text: str) -> Path:
    """`text` in a new owner-only file `name` of `directory` (`name-2`, ... when taken)."""
    directory.mkdir(parents=True, exist_ok=True)
    stem, dot, suffix = name.rpartition(".")
    for attempt in range(1, 100):
        path = directory / (name if attempt == 1 else f"{stem}-{attempt}{dot}{suffix}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        return path
    raise FileExistsError(f"{directory / name} and 98 numbered names exist")


def _explorer_screen() -> Screen:
    from screens.explorer import ExplorerScreen

    return ExplorerScreen()


class StudioApp(App[None]):
    """The studio-tui application."""

    # absolute: subclasses live elsewhere. The explorer's own file is loaded with the app's,
    # so showing the first screen does not re-parse every stylesheet.
    CSS_PATH = [Path(__file__).with_name("app.tcss"),
                Path(__file__).resolve().parent.parent / "screens" / "explorer.tcss"]
    TITLE = "studio-tui"
    # the analytics screens' factories import their modules when a mode is first opened
    MODES = {"explorer": _explorer_screen, **{e.mode: e.make_screen for e in ANALYTICS}}
    DEFAULT_MODE = "explorer"
    COMMANDS = App.COMMANDS | {StudioCommands}
    ENABLE_COMMAND_PALETTE = True

    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("e", "open_mode('explorer')", "Explorer", show=False, id="app.explorer"),
        Binding("ctrl+r", "refresh_data", "Refresh", show=False, id="app.refresh"),
        Binding("escape", "back", "Back", show=False, id="app.back"),
        *(Binding(e.key, f"open_mode('{e.mode}')", e.name, show=False, id=f"app.screen.{e.mode}")
          for e in ANALYTICS),
    ]

    # `var`, not `reactive`: the widgets that show these watch them and repaint themselves; a
    # reactive of the app repaints the whole screen, sent whole over the link, at every change
    filters: var[ConversationQuery] = var(ConversationQuery, init=False)
    lookups: var[Lookups] = var(Lookups, init=False, always_update=True)
    connection: var[str] = var("connecting")
    connection_detail: var[str] = var("")
    project_name: var[str] = var("")
    views: var[dict[str, View]] = var(dict, init=False, always_update=True)
    active_view: var[str | None] = var(None, init=False)

    def __init__(
        self,
        settings: Any,
        *,
        client_factory: Callable[[], Any] | None = None,
        now: datetime | None = None,
        fresh: bool = False,
        screen: str = "explorer",
        **kwargs: Any,
    ) -> None:
        # Textual opens DEFAULT_MODE first (App.__init__ reads it): the screen asked for
        # (`--screen`), so that no other screen is built and loaded before it
        self.DEFAULT_MODE = start_mode(screen)  # type: ignore[misc]
        super().__init__(**kwargs)
        self.settings = settings
        self._client_factory = client_factory or self._default_client_factory
        self._client: Any = None
        self._client_lock = asyncio.Lock()
        self._first_frame = asyncio.Event()
        self._first_page = asyncio.Event()  # the cached first page is on screen (or none was)
        if self.DEFAULT_MODE != "explorer":  # no first page of conversations to wait for
            self._first_page.set()
        self._peek: Any = None  # tui.cache_peek.CachePeek, False when unavailable/closed
        self._peek_lock = asyncio.Lock()
        self._peek_enabled = client_factory is None  # custom clients: no assumptions
        self._now = now
        self.display_tz: tzinfo = UTC
        self.date_preset = DEFAULT_PRESET
        self.back_stack: list[BackStep] = []  # drill-downs `esc` returns from
        self.user_keymap: dict[str, str] = {}  # `[keymap]` of the config file (help shows it)
        self._retry: Callable[[], Any] | None = None
        self.review_who = os.environ.get("USER") or "unknown"
        self.review_verdicts: tuple[str, ...] = DEFAULT_VERDICTS
        self.redact = False
        self._url_template: str | None = None
        self._reviews: ReviewStore | None = None
        self._reviews_lock = asyncio.Lock()
        # where the explorer's last session lives (per API and project)
        self.session_file = session_path(settings.data_dir, settings.base_url,
                                         settings.project_id or "demo")
        self.restored = None if fresh else load_session(self.session_file)
        start, end = preset_range(DEFAULT_PRESET, self.now())
        filters = ConversationQuery.build(start_date=start, end_date=end)
        restored = self.restored_query()
        if restored is not None and self.restored is not None:
            filters, self.date_preset = shared_part(restored), self.restored.preset or "custom"
            self.set_reactive(StudioApp.active_view, self.restored.view)
            if self.restored.names:  # until the lookups load: the filter line as it was
                self.set_reactive(StudioApp.lookups, Lookups(labels=dict(self.restored.names)))
        self.set_reactive(StudioApp.filters, filters)
        self._css_inputs: tuple[Theme, object] | None = None  # see refresh_css
        self._css_stale: WeakSet[Screen[Any]] = WeakSet()
        self._saved_theme: str | None = None  # what config.toml holds
        self._theme_problem = ""  # said once the app is mounted
        self._theme_lock = asyncio.Lock()
        self._apply_config_theme()
        # the rules are first parsed with the variables of this theme: the first
        # refresh_css (as the first mode opens) has styles to apply, nothing to parse
        self._parsed_for: Theme | None = self.current_theme

    # ------------------------------------------------------------------ client
    def _default_client_factory(self) -> Any:
        from api.client import StudioClient

        return StudioClient.from_settings(self.settings, cache_warn=self._cache_warning)

    def _cache_warning(self, message: str) -> None:
        """A damaged response cache was moved aside, or the app runs without one. Called from
        the client's threads: ``notify`` posts a message, which is thread-safe."""
        self.notify(message, title="Response cache", severity="warning", timeout=10,
                    markup=False)

    @property
    def client(self) -> Any:
        """The one StudioClient (created on first use)."""
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    async def get_client(self) -> Any:
        """The client, created in a thread after the first frame (its imports — httpx,
        pydantic models, the demo backend — stay off the path to the first frame)."""
        if self._client is None:
            await self._first_frame.wait()
            # building the client in a thread takes the interpreter from the paint of the
            # cached first page: after it, unless there is none to wait for
            await self.after_first_page()
            async with self._client_lock:
                if self._client is None:
                    await self._open_peek()  # before: it must not wait behind the client
                    client = await asyncio.to_thread(self._client_factory)
                    if self._client is None:
                        self._client = client
                    self._close_peek()
        return self._client

    # ------------------------------------------------------------------ triage state
    def restored_query(self) -> ConversationQuery | None:
        """The explorer's query of the last session; a relative window (`7d`) is taken again
        from now, as its preset would be."""
        state = self.restored
        if state is None:
            return None
        try:
            query = ConversationQuery.from_text(state.query)  # "": all dates, no filter
            start: str | None
            end: str | None
            if state.window:
                start, end = window_range(state.window, self.now())
            else:
                start, end = preset_range(state.preset or "custom", self.now())
            if start is not None:
                query = query.replace(start_date=start, end_date=end)
            return query
        except (QueryError, ValueError):  # written by another version, or by hand: clean
            return None

    def save_session(self, state: SessionState) -> None:
        """Remember what the explorer shows (called from a thread: a small atomic write)."""
        try:
            save_session(self.session_file, state)
        except OSError as exc:
            log.info("session not saved: %s", type(exc).__name__)

    async def review_store(self) -> ReviewStore:
        """The reviews of this API and project (opened once the client knows the project)."""
        if self._reviews is None:
            client = await self.get_client()
            async with self._reviews_lock:
                if self._reviews is None:
                    from api.reviews import ReviewStore

                    self._reviews = await asyncio.to_thread(
                        ReviewStore.for_settings, self.settings, client.project_id)
        return self._reviews

    def conversation_url(self, conversation_id: str) -> str | None:
        """The conversation on its platform (the profile's `conversation_url` template with
        `{id}`), or None when no template is configured."""
        if not self._url_template or not conversation_id:
            return None
        from urllib.parse import quote

        return self._url_template.replace("{id}", quote(conversation_id, safe=""))

    def open_link(self, url: str) -> bool:
        """Copy `url` and open it in a browser where one can show it (the browser of the
        textual-serve page, or a graphical session); whether it was opened. Over SSH a
        "browser" would be a text one taking over this terminal: the link is only copied."""
        self.copy_to_clipboard(url)
        graphical = sys.platform in ("darwin", "win32") or bool(
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
        if self.is_headless or not (self.is_web or graphical):
            return False
        self.open_url(url)
        return True

    async def _load_user_config(self) -> None:
        """Saved views, review settings and the URL template, from config.toml (a damaged
        file is said once; the built-in views and the defaults are used). After the cached
        first page is painted: nothing here is needed to show it."""
        await self.after_first_page()
        from api.config import profile_setting
        from api.reviews import review_settings
        from api.views import BUILTIN_VIEWS, read_views

        path = self.settings.config_file
        views = {v.name: v for v in BUILTIN_VIEWS}
        try:
            found = await asyncio.to_thread(read_views, path)
            views = found.views
            for problem in found.broken.values():  # the others load: one line each
                self.notify(str(problem), title="View not loaded", severity="warning",
                            timeout=8, markup=False)
            self.review_verdicts, self.review_who = await asyncio.to_thread(
                review_settings, path)
            self._url_template = await asyncio.to_thread(
                profile_setting, self.settings, "conversation_url")
        except StudioError as exc:
            from api.text import one_line

            self.notify(one_line(str(exc), 300), title="Config", severity="warning",
                        timeout=8, markup=False)
        self.views = views
        if self.active_view is not None and self.active_view not in views:
            self.active_view = None  # deleted since (or broken): its filters stay shown

    # ------------------------------------------------------------------ cache peek
    async def _open_peek(self) -> Any:
        async with self._peek_lock:  # opened once, by whichever of client and page asks first
            if self._peek is None and self._peek_enabled:
                from tui.cache_peek import open_peek

                self._peek = await asyncio.to_thread(open_peek, self.settings) or False
        return self._peek

    def _close_peek(self) -> None:
        if self._peek:
            self._peek.close()
        self._peek = False

    def first_page_shown(self) -> None:
        """The explorer's first page is painted from the cache, or will not be."""
        self._first_page.set()

    async def after_first_page(self) -> None:
        """Returns once the cached first page is painted (at most FIRST_PAGE_WAIT)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._first_page.wait(), FIRST_PAGE_WAIT)

    async def peek_cached(self, request: Callable[[str], Endpoint[T]]) -> T | None:
        """Before the client exists: the cached answer to `request(project id)`, parsed, or
        None. Lets the first page paint from the cache while the client is being built."""
        if self._client is not None:
            return None
        # opened in a thread at once: the first frame is written right after this is asked,
        # and the main thread then waits for the next refresh while the thread reads
        peek = await self._open_peek()
        if not peek or self._client is not None:
            return None
        endpoint = request(peek.project_id)
        entry = await asyncio.to_thread(peek.get, endpoint.path, endpoint.params)
        if entry is None:
            return None
        try:
            return endpoint.parse(entry.data)
        except StudioError:  # stored before it was read: the client asks the API again
            return None

    def now(self) -> datetime:
        """Now — on the demo backend, the demo's "now": where its data ends (the end of the
        anchor day, or the hour the data was generated at when the anchor is today), fixed
        for the session like the data."""
        if self._now is not None:
            return self._now
        if getattr(self.settings, "demo", False):
            if getattr(self, "_demo_now", None) is None:
                from api.demo import demo_now

                try:
                    self._demo_now = demo_now(getattr(self.settings, "demo_anchor", None))
                except ValueError:  # a bad anchor: the client says so when it starts
                    return datetime.now(UTC).replace(microsecond=0)
            return self._demo_now
        return datetime.now(UTC).replace(microsecond=0)

    # ------------------------------------------------------------------ lifecycle
    def on_mount(self) -> None:
        self._apply_keymap()
        if self._theme_problem:
            self.notify(self._theme_problem, title="Theme", severity="warning", timeout=8,
                        markup=False)
        self.call_after_refresh(self._after_first_frame)

    # ------------------------------------------------------------------ theme
    def _apply_config_theme(self) -> None:
        """The `theme` of config.toml, set here in the constructor: the stylesheet is first
        applied with it, so no frame shows the default theme. An unknown name keeps the
        default and is said once."""
        path = self.settings.config_file
        from api.config import read_theme
        from api.text import one_line

        try:
            name = read_theme(path)
        except StudioError as exc:  # (a config that does not parse stops the CLI first)
            self._theme_problem = one_line(str(exc), 300)
            return
        if name is None:
            return
        self._saved_theme = name  # so that applying it does not write it back
        if name in self.available_themes:
            self.theme = name
            self.stylesheet.set_variables(self.get_css_variables())  # parsed with these
        else:
            self._theme_problem = (f'unknown theme "{one_line(name, 60)}" in {path}; '
                                   f"using {self.theme}")

    def refresh_css(self, animate: bool = True) -> None:
        """Re-parse and restyle everything only when what the stylesheets compute from
        changed: the theme (its variables follow from it) or the terminal's ANSI colours.
        Textual also calls this twice for each mode screen opened for the first time (its
        widgets are styled as they mount), and on every switch to a mode whose screen it has
        not restyled since a change: then that screen alone is restyled, if a change came
        while it was away."""
        inputs = (self.current_theme, self.ansi_theme)
        if inputs != self._css_inputs:
            self._css_inputs = inputs
            if inputs[0] is self._parsed_for:
                self.stylesheet.update(self, animate=animate)  # the app and its screens
            else:
                super().refresh_css(animate)  # restyles the screens of the current mode
            self._parsed_for = None  # from now on Textual's reparse decides
            shown = self.screen_stack
            self._css_stale = WeakSet(screen for stack in self._mode_stacks()
                                      for screen in stack if screen not in shown)
            return
        for screen in self.screen_stack:
            if screen in self._css_stale:
                self._css_stale.discard(screen)
                self.stylesheet.update(screen, animate=animate)
                screen.refresh(layout=True)

    def watch_theme(self, name: str) -> None:
        """Whichever way the theme changed (the palette's Theme command, code), config.toml
        gets it, off the UI thread."""
        if name != self._saved_theme:
            self.run_worker(self._save_theme(), group="theme", exit_on_error=False)

    async def _save_theme(self) -> None:
        # one save at a time, each writing the theme shown when it runs: the file ends with
        # the last pick however fast they come
        async with self._theme_lock:
            name, path = self.theme, self.settings.config_file
            if name == self._saved_theme:
                return
            from api.config import THEME_KEY
            from api.text import one_line
            from api.views import save_setting

            try:
                await asyncio.to_thread(save_setting, path, THEME_KEY, name)
            except StudioError as exc:
                self.notify(one_line(str(exc), 300), title="Theme not saved",
                            severity="warning", timeout=8, markup=False)
                return
            self._saved_theme = name

    def _apply_keymap(self) -> None:
        """`[keymap]` of the config file: binding id = "keys" (e.g. `"table.next_page" =
        "ctrl+n,n"`); every binding of the app has an id (see the help screen)."""
        path = getattr(self.settings, "config_file", None)
        if not (path and path.is_file()):
            return
        import tomllib  # only with a config file: off the first frame otherwise

        try:
            config = tomllib.loads(path.read_text())
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            self.notify(f"keymap not loaded: {type(exc).__name__} in {path}",
                        severity="warning", markup=False)
            return
        keymap = config.get("keymap")
        if isinstance(keymap, dict):
            self.user_keymap = {str(k): v for k, v in keymap.items() if isinstance(v, str)}
            self.set_keymap(self.user_keymap)

    def _after_first_frame(self) -> None:
        if not gc.isenabled():  # the console script paused it for the start-up (tui/entry.py)
            # the start-up heap (modules, classes, styles) lives as long as the app: frozen,
            # no collection walks it again
            gc.freeze()
            gc.enable()
        self._first_frame.set()
        self.run_worker(self._load_lookups(), group="lookups", exit_on_error=False)
        self.run_worker(self._load_user_config(), group="user-config", exit_on_error=False)

    async def _load_lookups(self) -> None:
        try:
            client = await self.get_client()
            lookups = await load_lookups(client, self.now())
            # what the lookups do not name keeps the name the last session showed
            lookups.labels = {**self.lookups.labels, **lookups.labels}
            self.lookups = lookups
            self.project_name = self.lookups.project_name or self.project_name
        except Exception as exc:  # noqa: BLE001 - optional: the explorer works with ids
            log.info("lookups not loaded: %s", type(exc).__name__)
            self.notify(f"Names and filter choices not loaded ({type(exc).__name__}); "
                        "ids are shown instead", severity="warning", timeout=6, markup=False)

    async def on_unmount(self) -> None:
        if self._reviews is not None:
            self._reviews.close()
        if self._client is not None:
            await self._client.aclose()

    @property
    def screen_keys(self) -> list[tuple[str, str, str, str]]:
        """(key, mode, name, description) of each analytics screen."""
        return [(e.key, e.mode, e.name, e.description) for e in ANALYTICS]

    # ------------------------------------------------------------------ shared state
    def set_filters(self, query: ConversationQuery, preset: str | None = None) -> None:
        """Set the shared filters (only the shared fields of `query` are kept)."""
        if preset is not None:
            self.date_preset = preset
        self.filters = shared_part(query)

    def drill_down(self, query: ConversationQuery) -> None:
        """Open the explorer showing `query` (shared filters updated, extras applied); `esc`
        there returns to the screen the drill-down came from."""
        if self.current_mode != "explorer":
            self.back_stack.append(BackStep(self.current_mode, self.filters, self.date_preset))
            del self.back_stack[:-MAX_BACK]
        self.date_preset = "custom" if query.start_date or query.end_date else "all"
        self.switch_mode("explorer")  # first: the screen left behind keeps its figures
        self.filters = shared_part(query)
        while len(self.screen_stack) > 1:  # a conversation left open there: show the list
            self.pop_screen()
        self.call_after_refresh(self._apply_drill_down, query)

    def _apply_drill_down(self, query: ConversationQuery) -> None:
        explorer = self.get_screen_for_mode("explorer")
        if explorer is not None:
            explorer.apply_query(query, preset=self.date_preset)

    def get_screen_for_mode(self, mode: str) -> Any:
        try:
            stack = self.get_screen_stack(mode)
        except KeyError:  # not opened yet
            return None
        return stack[0] if stack else None

    def _mode_stacks(self) -> Iterable[list[Screen[Any]]]:
        """The screen stack of every mode opened so far."""
        for mode in self.MODES:
            with contextlib.suppress(KeyError):  # not opened yet
                yield self.get_screen_stack(mode)

    def on_reviews_changed(self, event: ReviewsChanged) -> None:
        explorer = self.get_screen_for_mode("explorer")
        if explorer is not None:
            explorer.reviews_changed(event.ids)

    # ------------------------------------------------------------------ status
    def note_result(self, result: Any) -> None:
        """Connection state from a client Result (online / stale cache / offline); going
        offline (the API failed, a cached answer is shown) is also said in a notification."""
        state, detail = connection_state(result)
        if (state == "offline" and self.connection != "offline"
                and not getattr(self.settings, "offline", False)):  # not asked for offline
            from api.text import one_line

            reason = one_line(getattr(result, "error", None) or "the API cannot be reached", 300)
            self.notify(f"{reason} — showing data {detail or 'from the cache'}; "
                        "ctrl+r to retry", title="Offline", severity="warning", timeout=8,
                        markup=False)
        self.connection, self.connection_detail = state, detail

    def report_error(self, error: BaseException, retry: Callable[[], Any] | None = None) -> None:
        """One place for API errors: a notification (with ctrl+r to retry) + header state."""
        from api.errors import RateLimitedError, UnreachableError
        from api.text import one_line

        self._retry = retry
        message = one_line(str(error) or type(error).__name__, 300)
        self.connection = "offline" if isinstance(error, UnreachableError) else "error"
        self.connection_detail = ""
        title, hint = "API error", " — ctrl+r to retry" if retry else ""
        if isinstance(error, RateLimitedError):  # whatever the server's own text says
            title, self.connection_detail = "Rate limited by the API", "(rate limited)"
            after = error.retry_after
            wait = f"; the server asks to wait {after:g}s" if after else ""
            hint = f" — rate limited{wait}{'; ctrl+r to retry' if retry else ''}"
        self.notify(f"{message}{hint}", title=title, severity="error", timeout=8,
                    markup=False)

    # ------------------------------------------------------------------ actions
    _quitting = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # keys typed after q (ahead, or over a slow link) open no screen during the shutdown
        return not self._quitting

    async def action_quit(self) -> None:
        """Quit; the explorer's session is written first (its own write waits for a pause
        in the keys, which a quit does not leave)."""
        explorer = self.get_screen_for_mode("explorer")
        if explorer is not None and explorer.is_attached:
            self.save_session(explorer.session_state())
        self._quitting = True  # set last: a quit that failed on the way leaves the keys working
        await super().action_quit()

    def action_open_mode(self, mode: str) -> None:
        if self.current_mode != mode:
            self.back_stack.clear()  # the user went elsewhere: esc no longer jumps back
            self.switch_mode(mode)
        elif len(self.screen_stack) > 1:
            while len(self.screen_stack) > 1:
                self.pop_screen()

    # Textual's own action_back is async; its action dispatch runs either kind
    def action_back(self) -> None:  # type: ignore[override]
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.current_mode != "explorer":
            self.switch_mode("explorer")
        elif self.back_stack:
            self._go_back(self.back_stack.pop())

    def _go_back(self, step: BackStep) -> None:
        """The screen a drill-down came from, with the shared filters it showed (so it is
        not reloaded, and a drill-down that narrowed the tags does not stay narrowed)."""
        self.date_preset = step.preset
        if self.filters != step.filters:
            self.filters = step.filters
        self.switch_mode(step.mode)

    def action_help(self) -> None:
        from screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.active_bindings, self.user_keymap))

    def action_refresh_data(self) -> None:
        retry, self._retry = self._retry, None
        # the retry of a screen's failure, unless that screen is not the one shown (the
        # explorer fails in the background while an analytics screen is up): ctrl+r always
        # reloads what the user is looking at
        if retry is not None and getattr(retry, "__self__", self.screen) is self.screen:
            retry()
            return
        refresh = getattr(self.screen, "refresh_data", None)
        if refresh is not None:
            refresh()

    # ------------------------------------------------------------------ screenshot
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":  # Textual's saves to ~/Downloads or fails
                # after a moment: the palette is closed by then, not in the picture
                command = SystemCommand(
                    command.title, command.help,
                    lambda: self.set_timer(0.1, self.action_screenshot), command.discover)
            yield command

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen to `path`, else to the first of `screenshot_directories`
        that takes it; the notification says where, or why nothing could be written."""
        name = filename or f"studio-tui_{datetime.now().strftime('%Y-%m-%dT%H_%M_%S')}.svg"
        directories = [Path(path).expanduser()] if path else screenshot_directories(self.settings)
        svg = self.export_screenshot()
        reasons: list[str] = []
        for directory in directories:
            try:
                saved = write_new_file(directory, name, svg)
            except OSError as exc:
                reasons.append(f"{directory}: {exc.strerror or type(exc).__name__}")
                continue
            self.notify(f"Saved to {saved}", title="Screenshot", timeout=8, markup=False)
            return
        self.notify("Not saved — " + ("; ".join(reasons) or "no directory to save to"),
                    title="Screenshot", severity="error", timeout=10, markup=False)

    # ------------------------------------------------------------------ palette
    def palette_commands(self) -> list[PaletteCommand]:
        """Every screen, preset and action, for the command palette."""
        commands = [PaletteCommand("Screen: Explorer", "Conversation explorer (e)",
                                   lambda: self.action_open_mode("explorer"))]
        for key, mode, name, description in self.screen_keys:
            commands.append(PaletteCommand(
                f"Screen: {name}", f"{description} ({key})",
                # mypy cannot type a lambda with a default argument
                lambda m=mode: self.action_open_mode(m)))  # type: ignore[misc]
        commands.append(PaletteCommand("Help: key bindings", "List every binding (?)",
                                       self.action_help))
        commands.append(PaletteCommand("Refresh", "Reload the current screen (ctrl+r)",
                                       self.action_refresh_data))
        explorer = self.get_screen_for_mode("explorer")
        if explorer is not None:
            commands.extend(explorer.palette_commands())
        return commands


def run_app(settings: Any, *, fresh: bool = False, screen: str = "explorer") -> None:
    """Entry point used by `tui.cli` (default command)."""
    StudioApp(settings, fresh=fresh, screen=screen).run()
