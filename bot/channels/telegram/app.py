"""The python-telegram-bot application and ``POST /webhooks/telegram``."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, HTTPException, Request, Response
from telegram import (
    Update,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
)
from telegram.request import HTTPXRequest

from bot.config import Settings

__all__ = ["ALLOWED_UPDATES", "build_application", "webhook_router"]

ALLOWED_UPDATES = ["message", "callback_query"]


def build_application(settings: Settings, *, polling: bool) -> Application:  # type: ignore[type-arg,unused-ignore]
    """A PTB application pointed at ``settings.telegram_api_url`` (a local fake in tests)."""
    if settings.telegram_bot_token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    timeout = settings.telegram_timeout_s
    request = HTTPXRequest(
        connection_pool_size=8, read_timeout=timeout, write_timeout=timeout, connect_timeout=5
    )
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.telegram_api_url.replace("/bot", "/file/bot"))
        .request(request)
        # the outbox retries by itself: the limiter only paces (no hidden retries)
        .rate_limiter(AIORateLimiter(max_retries=0))
        # updates are handled side by side (one chat's in order: citizens.py);
        # one at a time, a crowd of citizens would queue behind each other's Rasa turn
        .concurrent_updates(settings.telegram_concurrent_updates)
    )
    if not polling:
        builder = builder.updater(None)
    else:
        builder = builder.get_updates_request(
            HTTPXRequest(read_timeout=timeout + 30, connect_timeout=5)
        )
    return builder.build()


def webhook_router() -> APIRouter:
    """``POST /webhooks/telegram``: checks the secret in constant time, then dispatches."""
    router = APIRouter()

    @router.post("/webhooks/telegram", include_in_schema=False)
    async def telegram_webhook(request: Request) -> Response:
        settings: Settings = request.app.state.settings
        application = getattr(request.app.state, "telegram", None)
        secret = settings.telegram_webhook_secret
        if application is None or secret is None:
            raise HTTPException(status_code=404)
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
            raise HTTPException(status_code=403)
        try:
            data = await request.json()
            update = Update.de_json(data, application.bot)
        except Exception as exc:
            raise HTTPException(status_code=400, detail="not a Telegram update") from exc
        await application.process_update(update)
        return Response(status_code=200)

    return router
