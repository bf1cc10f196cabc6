"""Building StudioApp on the in-process demo backend for pilot and snapshot tests.

`make_app()` gives an app whose client talks to the pinned demo database through a recording
transport (every request is kept in `app.test_requests`), with faults switchable at run time
(`app.test_faults`) and a response cache in a fresh temporary directory.
"""
from __future__ import annotations

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
    return app


async def settle(pilot) -> None:
    """Let the app's workers finish and the screen catch up."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def explorer(app) -> Any:
    """The explorer screen (whatever screen is shown)."""
    from screens.explorer import ExplorerScreen

    screen = app.get_screen_for_mode("explorer")
    assert isinstance(screen, ExplorerScreen)
    return screen
