"""Typed errors of the API layer, each with a clear one-line message.

Messages are built from the status, the request method and path, and the server's ``detail``
(sanitized, one line, shortened). They never include request headers, so the API token cannot
leak through ``str()``, ``repr()``, logs or tracebacks; the client also redacts the token from
any text a server might echo back (see ``StudioClient``).
"""
from __future__ import annotations

import json
import re
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # annotations only: httpx is a heavy import, kept off the first frame
    import httpx

from .text import one_line

__all__ = [
    "StudioError",
    "ConfigError",
    "AuthError",
    "NotFoundError",
    "ValidationError",
    "ConflictError",
    "RateLimitedError",
    "ServerError",
    "UnreachableError",
    "BadResponseError",
    "InvalidIdError",
    "InvalidRequestError",
    "from_response",
    "format_detail",
    "redact",
]

MAX_DETAIL_CHARS = 240
MIN_REDACTED_PREFIX = 8  # a run of this many leading characters of the token is redacted too
REDACTED = "****"


class StudioError(Exception):
    """Base of every error the API layer raises. ``str()`` is one line, safe to show."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.message = one_line(message, 500)
        self.status = status
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class ConfigError(StudioError):
    """Bad or incomplete settings: unknown profile, unreadable config file, token without project."""


class AuthError(StudioError):
    """401 (missing or wrong token) or 403 (the key may not do this)."""


class NotFoundError(StudioError):
    """404: unknown project, conversation, playbook, ... (or one the key cannot see)."""


class ValidationError(StudioError):
    """400 or 422: the server rejected a parameter. ``fields`` lists ``(field, message)``."""

    def __init__(
        self, message: str, status: int | None = None, fields: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(message, status)
        self.fields = fields or []


class ConflictError(StudioError):
    """409: e.g. trending topics were already generated today."""


class RateLimitedError(StudioError):
    """429 that outlasted the retries. ``retry_after`` is in seconds when the server said."""

    def __init__(
        self, message: str, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class ServerError(StudioError):
    """5xx from the server."""


class UnreachableError(StudioError):
    """No answer: connection refused/reset, DNS failure or a timeout. ``kind`` says which."""

    def __init__(self, message: str, kind: str = "connect") -> None:
        super().__init__(message, None)
        self.kind = kind


class BadResponseError(StudioError):
    """The server answered, but not with JSON of the expected shape."""


class InvalidIdError(StudioError, ValueError):
    """An id that cannot go into an API path (None, empty, ``.``/``..``); nothing was sent.
    Both a ``StudioError`` (shown like any API error) and a ``ValueError``."""


class InvalidRequestError(StudioError, ValueError):
    """A request that cannot be sent as asked (a URL httpx refuses: too long, a control
    character); nothing was sent. Both a ``StudioError`` and a ``ValueError`` (bad input)."""


def _field_name(loc: Any) -> str:
    """FastAPI ``loc`` such as ``["query", "start_date"]`` -> ``start_date``."""
    if not isinstance(loc, (list, tuple)):
        return str(loc) if loc is not None else ""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in ("query", "body", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts)


def _validation_fields(detail: Any) -> list[tuple[str, str]]:
    if not isinstance(detail, list):
        return []
    fields = []
    for item in detail:
        if isinstance(item, dict):
            fields.append((_field_name(item.get("loc")), str(item.get("msg", "invalid value"))))
        else:
            fields.append(("", str(item)))
    return fields


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` and every run of at least
    ``MIN_REDACTED_PREFIX`` of its leading characters (a token cut short by a truncation,
    here or by the server) replaced by ``****``."""
    if not secret or not text:
        return text
    text = text.replace(secret, REDACTED)
    head = secret[:MIN_REDACTED_PREFIX]
    start = text.find(head)
    while start != -1:
        end = start + len(head)
        while end - start < len(secret) and end < len(text) and text[end] == secret[end - start]:
            end += 1
        text = text[:start] + REDACTED + text[end:]
        start = text.find(head, start + len(REDACTED))
    return text


