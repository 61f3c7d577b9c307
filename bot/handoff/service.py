"""Tickets: open, alert, claim, relay, resolve, cancel, re-alert and escalate.

Every function works inside the caller's transaction and only *enqueues* what must be
sent (outbox rows), so a ticket and its alerts are committed together or not at all.
No platform library here: the Telegram layer lives in ``bot.channels``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import BindParameter, Select, func, select, update
from sqlalchemy.orm import Session

from bot import audit
from bot.db import as_utc
from bot.faq.schemas import BotResponse
from bot.handoff import alerts, texts
from bot.handoff.alerting import TELEGRAM, Routing, alert_officers, commune_chats, edit_alerts
from bot.handoff.models import (
    ACTIVE_STATUSES,
    AlertMessage,
    Direction,
    HandoffTicket,
    Officer,
    TicketMessage,
    TicketStatus,
)
from bot.outbox import enqueue
from bot.privacy.mask import mask

logger = logging.getLogger(__name__)

__all__ = [
    "ActResult",
    "NewTicket",
    "Routing",
    "TooManyTicketsError",
    "active_ticket",
    "active_ticket_id",
    "cancel",
    "citizen_message",
    "claim",
    "latest_ticket",
    "officer_by_telegram",
    "officer_reply",
    "open_ticket",
    "resolve",
    "ticket_for_alert",
]


@dataclass(frozen=True)
class NewTicket:
    """What the dialogue collected."""

    channel: str
    sender: str
    commune_id: int | None
    commune_label: str
    description: str
    contact_phone: str | None = None
    step: str | None = None
    step_title: str | None = None
    transcript: list[dict[str, Any]] = field(default_factory=list)


class ActResult(StrEnum):
    """Outcome of an officer's action on a ticket."""

    DONE = "done"
    TAKEN = "taken"  # someone else holds it
    CLOSED = "closed"  # already resolved or cancelled
    FORBIDDEN = "forbidden"  # not an officer of this commune
    UNKNOWN = "unknown"  # no such ticket
    LATE = "late"  # relayed, but past Zalo's 48-hour free-reply window


FREE_REPLY_WINDOW = {"zalo": timedelta(hours=48)}  # channels that charge for late messages


# --- lookups -------------------------------------------------------------------------
def active_ticket_id(sender: str | BindParameter[str]) -> Select[int]:
    """The query of the id of the sender's open or claimed ticket (no row: none)."""
    return (
        select(HandoffTicket.id)
        .where(HandoffTicket.sender == sender, HandoffTicket.status.in_(ACTIVE_STATUSES))
        .order_by(HandoffTicket.id.desc())
        .limit(1)
    )


def active_ticket(session: Session, sender: str) -> HandoffTicket | None:
    """The sender's open or claimed ticket, if any."""
    return session.scalar(
        select(HandoffTicket).where(HandoffTicket.id == active_ticket_id(sender).scalar_subquery())
    )


def latest_ticket(session: Session, sender: str, code: str | None = None) -> HandoffTicket | None:
    """The sender's ticket with ``code`` (HT-000123), or their latest one."""
    query = select(HandoffTicket).where(HandoffTicket.sender == sender)
    if code:
        number = int(code.upper().removeprefix("HT-"))
        query = query.where(HandoffTicket.id == number)
    return session.scalar(query.order_by(HandoffTicket.id.desc()).limit(1))


def officer_by_telegram(session: Session, user_id: int) -> Officer | None:
    """The active officer behind a Telegram account."""
    return session.scalar(
        select(Officer).where(Officer.telegram_user_id == user_id, Officer.active.is_(True))
    )


def ticket_for_alert(session: Session, chat_id: int, message_id: int) -> HandoffTicket | None:
    """The ticket an alert (or relayed message) in a Telegram chat belongs to."""
    alert = session.scalar(
        select(AlertMessage).where(
            AlertMessage.chat_id == chat_id, AlertMessage.message_id == message_id
        )
    )
    return session.get(HandoffTicket, alert.ticket_id) if alert else None


def may_act(officer: Officer, ticket: HandoffTicket) -> bool:
    """Officers act on their commune's tickets; supervisors on all."""
    return officer.is_supervisor or (
        ticket.commune_id is not None and officer.commune_id == ticket.commune_id
    )


# --- opening and alerting ----------------------------------------------------------------
class TooManyTicketsError(Exception):
    """The citizen opened ``Routing.tickets_per_day`` tickets in the last 24 hours."""


