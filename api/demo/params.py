"""Query-parameter parsing for the demo app, with FastAPI-style errors.

`Params` wraps a request's query string; each getter validates one parameter and records a
FastAPI-shaped error (`{"loc": ["query", name], "msg": ..., "type": ...}`) instead of raising,
so one 422 answer lists every bad parameter. Call `check()` once all getters ran.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, overload

_TRUE = {"true"}
_FALSE = {"false"}
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


class ApiError(Exception):
    """An HTTP error answered as `{"detail": detail}`."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def validation_error(loc: list[Any], msg: str, type_: str, value: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"type": type_, "loc": loc, "msg": msg}
    if value is not None:
        err["input"] = value
    return err


def parse_datetime(text: str) -> datetime:
    """ISO 8601 with or without offset (none = UTC), `Z`, or `YYYY-MM-DD` (midnight UTC)."""
    text = text.strip()
    if _DAY_RE.match(text):
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    if not text or not text[0].isdigit():
        raise ValueError(text)
    value = datetime.fromisoformat(text.replace("z", "Z"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


class Params:
    """Typed, validating access to query parameters."""

    def __init__(self, query: Mapping[str, str], where: str = "query") -> None:
        self._query = query
        self._where = where
        self.errors: list[dict[str, Any]] = []

    def _fail(self, name: str, msg: str, type_: str, raw: Any) -> None:
        self.errors.append(validation_error([self._where, name], msg, type_, raw))

    def raw(self, name: str) -> str | None:
        value = self._query.get(name)
        return None if value is None else str(value)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw(name)
        return default if value is None or value == "" else value

    def required_text(self, name: str) -> str | None:
        value = self.text(name)
        if value is None:
            self._fail(name, "Field required", "missing", None)
        return value

    def csv(self, name: str) -> tuple[str, ...]:
        value = self.raw(name)
        if not value:
            return ()
        return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))

    def labels(self, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
        values = self.csv(name)
        bad = [v for v in values if v not in allowed]
        if bad:
            self._fail(
                name,
                f"Unknown value {bad[0]!r}; expected one of: {', '.join(allowed)}",
                "enum",
                self.raw(name),
            )
            return ()
        return values

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in allowed:
            expected = " or ".join(repr(a) for a in allowed)
            self._fail(name, f"Input should be {expected}", "enum", value)
            return default
        return value

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        value = self.text(name)
        if value is None:
            return default
        low = value.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        self._fail(name, "Input should be a valid boolean, 'true' or 'false'", "bool_parsing", value)
        return default

    @overload
    def integer(self, name: str, default: int, *, ge: int | None = None,
                le: int | None = None) -> int: ...
    @overload
    def integer(self, name: str, default: None = None, *, ge: int | None = None,
                le: int | None = None) -> int | None: ...

    def integer(
        self, name: str, default: int | None = None, *, ge: int | None = None, le: int | None = None
    ) -> int | None:
        value = self.text(name)
        if value is None:
            return default
        try:
            number = int(value.strip())
        except ValueError:
            self._fail(name, "Input should be a valid integer", "int_parsing", value)
            return default
        # beyond 64 bits: a validation error (422) like the API's, not a 500 from SQLite
        ge = INT64_MIN if ge is None else max(ge, INT64_MIN)
        le = INT64_MAX if le is None else min(le, INT64_MAX)
        if number < ge:
            self._fail(name, f"Input should be greater than or equal to {ge}", "greater_than_equal", value)
            return default
        if number > le:
            self._fail(name, f"Input should be less than or equal to {le}", "less_than_equal", value)
            return default
        return number

    def instant(self, name: str, required: bool = False) -> datetime | None:
        value = self.text(name)
        if value is None:
            if required:
                self._fail(name, "Field required", "missing", None)
            return None
        try:
            return parse_datetime(value)
        except ValueError:
            self._fail(name, "Input should be a valid datetime (ISO 8601)", "datetime_parsing", value)
            return None

    @overload
    def day_range(self, default_days: int, now: datetime) -> tuple[datetime, datetime]: ...
    @overload
    def day_range(
        self, default_days: None, now: datetime
    ) -> tuple[datetime | None, datetime | None]: ...

    def day_range(
        self, default_days: int | None, now: datetime
    ) -> tuple[datetime | None, datetime | None]:
        """`start_date`/`end_date` as instants; `YYYY-MM-DD` end dates cover that whole day."""
        start = self.instant("start_date")
        end = self.instant("end_date")
        end_raw = self.text("end_date")
        if end is not None and end_raw is not None and _DAY_RE.match(end_raw.strip()):
            end = end + timedelta(days=1) - timedelta(microseconds=1)
        if default_days is not None:
            end = end or now
            start = start or (end - timedelta(days=default_days))
        return start, end

    def check(self) -> None:
        if self.errors:
            raise ApiError(422, self.errors)


def check_order(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and start > end:
        raise ApiError(400, "start_date must be before end_date")


@overload
def epoch(value: datetime) -> float: ...
@overload
def epoch(value: datetime | None) -> float | None: ...


def epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


@overload
def iso(ts: float | int) -> str: ...
@overload
def iso(ts: float | int | None) -> str | None: ...


def iso(ts: float | int | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).date().isoformat()


def days_between(start: date, end: date) -> list[str]:
    out = []
    day = start
    while day <= end:
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out
