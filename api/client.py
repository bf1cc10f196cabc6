"""StudioClient: the one way the app and the command line talk to the Studio Chat API.

One long-lived ``httpx.AsyncClient`` per session (connection pooling), the auth header the
contract prescribes, timeouts, a concurrency limit, retries with exponential backoff and full
jitter on 429/502/503/504 and on connection errors/timeouts (honouring ``Retry-After``), never
on other statuses, typed errors (``api.errors``) and, for GETs, the response cache
(``api.cache``) with stale-while-revalidate and an offline fallback.

The token lives in a ``Secret`` only, and reaches each request's headers through an
``httpx.Auth`` (``_KeyAuth``), never the long-lived client's default headers; errors raised here
are built from status + path + server detail, with the token redacted from any echoed text
(before it is shortened, and any cut-off start of it too), and chained ``from None`` so no
httpx frame (whose locals hold headers) shows in a traceback.

Cache reads and writes (SQLite) run on a few dedicated worker threads, never on the event loop.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import ssl
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from . import fastjson
from .cache import normalise_params as _clean_params
from .config import Secret, Settings, public_url
from .endpoints import Endpoint
from .errors import (
    BadResponseError,
    InvalidRequestError,
    ServerError,
    StudioError,
    UnreachableError,
    from_response,
    parse_retry_after,
    redact,
)
from .text import one_line

if TYPE_CHECKING:
    from .cache import ResponseCache

__all__ = ["StudioClient", "Result", "RETRY_STATUSES", "auth_headers"]

log = logging.getLogger("studio_tui.api")

# a 500 on a read is most often passing (a worker restarting, a lock timeout): asked again
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# failures after which a cached (even stale) answer is served instead, marked offline
_OUTAGES = (UnreachableError, ServerError)
CACHE_THREADS = 4
USER_AGENT = "studio-tui/0.1"
T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    """A GET answer and where it came from.

    ``from_cache``: served from the response cache; ``stale``: older than its time-to-live;
    ``age_s``: seconds since it was fetched; ``offline``: served because the API could not be
    reached (or ``Settings.offline``), ``error`` then says why.
    """

    data: Any
    from_cache: bool = False
    stale: bool = False
    age_s: float = 0.0
    offline: bool = False
    error: str | None = None


def auth_headers(token: Secret | str | None) -> dict[str, str]:
    """``sbs_``/``kps_`` keys go in ``X-API-Key``; any other token is a Bearer token."""
    if token is None:
        return {}
    value = token.reveal() if isinstance(token, Secret) else str(token)
    if not value:
        return {}
    if value.startswith(("sbs_", "kps_")):
        return {"X-API-Key": value}
    return {"Authorization": f"Bearer {value}"}


class _KeyAuth(httpx.Auth):
    """Adds the auth header to each request as it is sent; holds only the ``Secret``, so
    neither this object's repr nor the client's default headers show the token."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers.update(auth_headers(self._token))
        yield request

    def __repr__(self) -> str:
        return "_KeyAuth('****')"


_PROXY_VARS = ("https_proxy", "http_proxy", "all_proxy")


def _tls_verify(base_url: str) -> Any:
    """httpx's ``verify``: the default (it loads the system CA store) unless the API is
    plain HTTP with no proxy configured, where no TLS can happen (paths are relative,
    redirects not followed): then a bare context without CA certificates, so that TLS, were
    it ever attempted, fails closed instead of going unverified."""
    if not base_url.lower().startswith("http://") or any(
            os.environ.get(name) or os.environ.get(name.upper()) for name in _PROXY_VARS):
        return True
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verify_mode CERT_REQUIRED, no CAs


