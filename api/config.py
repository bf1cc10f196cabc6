"""Settings: where to connect, with which credentials, and where files live.

Sources, lowest precedence first (each field comes from the highest source that sets it):

1. the ``default_profile`` of ``config.toml`` (if any),
2. the environment: ``STUDIO_API_TOKEN``, ``STUDIO_PROJECT_ID``, ``STUDIO_API_URL``,
3. a profile named explicitly (``load_settings(profile=...)``, i.e. ``--profile``, or the
   ``STUDIO_TUI_PROFILE`` environment variable),
4. explicit arguments (command-line flags).

``config.toml`` lives in the config dir (``STUDIO_TUI_CONFIG_DIR``, else platformdirs'
``user_config_dir("studio-tui")``)::

    default_profile = "prod"

    [profiles.prod]
    token = "sbs_..."
    project_id = "..."
    api_url = "https://api.studiochat.io"   # optional

A top-level ``theme = "nord"`` picks the terminal UI's theme (``read_theme``; the UI and
``studio-tui theme NAME`` write it).

No token at all means the embedded demo backend (``Settings.demo``); its project id and key are
filled in by the client from ``api.demo.demo_transport()`` when it starts, not here.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple, NoReturn, TypedDict

import platformdirs

from .errors import ConfigError

__all__ = [
    "Secret",
    "Settings",
    "load_settings",
    "public_url",
    "paths",
    "config_dir",
    "cache_dir",
    "data_dir",
    "read_config",
    "read_theme",
    "THEME_KEY",
    "DEFAULT_API_URL",
    "DEMO_BASE_URL",
    "CONFIG_FILE_NAME",
]

APP_NAME = "studio-tui"
DEFAULT_API_URL = "https://api.studiochat.io"
DEMO_BASE_URL = "http://demo.studio.local"  # the client takes DemoInfo.base_url at start
CONFIG_FILE_NAME = "config.toml"
RESPONSE_CACHE_DIR = "responses-v1"
REVIEW_STORE_FILE = "reviews.sqlite3"  # in the data dir (api.reviews)
PROFILE_KEYS = ("token", "project_id", "api_url")
THEME_KEY = "theme"  # top-level key of config.toml


def public_url(url: str) -> str:
    """``url`` without its userinfo (``user:password@``): the form to show, log or key a cache
    on. Everything else is kept as is, so a URL without credentials comes back unchanged."""
    scheme_end = url.find("://")
    start = scheme_end + 3 if scheme_end >= 0 else 0
    # the authority ends at the path; an unencoded "?" or "#" in a password must not end it
    # here, or the rest of the password would be shown
    end = url.find("/", start)
    at = url.rfind("@", start, len(url) if end < 0 else end)
    return url if at < 0 else url[:start] + url[at + 1:]


class Secret:
    """A credential that never shows itself: ``str``, ``repr`` and ``format`` give ``****``.

    Call ``reveal()`` at the one place that needs the value (building the auth header).
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        object.__setattr__(self, "_value", str(value))

    def reveal(self) -> str:
        return self._value

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return "Secret('****')"

    def __str__(self) -> str:
        return "****"

    def __format__(self, spec: str) -> str:
        return "****"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        import hmac  # off the start-up path

        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> NoReturn:  # never pickle a credential by accident
        raise TypeError("Secret cannot be pickled")

    def __copy__(self) -> Secret:  # immutable: copies are the object itself
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


class _CommonSettings(TypedDict):
    """The fields of ``Settings`` that the demo and a real API set alike."""

    profile: str | None
    cache_dir: Path
    config_dir: Path
    data_dir: Path
    offline: bool
    demo_size: int
    demo_seed: int
    demo_anchor: str | None


