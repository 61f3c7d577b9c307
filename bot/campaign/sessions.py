"""Registration sessions: officers announce them, citizens find them and subscribe.

A citizen's subscription is a reminder the day before (``bot.campaign.reminders`` sends
it); it holds the channel identity and the commune, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.campaign import when
from bot.campaign.models import RegistrationSession, Reminder, ReminderKind, ReminderStatus
from bot.chat.identity import Citizen
from bot.communes.models import Commune
from bot.privacy.mask import mask

__all__ = [
    "REMIND_AT",
    "Draft",
    "SessionError",
    "Subscribed",
    "all_upcoming",
    "announce",
    "cancel",
    "session_reminder_due",
    "subscribe",
    "subscriber_counts",
    "upcoming",
]

REMIND_AT = time(8)  # the day before, at 08:00 in Vietnam
MAX_PLACE = 200
# a session announced this far ahead is a typo more likely than a plan
MAX_AHEAD = timedelta(days=120)


class SessionError(ValueError):
    """A session that cannot be announced as given; the message says why, in Vietnamese."""


@dataclass(frozen=True)
class Draft:
    """What an officer gave so far: a day, the hours, a place."""

    day: date | None = None
    start: time | None = None
    end: time | None = None
    place: str = ""

    @property
    def missing(self) -> str | None:
        """The first thing still to ask: "day", "hours" or "place"; None when complete."""
        if self.day is None:
            return "day"
        if self.start is None:
            return "hours"
        if not self.place:
            return "place"
        return None


def announce(
    session: Session, *, commune: Commune, draft: Draft, by: str, now: datetime
) -> RegistrationSession:
    """Store a session of ``commune`` (SessionError when the draft is incomplete or wrong)."""
    if draft.day is None or draft.start is None or not draft.place.strip():
        raise SessionError("Cần ngày, giờ và địa điểm.")
    starts_at = when.at_vietnam(draft.day, draft.start)
    ends_at = when.at_vietnam(draft.day, draft.end) if draft.end else None
    if starts_at < now:
        raise SessionError("Thời gian này đã qua.")
    if starts_at > now + MAX_AHEAD:
        raise SessionError("Ngày này xa quá (quá 4 tháng), bạn kiểm tra lại.")
    place = " ".join(mask(draft.place).split())[:MAX_PLACE]
    row = RegistrationSession(
        commune_id=commune.id,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        created_by=by[:120],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def _ahead(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Sessions not cancelled and not over (one under way included)."""
    return (
        RegistrationSession.cancelled_at.is_(None),
        or_(RegistrationSession.starts_at >= now, RegistrationSession.ends_at > now),
    )


def upcoming(
    session: Session, commune_id: int, *, now: datetime, limit: int = 3
) -> list[RegistrationSession]:
    """The commune's next sessions (one under way included), soonest first."""
    return list(
        session.scalars(
            select(RegistrationSession)
            .where(
                RegistrationSession.commune_id == commune_id,
                *_ahead(now),
            )
            .order_by(RegistrationSession.starts_at, RegistrationSession.id)
            .limit(limit)
        )
    )


def subscriber_counts(session: Session, session_ids: list[int]) -> dict[int, int]:
    """How many citizens asked to be reminded of each session (counts, never who)."""
    if not session_ids:
        return {}
    rows = session.execute(
        select(Reminder.session_id, func.count())
        .where(
            Reminder.session_id.in_(session_ids),
            Reminder.status.in_([ReminderStatus.PENDING, ReminderStatus.SENT]),
        )
        .group_by(Reminder.session_id)
    )
    return {int(sid): int(n) for sid, n in rows if sid is not None}


def cancel(session: Session, session_id: int, *, commune_id: int | None, now: datetime) -> bool:
    """Cancel a session (of ``commune_id`` unless None) and its pending reminders."""
    found = session.get(RegistrationSession, session_id)
    if found is None or found.cancelled_at is not None:
        return False
    if commune_id is not None and found.commune_id != commune_id:
        return False
    found.cancelled_at = now
    session.execute(
        update(Reminder)
        .where(Reminder.session_id == session_id, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED, outcome="session_cancelled", sender="")
    )
    return True


def session_reminder_due(starts_at: datetime, *, now: datetime) -> datetime | None:
    """When the reminder of a session starting at ``starts_at`` goes.

    The day before at 08:00, or the first moment allowed from now; None when the session
    is too close for one.
    """
    day_before = when.vietnam_day(starts_at) - timedelta(days=1)
    due = when.next_allowed(max(when.at_vietnam(day_before, REMIND_AT), now))
    return due if due < starts_at - timedelta(hours=1) else None


class Subscribed(StrEnum):
    """The outcome of a subscription."""

    NEW = "new"
    ALREADY = "already"
    TOO_LATE = "too_late"  # the session is too close for a reminder
    GONE = "gone"  # cancelled, over, or unknown


@dataclass(frozen=True)
class Subscription:
    """What the citizen is told: the outcome and the session, when there is one."""

    outcome: Subscribed
    session: RegistrationSession | None = None
    due_at: datetime | None = None


def subscribe(
    session: Session, *, citizen: Citizen, session_id: int, now: datetime
) -> Subscription:
    """Remind ``citizen`` of a session the day before (once, however often they ask)."""
    found = session.get(RegistrationSession, session_id)
    if found is None or found.cancelled_at is not None or found.starts_at <= now:
        return Subscription(Subscribed.GONE)
    existing = session.scalar(
        select(Reminder).where(
            Reminder.sender == citizen.sender,
            Reminder.session_id == session_id,
            Reminder.status.in_([ReminderStatus.PENDING, ReminderStatus.SENT]),
        )
    )
    if existing is not None:
        return Subscription(Subscribed.ALREADY, found, existing.due_at)
    due = session_reminder_due(found.starts_at, now=now)
    if due is None:
        return Subscription(Subscribed.TOO_LATE, found)
    session.add(
        Reminder(
            kind=ReminderKind.SESSION,
            channel=citizen.channel.value,
            sender=citizen.sender,
            commune_id=found.commune_id,
            session_id=found.id,
            due_at=due,
            expires_at=found.starts_at,
            created_at=now,
        )
    )
    session.flush()
    return Subscription(Subscribed.NEW, found, due)


def all_upcoming(
    session: Session, *, now: datetime, limit: int = 100
) -> list[tuple[RegistrationSession, int]]:
    """Every commune's next sessions, soonest first, with how many want a reminder."""
    found = list(
        session.scalars(
            select(RegistrationSession)
            .where(
                *_ahead(now),
            )
            .order_by(RegistrationSession.starts_at, RegistrationSession.id)
            .limit(limit)
        )
    )
    counts = subscriber_counts(session, [s.id for s in found])
    return [(s, counts.get(s.id, 0)) for s in found]
