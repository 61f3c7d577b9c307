"""Officers and commune alert chats, managed from the command line until the admin console.

    python -m bot officer add --name "Nguyễn Văn Hùng" --telegram-id 123456789 --commune "xã Xốp"
    python -m bot officer add --name "Trực ban tỉnh" --telegram-id 987654321 --supervisor
    python -m bot officer list
    python -m bot officer remove --telegram-id 123456789
    python -m bot officer group --commune "xã Xốp" --chat-id -1001234567890

An officer finds their Telegram id by sending /id to the bot; a group's id the same way.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.communes.models import Commune
from bot.communes.resolver import simplify
from bot.handoff.models import Officer

__all__ = [
    "OfficerError",
    "add_officer",
    "find_commune",
    "list_officers",
    "remove_officer",
    "set_group",
]


_UNIT_RE = re.compile(r"^(?:xa|phuong|thi tran|tt|dac khu)\s+")


class OfficerError(ValueError):
    """A command that cannot be carried out, with a message for the operator."""


def find_commune(session: Session, text: str) -> Commune:
    """The commune (new name, since 1/7/2025) an operator typed, any spelling."""
    wanted = _UNIT_RE.sub("", simplify(text))
    matches = [c for c in session.scalars(select(Commune)) if simplify(c.name) == wanted]
    if len(matches) != 1:
        names = ", ".join(
            sorted(f"{c.unit_type} {c.name}" for c in session.scalars(select(Commune)))
        )
        raise OfficerError(f"Không tìm thấy xã/phường mới tên '{text}'. Các tên có: {names}")
    return matches[0]


def add_officer(
    session: Session, *, name: str, telegram_id: int, commune: str | None, supervisor: bool
) -> Officer:
    """Add (or update) an officer; a supervisor needs no commune."""
    if not supervisor and not commune:
        raise OfficerError("Cán bộ xã cần --commune; cán bộ tỉnh dùng --supervisor.")
    place = find_commune(session, commune) if commune else None
    officer = session.scalar(select(Officer).where(Officer.telegram_user_id == telegram_id))
    if officer is None:
        officer = Officer(telegram_user_id=telegram_id, name=name)
        session.add(officer)
    officer.name = name
    officer.commune_id = place.id if place else None
    officer.is_supervisor = supervisor
    officer.active = True
    session.flush()
    return officer


def remove_officer(session: Session, *, telegram_id: int) -> None:
    """Deactivate an officer (kept for the record of their tickets)."""
    officer = session.scalar(select(Officer).where(Officer.telegram_user_id == telegram_id))
    if officer is None:
        raise OfficerError(f"Không có cán bộ với Telegram id {telegram_id}.")
    officer.active = False


def set_group(session: Session, *, commune: str, chat_id: int | None) -> Commune:
    """Send a commune's alerts to one Telegram group instead of each officer."""
    place = find_commune(session, commune)
    place.officer_chat_id = chat_id
    return place


def list_officers(session: Session) -> list[str]:
    """One line per officer, for the terminal."""
    lines = []
    for o in session.scalars(select(Officer).order_by(Officer.commune_id, Officer.name)):
        where = (
            "tỉnh"
            if o.is_supervisor
            else (f"{o.commune.unit_type} {o.commune.name}" if o.commune else "?")
        )
        state = "" if o.active else " (đã nghỉ)"
        lines.append(f"{o.telegram_user_id}\t{o.name}\t{where}{state}")
    return lines
