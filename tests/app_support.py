"""Building StudioApp on the in-process demo backend for pilot and snapshot tests.

`make_app()` gives an app whose client talks to the pinned demo database through a recording
transport (every request is kept in `app.test_requests`), with faults switchable at run time
(`app.test_faults`) and a response cache in a fresh temporary directory.
"""
from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx


@dataclass
class RecordingTransport(httpx.AsyncBaseTransport):
    inner: httpx.AsyncBaseTransport
    requests: list[httpx.Request] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    def params_of(self, path_suffix: str = "/conversations") -> list[dict[str, str]]:
        """Query params of the recorded requests whose path ends with `path_suffix`."""
        return [dict(r.url.params) for r in self.requests if r.url.path.endswith(path_suffix)]

    async def aclose(self) -> None:
        await self.inner.aclose()


def make_app(cache_dir: Path, *, size: int, seed: int, anchor: str, cache: bool = True,
             **app_kwargs: Any):
    from api.cache import ResponseCache
    from api.client import StudioClient
    from api.config import Secret, load_settings
    from api.demo import demo_transport
    from api.demo.faults import Faults
    from tui.app import StudioApp

    settings = load_settings().replace(cache_dir=cache_dir, demo_anchor=anchor, demo_size=size,
                                       demo_seed=seed)
    faults = Faults()
    inner, info = demo_transport(size=size, seed=seed, anchor=anchor, faults=faults)
    transport = RecordingTransport(inner)

    def client_factory() -> StudioClient:
        return StudioClient(
            settings, base_url=info.base_url, project_id=info.project_id,
            token=Secret(info.api_key), transport=transport,
            cache=ResponseCache(settings.response_cache_dir) if cache else None,
            max_tries=1,
        )

    app = StudioApp(settings, client_factory=client_factory, **app_kwargs)
    app.test_transport = transport
    app.test_faults = faults
    app.test_info = info
    app.test_notifications = record_notifications(app)
    return app


def record_notifications(app) -> list:
    """Every notification `app` raises from now on, as textual.notifications.Notification
    (Textual keeps no public list); `app.clear_notifications()` empties it too."""
    from textual.notifications import Notification

    seen: list[Notification] = []
    notify, clear = app.notify, app.clear_notifications

    def recording(message, *, title="", severity="information", **options) -> None:
        seen.append(Notification(str(message), title, severity))
        notify(message, title=title, severity=severity, **options)

    def clearing() -> None:
        seen.clear()
        clear()

    app.notify, app.clear_notifications = recording, clearing
    return seen


async def wait_until(condition: Callable[[], Any], *, pilot=None, timeout: float = 10.0,
                     what: str = "condition") -> Any:
    """Poll `condition` (the app's messages processed in between when `pilot` is given) until
    it is true; fail after `timeout` seconds. Returns its value."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what} not reached in {timeout} s"
        if pilot is not None:
            await pilot.pause(0.01)
        else:
            await asyncio.sleep(0.01)
    return value


def detail_fetched(app) -> bool:
    """Whether the explorer's detail pane has asked for the conversation it shows (its fetch
    runs after a debounce)."""
    from widgets.detail_pane import DetailPane

    pane = explorer(app).query_one(DetailPane)
    cid = (pane.conversation or {}).get("conversation_id")
    return bool(cid) and any(r.url.path.endswith(f"/conversations/{cid}")
                             for r in app.test_transport.requests)


_SVG_TEXT = re.compile(r"<text ([^>]*)>(.*?)</text>", re.S)
_SVG_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
_SVG_LINE = re.compile(r"-line-(\d+)\)")


def screen_segments(app) -> list[tuple[int, int, str]]:
    """(line, column, text) of each piece of text on screen (blank runs left out), read from
    Textual's public SVG screenshot: screens under a modal and toasts included."""
    pieces = []
    for attrs, content in _SVG_TEXT.findall(app.export_screenshot()):
        attr = dict(_SVG_ATTR.findall(attrs))
        line = _SVG_LINE.search(attr.get("clip-path", ""))
        if line is None:  # the window title
            continue
        text = html.unescape(content).replace("\xa0", " ")
        cell = float(attr["textLength"]) / len(text)
        pieces.append((int(line.group(1)), round(float(attr["x"]) / cell), text))
    return pieces


def screen_lines(app) -> list[str]:
    """The screen as lines of text (trailing blanks dropped), from `screen_segments`."""
    from rich.cells import cell_len

    lines = [""] * app.size.height
    for y, x, text in sorted(screen_segments(app)):
        lines[y] += " " * (x - cell_len(lines[y])) + text
    return lines


async def settle(pilot) -> None:
    """Let the app's workers finish and the screen catch up. A worker cancelled while awaited
    (replaced by a newer one of its exclusive group) is no failure: wait for the others; a
    failed worker still raises."""
    from textual.worker import WorkerCancelled, WorkerState

    await pilot.pause()
    deadline = time.monotonic() + 60
    # a worker may start another as it ends (a page fetch starts the next page's prefetch):
    # wait until none is left running, not just the ones running when called
    while unfinished := [w for w in pilot.app.workers if not w.is_finished]:
        assert time.monotonic() < deadline, f"workers never finished: {unfinished}"
        try:
            await pilot.app.workers.wait_for_complete(
                [w for w in unfinished if w.state is not WorkerState.PENDING])
        except WorkerCancelled:
            pass
        await pilot.pause()
    await pilot.pause()


def explorer(app) -> Any:
    """The explorer screen (whatever screen is shown)."""
    from screens.explorer import ExplorerScreen

    screen = app.get_screen_for_mode("explorer")
    assert isinstance(screen, ExplorerScreen)
    return screen