def open_ticket(
    session: Session, new: NewTicket, *, now: datetime, routing: Routing
) -> HandoffTicket:
    """Create the ticket and its alerts in the caller's transaction (one per sender)."""
    existing = active_ticket(session, new.sender)
    if existing is not None:
        return existing
    today = session.scalar(
        select(func.count()).where(
            HandoffTicket.sender == new.sender, HandoffTicket.created_at >= now - timedelta(days=1)
        )
    )
    if (today or 0) >= routing.tickets_per_day:
        raise TooManyTicketsError(new.sender)
    ticket = HandoffTicket(
        channel=new.channel,
        sender=new.sender,
        commune_id=new.commune_id,
        commune_label=new.commune_label,
        description=mask(new.description)[:2000],
        contact_phone=new.contact_phone,
        step=new.step_title or new.step,
        transcript=[{**t, "text": mask(str(t.get("text", "")))[:500]} for t in new.transcript],
        status=TicketStatus.OPEN,
        created_at=now,
        last_alert_at=now,
    )
    session.add(ticket)
    session.flush()
    level = 0 if commune_chats(session, ticket) else 2
    alert_officers(session, ticket, level=level, now=now, routing=routing)
    return ticket


# --- officer actions ---------------------------------------------------------------------
def claim(
    session: Session, ticket_id: int, officer: Officer, *, now: datetime
) -> tuple[ActResult, HandoffTicket | None]:
    """First officer to claim gets the ticket (a conditional update decides the race)."""
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None:
        return ActResult.UNKNOWN, None
    if not may_act(officer, ticket):
        return ActResult.FORBIDDEN, ticket
    won = session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.id == ticket_id, HandoffTicket.status == TicketStatus.OPEN)
        .values(status=TicketStatus.CLAIMED, claimed_by_id=officer.id, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(ticket)
    if won.rowcount != 1:  # type: ignore[attr-defined]
        if ticket.status == TicketStatus.CLAIMED:
            return ActResult.TAKEN, ticket
        return ActResult.CLOSED, ticket
    edit_alerts(session, ticket, alerts.alert(ticket, claimed_by=officer.name), now=now)
    _to_citizen(
        session,
        ticket,
        texts.claimed(session, ticket.code, officer.name),
        key=f"claimed:{ticket.id}",
        now=now,
    )
    return ActResult.DONE, ticket


def resolve(
    session: Session, ticket_id: int, officer: Officer, *, note: str | None, now: datetime
) -> tuple[ActResult, HandoffTicket | None]:
    """Close the ticket with a note; the assistant answers the citizen again."""
    ticket = session.get(HandoffTicket, ticket_id)
    if ticket is None:
        return ActResult.UNKNOWN, None
    if not may_act(officer, ticket):
        return ActResult.FORBIDDEN, ticket
    held_by_other = ticket.claimed_by_id not in (None, officer.id)
    if ticket.status == TicketStatus.CLAIMED and held_by_other and not officer.is_supervisor:
        return ActResult.TAKEN, ticket
    won = session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.id == ticket_id, HandoffTicket.status.in_(ACTIVE_STATUSES))
        .values(
            status=TicketStatus.RESOLVED,
            resolution_note=note,
            closed_at=now,
            claimed_by_id=func.coalesce(HandoffTicket.claimed_by_id, officer.id),
            claimed_at=func.coalesce(HandoffTicket.claimed_at, now),
        )
        .execution_options(synchronize_session=False)
    )
    session.refresh(ticket)
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return ActResult.CLOSED, ticket
    resolved = alerts.alert(ticket, resolved_by=officer.name, note=note)
    edit_alerts(session, ticket, resolved, now=now)
    _to_citizen(
        session,
        ticket,
        texts.resolved(session, ticket.code, note),
        key=f"resolved:{ticket.id}",
        now=now,
    )
    return ActResult.DONE, ticket


