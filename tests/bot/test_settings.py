"""Settings fail fast on placeholder secrets outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.config import Settings


def test_placeholder_secret_is_refused_in_production():
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(
            _env_file=None,
            environment="production",
            database_url="sqlite://",
            secret_key="changethis",
            rasa_token="x" * 32,
        )


def test_missing_secret_is_an_error(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("RASA_TOKEN", raising=False)
    with pytest.raises(ValidationError):
        Settings(_env_file=None, database_url="sqlite://")
