"""Tickets: open, alert, claim, relay, resolve, cancel, re-alert and escalate.

Every function works inside the caller's transaction and only *enqueues* what must be
sent (outbox rows), so a ticket and its alerts are committed together or not at all.
No platform library here: the Telegram layer lives in ``bot.channels``.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.communes.models import Commune
from bot.config import Settings
from bot.db import as_utc
from bot.handoff import alerts, texts
from bot.handoff.models import (
    ACTIVE_STATUSES,
    AlertMessage,
    Direction,
    HandoffTicket,
    Officer,
    TicketMessage,
    TicketStatus,
)
from bot.handoff.outbox import enqueue
from bot.handoff.redact import redact

logger = logging.getLogger(__name__)

__all__ = [
    "ActResult",
    "NewTicket",
    "Routing",
    "active_ticket",
    "cancel",
    "citizen_message",
    "claim",
    "latest_ticket",
    "officer_by_telegram",
    "officer_reply",
    "open_ticket",
    "queue_for",
    "resolve",
    "stats_for",
    "sweep",
    "ticket_for_alert",
]

TELEGRAM = "telegram"


@dataclass(frozen=True)
class Routing:
    """Where alerts go when a commune has no one, and when to re-alert and escalate."""

    province_chat_id: int | None = None
    realert_after: timedelta = timedelta(minutes=30)
    escalate_after: timedelta = timedelta(minutes=120)

    @classmethod
    def from_settings(cls, settings: Settings) -> Routing:
        """The routing the settings describe."""
        return cls(
            province_chat_id=settings.handoff_province_chat_id,
            realert_after=timedelta(minutes=settings.handoff_realert_minutes),
            escalate_after=timedelta(minutes=settings.handoff_escalate_minutes),
        )


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
def active_ticket(session: Session, sender: str) -> HandoffTicket | None:
    """The sender's open or claimed ticket, if any."""
    return session.scalar(
        select(HandoffTicket)
        .where(HandoffTicket.sender == sender, HandoffTicket.status.in_(ACTIVE_STATUSES))
        .order_by(HandoffTicket.id.desc())
        .limit(1)
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
def open_ticket(
    session: Session, new: NewTicket, *, now: datetime, routing: Routing
) -> HandoffTicket:
    """Create the ticket and its alerts in the caller's transaction (one per sender)."""
    existing = active_ticket(session, new.sender)
    if existing is not None:
        return existing
    ticket = HandoffTicket(
        channel=new.channel,
        sender=new.sender,
        commune_id=new.commune_id,
        commune_label=new.commune_label,
        description=redact(new.description)[:2000],
        contact_phone=new.contact_phone,
        step=new.step_title or new.step,
        transcript=[{**t, "text": redact(str(t.get("text", "")))[:500]} for t in new.transcript],
        status=TicketStatus.OPEN,
        created_at=now,
        last_alert_at=now,
    )
    session.add(ticket)
    session.flush()
    level = 0 if _commune_chats(session, ticket) else 2
    _alert(session, ticket, level=level, now=now, routing=routing)
    return ticket


def _commune_chats(session: Session, ticket: HandoffTicket) -> list[int]:
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


def _province_chats(session: Session, routing: Routing) -> list[int]:
    if routing.province_chat_id is not None:
        return [routing.province_chat_id]
    return list(
        session.scalars(
            select(Officer.telegram_user_id).where(
                Officer.is_supervisor.is_(True), Officer.active.is_(True)
            )
        )
    )


def _alert(
    session: Session, ticket: HandoffTicket, *, level: int, now: datetime, routing: Routing
) -> None:
    chats = _commune_chats(session, ticket) if level < 2 else _province_chats(session, routing)
    ticket.alert_level = level
    ticket.last_alert_at = now
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
            ticket_id=ticket.id,
            now=now,
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
            _alert(session, ticket, level=2, now=now, routing=routing)
            changed += 1
        elif (
            ticket.alert_level == 0 and now - as_utc(ticket.last_alert_at) >= routing.realert_after
        ):
            _alert(session, ticket, level=1, now=now, routing=routing)
            changed += 1
    return changed


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
    _edit_alerts(session, ticket, alerts.alert(ticket, claimed_by=officer.name), now=now)
    _to_citizen(
        session,
        ticket,
        texts.citizen_claimed(ticket.code, officer.name),
        key=f"claimed:{ticket.id}",
        now=now,
        buttons=[texts.cancel_button()],
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
    _edit_alerts(session, ticket, resolved, now=now)
    _to_citizen(
        session,
        ticket,
        texts.citizen_resolved(ticket.code, note),
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
        texts.citizen_officer_says(officer.name, text),
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
        ticket_id=ticket.id, direction=Direction.CITIZEN, text=redact(text), created_at=now
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
        targets = {chat: None for chat in _commune_chats(session, ticket)}
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
            ticket_id=ticket.id,
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
    _edit_alerts(session, ticket, alerts.alert(ticket, cancelled=True), now=now)
    return True


# --- officer views -----------------------------------------------------------------------
def _scope(query: Any, officer: Officer) -> Any:
    return (
        query
        if officer.is_supervisor
        else query.where(HandoffTicket.commune_id == officer.commune_id)
    )


def queue_for(session: Session, officer: Officer) -> list[HandoffTicket]:
    """Open and claimed tickets the officer may act on, oldest first."""
    query = select(HandoffTicket).where(HandoffTicket.status.in_(ACTIVE_STATUSES))
    return list(session.scalars(_scope(query, officer).order_by(HandoffTicket.id).limit(30)))


def stats_for(session: Session, officer: Officer, *, now: datetime) -> dict[str, Any]:
    """Counts and median times of the officer's scope over the last 30 days."""
    since = now - timedelta(days=30)
    query = select(HandoffTicket).where(
        or_(HandoffTicket.created_at >= since, HandoffTicket.status.in_(ACTIVE_STATUSES))
    )
    tickets = list(session.scalars(_scope(query, officer)))
    counts = {s.value: sum(t.status == s for t in tickets) for s in TicketStatus}
    claim_s = [
        (as_utc(t.claimed_at) - as_utc(t.created_at)).total_seconds()
        for t in tickets
        if t.claimed_at
    ]
    resolve_s = [
        (as_utc(t.closed_at) - as_utc(t.created_at)).total_seconds()
        for t in tickets
        if t.closed_at and t.status == TicketStatus.RESOLVED
    ]
    scope = (
        "toàn tỉnh"
        if officer.is_supervisor
        else (f"{officer.commune.unit_type} {officer.commune.name}" if officer.commune else "xã")
    )
    return {
        "scope": scope,
        **counts,
        "median_claim_s": statistics.median(claim_s) if claim_s else None,
        "median_resolve_s": statistics.median(resolve_s) if resolve_s else None,
    }


# --- outbox helpers --------------------------------------------------------------------
def _to_citizen(
    session: Session,
    ticket: HandoffTicket,
    text: str,
    *,
    key: str,
    now: datetime,
    buttons: list[dict[str, str]] | None = None,
) -> None:
    enqueue(
        session,
        channel=ticket.channel,
        destination=ticket.sender,
        kind="to_citizen",
        payload={"text": text, "buttons": buttons or []},
        dedupe_key=key,
        ticket_id=ticket.id,
        now=now,
    )


def _edit_alerts(
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
            ticket_id=ticket.id,
            now=now,
        )
