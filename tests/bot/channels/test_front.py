"""The channel boundary's shared part: once per update, in order per citizen, fixed replies
for what cannot be read, replies queued with the update marked handled, crashes survived."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from sqlalchemy import select

from bot.channels.front import Front, Incoming, Media
from bot.channels.inbound import InboundEvent
from bot.chat import messages
from bot.chat.identity import Channel, Citizen
from bot.chat.rasa_client import RasaClient
from bot.chat.service import Gateway
from bot.db import Database, session_scope
from bot.outbox import OutboxMessage
from tests.auxil.clock import FakeClock


class Adapter:
    """A made-up platform: stored updates are {"user", "text"} or {"user", "media"}."""

    channel = Channel.ZALO

    def parse(self, payload: dict[str, Any]) -> Incoming:
        citizen = Citizen.zalo(payload["user"])
        if "media" in payload:
            return Incoming(citizen, media=Media(payload["media"]))
        return Incoming(citizen, texts=(payload["text"],))

    def render(self, replies):
        return [{"text": r.text.upper()} for r in replies]


class Rasa:
    """Rasa's webhook on a mock transport: answers "re: <text>", or fails while ``down``."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.down = False

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            return httpx.Response(500)
        message = json.loads(request.content)["message"]
        self.asked.append(message)
        await asyncio.sleep(0.01)
        return httpx.Response(200, json=[{"text": f"re: {message}"}])


def make_front(session_factory, rasa: Rasa, adapter=None) -> tuple[Front, list[int]]:
    db = Database(session_factory, threads=4)
    client = RasaClient(httpx.AsyncClient(transport=httpx.MockTransport(rasa)), "http://rasa")
    woken: list[int] = []
    front = Front(
        db,
        adapter or Adapter(),
        gateway=Gateway(db, client),
        clock=FakeClock(),
        wake_outbox=lambda: woken.append(1),
    )
    return front, woken


def outbox(session_factory) -> list[tuple[str, str, str]]:
    with session_scope(session_factory) as session:
        rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        return [(r.destination, r.dedupe_key, r.payload["text"]) for r in rows]


def statuses(session_factory) -> list[str]:
    with session_scope(session_factory) as session:
        return list(session.scalars(select(InboundEvent.status).order_by(InboundEvent.id)))


def test_an_update_delivered_twice_is_answered_once(session_factory):
    rasa = Rasa()
    front, woken = make_front(session_factory, rasa)

    async def go():
        for _ in range(2):  # the platform redelivers the same update
            await front.take("u1", {"user": "7", "text": "otp khong ve"}, "zalo:7")

    asyncio.run(go())
    assert rasa.asked == ["otp khong ve"]
    assert outbox(session_factory) == [("zalo:7", "zalo:u1:0", "RE: OTP KHONG VE")]
    assert statuses(session_factory) == ["done"] and woken == [1]


def test_what_cannot_be_read_gets_the_fixed_replies_without_rasa(session_factory):
    rasa = Rasa()
    front, _ = make_front(session_factory, rasa)

    async def go():
        await front.take("p", {"user": "7", "media": "photo"}, "zalo:7")
        await front.take("s", {"user": "7", "media": "other"}, "zalo:7")

    asyncio.run(go())
    assert rasa.asked == []
    texts = [text for _, _, text in outbox(session_factory)]
    assert texts == [messages.PHOTO.text.upper(), messages.NOT_TEXT.text.upper()]


def test_stored_updates_are_answered_later_in_order_per_citizen(session_factory):
    """Updates stored and not answered (a webhook, or a crash before answering) are
    answered by the background loop: each citizen's in the order they came."""
    rasa = Rasa()
    front, _ = make_front(session_factory, rasa)

    async def go():
        for i in range(3):
            for user in ("1", "2"):
                assert await front.store(f"{user}-{i}", {"user": user, "text": f"{user}/{i}"})
        assert await front.store("1-0", {"user": "1", "text": "again"}) is None  # redelivered
        return await front.handle_pending()

    assert asyncio.run(go()) == 6
    for user in ("1", "2"):
        assert [m for m in rasa.asked if m.startswith(user)] == [f"{user}/{i}" for i in range(3)]
    assert statuses(session_factory) == ["done"] * 6


def test_a_failing_update_is_retried_then_given_up(session_factory):
    rasa = Rasa()
    front, _ = make_front(session_factory, rasa)

    async def go():
        await front.store("x", {"user": "9", "text": "hello"})
        rasa.down = True
        await front.handle_pending()  # Rasa down: the busy reply is still an answer
        return outbox(session_factory)

    [(_, _, text)] = asyncio.run(go())
    assert text == messages.BUSY.text.upper()  # the citizen hears back even when Rasa is down

    class Broken(Adapter):
        def render(self, replies):
            raise RuntimeError("cannot render")

    front, _ = make_front(session_factory, rasa, Broken())

    async def retry():
        await front.store("y", {"user": "9", "text": "hello"})
        for _ in range(6):
            await front.handle_pending()

    asyncio.run(retry())
    with session_scope(session_factory) as session:
        event = session.scalars(select(InboundEvent).where(InboundEvent.event_id == "y")).one()
        assert (event.status, event.attempts) == ("dead", 5)
        assert "cannot render" in event.last_error
