"""What an officer sees of the tickets of their communes: the queue and the figures."""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.db import as_utc
from bot.handoff.models import (
    ACTIVE_STATUSES,
    HandoffTicket,
    Officer,
    TicketStatus,
)

__all__ = ["queue_for", "stats_for"]


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
