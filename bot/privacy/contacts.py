"""The one phone number a citizen gives on purpose: kept apart from the conversation.

The handoff form asks for a number to call back. The gateway masks every message before
Rasa sees it, this one included; when that question is on the citizen's screen, the number
they type is the consent, and the gateway keeps it here, under their sender id, for a short
while. The action that files the ticket takes it from here (and deletes it): Rasa's tracker
store, its logs and the action server's trackers only ever see ``0912*****78``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from bot.db import Base, UtcDateTime, insert_or_else
from bot.privacy.mask import mask, phone_numbers

__all__ = ["ASKED_PAYLOAD", "KEPT_FOR", "CallbackNumber", "keep_from", "kept", "purge", "take"]

# The button under "which number should the officer call?" (domain.yml, utter_ask_ho_contact
# and utter_ho_bad_phone): while it is on screen, a typed number is given for the call-back.
ASKED_PAYLOAD = "không cần"
KEPT_FOR = timedelta(hours=1)  # long enough to finish the form, short enough to forget


class CallbackNumber(Base):
    """A phone number given for a call-back, waiting for the ticket that will carry it."""

    __tablename__ = "callback_number"

    sender: Mapped[str] = mapped_column(String(128), primary_key=True)
    phone: Mapped[str] = mapped_column(String(16))
    given_at: Mapped[datetime] = mapped_column(UtcDateTime)


def keep_from(
    session: Session, *, sender: str, text: str, payloads: list[str], now: datetime
) -> bool:
    """Keep the number in ``text`` if the call-back question is on screen; say if kept.

    The question is on screen when its button is among ``payloads``.
    """
    if ASKED_PAYLOAD not in payloads:
        return False
    numbers = phone_numbers(text)
    if len(numbers) != 1:  # none, or two: the form asks again, nothing kept
        return False
    row = {"sender": sender, "phone": numbers[0], "given_at": now}
    insert = insert_or_else(session, CallbackNumber).values(**row)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["sender"], set_={"phone": numbers[0], "given_at": now}
        )
    )
    return True


def take(session: Session, *, sender: str, masked: str, now: datetime) -> str | None:
    """The number kept for ``sender`` whose masked form is ``masked``, or None.

    The row is deleted (a ticket holds the number from now on); None when there is none,
    it is another number, or it is too old.
    """
    row = session.get(CallbackNumber, sender)
    if row is None:
        return None
    session.delete(row)
    return row.phone if _matches(row, masked, now) else None


def kept(session: Session, *, sender: str, masked: str, now: datetime) -> bool:
    """Whether a fresh number whose masked form is ``masked`` is kept for ``sender``."""
    row = session.get(CallbackNumber, sender)
    return row is not None and _matches(row, masked, now)


def _matches(row: CallbackNumber, masked: str, now: datetime) -> bool:
    return row.given_at >= now - KEPT_FOR and mask(row.phone) == masked


def purge(session: Session, *, now: datetime) -> int:
    """Forget the numbers no ticket took in time; how many were forgotten."""
    result = session.execute(delete(CallbackNumber).where(CallbackNumber.given_at < now - KEPT_FOR))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