def officer_reply(
    session: Session, ticket: HandoffTicket, officer: Officer, text: str, *, now: datetime
) -> ActResult:
    """Relay an officer's text to the citizen; replying to an open ticket claims it."""
    if not may_act(officer, ticket):
        return ActResult.FORBIDDEN
    if ticket.status == TicketStatus.OPEN:
        result, _ = claim(session, ticket.id, officer, now=now)
        if result is not ActResult.DONE and result is not ActResult.TAKEN:
            return result
        session.refresh(ticket)
    if ticket.status not in ACTIVE_STATUSES:
        return ActResult.CLOSED
    if ticket.claimed_by_id != officer.id and not officer.is_supervisor:
        return ActResult.TAKEN
    message = TicketMessage(
        ticket_id=ticket.id,
        direction=Direction.OFFICER,
        officer_id=officer.id,
        text=text,
        created_at=now,
    )
    session.add(message)
    session.flush()
    _to_citizen(
        session,
        ticket,
        texts.officer_says(session, officer.name, text),
        key=f"o2c:{message.id}",
        now=now,
    )
    window = FREE_REPLY_WINDOW.get(ticket.channel)
    if window is not None and now - _last_heard(session, ticket) > window:
        return ActResult.LATE
    return ActResult.DONE


def _last_heard(session: Session, ticket: HandoffTicket) -> datetime:
    last = session.scalar(
        select(func.max(TicketMessage.created_at)).where(
            TicketMessage.ticket_id == ticket.id, TicketMessage.direction == Direction.CITIZEN
        )
    )
    return max(as_utc(last), as_utc(ticket.created_at)) if last else as_utc(ticket.created_at)


# --- citizen actions ------------------------------------------------------------------
def citizen_message(session: Session, ticket: HandoffTicket, text: str, *, now: datetime) -> None:
    """Keep a citizen's follow-up and relay it to the officer (or every alerted chat)."""
    message = TicketMessage(
        ticket_id=ticket.id, direction=Direction.CITIZEN, text=mask(text), created_at=now
    )
    session.add(message)
    session.flush()
    sent = session.scalars(
        select(AlertMessage)
        .where(AlertMessage.ticket_id == ticket.id, AlertMessage.has_buttons.is_(True))
        .order_by(AlertMessage.id)
    ).all()
    targets: dict[int, int | None] = {a.chat_id: a.message_id for a in sent}
    if ticket.claimed_by is not None:
        own = ticket.claimed_by.telegram_user_id
        claimed_in = [c for c in targets if c == own] or list(targets)[:1]
        targets = {c: targets[c] for c in claimed_in} or {own: None}
    if not targets:  # alerts not delivered yet: reach the same chats as the alert would
        targets = {chat: None for chat in commune_chats(session, ticket)}
    for chat_id, reply_to in targets.items():
        enqueue(
            session,
            channel=TELEGRAM,
            destination=str(chat_id),
            kind="relay_to_officer",
            payload={
                "method": "send",
                "officer": alerts.relay(ticket, text),
                "reply_to": reply_to,
                "record_alert": True,  # replies to the relayed message reach the citizen too
            },
            dedupe_key=f"c2o:{message.id}:{chat_id}",
            subject_id=ticket.id,
            now=now,
        )


def cancel(session: Session, ticket: HandoffTicket, *, now: datetime) -> bool:
    """The citizen withdraws the ticket; the officers' alerts say so."""
    won = session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.id == ticket.id, HandoffTicket.status.in_(ACTIVE_STATUSES))
        .values(status=TicketStatus.CANCELLED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.refresh(ticket)
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return False
    edit_alerts(session, ticket, alerts.alert(ticket, cancelled=True), now=now)
    return True


# --- outbox helpers --------------------------------------------------------------------
def _to_citizen(
    session: Session, ticket: HandoffTicket, notice: BotResponse, *, key: str, now: datetime
) -> None:
    enqueue(
        session,
        channel=ticket.channel,
        destination=ticket.sender,
        kind="to_citizen",
        payload={"text": notice.text, "buttons": [b.model_dump() for b in notice.buttons]},
        dedupe_key=key,
        subject_id=ticket.id,
        now=now,
    )


def act_from_console(
    session: Session,
    ticket_id: int,
    officer: Officer,
    action: str,
    text: str,
    *,
    by: str,
    now: datetime,
) -> ActResult:
    """Claim, reply or close from the console, as on Telegram, audited (ValueError, LookupError)."""
    if action == "claim":
        result, _ = claim(session, ticket_id, officer, now=now)
    elif action == "close":
        result, _ = resolve(session, ticket_id, officer, note=text.strip() or None, now=now)
    elif action == "reply":
        found = session.get(HandoffTicket, ticket_id)
        if found is None or not text.strip():
            raise ValueError("Cần nội dung tin nhắn.")
        result = officer_reply(session, found, officer, text.strip(), now=now)
    else:
        raise LookupError(action)
    audit.record(
        session,
        username=by,
        action=f"ticket_{action}",
        target=f"HT-{ticket_id:06d}",
        detail={"result": result.value},
    )
    return result