def _detail_text(detail: Any) -> str:
    """A FastAPI ``detail`` (string, list of validation errors, or object) as text."""
    if detail is None:
        return ""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(f"{f}: {m}" if f else m for f, m in _validation_fields(detail))
    if isinstance(detail, dict) and "message" in detail:
        return str(detail["message"])
    return json.dumps(detail, ensure_ascii=False, default=str)


def format_detail(detail: Any, secret: str | None = None) -> str:
    """``detail`` as one shortened line; ``secret`` is redacted first, from the whole
    sanitized text, so that no cut can leave part of it behind."""
    return _shorten(_detail_text(detail), secret, MAX_DETAIL_CHARS)


def _shorten(text: str, secret: str | None, max_chars: int) -> str:
    """Sanitized, one line, ``secret`` redacted, then cut to ``max_chars``."""
    return one_line(redact(one_line(text, sys.maxsize), secret), max_chars)


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<(script|style)[^>]*>.*?</\1>|<[^>]+>", re.IGNORECASE | re.DOTALL)


def _text_of(resp: httpx.Response) -> str | None:
    """A non-JSON body as text; an HTML error page (proxies, gateways) as its title."""
    try:
        text = resp.text.strip() if resp.content else ""
    except (UnicodeDecodeError, LookupError):
        return None
    if "html" in resp.headers.get("content-type", "") or text[:15].lower().startswith(
            ("<!doctype html", "<html")):
        title = _TITLE.search(text)
        text = title.group(1) if title else _TAGS.sub(" ", text)
    return text.strip() or None


def _detail_of(resp: httpx.Response) -> Any:
    """The ``detail`` of a FastAPI error body, else the body text (or None when empty)."""
    try:
        body = resp.json()
    except (ValueError, UnicodeDecodeError):
        return _text_of(resp)
    if isinstance(body, dict) and "detail" in body:
        return body["detail"]
    return body


def _where(resp: httpx.Response) -> str:
    try:
        request = resp.request
    except RuntimeError:  # a Response built without a request (tests, transports)
        return ""
    return f" ({request.method} {request.url.path})"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # rare (HTTP dates): imported only then

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


_STATUS_TEXT = {
    400: "bad request",
    401: "not authenticated: check the API token (STUDIO_API_TOKEN or the profile's token)",
    403: "forbidden: this API key may not do that",
    404: "not found",
    409: "conflict",
    422: "invalid parameters",
    429: "rate limited by the server",
}


def from_response(resp: httpx.Response, secret: str | None = None) -> StudioError:
    """The typed error for a non-2xx response: one line, ``HTTP <code>: <detail> (METHOD path)``.

    ``secret`` (the API token) is redacted from the server's text before it is shortened.
    """
    status = resp.status_code
    detail = _detail_of(resp)
    text = format_detail(detail, secret) or _STATUS_TEXT.get(status, resp.reason_phrase or "error")
    if status in (401, 403) and text != _STATUS_TEXT[status]:
        text = f"{_STATUS_TEXT[status]} ({text})"
    message = f"HTTP {status}: {text}{_where(resp)}"
    if status in (401, 403):
        return AuthError(message, status)
    if status == 404:
        return NotFoundError(message, status)
    if status in (400, 422):
        fields = [(f, redact(m, secret)) for f, m in _validation_fields(detail)]
        return ValidationError(message, status, fields)
    if status == 409:
        return ConflictError(message, status)
    if status == 429:
        retry_after = parse_retry_after(resp.headers.get("retry-after"))
        return RateLimitedError(message, status, retry_after)
    if status >= 500:
        return ServerError(message, status)
    if 300 <= status < 400:
        where = _shorten(resp.headers.get("location", "elsewhere"), secret, 200)
        return StudioError(f"HTTP {status}: redirected to {where}: check the API URL"
                           f"{_where(resp)}", status)
    return StudioError(message, status)
