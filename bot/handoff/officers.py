"""Officers and commune alert chats, from the console or the command line.

The console's changes are audited under the admin's name.

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

from bot import audit
from bot.communes.models import Commune
from bot.communes.resolver import simplify
from bot.handoff.models import Officer

__all__ = [
    "ImportRefusedError",
    "OfficerError",
    "add_officer",
    "communes_named",
    "all_officers",
    "find_commune",
    "import_commune_groups",
    "import_officers",
    "list_officers",
    "remove_officer",
    "set_commune_group",
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
        names = ", ".join(sorted(c.label for c in session.scalars(select(Commune))))
        raise OfficerError(f"Không tìm thấy xã/phường mới tên '{text}'. Các tên có: {names}")
    return matches[0]


class ImportRefusedError(ValueError):
    """A file with wrong rows: nothing of it is kept; the first errors, with line numbers."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:10]))
        self.errors = errors


def add_officer(
    session: Session,
    *,
    name: str,
    telegram_id: int,
    commune: str | None,
    supervisor: bool,
    by: str | None = None,
) -> Officer:
    """Add (or update) an officer; a supervisor needs no commune. ``by``: audited as."""
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
    if by is not None:
        audit.record(session, username=by, action="officer_add", target=str(telegram_id))
    return officer


def remove_officer(session: Session, *, telegram_id: int, by: str | None = None) -> None:
    """Deactivate an officer (kept for the record of their tickets)."""
    officer = session.scalar(select(Officer).where(Officer.telegram_user_id == telegram_id))
    if officer is None:
        raise OfficerError(f"Không có cán bộ với Telegram id {telegram_id}.")
    officer.active = False
    if by is not None:
        audit.record(session, username=by, action="officer_remove", target=str(telegram_id))


def set_group(session: Session, *, commune: str, chat_id: int | None) -> Commune:
    """Send a commune's alerts to one Telegram group instead of each officer."""
    place = find_commune(session, commune)
    place.officer_chat_id = chat_id
    return place


def all_officers(session: Session) -> list[Officer]:
    """Every officer, active or not, by name."""
    return list(session.scalars(select(Officer).order_by(Officer.name)))


def list_officers(session: Session) -> list[str]:
    """One line per officer, for the terminal."""
    lines = []
    for o in session.scalars(select(Officer).order_by(Officer.commune_id, Officer.name)):
        where = "tỉnh" if o.is_supervisor else (o.commune.label if o.commune else "?")
        state = "" if o.active else " (đã nghỉ)"
        lines.append(f"{o.telegram_user_id}\t{o.name}\t{where}{state}")
    return lines


def set_commune_group(session: Session, commune_id: int, chat_id: str, *, by: str) -> Commune:
    """The console's form: a commune's Telegram group (empty: each officer); LookupError."""
    place = session.get(Commune, commune_id)
    if place is None:
        raise LookupError(commune_id)
    try:
        place.officer_chat_id = int(chat_id) if chat_id.strip() else None
    except ValueError as exc:
        raise OfficerError("Mã nhóm Telegram là một số.") from exc
    audit.record(
        session,
        username=by,
        action="commune_group",
        target=place.name,
        detail={"chat_id": place.officer_chat_id},
    )
    return place


_YES = {"1", "true", "x", "có"}
_NO = {"0", "false", "không"}


def import_officers(session: Session, rows: list[dict[str, str]], *, by: str) -> int:
    """Add or update officers from CSV rows (line 2 on); all or nothing (ImportRefusedError)."""
    errors = []
    for i, row in enumerate(rows, start=2):
        try:
            officer = add_officer(
                session,
                name=row.get("name", ""),
                telegram_id=int(row.get("telegram_user_id") or ""),
                commune=row.get("commune") or None,
                supervisor=row.get("supervisor", "0").lower() in _YES,
            )
            officer.active = (row.get("active") or "1").lower() not in _NO
        except (OfficerError, ValueError) as exc:
            errors.append(f"dòng {i}: {exc}")
    if errors:
        raise ImportRefusedError(errors)
    audit.record(session, username=by, action="officer_import", detail={"rows": len(rows)})
    return len(rows)


def _plain(name: str) -> str:
    """A place name as people may type it: any case, with or without diacritics or "tỉnh"."""
    text = simplify(name)
    for prefix in ("tinh ", "thanh pho ", "xa ", "phuong ", "dac khu "):
        text = text.removeprefix(prefix)
    return text


def communes_named(communes: list[Commune], name: str, province: str) -> list[Commune]:
    """Communes called ``name`` (in ``province`` if given), however it was typed."""
    here = [c for c in communes if not province or _plain(c.province) == _plain(province)]
    exact = [c for c in here if c.name == name]
    return exact or [c for c in here if _plain(c.name) == _plain(name)]


def import_commune_groups(session: Session, rows: list[dict[str, str]], *, by: str) -> int:
    """Each commune's alert group from CSV rows (by name, and province); all or nothing."""
    communes = list(session.scalars(select(Commune)))
    errors: list[str] = []
    changed: dict[str, int | None] = {}
    for i, row in enumerate(rows, start=2):
        found = communes_named(communes, row.get("name", ""), row.get("province", ""))
        if len(found) != 1:
            what = "không có xã/phường" if not found else "có nhiều nơi trùng tên, ghi thêm tỉnh:"
            errors.append(f"dòng {i}: {what} {row.get('name')!r}")
            continue
        chat = row.get("officer_chat_id", "")
        try:
            found[0].officer_chat_id = int(chat) if chat else None
        except ValueError:
            errors.append(f"dòng {i}: mã nhóm Telegram là một số, không phải {chat!r}")
            continue
        changed[found[0].name] = found[0].officer_chat_id
    if errors:
        raise ImportRefusedError(errors)
    audit.record(session, username=by, action="commune_import", detail={"groups": changed})
    return len(rows)
