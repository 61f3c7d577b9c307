"""The channel boundary: what every citizen channel shares, written once.

A channel (``Adapter``) does two things of its own: it turns a stored update into an
``Incoming`` message (``parse``) and the assistant's replies into outbox payloads in its
platform's shape (``render``); its ``Sender`` (``bot.outbox``) delivers them. Everything
else is the ``Front``'s, the same on every channel:

- an update is stored once, under its platform id (``bot.channels.inbound``), before it is
  answered: a redelivered update is ignored, one left by a crash is answered later;
- one citizen's updates are answered one after the other, in order; different citizens
  side by side;
- what the assistant cannot read (a photo, a sticker, a voice note) gets the fixed replies
  of ``bot.chat.messages``, without a Rasa turn;
- the replies are queued in the outbox in the transaction that marks the update handled,
  under keys made from the update's id, so a retry never sends them twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.channels import inbound
from bot.chat import messages
from bot.chat.identity import Channel, Citizen
from bot.chat.ordering import KeyedLocks
from bot.chat.schemas import OutgoingMessage
from bot.chat.service import Gateway
from bot.db import Clock, Database
from bot.faq.fixed import Fixed
from bot.outbox import Poller, enqueue

__all__ = ["Adapter", "Front", "Incoming", "Media"]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# an update is answered within the gateway's limits (Rasa timeout, queue wait): well under this
LEASE = timedelta(seconds=60)


class Media(StrEnum):
    """What a citizen sent that the assistant cannot read."""

    PHOTO = "photo"  # maybe a screenshot of an error: ask for its words
    OTHER = "other"  # stickers, voice, files, locations: please type


_MEDIA_REPLY = {Media.PHOTO: messages.PHOTO, Media.OTHER: messages.NOT_TEXT}


@dataclass(frozen=True)
class Incoming:
    """A citizen's update in the one shape every channel turns its own into.

    ``texts`` are asked in order (a command can be two: ``/restart`` then ``/greet``);
    ``media`` gets its fixed reply; ``reply`` is one the channel gives itself (its help).
    """

    citizen: Citizen
    texts: tuple[str, ...] = ()
    media: Media | None = None
    reply: Fixed | None = None


class Adapter(Protocol):
    """One citizen channel's own part: its updates in, its replies out."""

    channel: Channel

    def parse(self, payload: dict[str, Any]) -> Incoming:
        """The message a stored update holds."""
        ...

    def render(self, replies: Sequence[OutgoingMessage]) -> list[dict[str, Any]]:
        """The outbox payloads that show ``replies`` on this platform, in order."""
        ...


class Front(Poller):
    """Stores a channel's updates, answers each once through the gateway, queues the replies.

    Safe in several replicas: an update is answered by the replica that leases it.
    """

    def __init__(
        self,
        db: Database,
        adapter: Adapter,
        *,
        gateway: Gateway,
        clock: Clock,
        wake_outbox: Callable[[], None],
    ) -> None:
        self._db = db
        self._adapter = adapter
        self._source = adapter.channel.value
        self._prefix = adapter.channel.prefix
        self._gateway = gateway
        self._clock = clock
        self._wake_outbox = wake_outbox
        self._citizens = KeyedLocks()
        super().__init__()

    async def store(self, event_id: str, payload: dict[str, Any]) -> int | None:
        """Keep the update (durably) to answer it later; None if it came before."""
        row_id = await self._db.run(
            partial(inbound.receive, source=self._source, event_id=event_id, payload=payload)
        )
        if row_id is not None:
            self.wake()
        return row_id

    async def take(self, event_id: str, payload: dict[str, Any], sender: str) -> None:
        """Store the update and answer it now, after the citizen's earlier ones."""
        async with self._citizens.hold(sender):  # first thing: keeps the citizen's order
            row_id = await self._db.run(
                partial(inbound.receive, source=self._source, event_id=event_id, payload=payload)
            )
            if row_id is not None:
                await self._handle(row_id, event_id, payload)

    async def run_forever(self, stop: asyncio.Event, *, poll_s: float = 1.0) -> None:
        """Answer stored updates until ``stop`` is set (also those left by a crash)."""
        await self._poll(stop, self.handle_pending, poll_s=poll_s, name=self._source)

    async def handle_pending(self, *, batch: int = 100, parallel: int = 32) -> int:
        """Answer stored updates not yet handled; return how many were tried.

        Different citizens are answered side by side (``parallel`` at a time); one
        citizen's updates one after the other, in the order they came.
        """
        rows = await self._db.run(
            partial(inbound.pending, source=self._source, now=self._clock(), batch=batch)
        )
        by_citizen: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        for row in rows:
            by_citizen.setdefault(self._sender_of(row[2]), []).append(row)
        slots = asyncio.Semaphore(parallel)

        async def in_order(sender: str, events: list[tuple[int, str, dict[str, Any]]]) -> None:
            async with slots, self._citizens.hold(sender):
                for event in events:
                    await self._handle(*event)

        await asyncio.gather(*(in_order(s, events) for s, events in by_citizen.items()))
        return len(rows)

    def _sender_of(self, payload: dict[str, Any]) -> str:
        try:
            return self._adapter.parse(payload).citizen.sender
        except Exception:  # answered (and failed) on its own
            return ""

    async def _handle(self, row_id: int, event_id: str, payload: dict[str, Any]) -> None:
        """Lease the update, ask the gateway (no session open), then queue the replies.

        Queuing and marking the update handled share a transaction; the replies' keys
        make a retry harmless.
        """
        try:
            claimed = await self._db.run(
                partial(inbound.claim, row_id=row_id, now=self._clock(), lease=LEASE)
            )
            if not claimed:  # another replica has it, or it was handled meanwhile
                return
            message = self._adapter.parse(payload)
            payloads = self._adapter.render(await self._replies(message))
            await self._db.run(
                partial(
                    self._answered,
                    row_id=row_id,
                    key=f"{self._prefix}:{event_id}",
                    sender=message.citizen.sender,
                    payloads=payloads,
                    now=self._clock(),
                )
            )
        except Exception as exc:  # rolled back: the update stays pending, up to 5 tries
            await self._db.run(
                partial(inbound.failed, row_id=row_id, exc=exc, max_attempts=MAX_ATTEMPTS)
            )
            return
        self._wake_outbox()

    async def _replies(self, message: Incoming) -> list[OutgoingMessage]:
        if message.reply is not None:
            return [await self._gateway.say(message.reply)]
        if message.media is not None:
            return [await self._gateway.say(_MEDIA_REPLY[message.media])]
        replies: list[OutgoingMessage] = []
        for text in message.texts:
            replies += await self._gateway.answer(message.citizen, text)
        return replies

    def _answered(
        self,
        session: Session,
        *,
        row_id: int,
        key: str,
        sender: str,
        payloads: list[dict[str, Any]],
        now: datetime,
    ) -> None:
        for i, payload in enumerate(payloads):
            enqueue(
                session,
                channel=self._source,
                destination=sender,
                kind="reply",
                payload=payload,
                dedupe_key=f"{key}:{i}",
                now=now,
            )
        inbound.finish(session, row_id)
