"""Settings for tests: real secrets shape, temporary database."""

from __future__ import annotations

import secrets

from bot.config import Settings


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Build settings without reading the developer's .env."""
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": secrets.token_urlsafe(32),
        "rasa_token": secrets.token_urlsafe(24),
        # one test process builds hundreds of apps: none freezes its heap (test_heap.py does)
        "gc_freeze": False,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