class Settings(NamedTuple):
    base_url: str
    project_id: str | None
    token: Secret | None
    profile: str | None
    demo: bool
    cache_dir: Path
    config_dir: Path
    # what the user made (reviews, session state): kept apart from the cache, which may be
    # cleared at any time
    data_dir: Path
    offline: bool = False
    demo_size: int = 5000
    demo_seed: int = 7
    demo_anchor: str | None = None  # YYYY-MM-DD; None = today (UTC)
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE_NAME

    @property
    def response_cache_dir(self) -> Path:
        return self.cache_dir / RESPONSE_CACHE_DIR

    def __repr__(self) -> str:
        # the usual repr, with the API URL's credentials left out
        values = self._asdict()
        values["base_url"] = public_url(self.base_url)
        return f"Settings({', '.join(f'{k}={v!r}' for k, v in values.items())})"

    def describe(self) -> str:
        """One line for a status bar or ``locate``: never contains the token nor the URL's
        credentials."""
        if self.demo:
            return f"DEMO backend (embedded, {self.demo_size:,} conversations)"
        source = f"profile {self.profile}" if self.profile else "environment"
        return f"project {self.project_id} at {public_url(self.base_url)} ({source})"

    def replace(self, **changes: Any) -> Settings:
        return self._replace(**changes)


def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("STUDIO_TUI_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME))


def cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("STUDIO_TUI_CACHE_DIR") or platformdirs.user_cache_dir(APP_NAME))


def data_dir(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("STUDIO_TUI_DATA_DIR") or platformdirs.user_data_dir(APP_NAME))


def read_config(path: Path) -> dict[str, Any]:
    """The parsed ``config.toml`` at ``path`` (``{}`` when absent), also for the modules that
    read their own tables of it; a malformed or unreadable file raises ``ConfigError``."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    import tomllib  # only when there is a file: off the start-up path otherwise

    try:
        with fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot parse {path}: {exc}") from None
    except UnicodeDecodeError:  # (tomllib decodes the bytes itself)
        raise ConfigError(f"cannot parse {path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    return data


def _profiles(config: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    profiles = config.get("profiles", {})
    if not isinstance(profiles, dict) or not all(isinstance(v, dict) for v in profiles.values()):
        raise ConfigError(f"{path}: [profiles.NAME] tables expected")
    return profiles


def profile_setting(settings: Settings, key: str) -> str | None:
    """A string setting of the active profile (``[profiles.NAME] key = "..."``), else of the
    file's top level; None when absent (or on the demo backend without either)."""
    path = settings.config_file
    config = read_config(path)
    values: Any = config.get(key)
    if settings.profile:
        profile = _profiles(config, path).get(settings.profile, {})
        values = profile.get(key, values)
    if values is not None and not isinstance(values, str):
        raise ConfigError(f"{path}: {key} must be a string")
    return values or None


def read_theme(path: Path) -> str | None:
    """The top-level ``theme = "NAME"`` of the config file at ``path`` (a Textual theme, for
    every profile alike: it is the terminal's, not the API's), or None; not a string raises
    ``ConfigError``. Whether the name exists is the UI's to check."""
    value = read_config(path).get(THEME_KEY)
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{path}: {THEME_KEY} must be a string")
    return value or None


def _profile_values(config: dict[str, Any], name: str, path: Path) -> dict[str, str]:
    profiles = _profiles(config, path)
    if name not in profiles:
        known = ", ".join(sorted(profiles)) or "none defined"
        raise ConfigError(f"unknown profile {name!r} (known: {known}) in {path}")
    values = {}
    for key in PROFILE_KEYS:
        value = profiles[name].get(key)
        if value is not None and value != "":
            if not isinstance(value, str):
                raise ConfigError(f"{path}: profiles.{name}.{key} must be a string")
            values[key] = value
    return values


def _env_values(env: Mapping[str, str]) -> dict[str, str]:
    pairs = (
        ("token", "STUDIO_API_TOKEN"),
        ("project_id", "STUDIO_PROJECT_ID"),
        ("api_url", "STUDIO_API_URL"),
    )
    return {key: env[var].strip() for key, var in pairs if env.get(var, "").strip()}


def _int_env(env: Mapping[str, str], var: str, default: int) -> int:
    raw = env.get(var, "").strip()
    if not raw:
        return default
    try:
        return int(raw.replace("_", ""))
    except ValueError:
        raise ConfigError(f"{var} must be an integer, not {raw!r}") from None


