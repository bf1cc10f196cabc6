"""The API's endpoints as typed requests: the only place where API paths are built.

Each function of the family modules (``conversations``, ``analytics``, ``conversions``,
``trending``, ``resources``, ``configuration``, ``evals``) takes the project (and a query object or
the ids it needs) and returns an ``Endpoint[Model]``: the path (every id quoted by ``path``),
the query parameters and how the answer becomes a tolerant pydantic model (``api.models``).
``StudioClient.load(endpoint)`` returns the model; ``StudioClient.load_swr(endpoint)`` yields
the cached model at once and then the fresh one, so screens paint typed data without ever
seeing a path or a dict.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from api.errors import BadResponseError, InvalidIdError
from api.text import one_line

if TYPE_CHECKING:
    from pydantic import BaseModel

T = TypeVar("T")
M = TypeVar("M", bound="BaseModel")

Params = Mapping[str, Any] | list[tuple[str, str]]


def quote_segment(segment: Any) -> str:
    """One path segment from an id, everything but unreserved characters percent-encoded
    (``/``, ``?``, ``#``, spaces, controls, non-ASCII). ``None``, an empty or blank id and
    ``.``/``..`` (which would change the path) raise ``InvalidIdError`` naming the problem."""
    from urllib.parse import quote

    if segment is None:
        raise InvalidIdError("missing id (None) in an API path")
    text = str(segment)
    if not text.strip():
        raise InvalidIdError("empty id in an API path")
    if text in (".", ".."):
        raise InvalidIdError(f"invalid id {text!r} in an API path")
    return quote(text, safe="")


def path(template: str, *ids: Any) -> str:
    """``template`` with each ``{}`` replaced by the next id, quoted:
    ``path("/projects/{}/conversations/{}", pid, cid)``."""
    parts = template.split("{}")
    if len(parts) != len(ids) + 1:
        raise ValueError(f"path template {template!r} has {len(parts) - 1} placeholder(s) "
                         f"for {len(ids)} id(s)")
    quoted = [quote_segment(i) for i in ids] + [""]
    return "".join(part + q for part, q in zip(parts, quoted, strict=True))


def project_path(project: str, rest: str = "", *ids: Any) -> str:
    """``/projects/{project}`` followed by ``rest`` (its ``{}`` filled with ``ids``)."""
    return path("/projects/{}" + rest, project, *ids)


def typed_path(path: str, project: str) -> str:
    """A path the user typed (``studio-tui fetch``): ``{pid}``/``{project_id}`` placeholders,
    and an empty ``/projects//`` segment (an unset ``$STUDIO_PROJECT_ID`` in the shell),
    become ``project``; the rest is sent as typed."""
    path = path.replace("{pid}", project).replace("{project_id}", project)
    if path.startswith("/projects//") or path == "/projects/":
        path = f"/projects/{project}/" + path[len("/projects//"):]
    return path if path.startswith("/") else "/" + path


class Endpoint(NamedTuple, Generic[T]):
    """One GET: where, with which parameters, and how its answer becomes ``T``."""

    path: str
    params: Params | None
    parse: Callable[[Any], T]
    cache: bool = True  # False: always asked (a job's progress)

    def __str__(self) -> str:
        return f"GET {self.path}"


def parse_model(model: type[M], what: str) -> Callable[[Any], M]:
    """An answer -> ``model`` (tolerant: only an answer that is not an object fails)."""

    def parse(data: Any) -> M:
        import pydantic

        try:
            return model.model_validate(data if data is not None else {})
        except pydantic.ValidationError as exc:
            raise BadResponseError(
                f"unexpected answer shape for {what}: {exc.error_count()} problem(s), first: "
                f"{one_line(str(exc.errors()[0].get('msg', '')), 120)}"
            ) from None

    return parse


def parse_list(model: type[M], what: str, *keys: str) -> Callable[[Any], list[M]]:
    """A list answer (or a list under one of ``keys`` of an object answer) -> models; items
    that are not objects are skipped."""
    item = parse_model(model, what)

    def parse(data: Any) -> list[M]:
        if isinstance(data, dict):
            for key in keys:
                if isinstance(data.get(key), list):
                    data = data[key]
                    break
        if data is None:
            return []
        if not isinstance(data, list):
            raise BadResponseError(f"expected a list for {what}, got {type(data).__name__}")
        return [item(x) for x in data if isinstance(x, dict)]

    return parse


async def load_models() -> None:
    """Import ``api.models`` in a thread: building its pydantic models on an event loop would
    freeze a UI for a moment. Once they are imported, this returns at once."""
    global _models_loaded
    if not _models_loaded:
        import asyncio
        import importlib

        await asyncio.to_thread(importlib.import_module, "api.models")
        _models_loaded = True


_models_loaded = False


def endpoint(model: type[M], where: str, params: Params | None = None, *,
             cache: bool = True) -> Endpoint[M]:
    return Endpoint(where, params, parse_model(model, f"GET {where}"), cache)


def list_endpoint(model: type[M], where: str, params: Params | None = None,
                  *keys: str) -> Endpoint[list[M]]:
    return Endpoint(where, params, parse_list(model, f"GET {where}", *keys))
