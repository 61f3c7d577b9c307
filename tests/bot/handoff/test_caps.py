"""Ticket floods: a commune's officers get at most so many alerts an hour; the rest wait."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.communes.models import Commune
from bot.db import session_scope
from bot.handoff import alerting, service
from bot.handoff.models import HandoffTicket, Officer
from bot.outbox import OutboxMessage
from tests.auxil.clock import START

ROUTING = service.Routing(alerts_per_hour=3, realert_after=timedelta(minutes=30))


def flood(session, commune_id, count, *, at, first=0):
    for i in range(first, first + count):
        service.open_ticket(
            session,
            service.NewTicket(
                channel="web",
                sender=f"web:flood{i}",
                commune_id=commune_id,
                commune_label="xã",
                description="giup",
            ),
            now=at,
            routing=ROUTING,
        )


def alerts(session, chat):
    return session.scalar(
        select(func.count()).where(
            OutboxMessage.destination == str(chat), OutboxMessage.kind.in_(("alert", "realert"))
        )
    )


def test_a_flood_of_tickets_reaches_a_communes_officers_a_few_an_hour(session_factory):
    with session_scope(session_factory) as session:
        xop = session.scalars(select(Commune).where(Commune.name == "Xốp")).one()
        bla = session.scalars(select(Commune).where(Commune.name == "Đăk Bla")).first()
        session.add(Officer(name="Hùng", telegram_user_id=101, commune_id=xop.id))
        session.add(Officer(name="Mai", telegram_user_id=202, commune_id=bla.id))
        session.flush()
        flood(session, xop.id, 10, at=START)
        flood(session, bla.id, 1, at=START, first=100)
        assert alerts(session, 101) == 3  # the cap
        assert alerts(session, 202) == 1  # another commune is not affected
        assert session.scalar(select(func.count()).select_from(HandoffTicket)) == 11  # all kept
        flood(session, xop.id, 2, at=START + timedelta(minutes=61), first=200)
        assert alerts(session, 101) == 5  # a new hour
        # the ones that waited are in the re-alert round, itself under the cap
        alerting.sweep(session, now=START + timedelta(minutes=62), routing=ROUTING)
        assert alerts(session, 101) == 6
