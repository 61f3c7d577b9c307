"""The officers' campaign commands on Telegram.

- ``/lichmoi``: announce a registration session of the officer's commune. All in one line
  (``/lichmoi 15/12 7h30-11h Nhà văn hóa thôn 3``) or guided: the bot asks for what is
  missing (day, hours, place), one question at a time, and the officer replies to it.
  The draft is kept in the database (``officer_draft``), so a restart or another replica
  loses nothing.
- ``/lich``: the commune's next sessions with how many citizens asked to be reminded
  (counts, never who); ``/huylich 12`` cancels session 12 and its reminders.
- ``/baocao 120 45 80``: the day's figures of the commune (files at level 1 and level 2,
  accounts activated); ``/baocao 05/12 120 45 80`` for another day.

Every update is handled once (its ``update_id`` is stored with what it changed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from telegram import ForceReply, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.campaign import progress, sessions, when
from bot.campaign.models import CommuneTarget, OfficerDraft
from bot.channels.telegram.updates import first_time, quietly
from bot.channels.telegram.words import Words
from bot.communes.models import Commune
from bot.db import Clock, Database, as_utc
from bot.faq.fixed import Fixed
from bot.handoff import service
from bot.handoff.models import Officer

__all__ = ["CampaignDesk"]

NOT_REGISTERED = Fixed("utter_officer_not_registered")
NO_COMMUNE = Fixed("utter_officer_no_commune")
ASK = {
    "day": Fixed("utter_officer_session_ask_day"),
    "hours": Fixed("utter_officer_session_ask_hours"),
    "place": Fixed("utter_officer_session_ask_place"),
}
PLACEHOLDER = {"day": "15/12", "hours": "7h30-11h", "place": "Nhà văn hóa thôn 3"}
BAD = {
    "day": Fixed("utter_officer_session_bad_day"),
    "hours": Fixed("utter_officer_session_bad_hours"),
}
REFUSED = Fixed("utter_officer_session_refused")
DONE = Fixed("utter_officer_session_done")
LIST_EMPTY = Fixed("utter_officer_sessions_empty")
LIST_HEAD = Fixed("utter_officer_sessions_head")
LIST_LINE = Fixed("utter_officer_sessions_line")
CANCELLED = Fixed("utter_officer_session_cancelled")
NOT_FOUND = Fixed("utter_officer_session_not_found")
REPORT_USAGE = Fixed("utter_officer_report_usage")
REPORT_DONE = Fixed("utter_officer_report_done")
DRAFT_TTL = timedelta(hours=2)
_NUMBER_RE = re.compile(r"^\d[\d.,]*$")


@dataclass(frozen=True)
class _Reply:
    """What the bot answers: a text, and the field it asks for next (a ForceReply)."""

    text: str
    asking: str | None = None


def _draft_of(fields: dict[str, object]) -> sessions.Draft:
    def clock(key: str) -> object:
        raw = fields.get(key)
        return datetime.strptime(str(raw), "%H:%M").time() if raw else None  # noqa: DTZ007

    day = fields.get("day")
    return sessions.Draft(
        day=datetime.strptime(str(day), "%Y-%m-%d").date() if day else None,  # noqa: DTZ007
        start=clock("start"),  # type: ignore[arg-type]
        end=clock("end"),  # type: ignore[arg-type]
        place=str(fields.get("place") or ""),
    )


def _officer_name(officer: Officer) -> str:
    return f"{officer.name} (Telegram {officer.telegram_user_id})"


class CampaignDesk:
    """PTB handlers for the campaign commands; all changes through ``bot.campaign``."""

    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def register(self, application: Application) -> None:  # type: ignore[type-arg,unused-ignore]
        """Add the campaign commands to ``application``."""
        application.add_handler(CommandHandler("lichmoi", self.on_new))
        application.add_handler(CommandHandler("lich", self.on_list))
        application.add_handler(CommandHandler("huylich", self.on_cancel))
        application.add_handler(CommandHandler("baocao", self.on_report))

    async def _run(
        self, update: Update, work: Callable[[Session, Officer, Commune, Words], _Reply | str]
    ) -> None:
        """Run ``work`` for a registered officer with a commune, once per update; answer."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return

        def unit(session: Session) -> _Reply | None:
            if not first_time(session, update.update_id):
                return None
            say = Words(session, html=False)
            officer = service.officer_by_telegram(session, user.id)
            if officer is None:
                return _Reply(say(NOT_REGISTERED))
            if officer.commune is None:
                return _Reply(say(NO_COMMUNE))
            answer = work(session, officer, officer.commune, say)
            return answer if isinstance(answer, _Reply) else _Reply(answer)

        reply = await self._db.run(unit)
        if reply is None or not reply.text:
            return
        markup = None
        if reply.asking:
            markup = ForceReply(selective=True, input_field_placeholder=PLACEHOLDER[reply.asking])
        await quietly(message.reply_text(reply.text, reply_markup=markup))

    # --- /lichmoi and its questions ------------------------------------------------
    async def on_new(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/lichmoi [day] [hours] [place]."""
        message = update.effective_message
        text = " ".join(context.args or [])
        chat_id = message.chat_id if message else 0

        def work(session: Session, officer: Officer, commune: Commune, say: Words) -> _Reply:
            today = when.vietnam_day(self._clock())
            day, hours, place = when.parse_announcement(text, today)
            fields: dict[str, object] = {"place": place}
            if day:
                fields["day"] = day.isoformat()
            if hours:
                fields["start"] = hours[0].strftime("%H:%M")
                fields["end"] = hours[1].strftime("%H:%M") if hours[1] else None
            return self._advance(session, officer, commune, say, chat_id=chat_id, fields=fields)

        await self._run(update, work)

    async def on_answer(self, update: Update) -> bool:
        """A reply to one of the bot's questions: the next field of a draft (False: no draft)."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or not message.text:
            return False
        chat_id, user_id, text = message.chat_id, user.id, message.text

        def has_draft(session: Session) -> bool:
            return self._draft(session, chat_id, user_id) is not None

        if not await self._db.run(has_draft):
            return False

        def work(session: Session, officer: Officer, commune: Commune, say: Words) -> _Reply:
            draft = self._draft(session, chat_id, user_id)
            if draft is None:  # finished meanwhile
                return _Reply("")
            fields = dict(draft.fields)
            asking = str(fields.pop("asking", ""))
            today = when.vietnam_day(self._clock())
            if asking == "day":
                day = when.parse_day(text, today)
                if day is None:
                    return _Reply(say(BAD["day"]), asking="day")
                fields["day"] = day.isoformat()
            elif asking == "hours":
                hours = when.parse_hours(text)
                if hours is None:
                    return _Reply(say(BAD["hours"]), asking="hours")
                fields["start"] = hours[0].strftime("%H:%M")
                fields["end"] = hours[1].strftime("%H:%M") if hours[1] else None
            else:
                fields["place"] = text.strip()
            return self._advance(session, officer, commune, say, chat_id=chat_id, fields=fields)

        await self._run(update, work)
        return True

    def _draft(self, session: Session, chat_id: int, user_id: int) -> OfficerDraft | None:
        draft = session.get(OfficerDraft, chat_id)
        if draft is None or draft.user_id != user_id:
            return None
        if as_utc(draft.updated_at) < self._clock() - DRAFT_TTL:
            return None
        return draft

    def _advance(
        self,
        session: Session,
        officer: Officer,
        commune: Commune,
        say: Words,
        *,
        chat_id: int,
        fields: dict[str, object],
    ) -> _Reply:
        """Ask for what is missing, or publish the session."""
        name = commune.label
        draft = _draft_of(fields)
        missing = draft.missing
        row = session.get(OfficerDraft, chat_id)
        if missing is not None:
            if row is None:
                row = OfficerDraft(chat_id=chat_id, user_id=officer.telegram_user_id)
                session.add(row)
            row.user_id = officer.telegram_user_id
            row.fields = {**fields, "asking": missing}
            row.updated_at = self._clock()
            return _Reply(say(ASK[missing], commune=name), asking=missing)
        if row is not None:
            session.delete(row)
        try:
            found = sessions.announce(
                session, commune=commune, draft=draft, by=_officer_name(officer), now=self._clock()
            )
        except sessions.SessionError as exc:
            return _Reply(say(REFUSED, reason=str(exc)))
        return _Reply(
            say(
                DONE,
                id=found.id,
                commune=name,
                when=when.say_when(found.starts_at, found.ends_at),
                place=found.place,
            )
        )

    # --- /lich, /huylich -------------------------------------------------------------
    async def on_list(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """/lich: the commune's next sessions and how many want a reminder."""

        def work(session: Session, officer: Officer, commune: Commune, say: Words) -> str:
            name = commune.label
            found = sessions.upcoming(session, commune.id, now=self._clock(), limit=10)
            if not found:
                return say(LIST_EMPTY, commune=name)
            counts = sessions.subscriber_counts(session, [s.id for s in found])
            lines = [say(LIST_HEAD, commune=name)]
            lines += [
                say(
                    LIST_LINE,
                    id=s.id,
                    when=when.say_when(s.starts_at, s.ends_at),
                    place=s.place,
                    count=counts.get(s.id, 0),
                )
                for s in found
            ]
            return "\n".join(lines)

        await self._run(update, work)

    async def on_cancel(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/huylich 12."""
        args = list(context.args or [])

        def work(session: Session, officer: Officer, commune: Commune, say: Words) -> str:
            number = args[0].lstrip("#") if args else ""
            if not number.isdigit():
                return say(NOT_FOUND)
            done = sessions.cancel(session, int(number), commune_id=commune.id, now=self._clock())
            return say(CANCELLED, id=int(number)) if done else say(NOT_FOUND)

        await self._run(update, work)

    # --- /baocao -----------------------------------------------------------------------
    async def on_report(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/baocao [dd/mm] level1 level2 activated."""
        args = list(context.args or [])

        def work(session: Session, officer: Officer, commune: Commune, say: Words) -> str:
            today = when.vietnam_day(self._clock())
            day = today
            if args and not _NUMBER_RE.match(args[0]):
                parsed = when.parse_day(args[0], today)
                # "05/12" is a day already past: no year means the last such day
                if parsed is not None and parsed > today:
                    parsed = parsed.replace(year=parsed.year - 1)
                if parsed is None:
                    return say(REPORT_USAGE)
                day, numbers = parsed, args[1:]
            else:
                numbers = args
            if len(numbers) != 3 or not all(_NUMBER_RE.match(n) for n in numbers):
                return say(REPORT_USAGE)
            try:
                level1, level2, activated = (int(re.sub(r"[.,]", "", n)) for n in numbers)
                figures = progress.Figures(level1, level2, activated)
            except ValueError:
                return say(REPORT_USAGE)
            progress.record(
                session,
                commune_id=commune.id,
                day=day,
                figures=figures,
                source="officer",
                by=_officer_name(officer),
            )
            total = progress.total_activated(session, commune.id)
            target = session.get(CommuneTarget, commune.id)
            share = (
                f" / chỉ tiêu {target.target:,} ({total / target.target:.0%})".replace(",", ".")
                if target
                else ""
            )
            return say(
                REPORT_DONE,
                day=f"{day:%d/%m/%Y}",
                commune=commune.label,
                level1=level1,
                level2=level2,
                activated=activated,
                total=f"{total:,}".replace(",", "."),
                target=share,
            )

        await self._run(update, work)
