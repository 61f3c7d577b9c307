"""Where a ticket's alerts go: the commune's officers, the province when nobody claims it.

Alerts are channel-free values (``bot.handoff.alerts``) put in the outbox, in the caller's
transaction, for the officers' channel (Telegram) to render and send.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.communes.models import Commune
from bot.config import Settings
from bot.db import as_utc
from bot.handoff import alerts
from bot.handoff.models import (
    AlertMessage,
    HandoffTicket,
    Officer,
    TicketStatus,
)
from bot.outbox import Delivered, Job, OutboxMessage, enqueue

logger = logging.getLogger(__name__)

__all__ = [
    "TELEGRAM",
    "Routing",
    "TicketHook",
    "alert_officers",
    "commune_chats",
    "edit_alerts",
    "sweep",
]

TELEGRAM = "telegram"  # the officers' channel


@dataclass(frozen=True)
class Routing:
    """Where alerts go when a commune has no one, and when to re-alert and escalate."""

    province_chat_id: int | None = None
    realert_after: timedelta = timedelta(minutes=30)
    escalate_after: timedelta = timedelta(minutes=120)
    tickets_per_day: int = 3  # one citizen's tickets in 24 hours
    alerts_per_hour: int = 30  # alerts to one commune's chats in an hour (a flood waits)

    @classmethod
    def from_settings(cls, settings: Settings) -> Routing:
        """The routing the settings describe."""
        return cls(
            province_chat_id=settings.handoff_province_chat_id,
            realert_after=timedelta(minutes=settings.handoff_realert_minutes),
            escalate_after=timedelta(minutes=settings.handoff_escalate_minutes),
            tickets_per_day=settings.handoff_tickets_per_day,
            alerts_per_hour=settings.handoff_alerts_per_hour,
        )


def commune_chats(session: Session, ticket: HandoffTicket) -> list[int]:
    """The chats of the ticket's commune: its group, else its officers' private chats."""
    if ticket.commune_id is None:
        return []
    commune = session.get(Commune, ticket.commune_id)
    if commune is not None and commune.officer_chat_id:
        return [commune.officer_chat_id]
    return list(
        session.scalars(
            select(Officer.telegram_user_id).where(
                Officer.commune_id == ticket.commune_id, Officer.active.is_(True)
            )
        )
    )


def province_chats(session: Session, routing: Routing) -> list[int]:
    """Where an unclaimed ticket goes up to: the province's chat, else the supervisors."""
    if routing.province_chat_id is not None:
        return [routing.province_chat_id]
    return list(
        session.scalars(
            select(Officer.telegram_user_id).where(
                Officer.is_supervisor.is_(True), Officer.active.is_(True)
            )
        )
    )


def alert_officers(
    session: Session, ticket: HandoffTicket, *, level: int, now: datetime, routing: Routing
) -> None:
    """Put the ticket's alert at ``level`` in the outbox, once per chat it goes to."""
    chats = commune_chats(session, ticket) if level < 2 else province_chats(session, routing)
    ticket.alert_level = level
    ticket.last_alert_at = now
    if level < 2 and chats and _alerts_lately(session, chats, now=now) >= routing.alerts_per_hour:
        # a flood of tickets for one commune: its officers get no more alerts this hour; the
        # ticket waits in the console and for the re-alert round (then the province)
        logger.warning("%s: the commune's alert cap is reached; not alerted now", ticket.code)
        return
    if not chats:  # no officer, no supervisor, no HANDOFF_PROVINCE_CHAT_ID: only the console
        logger.error(
            "%s has nobody to alert: set HANDOFF_PROVINCE_CHAT_ID or add officers", ticket.code
        )
    value = alerts.alert(ticket, level=level)
    for chat_id in chats:
        enqueue(
            session,
            channel=TELEGRAM,
            destination=str(chat_id),
            kind=("alert", "realert", "escalation")[level],
            payload={
                "method": "send",
                "officer": value,
                "record_alert": True,
                "only_while_open": True,
            },
            dedupe_key=f"alert:{ticket.id}:{level}:{chat_id}",
            subject_id=ticket.id,
            now=now,
        )


def _alerts_lately(session: Session, chats: list[int], *, now: datetime) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                OutboxMessage.channel == TELEGRAM,
                OutboxMessage.destination.in_([str(c) for c in chats]),
                OutboxMessage.kind.in_(("alert", "realert")),
                OutboxMessage.created_at >= now - timedelta(hours=1),
            )
        )
        or 0
    )


def sweep(session: Session, *, now: datetime, routing: Routing) -> int:
    """Re-alert tickets nobody claimed, then escalate them to the province; return count."""
    changed = 0
    waiting = session.scalars(
        select(HandoffTicket).where(
            HandoffTicket.status == TicketStatus.OPEN, HandoffTicket.alert_level < 2
        )
    ).all()
    for ticket in waiting:
        created = as_utc(ticket.created_at)
        if now - created >= routing.escalate_after:
            alert_officers(session, ticket, level=2, now=now, routing=routing)
            changed += 1
        elif (
            ticket.alert_level == 0 and now - as_utc(ticket.last_alert_at) >= routing.realert_after
        ):
            alert_officers(session, ticket, level=1, now=now, routing=routing)
            changed += 1
    return changed


def edit_alerts(
    session: Session, ticket: HandoffTicket, value: dict[str, Any], *, now: datetime
) -> None:
    """Every copy of the ticket's alert (with buttons) is edited to ``value``."""
    alerts = session.scalars(
        select(AlertMessage).where(
            AlertMessage.ticket_id == ticket.id, AlertMessage.has_buttons.is_(True)
        )
    ).all()
    for alert in alerts:
        enqueue(
            session,
            channel=TELEGRAM,
            destination=str(alert.chat_id),
            kind="edit_alert",
            payload={
                "method": "edit",
                "message_id": alert.message_id,
                "officer": value,
            },
            dedupe_key=f"edit:{ticket.id}:{ticket.status}:{alert.id}",
            subject_id=ticket.id,
            now=now,
        )


class TicketHook:
    """The handoff's part in delivery (``bot.outbox.Hook``).

    An alert not yet sent is dropped once someone claimed the ticket or it closed; an alert
    or relayed message that went out is remembered, so an officer's reply to it reaches the
    ticket's citizen.
    """

    def skip(self, session: Session, job: Job) -> str | None:
        """Why an alert must not go out any more."""
        if not (job.payload.get("only_while_open") and job.subject_id):
            return None
        ticket = session.get(HandoffTicket, job.subject_id)
        if ticket is not None and ticket.status != TicketStatus.OPEN:
            return "the ticket was taken or closed before sending"
        return None

    def sent(self, session: Session, job: Job, delivered: Delivered) -> None:
        """Where the ticket's message now is in the officer's chat."""
        if job.payload.get("record_alert") and job.subject_id and delivered.message_id:
            session.add(
                AlertMessage(
                    ticket_id=job.subject_id,
                    chat_id=int(job.destination),
                    message_id=delivered.message_id,
                    has_buttons=bool(job.payload.get("buttons")),
                )
            )
