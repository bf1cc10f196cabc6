"""The last session of the explorer, so that a restart lands where the user left.

One small JSON file in the data dir per API base URL and project (a session of the demo never
reopens against production). Written atomically and owner-only; a missing, damaged or foreign
file is no session at all, never an error: restoring is a convenience.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, NamedTuple

from api.config import public_url
from api.dates import PRESETS, parse_window
from api.text import one_line

SESSION_DIR = "sessions"
NAMES_MAX = 3  # an assistant, a version and an inbox
NAME_MAX = 200


class SessionState(NamedTuple):
    """What the explorer showed: the view (or none), the filters in their text form, the date
    preset that produced the dates, the table's columns, the offset of its page and the
    highlighted conversation, and the conversation left open (if any)."""

    view: str | None = None
    query: str = ""
    preset: str | None = None
    window: str | None = None  # a view's relative window (`2w`) the dates came from
    columns: tuple[str, ...] | None = None
    review_filter: str = "all"
    offset: int = 0
    conversation_id: str | None = None
    open_conversation: bool = False
    # (id, name) of the ids the filters hold, as they were shown: shown again at once, before
    # the lookups load, so that the filter line keeps its height
    names: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_json(cls, data: Any) -> SessionState | None:
        if not isinstance(data, dict):
            return None
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in cls._fields or value is None:
                continue
            if name == "columns":
                if isinstance(value, list) and all(isinstance(v, str) for v in value):
                    values[name] = tuple(value)
            elif name == "offset":
                if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                    values[name] = value
            elif name == "open_conversation":
                if isinstance(value, bool):
                    values[name] = value
            elif name == "preset":
                if value in PRESETS:
                    values[name] = value
            elif name == "window":
                if isinstance(value, str) and _window_ok(value):
                    values[name] = value
            elif name == "names":
                if isinstance(value, list):
                    values[name] = _names(value)
            elif isinstance(value, str):
                values[name] = value
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        data = self._asdict()
        data["columns"] = list(self.columns) if self.columns is not None else None
        return data


def _names(value: list[Any]) -> tuple[tuple[str, str], ...]:
    """The (id, name) pairs of a session file, names made plain text (a file may be edited)."""
    pairs = (pair for pair in value[:NAMES_MAX] if isinstance(pair, list) and len(pair) == 2
             and all(isinstance(part, str) for part in pair))
    cleaned = ((some_id, one_line(name, NAME_MAX)) for some_id, name in pairs)
    return tuple((some_id, name) for some_id, name in cleaned if some_id and name)


def _window_ok(text: str) -> bool:
    try:
        parse_window(text)
    except ValueError:
        return False
    return True


def session_path(data_dir: Path, base_url: str, project_id: str) -> Path:
    """The session file of one API and project (a hash: the URL may be long or odd)."""
    key = f"{public_url(base_url)}\n{project_id}".encode()
    return data_dir / SESSION_DIR / f"{hashlib.sha256(key).hexdigest()[:24]}.json"


def load_session(path: Path) -> SessionState | None:
    try:
        text = path.read_text(encoding="utf-8")
        return SessionState.from_json(json.loads(text))
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def save_session(path: Path, state: SessionState) -> None:
    """Replace the session file at once (a crash leaves the old one or the new one)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".session-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:  # mkstemp: mode 0600
            json.dump(state.to_json(), file)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def forget_session(path: Path) -> None:
    path.unlink(missing_ok=True)
