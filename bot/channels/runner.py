"""Start and stop what runs beside the web app.

Telegram, Zalo, the outbox worker and its periodic jobs (the alert sweep, the retention
purge).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

import httpx
from fastapi import FastAPI

from bot.campaign import reminders
from bot.channels.telegram import ALLOWED_UPDATES, OfficerDesk, TelegramSender, build_application
from bot.channels.telegram.campaign import CampaignDesk
from bot.channels.telegram.citizens import CitizenFront
from bot.channels.zalo import ZaloBridge, ZaloSender, ZaloTokens
from bot.chat.inbox import WebInboxSender
from bot.config import Settings
from bot.db import Clock, Database
from bot.handoff import alerting, service
from bot.outbox import OutboxWorker, Sender
from bot.privacy import retention

logger = logging.getLogger(__name__)

__all__ = ["running"]

SWEEP_EVERY = timedelta(seconds=30)


@asynccontextmanager
async def running(app: FastAPI, settings: Settings, *, clock: Clock) -> AsyncIterator[None]:
    """Run Telegram (webhook or polling) and the outbox worker for the app's lifetime."""
    db: Database = app.state.db
    routing = service.Routing.from_settings(settings)
    senders: dict[str, Sender] = {"web": WebInboxSender()}
    zalo_http = None
    if settings.zalo_enabled:
        zalo_http = httpx.AsyncClient(timeout=httpx.Timeout(settings.zalo_timeout_s, connect=5.0))
        tokens = ZaloTokens(db, settings=settings, http=zalo_http, clock=clock)
        senders["zalo"] = ZaloSender(tokens, http=zalo_http, api_url=settings.zalo_api_url)
    application = None
    if settings.telegram_bot_token is not None:
        application = build_application(settings, polling=settings.telegram_webhook_url is None)
        senders["telegram"] = TelegramSender(application.bot)
    worker = OutboxWorker(
        db,
        senders,
        hooks=[alerting.TicketHook()],
        clock=clock,
        max_attempts=settings.outbox_max_attempts,
        # one send may take connect (5 s) + write + read timeouts, plus pacing: the lease
        # must outlast it, or another replica sends the row again
        lease_s=max(settings.outbox_lease_s, 3 * settings.telegram_timeout_s + 15),
    )
    app.state.outbox = worker
    app.state.telegram = application
    app.state.zalo = None
    if zalo_http is not None:
        app.state.zalo = ZaloBridge(
            db, gateway=app.state.gateway, settings=settings, clock=clock, wake_outbox=worker.wake
        )
    fronts = [app.state.zalo] if app.state.zalo is not None else []
    if application is not None:
        desk = OfficerDesk(db, clock=clock, routing=routing)
        desk.register(application)
        campaign = CampaignDesk(db, clock=clock)
        campaign.register(application)
        desk.drafts = campaign.on_answer
        citizens = CitizenFront(
            db,
            gateway=app.state.gateway,
            clock=clock,
            wake=worker.wake,
            desk=desk,
        )
        citizens.register(application)
        fronts.append(citizens.front)
        await application.initialize()
        await application.start()
        if application.updater is not None:  # long polling (no webhook URL)
            await application.bot.delete_webhook()
            await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        else:
            secret = settings.telegram_webhook_secret
            await application.bot.set_webhook(
                url=f"{settings.telegram_webhook_url}",
                secret_token=secret.get_secret_value() if secret else None,
                allowed_updates=ALLOWED_UPDATES,
            )
    last_sweep = [clock() - SWEEP_EVERY]
    purger = retention.Purger(
        db,
        days=settings.retention_days,
        tracker_url=settings.tracker_url,
        every=timedelta(minutes=settings.retention_every_minutes),
        clock=clock,
    )

    remind_every = timedelta(seconds=settings.reminders_every_s)
    last_reminders = [clock() - remind_every]

    async def tick() -> None:
        await purger.maybe_run()
        if clock() - last_reminders[0] >= remind_every:
            # the reminders due (each sent by whichever replica moves it first)
            now = last_reminders[0] = clock()
            sent = await db.run(lambda session: reminders.run_due(session, now=now).sent)
            if sent:
                worker.wake()
        if clock() - last_sweep[0] < SWEEP_EVERY:
            return
        now = last_sweep[0] = clock()
        await db.run(lambda session: alerting.sweep(session, now=now, routing=routing))

    stop = asyncio.Event()
    # each channel's stored updates: those that came by webhook, or that a crash left
    tasks = [
        asyncio.create_task(front.run_forever(stop, poll_s=settings.outbox_poll_s))
        for front in fronts
    ]
    if settings.outbox_worker:
        tasks.append(
            asyncio.create_task(worker.run_forever(stop, poll_s=settings.outbox_poll_s, tick=tick))
        )
    try:
        yield
    finally:
        stop.set()
        worker.wake()
        for front in fronts:
            front.wake()
        for running_task in tasks:
            with suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(running_task, timeout=15)
        purger.close()
        if zalo_http is not None:
            await zalo_http.aclose()
        if application is not None:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()
            await application.shutdown()