def _checked_token(token: str) -> str:
    """The token without surrounding whitespace; one that is not printable ASCII (it could
    not go in an HTTP header) raises ``ConfigError``, whose message never shows the token."""
    token = token.strip()
    if not all("!" <= ch <= "~" for ch in token):
        raise ConfigError(
            "the API token contains non-ASCII, space or control characters: check "
            "STUDIO_API_TOKEN, --token or the profile's token (a copy-paste accident?)")
    return token


def _url_problem(url: str) -> str | None:
    """What is wrong with an API URL (checked here so that it fails as one clear line, before
    any connection is tried), or None."""
    from urllib.parse import urlsplit

    if not url.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return "invalid port (1-65535)" if "port" in str(exc).lower() else "invalid URL"
    if port == 0:
        return "invalid port (1-65535)"
    if not parts.hostname:
        return "no host name"
    return None


def load_settings(
    profile: str | None = None,
    *,
    token: str | None = None,
    project_id: str | None = None,
    base_url: str | None = None,
    offline: bool = False,
    env: Mapping[str, str] = os.environ,
) -> Settings:
    """Merge the sources (see the module docstring) into ``Settings``.

    Raises ``ConfigError`` for an unknown profile, an unreadable config file, a token that is
    not printable ASCII (surrounding whitespace is stripped), or a token without a project id.
    """
    cfg_dir = config_dir(env)
    cfg_path = cfg_dir / CONFIG_FILE_NAME
    config = read_config(cfg_path)
    named = profile or env.get("STUDIO_TUI_PROFILE", "").strip() or None
    default = config.get("default_profile") if not named else None
    if default is not None and not isinstance(default, str):
        raise ConfigError(f"{cfg_path}: default_profile must be a string")

    merged: dict[str, str] = {}
    if default:
        merged.update(_profile_values(config, default, cfg_path))
    merged.update(_env_values(env))
    if named:
        merged.update(_profile_values(config, named, cfg_path))
    explicit = {"token": token, "project_id": project_id, "api_url": base_url}
    merged.update({k: v for k, v in explicit.items() if v})

    common = _CommonSettings(
        profile=named or default or None,
        cache_dir=cache_dir(env),
        config_dir=cfg_dir,
        data_dir=data_dir(env),
        offline=offline,
        demo_size=_int_env(env, "STUDIO_DEMO_SIZE", 5000),
        demo_seed=_int_env(env, "STUDIO_DEMO_SEED", 7),
        demo_anchor=env.get("STUDIO_DEMO_ANCHOR", "").strip() or None,
    )
    token_value = _checked_token(merged.get("token", ""))
    if not token_value:
        return Settings(base_url=DEMO_BASE_URL, project_id=None, token=None, demo=True, **common)
    if not merged.get("project_id"):
        raise ConfigError(
            "a token is set but no project id: set STUDIO_PROJECT_ID, pass --project-id, "
            "or add project_id to the profile"
        )
    url = merged.get("api_url", DEFAULT_API_URL).rstrip("/")
    problem = _url_problem(url)
    if problem:
        if base_url:
            origin = "--api-url"
        elif named and "api_url" in _profile_values(config, named, cfg_path):
            origin = f"api_url of profile {named!r}"
        elif "api_url" in _env_values(env):
            origin = "STUDIO_API_URL"
        else:
            origin = f"api_url of profile {default!r}"
        raise ConfigError(f"{origin} {public_url(url)!r}: {problem}")
    return Settings(
        base_url=url,
        project_id=merged["project_id"],
        token=Secret(token_value),
        demo=False,
        **common,
    )


def paths(settings: Settings | None = None, env: Mapping[str, str] = os.environ) -> dict[str, Path]:
    """Where things live, for ``studio-tui locate``."""
    cfg = settings.config_dir if settings else config_dir(env)
    cache = settings.cache_dir if settings else cache_dir(env)
    return {
        "config dir": cfg,
        "config file": cfg / CONFIG_FILE_NAME,
        "cache dir": cache,
        "response cache": cache / RESPONSE_CACHE_DIR,
        "demo database dir": cache / "demo",
        "data dir": settings.data_dir if settings else data_dir(env),
        "review store": (settings.data_dir if settings else data_dir(env)) / REVIEW_STORE_FILE,
    }
