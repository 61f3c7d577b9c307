"""Reminders: asked for by citizens, sent through the outbox by a scheduler.

The scheduler is a round of the outbox worker's periodic tick, so every app replica runs
it; a reminder is sent by the replica whose conditional update moves it from pending to
sent, in the same transaction as its outbox row (whose key is the reminder's), so it goes
out exactly once whatever the number of replicas and restarts. Nothing is kept in memory.

The rules, checked when a reminder falls due:
- never in the quiet hours (21:00-07:00 in Vietnam): it waits until 07:00;
- at most one a day per citizen: a second one waits until the next morning;
- Telegram: only to a chat that has not blocked the bot (a send refused as Forbidden);
- Zalo: only inside the free reply window (48 hours after the citizen's last message),
  otherwise it is not sent and counted as skipped;
- web chat: it waits in the citizen's inbox and shows on the next visit.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import locks
from bot.analytics.models import ChatTurn
from bot.campaign import when
from bot.campaign.models import RegistrationSession, Reminder, ReminderKind, ReminderStatus
from bot.chat.identity import Channel, Citizen
from bot.chat.models import ConversationState
from bot.db import as_utc
from bot.faq.fixed import Fixed
from bot.outbox import enqueue
from bot.outbox.models import OutboxMessage, OutboxStatus
from nlu.text import fold

logger = logging.getLogger(__name__)

__all__ = [
    "ACTIVATION_DAYS",
    "KEEP_FOR",
    "STOP_PAYLOAD",
    "ZALO_WINDOW",
    "Round",
    "is_stop",
    "remind_later",
    "run_due",
    "stop_all",
]

STOP_PAYLOAD = "/stop_reminders"
ZALO_WINDOW = timedelta(hours=48)
REMINDERS_LOCK = "reminders"
KEEP_FOR = timedelta(days=30)  # an activation reminder expires after 30 days
ACTIVATION_DAYS = (1, 30)  # "nhắc tôi sau N ngày": N within these bounds
SESSION_TEXT = Fixed("utter_reminder_session")
WAITING_TEXT = Fixed("utter_reminder_waiting")
PAUSED_TEXT = Fixed("utter_reminder_paused")
_WAITING_STEPS = {"waiting", "waiting_long"}

# "dừng nhắc", "dung nhac nua", "hủy nhắc nhở", "thôi đừng nhắc nữa", "tắt nhắc"
_STOP_RE = re.compile(
    r"^(?:(?:xin|vui long|ban|hay|cho toi|toi muon|em muon|minh muon)\s+)*"
    r"(?:dung|ngung|huy|thoi|tat|bo|khong|ko|dung gui)\s+(?:dung\s+|nhan\s+|gui\s+)?"
    r"(?:nhac|nhac nho|loi nhac|nhac lich|thong bao nhac)"
    r"(?:\s+(?:nua|lai|di|nhe|nha|a|toi|minh|em|giup|gium|voi|het|tat ca))*$"
)


def is_stop(text: str) -> bool:
    """Whether ``text`` asks to stop the reminders (with or without diacritics)."""
    if text.strip() == STOP_PAYLOAD:
        return True
    plain = " ".join(re.sub(r"[^a-z ]+", " ", fold(text.lower())).split())
    return len(plain) <= 60 and bool(_STOP_RE.match(plain))


def stop_all(session: Session, sender: str, *, now: datetime) -> int:
    """Cancel every pending reminder of ``sender``; how many there were."""
    result = session.execute(
        update(Reminder)
        .where(Reminder.sender == sender, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED, outcome="stopped", sender="")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def remind_later(
    session: Session,
    *,
    citizen: Citizen,
    days: int,
    step: str | None,
    commune_id: int | None = None,
    now: datetime,
) -> Reminder:
    """Remind ``citizen`` in ``days`` days to finish the activation (replaces an earlier one)."""
    days = max(ACTIVATION_DAYS[0], min(ACTIVATION_DAYS[1], days))
    session.execute(
        update(Reminder)
        .where(
            Reminder.sender == citizen.sender,
            Reminder.kind == ReminderKind.ACTIVATION,
            Reminder.status == ReminderStatus.PENDING,
        )
        .values(status=ReminderStatus.CANCELLED, outcome="replaced", sender="")
    )
    row = Reminder(
        kind=ReminderKind.ACTIVATION,
        channel=citizen.channel.value,
        sender=citizen.sender,
        commune_id=commune_id,
        step=step,
        due_at=when.next_allowed(now + timedelta(days=days)),
        expires_at=now + KEEP_FOR,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


@dataclass
class Round:
    """What one scheduler round did, by outcome (for the log and the tests)."""

    counts: Counter[str]

    @property
    def sent(self) -> int:
        """Reminders put in the outbox."""
        return self.counts["sent"]


def run_due(session: Session, *, now: datetime, limit: int = 100) -> Round:
    """One scheduler round: expire what is over, then send or postpone what is due.

    Rounds never overlap across replicas: each holds the ``reminders`` job lock for its
    whole transaction (a second replica's round waits for the first to commit, then sees
    what it sent), so "one a day per citizen" holds however many replicas run.
    """
    owner = uuid.uuid4().hex
    if not locks.acquire(session, REMINDERS_LOCK, owner, now):
        return Round(Counter(busy=1))
    try:
        return _round(session, now=now, limit=limit)
    finally:
        locks.release(session, REMINDERS_LOCK, owner)


def _round(session: Session, *, now: datetime, limit: int) -> Round:
    counts: Counter[str] = Counter()
    counts["expired"] = _expire(session, now=now)
    due = list(
        session.scalars(
            select(Reminder)
            .where(Reminder.status == ReminderStatus.PENDING, Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(limit)
        )
    )
    for reminder in due:
        counts[_one(session, reminder, now=now)] += 1
    return Round(counts)


def _expire(session: Session, *, now: datetime) -> int:
    """Pending reminders past their end expire; every finished one forgets who it was for."""
    expired = session.execute(
        update(Reminder)
        .where(Reminder.status == ReminderStatus.PENDING, Reminder.expires_at <= now)
        .values(status=ReminderStatus.EXPIRED, outcome="too_late", sender="")
    )
    session.execute(
        update(Reminder).where(Reminder.expires_at <= now, Reminder.sender != "").values(sender="")
    )
    # a sent reminder is needed only for "one a day": it forgets who once its day is over
    start_of_day = when.at_vietnam(when.vietnam_day(now), time(0))
    session.execute(
        update(Reminder)
        .where(
            Reminder.status == ReminderStatus.SENT,
            Reminder.sent_at < start_of_day,
            Reminder.sender != "",
        )
        .values(sender="")
    )
    return int(expired.rowcount or 0)  # type: ignore[attr-defined]


def _one(session: Session, reminder: Reminder, *, now: datetime) -> str:
    """Send ``reminder`` now, or say why not (and when it will be tried again)."""
    if when.is_quiet(now):
        return _postpone(session, reminder, when.next_allowed(now), "quiet")
    local_day = when.vietnam_day(now)
    start_of_day = when.at_vietnam(local_day, time(0))
    sent_today = session.scalar(
        select(func.count())
        .select_from(Reminder)
        .where(
            Reminder.sender == reminder.sender,
            Reminder.status == ReminderStatus.SENT,
            Reminder.sent_at >= start_of_day,
        )
    )
    if sent_today:
        tomorrow = when.at_vietnam(local_day + timedelta(days=1), time(when.QUIET_END))
        return _postpone(session, reminder, tomorrow, "one_a_day")
    refused = _platform_refuses(session, reminder, now=now)
    if refused is not None:
        _finish(session, reminder, ReminderStatus.SKIPPED, refused)
        return refused
    message = _message(session, reminder)
    if message is None:  # its session was cancelled meanwhile
        _finish(session, reminder, ReminderStatus.CANCELLED, "session_cancelled")
        return "cancelled"
    won = session.execute(
        update(Reminder)
        .where(Reminder.id == reminder.id, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.SENT, sent_at=now, outcome=None)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return "taken"  # another replica sent it
    enqueue(
        session,
        channel=reminder.channel,
        destination=reminder.sender,
        kind="reminder",
        payload=message,
        dedupe_key=f"reminder:{reminder.id}",
        now=now,
    )
    return "sent"


def _postpone(session: Session, reminder: Reminder, to: datetime, why: str) -> str:
    if to >= reminder.expires_at:
        _finish(session, reminder, ReminderStatus.EXPIRED, why)
        return "expired"
    session.execute(
        update(Reminder)
        .where(Reminder.id == reminder.id, Reminder.status == ReminderStatus.PENDING)
        .values(due_at=to)
    )
    return why


def _finish(session: Session, reminder: Reminder, status: ReminderStatus, why: str) -> None:
    session.execute(
        update(Reminder)
        .where(Reminder.id == reminder.id, Reminder.status == ReminderStatus.PENDING)
        .values(status=status, outcome=why, sender="")
    )


def _platform_refuses(session: Session, reminder: Reminder, *, now: datetime) -> str | None:
    """Why the platform does not allow this reminder now, or None."""
    channel = Citizen.parse(reminder.sender).channel
    if channel is Channel.ZALO:
        # when the citizen last wrote, whatever answered (the gateway notes every message);
        # the turns Rasa answered also count, for messages older than that note
        wrote = session.scalar(
            select(ConversationState.last_message_at).where(
                ConversationState.sender == reminder.sender
            )
        )
        answered = session.scalar(
            select(func.max(ChatTurn.created_at)).where(ChatTurn.sender == reminder.sender)
        )
        seen = [as_utc(t) for t in (wrote, answered) if t is not None]
        if not seen or max(seen) < now - ZALO_WINDOW:
            return "zalo_window"
    if channel is Channel.TELEGRAM:
        blocked = session.scalar(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.channel == Channel.TELEGRAM.value,
                OutboxMessage.destination == reminder.sender,
                OutboxMessage.status == OutboxStatus.DEAD,
                OutboxMessage.last_error.like("Forbidden%"),
            )
            .limit(1)
        )
        if blocked is not None:
            return "blocked"
    return None


def _message(session: Session, reminder: Reminder) -> dict[str, Any] | None:
    """The reminder's text and buttons, as currently worded (editable in the console)."""
    if reminder.kind == ReminderKind.SESSION:
        found = session.get(RegistrationSession, reminder.session_id)
        if found is None or found.cancelled_at is not None:
            return None
        response = SESSION_TEXT.render(
            session,
            when=when.say_when(found.starts_at, found.ends_at),
            commune=found.commune.label,
            place=found.place,
        )
    elif reminder.step in _WAITING_STEPS:
        # the buttons open the activation steps, or what to do when the approval is late
        response = WAITING_TEXT.render(session)
    else:  # paused elsewhere (or asked in passing): "Tiếp tục" goes back to where they were
        response = PAUSED_TEXT.render(session)
    return {"text": response.text, "buttons": [b.model_dump() for b in response.buttons]}
