"""The handoff's rules in the outbox: an alert of a ticket taken meanwhile never goes out;
an alert that went out is remembered, so an officer's reply to it finds the ticket."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.communes.models import Commune
from bot.db import Database, session_scope
from bot.handoff import alerting
from bot.handoff.models import AlertMessage, HandoffTicket, TicketStatus
from bot.outbox import Delivered, OutboxMessage, OutboxWorker
from tests.auxil.clock import FakeClock

CHAT = -100555


class Telegram:
    """Stands for the Telegram sender: each alert gets the next message id."""

    def __init__(self) -> None:
        self.sent: list[int | None] = []

    def prepare(self, session, job):
        return job

    async def deliver(self, job):
        self.sent.append(job.subject_id)
        return Delivered(message_id=900 + len(self.sent))


def open_tickets(session_factory, clock, n):
    with session_scope(session_factory) as session:
        commune = session.scalars(select(Commune).order_by(Commune.id)).first()
        commune.officer_chat_id = CHAT
        tickets = [
            HandoffTicket(channel="web", sender=f"web:hook-{i}", commune_id=commune.id)
            for i in range(n)
        ]
        session.add_all(tickets)
        session.flush()
        for ticket in tickets:
            alerting.alert_officers(
                session, ticket, level=0, now=clock(), routing=alerting.Routing()
            )
        return [t.id for t in tickets]


def test_an_alert_goes_out_only_while_its_ticket_is_open(session_factory):
    clock = FakeClock()
    still_open, taken = open_tickets(session_factory, clock, 2)
    with session_scope(session_factory) as session:  # claimed from the console meanwhile
        session.get_one(HandoffTicket, taken).status = TicketStatus.CLAIMED
    telegram = Telegram()
    worker = OutboxWorker(
        Database(session_factory, threads=2),
        {"telegram": telegram},
        hooks=[alerting.TicketHook()],
        clock=clock,
    )
    asyncio.run(worker.drain())
    assert telegram.sent == [still_open]
    with session_scope(session_factory) as session:
        [alert] = session.scalars(select(AlertMessage)).all()
        assert (alert.ticket_id, alert.chat_id, alert.message_id) == (still_open, CHAT, 901)
        skipped = session.scalars(
            select(OutboxMessage).where(OutboxMessage.subject_id == taken)
        ).one()
        assert skipped.last_error == "skipped: the ticket was taken or closed before sending"
