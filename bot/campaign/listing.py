"""What a citizen is told about their commune's registration sessions.

Shown where the citizen asks: the answer to "khi nào công an về thôn làm định danh" when
the question names a commune (the app's NLG endpoint), and after "which commune is mine
now" (the action server). Each session has a "Nhắc tôi" button; the app handles it
(``bot.campaign.citizens``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.campaign import progress, sessions, when
from bot.campaign.models import RegistrationSession
from bot.communes import service as communes_service
from bot.communes.models import Commune
from bot.communes.resolver import Directory, FormerUnit, Status
from bot.db import Clock, Database
from bot.faq.fixed import Fixed
from bot.faq.schemas import BotResponse, Button

__all__ = [
    "CAMPAIGN_RESPONSE",
    "LIST_TEXT",
    "NONE_TEXT",
    "REMIND_INTENT",
    "Listing",
    "SessionFinder",
    "commune_of",
    "for_commune",
    "for_text",
    "remind_payload",
]

REMIND_INTENT = "/session_remind"
LIST_TEXT = Fixed("utter_sessions_list")
NONE_TEXT = Fixed("utter_sessions_none")
LINE_TEXT = Fixed("utter_sessions_line")
BUTTON_TEXT = Fixed("utter_sessions_button")


def remind_payload(session_id: int) -> str:
    """The payload of a session's "Nhắc tôi" button."""
    return REMIND_INTENT + json.dumps({"session_id": session_id}, separators=(",", ":"))


def commune_of(session: Session, unit: FormerUnit) -> Commune | None:
    """The commune (today's) a former unit became."""
    return session.scalar(
        select(Commune).where(
            Commune.province == unit.new_province,
            Commune.unit_type == unit.new_type,
            Commune.name == unit.new_name,
        )
    )


@dataclass(frozen=True)
class Listing:
    """The sessions of one commune, as lines and buttons (no text of the response yet)."""

    commune: str
    lines: str
    buttons: tuple[Button, ...]

    @property
    def empty(self) -> bool:
        """No session is coming."""
        return not self.buttons


def listing(session: Session, commune: Commune, *, now: datetime) -> Listing:
    """The commune's next sessions."""
    found: list[RegistrationSession] = sessions.upcoming(session, commune.id, now=now)
    name = commune.label
    lines = "\n".join(
        LINE_TEXT.render(session, when=when.say_when(s.starts_at, s.ends_at), place=s.place).text
        for s in found
    )
    buttons = tuple(
        Button(
            title=BUTTON_TEXT.render(session, day=when.say_day(when.vietnam_day(s.starts_at))).text,
            payload=remind_payload(s.id),
        )
        for s in found
    )
    return Listing(commune=name, lines=lines, buttons=buttons)


def for_commune(session: Session, commune: Commune, *, now: datetime) -> BotResponse:
    """The response listing ``commune``'s sessions (or saying there is none yet)."""
    found = listing(session, commune, now=now)
    if found.empty:
        return NONE_TEXT.render(session, commune=found.commune)
    response = LIST_TEXT.render(session, commune=found.commune, lines=found.lines)
    return BotResponse(text=response.text, buttons=[*found.buttons, *response.buttons])


def for_text(
    session: Session, directory: Directory, text: str, *, now: datetime
) -> BotResponse | None:
    """The sessions of the commune ``text`` names (old or new name); None if it names none."""
    resolution = directory.resolve(text)
    if resolution.status is not Status.FOUND:
        return None
    commune = commune_of(session, resolution.matches[0])
    if commune is None:
        return None
    progress.count_question(session, commune.id, now=now)
    return for_commune(session, commune, now=now)


ASK_BUTTON = Fixed("utter_sessions_ask_button")
CAMPAIGN_RESPONSE = "utter_faq/campaign_info"


class SessionFinder:
    """The app's side of "when do the police come to my village".

    The commune the question names, and its sessions, in place of the general answer
    (``/nlg``).
    """

    def __init__(self, db: Database, *, clock: Clock) -> None:
        """Read through ``db``; the commune directory is loaded on first use."""
        self._db = db
        self._clock = clock
        self._directory: Directory | None = None

    async def answer(self, text: str, general: BotResponse) -> BotResponse:
        """The sessions of the commune ``text`` names, or ``general`` with a button to name one."""
        if self._directory is None:
            self._directory = await self._db.run(
                lambda session: communes_service.load_directory(session=session)
            )
        directory, now = self._directory, self._clock()
        found = await self._db.run(
            lambda session: (
                for_text(session, directory, text, now=now),
                ASK_BUTTON.render(session).text,
            )
        )
        listing, ask = found
        if listing is not None:
            return listing
        button = Button(title=ask, payload="/commune_lookup")
        return BotResponse(text=general.text, buttons=[button, *general.buttons])
