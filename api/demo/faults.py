"""Fault injection for the demo backend, as ASGI middleware.

`Faults` describes what to inject; the middleware reads `app.state.faults` on every request,
so tests (and `studio-tui demo-server` flags) can change faults while the app runs. Random
choices come from one `random.Random(seed)` per `Faults` object: deterministic for a given
sequence of requests.
"""
from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any

Scope = dict[str, Any]
HANG_POLL_S = 0.1  # how soon a hanging request notices the server shutting down


@dataclass
class Faults:
    latency_ms: float = 0.0          # fixed latency added to every request
    jitter_ms: float = 0.0           # plus uniform(0, jitter_ms)
    error_rate: float = 0.0          # share of requests answered 500 or 503
    rate_limit_rate: float = 0.0     # share of requests answered 429 + Retry-After
    retry_after_s: int = 1
    hang_rate: float = 0.0           # share of requests that sleep `hang_s` (far past timeouts)
    hang_s: float = 3600.0
    malformed_rate: float = 0.0      # share of JSON bodies cut in half
    drop_field: str | None = None    # field name removed from every object ("*" = a random one)
    drop_rate: float = 1.0           # share of responses the field is dropped from
    path_contains: str | None = None  # only requests whose path contains this
    max_faults: int | None = None    # stop injecting after this many faults
    seed: int = 0
    injected: int = field(default=0, compare=False)
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str) -> Faults:
        """`"latency_ms=100,error_rate=0.1,drop_field=summary"` -> Faults (for CLI flags)."""
        kinds = {f.name: f.type for f in fields(cls) if f.init and not f.name.startswith("_")}
        values: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, raw = part.partition("=")
            key = key.strip()
            if not sep or key not in kinds or key == "injected":
                raise ValueError(f"unknown fault setting: {part!r}")
            kind = str(kinds[key])
            if "float" in kind:
                values[key] = float(raw)
            elif "int" in kind:
                values[key] = int(raw)
            else:
                values[key] = raw or None
        return cls(**values)

    def _roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def plan(self, path: str) -> dict[str, Any]:
        """Decide the faults of one request (thread-safe, deterministic per seed)."""
        with self._lock:
            if self.path_contains and self.path_contains not in path:
                return {}
            plan: dict[str, Any] = {}
            delay = self.latency_ms + (self._rng.uniform(0, self.jitter_ms) if self.jitter_ms else 0)
            if delay > 0:
                plan["delay_s"] = delay / 1000.0
            if self.max_faults is not None and self.injected >= self.max_faults:
                return plan
            if self._roll(self.hang_rate):
                plan["hang"] = True
            elif self._roll(self.rate_limit_rate):
                plan["status"] = 429
            elif self._roll(self.error_rate):
                plan["status"] = self._rng.choice((500, 503))
            elif self._roll(self.malformed_rate):
                plan["malformed"] = True
            elif self.drop_field and self._roll(self.drop_rate):
                plan["drop"] = self.drop_field
                plan["drop_seed"] = self._rng.random()
            if len(plan) > ("delay_s" in plan):
                self.injected += 1
            return plan


def drop_field(data: Any, name: str, rng: random.Random) -> Any:
    """Remove `name` (or, for "*", one random key) from every object, at any depth."""
    if isinstance(data, list):
        return [drop_field(item, name, rng) for item in data]
    if isinstance(data, dict):
        out = {k: drop_field(v, name, rng) for k, v in data.items()}
        victim = name if name != "*" else (rng.choice(sorted(out)) if out else None)
        out.pop(victim, None)
        return out
    return data


ERROR_BODIES = {
    429: b'{"detail":"Too many requests"}',
    500: b'{"detail":"Internal server error"}',
    503: b'{"detail":"Service temporarily unavailable"}',
}


class FaultMiddleware:
    """ASGI middleware applying `scope["app"].state.faults` (a Faults or None)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        faults = self._faults(scope)
        if scope["type"] != "http" or faults is None:
            await self.app(scope, receive, send)
            return
        plan = faults.plan(scope.get("path", ""))
        if "delay_s" in plan:
            await asyncio.sleep(plan["delay_s"])
        if plan.get("hang"):
            await _hang(scope, faults.hang_s)
        if "status" in plan:
            await self._answer(send, plan["status"], ERROR_BODIES[plan["status"]], faults)
            return
        if plan.get("malformed") or plan.get("drop"):
            await self.app(scope, receive, _Rewriter(send, plan))
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _faults(scope: Scope) -> Faults | None:
        app = scope.get("app")
        state = getattr(app, "state", None)
        return getattr(state, "faults", None)

    @staticmethod
    async def _answer(send: Any, status: int, body: bytes, faults: Faults) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if status == 429:
            headers.append((b"retry-after", str(faults.retry_after_s).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _hang(scope: Scope, seconds: float) -> None:
    """Sleep ``seconds``, or less when the server shuts down (``release_hangs``): uvicorn
    waits for requests in flight, and a hang far past any timeout must not hold it. (A flag
    polled, not an asyncio.Event: one app may serve on several event loops, as in tests.)"""
    state = scope["app"].state
    deadline = time.monotonic() + seconds
    while not getattr(state, "hangs_released", False):
        left = deadline - time.monotonic()
        if left <= 0:
            return
        await asyncio.sleep(min(left, HANG_POLL_S))


def release_hangs(app: Any) -> None:
    """End the hanging requests of ``app`` now, and any that start later (shutting down)."""
    app.state.hangs_released = True


class _Rewriter:
    """An ASGI `send` that buffers a JSON response and rewrites its body."""

    def __init__(self, send: Any, plan: dict[str, Any]) -> None:
        self._send = send
        self._plan = plan
        self._start: dict[str, Any] | None = None
        self._chunks: list[bytes] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self._start = message
            return
        if message["type"] != "http.response.body":
            await self._send(message)
            return
        self._chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = self._rewrite(b"".join(self._chunks))
        start = dict(self._start or {"type": "http.response.start", "status": 200, "headers": []})
        start["headers"] = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        start["headers"].append((b"content-length", str(len(body)).encode()))
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body})

    def _rewrite(self, body: bytes) -> bytes:
        if self._plan.get("malformed"):
            return body[: max(1, len(body) // 2)]
        try:
            data = json.loads(body)
        except ValueError:
            return body
        rng = random.Random(self._plan.get("drop_seed", 0))
        data = drop_field(data, self._plan["drop"], rng)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
