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


def test_empty_optional_settings_mean_not_configured():
    from tests.auxil.settings import make_settings

    settings = make_settings(
        "sqlite://", telegram_bot_token="", telegram_webhook_url="", handoff_province_chat_id=""
    )
    assert settings.telegram_bot_token is None
    assert settings.telegram_webhook_url is None
    assert settings.handoff_province_chat_id is None


def test_a_webhook_without_a_secret_is_refused():
    import pytest
    from pydantic import ValidationError

    from tests.auxil.settings import make_settings

    with pytest.raises(ValidationError, match="TELEGRAM_WEBHOOK_SECRET"):
        make_settings("sqlite://", telegram_webhook_url="https://x.example/webhooks/telegram")
