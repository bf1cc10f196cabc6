"""The demo backend's Starlette app: every endpoint of api-reference.md (+ evals, trending).

Handlers are plain functions (see routing.py) run in Starlette's thread pool, each thread with
its own read-only sqlite connection (store.py), and answers encoded by codec.py; error shapes
live here; faults are an ASGI middleware reading `app.state.faults` (faults.py).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from api.demo import (
    routes_analytics,
    routes_config,
    routes_conversations,
    routes_outcomes,
    routes_resources,
    trending,
)
from api.demo.codec import dumps
from api.demo.faults import FaultMiddleware, Faults
from api.demo.params import ApiError, Params
from api.demo.routing import Ctx, Handler, authenticate, parse_body, prepare_step, serial_lane
from api.demo.store import Store

log = logging.getLogger("api.demo")

ALL_ROUTES = [
    *routes_conversations.ROUTES, *routes_analytics.ROUTES, *routes_outcomes.ROUTES,
    *routes_resources.ROUTES, *routes_config.ROUTES, *trending.ROUTES,
]


def json_response(data: Any, status: int = 200,
                  headers: Mapping[str, str] | None = None) -> Response:
    return Response(dumps(data), status_code=status, media_type="application/json", headers=headers)


def _answer(handler: Handler, ctx: Ctx) -> bytes:
    return dumps(handler(ctx))


def _lane_limiter(state: Any, lane: str) -> anyio.CapacityLimiter:
    """One thread per serial lane (see routing.serial), made on first use."""
    lanes: dict[str, anyio.CapacityLimiter] | None = getattr(state, "serial_lanes", None)
    if lanes is None:
        lanes = state.serial_lanes = {}
    if lane not in lanes:
        lanes[lane] = anyio.CapacityLimiter(1)
    return lanes[lane]


def _endpoint(handler: Handler) -> Callable[[Request], Any]:
    # None: anyio's default thread pool (40), for handlers waiting on SQLite (GIL released)
    lane = serial_lane(handler)
    prepare = prepare_step(handler)

    def limiter(state: Any) -> anyio.CapacityLimiter | None:
        return None if lane is None else _lane_limiter(state, lane)

    async def endpoint(request: Request) -> Response:
        state = request.app.state
        store: Store = state.store
        try:
            project = authenticate(store, request.headers)
            body = parse_body(await request.body()) if request.method == "POST" else None
            ctx = Ctx(store=store, key_project=project, path=dict(request.path_params),
                      params=Params(request.query_params), body=body, state=state)
            if prepare is not None:  # its slow SQLite part, in the pool (routing.serial)
                await anyio.to_thread.run_sync(prepare, ctx)
            # the handler and the encoding both run in the thread pool: never on the loop
            content = await anyio.to_thread.run_sync(_answer, handler, ctx, limiter=limiter(state))
        except ApiError as exc:
            return json_response({"detail": exc.detail}, exc.status)
        except ClientDisconnect:  # the client gave up (a timeout, a cancelled export)
            return Response(status_code=499)
        except Exception:  # a demo bug must still answer like the real API: a 500
            log.exception("demo handler %s failed", handler.__name__)
            return json_response({"detail": "Internal server error"}, 500)
        return Response(content, media_type="application/json")

    endpoint.__name__ = handler.__name__
    return endpoint


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return json_response({"detail": exc.detail}, exc.status_code, exc.headers)


def _ordered(routes: list[Any]) -> list[Any]:
    """Literal path segments win over parameters (`/conversations/analytics` before `/{cid}`)."""
    return sorted(routes, key=lambda r: r.path.count("{"))


def create_app(
    db_path: str | Path,
    faults: Faults | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The demo API over the database at `db_path`.

    `app.state.faults` (a `Faults` or None) may be replaced at any time; `clock` times the
    trending-topics jobs (tests inject a fake one)."""
    routes = [Route(r.path, _endpoint(r.handler), methods=[r.method]) for r in _ordered(ALL_ROUTES)]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(FaultMiddleware)],
        exception_handlers={HTTPException: _http_error},
    )
    app.state.store = Store(db_path)
    app.state.faults = faults
    app.state.clock = clock
    app.state.trending = trending.TrendingState()
    app.state.analyzed = {}
    return app
