"""The demo app's tiny handler framework: a request context, routes, auth, request bodies.

A handler is a plain function `handler(ctx: Ctx) -> object` run in the thread pool; it returns
JSON-able data (or `codec.RawJSON` text already serialised) and raises `ApiError` for errors.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from api.demo.params import ApiError, Params
from api.demo.store import Store


@dataclass
class Ctx:
    store: Store
    key_project: str                 # the project the caller's key is bound to
    path: dict[str, str]
    params: Params
    body: Any = None
    state: Any = None                # app.state (trending jobs, analyzed overlay, clock)
    extra: dict[str, Any] = field(default_factory=dict)

    def project(self) -> str:
        """The `{pid}` of the path, 404 when the key cannot see it."""
        pid = self.path.get("pid", "")
        if pid != self.key_project:
            raise ApiError(404, "Project not found")
        return pid

    def account_projects(self) -> tuple[str, ...]:
        return tuple(self.store.account_project_ids(self.key_project))


Handler = Callable[[Ctx], Any]


def serial(lane: str, prepare: Handler | None = None) -> Callable[[Handler], Handler]:
    """Mark a short handler that holds the GIL most of its time (Python between short
    SQLite steps): the app runs the handlers of one ``lane`` one at a time. Several at once
    only share one GIL, and its switching (with the event loop waiting too) costs more CPU
    than the work itself (figures: bench/README.md). Lanes keep unlike work apart (a page
    never waits for a conversation's details), and ``prepare(ctx)``, run in the thread pool
    first, takes the slow SQLite part out of the lane: a list page's count of a new filter
    (slow on the largest demo) never holds up the other pages. Long aggregates (analytics)
    stay in the pool."""
    def mark(handler: Handler) -> Handler:
        handler.serial_lane = lane  # type: ignore[attr-defined]
        handler.prepare = prepare  # type: ignore[attr-defined]
        return handler
    return mark


cpu_bound = serial("details")  # batch, detail, messages: decoding and encoding stored JSON


def serial_lane(handler: Handler) -> str | None:
    return getattr(handler, "serial_lane", None)


def prepare_step(handler: Handler) -> Handler | None:
    return getattr(handler, "prepare", None)


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler


def routes(*specs: tuple[str, str, Handler]) -> list[Route]:
    return [Route(m, p, h) for m, p, h in specs]


def authenticate(store: Store, headers: Any) -> str:
    """The project bound to the request's key; 401 otherwise."""
    key = headers.get("x-api-key")
    if key is None:
        auth = headers.get("authorization") or ""
        scheme, _, token = auth.partition(" ")
        if scheme.lower() == "bearer":
            key = token.strip()
    if not key:
        raise ApiError(401, "Not authenticated")
    project = store.api_keys.get(key)
    if project is None:
        raise ApiError(401, "Invalid API key")
    return project


def parse_body(raw: bytes) -> Any:
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(422, [{"type": "json_invalid", "loc": ["body", 0],
                              "msg": "JSON decode error", "ctx": {"error": str(exc)[:200]}}]) from None