class StudioClient:
    """Async client; use as ``async with StudioClient.from_settings(settings) as client:``."""

    # answers are decoded by ``fastjson.loads`` (exports may re-encode them with orjson)
    decodes_with_fastjson = True

    def __init__(
        self,
        settings: Settings,
        *,
        base_url: str | None = None,
        project_id: str | None = None,
        token: Secret | str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        cache: ResponseCache | None = None,
        max_tries: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 20.0,
        retry_after_cap: float = 60.0,
        concurrency: int = 8,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
        cache_scope: str | None = None,
        total_timeout: float | None = None,
    ) -> None:
        self.settings = settings
        self.base_url = (base_url or settings.base_url).rstrip("/")
        self.project_id = project_id or settings.project_id or ""
        self.is_demo = settings.demo
        token = token if token is not None else settings.token
        self._token = token if isinstance(token, Secret) or token is None else Secret(token)
        self.cache = cache
        # ``user:pass@`` of the URL stays out of messages, logs and cache keys
        self.public_url = public_url(self.base_url)
        self.cache_scope = (cache_scope or self.public_url).rstrip("/")
        self.max_tries = max(1, max_tries)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self._sleep = sleep
        self._rand = rand
        self._limit = asyncio.Semaphore(max(1, concurrency))
        self.concurrency = max(1, concurrency)
        read = read_timeout if read_timeout is not None else settings.read_timeout
        connect = connect_timeout if connect_timeout is not None else settings.connect_timeout
        timeout = httpx.Timeout(read, connect=connect)
        # a deadline per attempt on top of httpx's own timeouts: in-process (ASGI) transports
        # enforce none, and a server trickling bytes could otherwise hold a request forever
        self.total_timeout = total_timeout if total_timeout is not None else connect + read
        # worker threads for the response cache: SQLite stays off the event loop, and a
        # write waiting on a lock (another process) does not hold up reads (WAL)
        self._cache_pool = (ThreadPoolExecutor(CACHE_THREADS, "studio-cache")
                            if cache is not None else None)
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            auth=_KeyAuth(self._token) if self._token else None,
            timeout=timeout,
            transport=transport,
            verify=_tls_verify(self.base_url),
            # no more connections than requests in flight (the semaphore): httpcore checks
            # every pooled connection (a poll() each) whenever it assigns a request
            limits=httpx.Limits(max_connections=self.concurrency,
                                max_keepalive_connections=self.concurrency),
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        mode = "demo" if self.is_demo else "api"
        return (f"StudioClient({mode}, base_url={self.public_url!r}, "
                f"project_id={self.project_id!r})")

    # -- construction -------------------------------------------------------------------

    @classmethod
    def from_settings(
        cls, settings: Settings, *, cache: Any = True, transport: Any = None,
        demo_faults: Any = None, cache_warn: Callable[[str], None] | None = None, **kw: Any,
    ) -> StudioClient:
        """A client for ``settings``; for the demo, an in-process ASGI transport (no socket).

        ``cache``: True opens the response cache in ``settings.response_cache_dir``, False
        disables it, or pass a ``ResponseCache``. ``demo_faults``: an ``api.demo.faults.Faults``
        for the demo app (changeable later through the app's ``state.faults``).
        ``cache_warn``: gets the one line saying a damaged cache was moved aside, or that the
        session runs without one (default: a logged warning).
        """
        if settings.demo and transport is None:
            transport = cls._demo_transport(settings, demo_faults, kw)
        if cache is True:
            from .cache import ResponseCache

            cache = ResponseCache(settings.response_cache_dir, warn=cache_warn)
            if cache.disabled:  # unusable (it said why): no cache threads for nothing
                cache.close()
                cache = None
        elif cache is False:
            cache = None
        return cls(settings, transport=transport, cache=cache, **kw)

    @staticmethod
    def _demo_transport(settings: Settings, faults: Any, kw: dict[str, Any]) -> Any:
        """Build the demo transport; fill base URL, project, key and the cache scope."""
        from .demo import demo_transport
        from .demo.files import db_filename
        from .scope import demo_params

        size, seed, anchor = demo_params(settings)
        transport, info = demo_transport(size=size, seed=seed, anchor=anchor, faults=faults)
        kw.setdefault("base_url", info.base_url)
        kw.setdefault("project_id", info.project_id)
        kw.setdefault("token", Secret(info.api_key))
        kw.setdefault("cache_scope", info.cache_scope(db_filename(size, seed, anchor)))
        return transport

    async def __aenter__(self) -> StudioClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()
        if self._cache_pool is not None:
            # queued writes finish first; each worker's SQLite connection goes with its thread
            pool, self._cache_pool = self._cache_pool, None
            await asyncio.to_thread(pool.shutdown)
        if self.cache is not None:
            self.cache.close()  # this thread's connection, if it opened one

    # -- low level ------------------------------------------------------------------------

    @property
    def _secret(self) -> str | None:
        return self._token.reveal() if self._token else None

    def _redact(self, text: str) -> str:
        if self.public_url != self.base_url:
            text = text.replace(self.base_url, self.public_url)
        return redact(text, self._secret)

    def _safe(self, err: StudioError) -> StudioError:
        """Redact the token (or a cut-off start of it) from an error's message."""
        clean = self._redact(err.message)
        if clean != err.message:
            err.message = clean
            err.args = (clean,)
        return err

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        doubling: int = 2**attempt
        return self._rand() * min(self.backoff_cap, self.backoff_base * doubling)

    def _retry_delay(self, attempt: int, resp: httpx.Response | None) -> float:
        if resp is not None and resp.status_code in (429, 503):
            after = parse_retry_after(resp.headers.get("retry-after"))
            if after is not None:
                return min(after, self.retry_after_cap)
        return self._backoff(attempt)

    def _unreachable(self, exc: httpx.TransportError, method: str, path: str) -> UnreachableError:
        where = f"{method} {self.public_url}{path}"
        if isinstance(exc, httpx.ConnectTimeout):
            return UnreachableError(f"timed out connecting to {where}", "connect-timeout")
        if isinstance(exc, httpx.TimeoutException):
            return UnreachableError(f"timed out waiting for an answer to {where}", "timeout")
        if isinstance(exc, httpx.ConnectError):
            reason = one_line(self._redact(str(exc)), 120) or "connection failed"
            return UnreachableError(f"cannot connect to {where}: {reason}", "connect")
        reason = one_line(self._redact(str(exc)), 120) or type(exc).__name__
        return UnreachableError(f"connection lost during {where}: {reason}", "network")

    async def _send(self, method: str, path: str, params: list[tuple[str, str]],
                    body: Any) -> httpx.Response:
        """One attempt under the concurrency limit; transport errors become UnreachableError."""
        async with self._limit:
            try:
                async with asyncio.timeout(self.total_timeout):
                    # httpx wants a list of its own value union (lists are invariant)
                    return await self._http.request(
                        method, path, params=params, json=body)  # type: ignore[arg-type]
            except httpx.TransportError as exc:
                err: StudioError = self._unreachable(exc, method, path)
            except httpx.InvalidURL as exc:  # raised while building the request: never sent
                err = InvalidRequestError(
                    f"cannot send {method} {one_line(path, 80)}: {one_line(str(exc), 100)}")
            except TimeoutError:
                err = UnreachableError(f"no answer within {self.total_timeout:g}s to {method} "
                                       f"{self.public_url}{path}", "timeout")
        raise err

    def _retryable(self, exc_or_resp: Any, idempotent: bool) -> bool:
        if isinstance(exc_or_resp, UnreachableError):
            # a request that may have reached the server is only repeated when harmless
            return idempotent or exc_or_resp.kind in ("connect", "connect-timeout")
        status = exc_or_resp.status_code
        return status in RETRY_STATUSES and (idempotent or status in (429, 503))

    async def request(
        self, method: str, path: str, params: Any = None, body: Any = None, *,
        idempotent: bool = True, raw: bool = False,
    ) -> Any:
        """Send with retries and return the parsed JSON (``raw``: the body's bytes, to be
        decoded elsewhere); raise a typed ``StudioError``."""
        method = method.upper()
        if self.settings.offline:
            raise UnreachableError(f"offline mode: {method} {path} not sent", "offline")
        cleaned = _clean_params(params)
        for attempt in range(self.max_tries):
            last = attempt == self.max_tries - 1
            try:
                resp = await self._send(method, path, cleaned, body)
            except UnreachableError as err:
                if last or not self._retryable(err, idempotent):
                    raise self._safe(err) from None
                delay = self._backoff(attempt)
                log.info("retrying %s %s in %.2fs: %s", method, path, delay, err.kind)
                await self._sleep(delay)
                continue
            if resp.is_success:
                if raw:
                    return resp.content
                try:
                    return self._json(resp, method, path)
                except BadResponseError:
                    # a body cut short in transit: asking again is harmless for a read
                    if last or not idempotent:
                        raise
                    delay = self._backoff(attempt)
                    log.info("retrying %s %s in %.2fs: malformed JSON", method, path, delay)
                    await self._sleep(delay)
                    continue
            if last or not self._retryable(resp, idempotent):
                raise self._safe(from_response(resp, self._secret)) from None
            delay = self._retry_delay(attempt, resp)
            log.info("retrying %s %s in %.2fs after HTTP %s", method, path, delay,
                     resp.status_code)
            await self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, resp: httpx.Response, method: str, path: str) -> Any:
        if resp.status_code == 204 or not resp.content:
            return None
        try:
            return fastjson.loads(resp.content)
        except (ValueError, UnicodeDecodeError) as exc:
            reason = one_line(self._redact(str(exc)), 100)
            raise BadResponseError(
                f"malformed JSON in the answer to {method} {path}: {reason}", resp.status_code
            ) from None

    async def get(self, path: str, params: Any = None, *, cache: bool = True) -> Any:
        """GET ``path`` and return the parsed JSON (through the cache unless ``cache=False``)."""
        if not cache or self.cache is None:
            return await self.request("GET", path, params)
        return (await self.get_result(path, params)).data

    async def post(self, path: str, body: Any = None, *, idempotent: bool = False,
                   raw: bool = False) -> Any:
        """POST ``body`` as JSON. Never cached. Unless ``idempotent`` (a read such as the
        batch endpoint), retries are limited to failures where the server cannot have acted
        (connect errors, 429, 503). ``raw``: return the answer's bytes undecoded."""
        return await self.request("POST", path, None, body, idempotent=idempotent, raw=raw)

    # -- cached GETs -------------------------------------------------------------------------

    async def _in_cache_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on a cache worker thread. Cancelling the caller either drops a
        call not yet started or lets it finish (a diskcache write is one transaction): no
        half-written entry."""
        return await asyncio.get_running_loop().run_in_executor(self._cache_pool, fn, *args)

    def _cache_key(self, path: str, params: list[tuple[str, str]]) -> str:
        assert self.cache is not None
        return self.cache.key(self.cache_scope, self.project_id, "GET", path, params)

    async def _fetch_and_store(self, path: str, cleaned: list[tuple[str, str]],
                               key: str | None) -> Result:
        data = await self.request("GET", path, cleaned)
        if key is not None:
            assert self.cache is not None  # a key comes from the cache
            await self._in_cache_thread(self.cache.set, key, path, data)
        return Result(data)

    def _offline_result(self, entry: Any, err: StudioError | None) -> Result:
        return Result(entry.data, from_cache=True, stale=True, age_s=entry.age_s, offline=True,
                      error=str(err) if err else "offline mode")

    async def get_result(self, path: str, params: Any = None) -> Result:
        """GET through the cache: a fresh entry is served as is; otherwise the API is asked,
        and when it cannot be reached or answers 5xx after the retries (or in offline mode) a
        stale entry is served instead, with ``offline=True`` and the reason in ``error``."""
        cleaned = _clean_params(params)
        if self.cache is None:
            return Result(await self.request("GET", path, cleaned))
        key = self._cache_key(path, cleaned)
        entry = await self._in_cache_thread(self.cache.lookup, key, path)
        if entry is not None and not entry.stale:
            return Result(entry.data, from_cache=True, age_s=entry.age_s)
        if self.settings.offline:
            if entry is None:
                raise UnreachableError(f"offline mode and nothing cached for GET {path}",
                                       "offline")
            return self._offline_result(entry, None)
        try:
            return await self._fetch_and_store(path, cleaned, key)
        except _OUTAGES as err:
            if entry is None:
                raise
            return self._offline_result(entry, err)

    async def get_swr(
        self, path: str, params: Any = None, *, revalidate: bool = False
    ) -> AsyncGenerator[Result, None]:
        """Stale-while-revalidate: yield the cached answer at once (if any), then the fresh one.

        A fresh cache entry ends the iteration unless ``revalidate`` is set; a stale one is
        followed by the API's answer. When the API cannot be reached after a cached answer was
        yielded, a last ``Result`` with ``offline=True`` says so (same data).
        """
        cleaned = _clean_params(params)
        if self.cache is None:
            yield Result(await self.request("GET", path, cleaned))
            return
        key = self._cache_key(path, cleaned)
        entry = await self._in_cache_thread(self.cache.lookup, key, path)
        if entry is not None:
            yield Result(entry.data, from_cache=True, stale=entry.stale, age_s=entry.age_s)
            if not (entry.stale or revalidate):
                return
        if self.settings.offline:
            if entry is None:
                raise UnreachableError(f"offline mode and nothing cached for GET {path}",
                                       "offline")
            yield self._offline_result(entry, None)
            return
        try:
            result = await self._fetch_and_store(path, cleaned, key)
        except _OUTAGES as err:
            if entry is None:
                raise
            yield self._offline_result(entry, err)
            return
        yield result

    # -- typed endpoints (api.endpoints) -----------------------------------------------------

    async def load(self, endpoint: Endpoint[T]) -> T:
        """The endpoint's answer as its model (from the cache while fresh, else the API)."""
        if not endpoint.cache or self.cache is None:
            return endpoint.parse(await self.get(endpoint.path, endpoint.params, cache=False))
        result = await self.get_result(endpoint.path, endpoint.params)
        try:
            return endpoint.parse(result.data)
        except BadResponseError:
            if not result.from_cache:
                raise
        return await self._refetch(endpoint)

    async def load_swr(self, endpoint: Endpoint[T], *, revalidate: bool = False
                       ) -> AsyncGenerator[Result, None]:
        """``get_swr`` of the endpoint, each ``Result.data`` parsed into its model."""
        from dataclasses import replace

        if not endpoint.cache:
            yield Result(await self.load(endpoint))
            return
        async with aclosing(self.get_swr(endpoint.path, endpoint.params,
                                         revalidate=revalidate)) as results:
            async for result in results:
                try:
                    data = endpoint.parse(result.data)
                except BadResponseError:
                    if not result.from_cache:
                        raise
                    yield Result(await self._refetch(endpoint))
                    return
                yield replace(result, data=data)

    async def _refetch(self, endpoint: Endpoint[T]) -> T:
        """A cached answer that does not parse (stored before it was read, or by another
        version) is neither shown nor kept: the API is asked again and its answer stored."""
        cleaned = _clean_params(endpoint.params)
        fresh = await self._fetch_and_store(endpoint.path, cleaned,
                                            self._cache_key(endpoint.path, cleaned))
        return endpoint.parse(fresh.data)
