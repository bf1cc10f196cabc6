"""The project the settings address, found without a client: their own, or for the demo the
one its database holds. For what needs only the scope (the review store), not the API."""
from __future__ import annotations

from api.config import Settings
from api.errors import ConfigError


def demo_params(settings: Settings) -> tuple[int, int, str]:
    """The demo's size, seed and anchor for ``settings``; ConfigError when one is bad."""
    from api.demo.files import resolve_params

    try:
        return resolve_params(settings.demo_size, settings.demo_seed, settings.demo_anchor)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def project_id(settings: Settings) -> str:
    """The project of ``settings``; for the demo, its database's (built on first use)."""
    if not settings.demo:
        return settings.project_id or ""
    from api.demo import demo_info
    from api.demo.generate import ensure_demo_db

    size, seed, anchor = demo_params(settings)
    return demo_info(ensure_demo_db(size=size, seed=seed, anchor=anchor)).project_id
