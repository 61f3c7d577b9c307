"""Stored Zalo events answered in the background, once each, through the gateway."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from bot.channels import inbound
from bot.channels.zalo.sender import TEXT_LIMIT
from bot.channels.zalo.webhook import MEDIA_EVENTS, verify_signature
from bot.chat import messages
from bot.chat.identity import Channel, Citizen
from bot.chat.render import split_text
from bot.chat.schemas import OutgoingMessage
from bot.chat.service import Gateway
from bot.config import Settings
from bot.db import Database
from bot.outbox import (
    Clock,
    Poller,
    enqueue,
)

__all__ = ["CHANNEL", "EVENT_LEASE", "MAX_BUBBLES", "ZaloBridge", "merge_bubbles"]

logger = logging.getLogger(__name__)

CHANNEL = Channel.ZALO.value
MAX_BUBBLES = 8  # free "reply" messages per citizen message
_MAX_EVENT_ATTEMPTS = 5
# an event is answered within the gateway's limits (Rasa timeout, queue wait): well under this
EVENT_LEASE = timedelta(seconds=60)


# --- handling stored events -------------------------------------------------------------
def merge_bubbles(
    replies: Sequence[OutgoingMessage], limit: int = MAX_BUBBLES
) -> list[OutgoingMessage]:
    """At most ``limit`` bubbles: the first ones are merged into one (its text, in order)."""
    parts: list[OutgoingMessage] = []
    for reply in replies:
        chunks = split_text(reply.text, TEXT_LIMIT) or [reply.text]
        parts += [OutgoingMessage(text=c) for c in chunks[:-1]]
        parts.append(OutgoingMessage(text=chunks[-1], buttons=reply.buttons))
    if len(parts) <= limit:
        return parts
    head, tail = parts[: len(parts) - limit + 1], parts[len(parts) - limit + 1 :]
    merged = OutgoingMessage(
        text="\n\n".join(p.text for p in head),
        buttons=next((p.buttons for p in reversed(head) if p.buttons), []),
    )
    return [merged, *tail]


class ZaloBridge(Poller):
    """Stores verified events, then answers them in the background, once each."""

    def __init__(
        self,
        db: Database,
        *,
        gateway: Gateway,
        settings: Settings,
        clock: Clock,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._db = db
        self._gateway = gateway
        self._settings = settings
        self._clock = clock
        self._wake_outbox = wake_outbox
        super().__init__()

    def verify(self, raw: bytes, header: str) -> bool:
        """Whether a webhook call really comes from Zalo, and recently."""
        secret = self._settings.zalo_oa_secret_key
        if secret is None or self._settings.zalo_app_id is None:
            return False
        return verify_signature(
            raw,
            header,
            app_id=self._settings.zalo_app_id,
            oa_secret_key=secret.get_secret_value(),
            now_ms=int(time.time() * 1000),
            window_s=self._settings.zalo_replay_window_s,
        )

    async def store(self, key: str, data: dict[str, Any]) -> bool:
        """Keep the event (durably) for the background loop; False if it was seen before."""
        stored = await self._db.run(
            partial(inbound.receive, source=CHANNEL, event_id=key, payload=data)
        )
        if stored:
            self.wake()
        return stored

    async def run_forever(self, stop: asyncio.Event, *, poll_s: float = 1.0) -> None:
        """Handle stored events until ``stop`` is set (also those left by a crash)."""
        await self._poll(stop, self.handle_pending, poll_s=poll_s, name="zalo")

    async def handle_pending(self, *, batch: int = 100, parallel: int = 32) -> int:
        """Answer stored events not yet handled; return how many were tried.

        Different citizens are answered side by side (``parallel`` at a time); one
        citizen's events one after the other, in the order they came.
        """
        rows = await self._db.run(
            partial(inbound.pending, source=CHANNEL, now=self._clock(), batch=batch)
        )
        by_citizen: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        for event_id, key, payload in rows:
            by_citizen.setdefault(_user_id(payload), []).append((event_id, key, payload))
        slots = asyncio.Semaphore(parallel)

        async def in_order(events: list[tuple[int, str, dict[str, Any]]]) -> None:
            async with slots:
                for event in events:
                    await self._handle(*event)

        await asyncio.gather(*(in_order(ids) for ids in by_citizen.values()))
        if rows:
            self._wake_outbox()
        return len(rows)

    async def _handle(self, event_id: int, key: str, data: dict[str, Any]) -> None:
        """Claim the event, ask the gateway (no session open), then queue the replies.

        Queuing and marking the event done share a transaction; the replies' keys make a
        retry harmless.
        """
        try:
            claimed = await self._db.run(
                partial(inbound.claim, row_id=event_id, now=self._clock(), lease=EVENT_LEASE)
            )
            if not claimed:  # another replica has it, or it was handled meanwhile
                return
            citizen = Citizen.zalo(_user_id(data))
            replies = merge_bubbles(await self._replies(citizen, data))
            now = self._clock()
            await self._db.run(
                partial(
                    _answered, event_id=event_id, key=key, citizen=citizen, replies=replies, now=now
                )
            )
        except Exception as exc:  # rolled back: the event stays pending, up to 5 tries
            await self._db.run(
                partial(inbound.failed, row_id=event_id, exc=exc, max_attempts=_MAX_EVENT_ATTEMPTS)
            )

    async def _replies(self, citizen: Citizen, data: dict[str, Any]) -> list[OutgoingMessage]:
        name = data.get("event_name")
        if name == "follow":
            text = "/greet"
        elif name == "user_send_image":
            return [messages.PHOTO]
        elif name in MEDIA_EVENTS:
            return [messages.NOT_TEXT]
        else:
            text = str((data.get("message") or {}).get("text") or "")
        return await self._gateway.answer(citizen, text)


def _user_id(data: dict[str, Any]) -> str:
    """The follower an event comes from."""
    who = data.get("sender") or data.get("follower") or {}
    return str(who.get("id") or data.get("user_id_by_app"))


def _answered(
    session: Session,
    *,
    event_id: int,
    key: str,
    citizen: Citizen,
    replies: list[OutgoingMessage],
    now: datetime,
) -> None:
    for i, reply in enumerate(replies):
        enqueue(
            session,
            channel=CHANNEL,
            destination=citizen.sender,
            kind="reply",
            payload={"text": reply.text, "buttons": [b.model_dump() for b in reply.buttons]},
            dedupe_key=f"zalo:{key}:{i}",
            now=now,
        )
    inbound.finish(session, event_id)
