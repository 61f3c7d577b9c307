"""The ASGI app: chat API, NLG endpoint, web chat and admin console."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext

import httpx
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from bot import admin, heap, web
from bot.admin import accounts as admin_accounts
from bot.admin import campaign as admin_campaign
from bot.admin import desk as admin_desk
from bot.admin import insights as admin_insights
from bot.analytics.recorder import TurnRecorder
from bot.campaign.listing import SessionFinder
from bot.channels import runner
from bot.channels import telegram as telegram_channel
from bot.channels import zalo as zalo_channel
from bot.chat import router as chat_router
from bot.chat.rasa_client import RasaClient
from bot.chat.service import Gateway, Limits
from bot.clock import system_clock
from bot.config import Settings, get_settings
from bot.db import Clock, Database, create_engine_from_url
from bot.faq import router as faq_router
from bot.faq.cache import ContentCache
from bot.modelops import router as modelops_router
from bot.modelops.jobs import Trainer
from bot.modelops.rasa_admin import RasaAdmin
from bot.modelops.serving import ModelServer
from bot.web.guards import BodyLimit, SecurityHeaders
from bot.web.rates import Buckets

logger = logging.getLogger(__name__)

__all__ = ["create_app"]

_INVALID = "Yêu cầu không hợp lệ. Cần gửi JSON có sender_id và text."


def body_limits(settings: Settings) -> Callable[[str], int]:
    """The largest request body each path takes (the console and /nlg take more)."""

    def limit_for(path: str) -> int:
        if path.startswith("/admin") or path == "/nlg":
            return settings.max_upload_bytes
        return settings.max_body_bytes

    return limit_for


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """Build the app; engines and clients are created in the lifespan, not at import.

    ``clock``: what tells the time (default: the process's, ``bot.clock.system_clock``).
    """
    settings = settings or get_settings()
    clock = clock or system_clock(settings)
    # Database work runs in a worker thread that needs the interpreter lock back after each
    # SQLite call; while the event loop is busy it waited up to the default 5 ms switch
    # interval every time. A 1 ms interval: burst of 50 citizens, same stack, three
    # alternations, chat API mean over Rasa-direct mean 1.18 -> 1.09 (median).
    sys.setswitchinterval(settings.switch_interval_ms / 1000)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine_from_url(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout_s=settings.db_pool_timeout_s,
        )
        app.state.session_factory = sessionmaker(engine, expire_on_commit=False)
        # SQLite takes one writer at a time: with one worker thread, writers queue here
        # instead of sleeping in SQLite's busy handler (tens of ms each under load)
        threads = 1 if engine.dialect.name == "sqlite" else settings.db_threads
        app.state.db = Database(app.state.session_factory, threads=threads)
        timeout = httpx.Timeout(settings.rasa_timeout_s, connect=2.0)
        limits = httpx.Limits(max_connections=100, max_keepalive_connections=20)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
            app.state.rasa = RasaClient(
                http,
                settings.rasa_urls,
                token=settings.rasa_token.get_secret_value(),
                slow_timeout_s=settings.rasa_swap_timeout_s,
            )
            app.state.content = ContentCache(app.state.db, refresh_s=settings.content_refresh_s)
            app.state.sessions = SessionFinder(app.state.db, clock=clock)
            app.state.gateway = Gateway(
                app.state.db,
                app.state.rasa,
                limits=Limits.from_settings(settings),
                clock=clock,
                texts=app.state.content,
            )
            model_api = RasaAdmin(http, settings.rasa_urls, settings.rasa_token.get_secret_value())
            server = ModelServer(app.state.db, settings, model_api, clock=clock)
            app.state.trainer = Trainer(app.state.db, settings, server, clock=clock)
            app.state.turns = TurnRecorder(
                app.state.db, clock=clock, interval_s=settings.analytics_flush_s
            )
            async with (
                app.state.turns.running(),
                app.state.content.running(),
                runner.running(app, settings, clock=clock),
            ):
                with heap.settled() if settings.gc_freeze else nullcontext():
                    yield
            await app.state.gateway.settle()
            await app.state.trainer.stop()
        engine.dispose()

    app = FastAPI(title="Trợ lý VNeID", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.clock = clock
    app.state.address_rates = Buckets(
        per_minute=settings.address_rate_per_minute, burst=settings.address_burst
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie="vneid_session",
        same_site="strict",
        https_only=settings.environment == "production",
        max_age=int(settings.console_session_hours * 3600),
    )
    # added last, so they run first: every response gets the headers, even a 413 or a 500
    app.add_middleware(BodyLimit, limit_for=body_limits(settings))
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = sorted({".".join(str(p) for p in e["loc"][1:]) for e in exc.errors()})
        return JSONResponse(
            status_code=422,
            content={"detail": f"{_INVALID} Trường lỗi: {', '.join(fields) or 'body'}."},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _unreadable(request: Request, exc: StarletteHTTPException) -> Response:
        # FastAPI's own 400 for a body that is not JSON (or not UTF-8): invalid input like
        # any other, in Vietnamese, as documented (bot/web/problems.py)
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            return JSONResponse(
                status_code=422, content={"detail": f"{_INVALID} Không đọc được nội dung gửi lên."}
            )
        return await http_exception_handler(request, exc)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(chat_router.router)
    app.include_router(faq_router.router)
    app.include_router(admin.router)
    app.include_router(admin_desk.router)  # before insights: /admin/export/officers.csv
    app.include_router(admin_campaign.router)  # before insights: /admin/export/campaign.csv
    app.include_router(admin_insights.router)
    app.include_router(modelops_router.router)
    app.include_router(admin_accounts.router)
    app.include_router(web.router)
    app.include_router(telegram_channel.webhook_router())
    app.include_router(zalo_channel.webhook_router())
    web.mount_static(app)
    return app
