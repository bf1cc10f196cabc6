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
Ids go into paths through ``quote_segment`` / ``StudioClient.path`` (public, for callers).
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import ssl
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from . import fastjson
from .cache import normalise_params as _clean_params
from .config import Secret, Settings, public_url
from .endpoints import Endpoint, parse_list, parse_model, quote_segment
from .endpoints import path as _path
from .errors import (
    BadResponseError,
    ConfigError,
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
    import pydantic

    from .cache import ResponseCache

__all__ = ["StudioClient", "Result", "RETRY_STATUSES", "auth_headers", "quote_segment"]

log = logging.getLogger("studio_tui.api")

# a 500 on a read is most often passing (a worker restarting, a lock timeout): asked again
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# failures after which a cached (even stale) answer is served instead, marked offline
_OUTAGES = (UnreachableError, ServerError)
BATCH_MAX = 50
CACHE_THREADS = 4
USER_AGENT = "studio-tui/0.1"
M = TypeVar("M", bound="pydantic.BaseModel")
T = TypeVar("T")


class _LazyModels:
    """``api.models`` on first use: building its pydantic models is a start-up cost that
    ``fetch`` and ``export`` (plain JSON) never need."""

    def __getattr__(self, name: str) -> Any:
        from . import models

        return getattr(models, name)


if TYPE_CHECKING:
    from . import models as m
else:
    m = _LazyModels()


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
        self._transport = transport
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
        for the demo app (changeable later through ``client.demo_app.state.faults``).
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
        from .demo.generate import db_filename, resolve_params

        try:
            size, seed, anchor = resolve_params(settings.demo_size, settings.demo_seed,
                                                settings.demo_anchor)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        transport, info = demo_transport(size=size, seed=seed, anchor=anchor, faults=faults)
        kw.setdefault("base_url", info.base_url)
        kw.setdefault("project_id", info.project_id)
        kw.setdefault("token", Secret(info.api_key))
        # one demo URL serves many generated databases: keep their cache entries apart
        kw.setdefault("cache_scope", f"{info.base_url}/{db_filename(size, seed, anchor)}")
        return transport

    @property
    def demo_app(self) -> Any:
        """The in-process demo ASGI app (``None`` on a real API)."""
        return getattr(self._transport, "app", None) if self.is_demo else None

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
        return endpoint.parse(await self.get(endpoint.path, endpoint.params,
                                             cache=endpoint.cache))

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
                yield replace(result, data=endpoint.parse(result.data))

    # -- typed helpers -----------------------------------------------------------------------

    @staticmethod
    def path(template: str, *segments: Any) -> str:
        """``template`` with each ``{}`` replaced by the next of ``segments``, quoted."""
        return _path(template, *segments)

    @property
    def _p(self) -> str:
        return self.path("/projects/{}", self.project_id)

    def _parse(self, model: type[M], data: Any, what: str) -> M:
        return parse_model(model, what)(data)

    def _parse_list(self, model: type[M], data: Any, what: str, *keys: str) -> list[M]:
        """A list answer, or a list under one of ``keys`` of an object answer."""
        return parse_list(model, what, *keys)(data)

    async def _get_model(self, model: type[M], path: str, params: Any = None) -> M:
        return self._parse(model, await self.get(path, params), f"GET {path}")

    async def _get_list(self, model: type[M], path: str, params: Any = None,
                        *keys: str) -> list[M]:
        return self._parse_list(model, await self.get(path, params), f"GET {path}", *keys)

    # conversations

    async def list_conversations(
        self, query: Any = None, *, limit: int = 50, offset: int = 0
    ) -> m.ConversationPage:
        params = _clean_params(query) + [("limit", str(limit)), ("offset", str(offset))]
        return await self._get_model(m.ConversationPage, f"{self._p}/conversations", params)

    async def summaries(
        self, query: Any = None, *, limit: int = 50, offset: int = 0
    ) -> m.SummaryPage:
        params = _clean_params(query) + [("limit", str(limit)), ("offset", str(offset))]
        return await self._get_model(m.SummaryPage, f"{self._p}/conversations/summaries", params)

    async def conversation(self, cid: str) -> m.ConversationDetail:
        return await self._get_model(
            m.ConversationDetail, f"{self._p}/conversations/{quote_segment(cid)}")

    async def batch(self, ids: Iterable[str]) -> list[m.ConversationDetail]:
        """Details of ``ids`` (unknown ids skipped), in chunks of 50, fetched concurrently."""
        ids = list(dict.fromkeys(ids))
        chunks = [ids[i:i + BATCH_MAX] for i in range(0, len(ids), BATCH_MAX)]
        answers = await asyncio.gather(*(self.batch_raw(chunk) for chunk in chunks))
        path = f"POST {self._p}/conversations/batch"
        return [self._parse(m.ConversationDetail, c, path) for a in answers for c in a]

    async def batch_raw(self, ids: list[str]) -> list[dict[str, Any]]:
        """One batch call (at most 50 ids): the raw conversation dicts of the answer."""
        if len(ids) > BATCH_MAX:
            raise ValueError(f"at most {BATCH_MAX} ids per batch call")
        if not ids:
            return []
        data = await self.post(f"{self._p}/conversations/batch", {"conversation_ids": ids},
                               idempotent=True)
        convs = data.get("conversations") if isinstance(data, dict) else data
        if not isinstance(convs, list):
            raise BadResponseError("batch answer has no 'conversations' list")
        return [c for c in convs if isinstance(c, dict)]

    async def messages(self, cid: str) -> m.MessagesResponse:
        return await self._get_model(
            m.MessagesResponse, f"{self._p}/conversations/{quote_segment(cid)}/messages")

    async def conversation_metrics(self, cid: str) -> m.ConversationMetrics:
        return await self._get_model(
            m.ConversationMetrics, f"{self._p}/conversations/{quote_segment(cid)}/metrics")

    async def analyze(self, cid: str) -> m.ConversationMetrics:
        path = f"{self._p}/conversations/{quote_segment(cid)}/metrics/analyze"
        return self._parse(m.ConversationMetrics, await self.post(path, idempotent=False),
                           f"POST {path}")

    # analytics

    async def analytics(self, params: Any = None) -> m.ConversationAnalytics:
        return await self._get_model(
            m.ConversationAnalytics, f"{self._p}/conversations/analytics", params)

    async def account_analytics(self, params: Any = None) -> m.AccountAnalytics:
        return await self._get_model(
            m.AccountAnalytics, "/account/conversations/analytics", params)

    async def aggregate_metrics(self, params: Any = None) -> m.AggregateMetrics:
        return await self._get_model(
            m.AggregateMetrics, f"{self._p}/conversations/metrics/aggregate", params)

    async def csat(self, params: Any = None) -> m.CsatAnalytics:
        return await self._get_model(m.CsatAnalytics, f"{self._p}/csat/analytics", params)

    async def conversion_metrics(self) -> list[m.ConversionMetric]:
        return await self._get_list(m.ConversionMetric, f"{self._p}/conversion-metrics", None,
                                    "items", "metrics")

    async def conversion_metric(self, slug: str) -> m.ConversionMetric:
        return await self._get_model(
            m.ConversionMetric, f"{self._p}/conversion-metrics/{quote_segment(slug)}")

    async def conversion_analytics(self, slug: str, params: Any = None) -> m.ConversionAnalytics:
        return await self._get_model(
            m.ConversionAnalytics, f"{self._p}/conversion-metrics/{quote_segment(slug)}/analytics",
            params)

    # trending topics

    @property
    def _tt(self) -> str:
        return f"{self._p}/conversations/insights/trending-topics"

    async def trending_status(self, params: Any = None) -> m.TrendingStatus:
        return await self._get_model(m.TrendingStatus, f"{self._tt}/status", params)

    async def trending_generate(self, body: dict[str, Any] | None = None) -> m.TrendingJob:
        path = f"{self._tt}/generate"
        data = await self.post(path, body or {}, idempotent=False)
        return self._parse(m.TrendingJob, data, f"POST {path}")

    async def trending_job(self, job_id: str) -> m.TrendingJob:
        path = f"{self._tt}/job/{quote_segment(job_id)}"
        return self._parse(m.TrendingJob, await self.get(path, cache=False), f"GET {path}")

    async def trending_analysis(self, analysis_id: str) -> m.TrendingAnalysis:
        return await self._get_model(
            m.TrendingAnalysis, f"{self._tt}/analysis/{quote_segment(analysis_id)}")

    # resource analytics

    async def api_tool_analytics(self, params: Any = None) -> m.ResourceAnalytics:
        return await self._get_model(
            m.ResourceAnalytics, f"{self._p}/analytics/api-tools", params)

    async def toolkit_analytics(self, params: Any = None) -> m.ResourceAnalytics:
        return await self._get_model(
            m.ResourceAnalytics, f"{self._p}/analytics/toolkits", params)

    async def skill_analytics(self, params: Any = None) -> m.ResourceAnalytics:
        return await self._get_model(m.ResourceAnalytics, f"{self._p}/analytics/skills", params)

    async def kb_analytics(self, params: Any = None) -> m.KBAnalytics:
        return await self._get_model(m.KBAnalytics, f"{self._p}/analytics/kbs", params)

    async def kb_items_analytics(self, kb_id: str, params: Any = None) -> m.KBItemsAnalytics:
        return await self._get_model(
            m.KBItemsAnalytics, f"{self._p}/analytics/kbs/{quote_segment(kb_id)}/items", params)

    SPARKLINE_PATHS = {
        "api-tools": "analytics/api-tools/sparklines",
        "toolkits": "analytics/toolkit-calls/sparklines",
        "skills": "analytics/skills/sparklines",
        "kbs": "analytics/kbs/sparklines",
    }

    async def sparklines(self, kind: str, days: int = 14) -> dict[str, m.Sparkline]:
        """Per-resource daily counts; ``kind`` is api-tools, toolkits, skills or kbs."""
        if kind not in self.SPARKLINE_PATHS:
            raise ValueError(f"unknown sparkline kind {kind!r}: {', '.join(self.SPARKLINE_PATHS)}")
        path = f"{self._p}/{self.SPARKLINE_PATHS[kind]}"
        data = await self.get(path, {"days": days})
        return m.parse_sparklines(data)

    # configuration

    async def playbooks(self, *, include_versions: bool = False,
                        include_deleted: bool = False) -> list[m.Playbook]:
        params = {"include_versions": include_versions, "include_deleted": include_deleted}
        return await self._get_list(m.Playbook, f"{self._p}/playbooks", params, "items",
                                    "playbooks")

    async def playbook(self, playbook_id: str) -> m.Playbook:
        return await self._get_model(m.Playbook, f"/playbooks/{quote_segment(playbook_id)}")

    async def history(self, playbook_id: str) -> list[m.PlaybookVersion]:
        return await self._get_list(
            m.PlaybookVersion, f"/playbooks/{quote_segment(playbook_id)}/history", None, "items")

    async def version(self, playbook_id: str, number: int) -> m.Playbook:
        return await self._get_model(
            m.Playbook, f"/playbooks/{quote_segment(playbook_id)}/versions/{int(number)}")

    async def active(self, base_id: str) -> m.ActiveVersion:
        return await self._get_model(m.ActiveVersion, f"/playbooks/{quote_segment(base_id)}/active")

    async def active_history(self, base_id: str) -> m.ActiveHistory:
        return await self._get_model(
            m.ActiveHistory, f"/playbooks/{quote_segment(base_id)}/active/history")

    async def playbook_settings(self, playbook_id: str) -> m.PlaybookSettings | None:
        data = await self.get(f"/playbooks/{quote_segment(playbook_id)}/settings")
        if data is None:
            return None
        return self._parse(m.PlaybookSettings, data, "GET playbook settings")

    async def knowledgebases(self, *, include_playbook_usage: bool = False
                             ) -> list[m.KnowledgeBase]:
        return await self._get_list(
            m.KnowledgeBase, f"{self._p}/knowledgebases",
            {"include_playbook_usage": include_playbook_usage}, "items", "knowledgebases")

    async def kb(self, kb_id: str) -> m.KnowledgeBase:
        return await self._get_model(m.KnowledgeBase, f"/knowledgebases/{quote_segment(kb_id)}")

    async def kb_item(self, kb_id: str, item_id: str) -> m.KBItem:
        return await self._get_model(
            m.KBItem, f"/knowledgebases/{quote_segment(kb_id)}/items/{quote_segment(item_id)}")

    async def projects(self) -> list[m.Project]:
        return await self._get_list(m.Project, "/projects", None, "items", "projects")

    async def project(self, project_id: str | None = None) -> m.Project:
        pid = project_id or self.project_id
        return await self._get_model(m.Project, f"/projects/{quote_segment(pid)}")

    async def project_settings(self) -> m.ProjectSettings:
        return await self._get_model(m.ProjectSettings, f"{self._p}/settings")

    async def schedule(self) -> m.Schedule:
        return await self._get_model(m.Schedule, f"{self._p}/schedule")

    async def api_tools(self, *, include_playbook_usage: bool = False) -> list[m.ApiTool]:
        return await self._get_list(
            m.ApiTool, f"{self._p}/api-tools",
            {"include_playbook_usage": include_playbook_usage}, "items", "api_tools")

    async def api_tool(self, tool_id: str) -> m.ApiTool:
        return await self._get_model(m.ApiTool, f"{self._p}/api-tools/{quote_segment(tool_id)}")

    # evals

    async def eval_cases(self, base_id: str, *, enabled_only: bool = False) -> list[m.EvalCase]:
        return await self._get_list(
            m.EvalCase, f"/playbooks/{quote_segment(base_id)}/eval-cases",
            {"enabled_only": enabled_only}, "items")

    async def eval_case(self, case_id: str) -> m.EvalCase:
        return await self._get_model(m.EvalCase, f"/eval-cases/{quote_segment(case_id)}")

    async def eval_cases_yaml(self, base_id: str) -> str:
        """All cases of a playbook as YAML text (``yaml_content`` of the answer)."""
        data = await self.get(f"/playbooks/{quote_segment(base_id)}/eval-cases/export-yaml")
        content = data.get("yaml_content") if isinstance(data, dict) else data
        if not isinstance(content, str):
            raise BadResponseError("eval-cases export has no 'yaml_content' text")
        return content

    async def eval_runs(self, base_id: str, *, page: int = 1,
                        page_size: int = 10) -> m.EvalRunPage:
        return await self._get_model(
            m.EvalRunPage, f"/playbooks/{quote_segment(base_id)}/eval-runs",
            {"page": page, "page_size": page_size})

    async def eval_run(self, run_id: str) -> m.EvalRun:
        return await self._get_model(m.EvalRun, f"/eval-runs/{quote_segment(run_id)}")

    async def eval_results(self, run_id: str) -> list[m.EvalResult]:
        return await self._get_list(
            m.EvalResult, f"/eval-runs/{quote_segment(run_id)}/results", None, "items", "results")

    async def eval_result(self, result_id: str) -> m.EvalResult:
        return await self._get_model(m.EvalResult, f"/eval-results/{quote_segment(result_id)}")
