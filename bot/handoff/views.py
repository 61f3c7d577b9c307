"""What an officer (or an admin) sees of the tickets.

The queue and the figures on Telegram; the console's lists, one ticket with its
conversation, and the demand per commune.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from bot.communes.models import Commune
from bot.db import as_utc
from bot.handoff import officers
from bot.handoff.models import (
    ACTIVE_STATUSES,
    HandoffTicket,
    Officer,
    TicketMessage,
    TicketStatus,
)

__all__ = [
    "NotAnOfficerError",
    "desk_officer",
    "directory",
    "queue_for",
    "stats_for",
    "ticket_for",
    "tickets_for",
]


class NotAnOfficerError(PermissionError):
    """An officer account whose officer is gone or inactive."""


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
        else (officer.commune.label if officer.commune else "xã")
    )
    return {
        "scope": scope,
        **counts,
        "median_claim_s": statistics.median(claim_s) if claim_s else None,
        "median_resolve_s": statistics.median(resolve_s) if resolve_s else None,
    }


# --- the console's ticket desk (officer: their communes; None: an admin, everything) ----
def desk_officer(session: Session, officer_id: int | None) -> Officer:
    """The active officer an officer account stands for (NotAnOfficerError)."""
    officer = session.get(Officer, officer_id) if officer_id else None
    if officer is None or not officer.active:
        raise NotAnOfficerError("Tài khoản cán bộ chưa gắn với xã nào.")
    return officer


def _console_scope(officer: Officer | None) -> Any:
    query = select(HandoffTicket).options(selectinload(HandoffTicket.claimed_by))
    return query if officer is None else _scope(query, officer)


def tickets_for(session: Session, officer: Officer | None, status: str) -> list[HandoffTicket]:
    """The latest 200 tickets of a status ("active": open or claimed), newest first."""
    query = _console_scope(officer)
    if status == "active":
        query = query.where(HandoffTicket.status.in_(ACTIVE_STATUSES))
    elif status in {s.value for s in TicketStatus}:
        query = query.where(HandoffTicket.status == status)
    return list(session.scalars(query.order_by(HandoffTicket.id.desc()).limit(200)))


def ticket_for(
    session: Session, officer: Officer | None, ticket_id: int
) -> tuple[HandoffTicket, list[TicketMessage]] | None:
    """A ticket in scope with its conversation, or None."""
    found = session.scalar(_console_scope(officer).where(HandoffTicket.id == ticket_id))
    if found is None:
        return None
    messages = select(TicketMessage).where(TicketMessage.ticket_id == ticket_id)
    return found, list(session.scalars(messages.order_by(TicketMessage.id)))


def directory(session: Session) -> dict[str, Any]:
    """Communes (with former units), every officer, and requests per commune."""
    demand: dict[int | None, int] = {}
    for commune_id in session.scalars(select(HandoffTicket.commune_id)):
        demand[commune_id] = demand.get(commune_id, 0) + 1
    communes = select(Commune).options(selectinload(Commune.former_units))
    return {
        "communes": list(session.scalars(communes.order_by(Commune.name))),
        "officers": officers.all_officers(session),
        "demand": demand,
    }
