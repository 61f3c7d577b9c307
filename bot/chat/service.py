"""Gateway logic: check the citizen's text, ask Rasa, shape the replies.

A message is three short steps, and no database session is open across the call to Rasa
(whose NLG callback and actions need connections of their own): a unit of work that reads
the conversation state (or relays to the officer who holds the conversation), the call to
Rasa, and a unit of work that keeps the buttons on screen. Database work runs in threads
(``bot.db.Database``). At most ``max_in_flight`` Rasa calls run at once; a message that
cannot get a slot within ``queue_timeout_s``, or finds ``max_waiting`` others already
waiting, gets the busy reply at once instead of queueing forever. One citizen's messages
are answered in the order they came (per-sender lock).
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot import locks
from bot.campaign import citizens as campaign
from bot.chat import guard, messages
from bot.chat.choices import resolve_choice
from bot.chat.exceptions import RasaUnavailableError
from bot.chat.identity import Channel, Citizen
from bot.chat.models import ConversationState
from bot.chat.ordering import KeyedLocks
from bot.chat.rasa_client import RasaClient
from bot.chat.schemas import OutgoingMessage
from bot.config import Settings
from bot.db import Clock, Database, dialect_insert, utcnow
from bot.faq import service as faq_service
from bot.faq.cache import ContentCache
from bot.faq.fixed import Fixed
from bot.faq.schemas import BotResponse, Button
from bot.handoff import service as handoff
from bot.handoff import texts
from bot.handoff.models import HandoffTicket
from bot.privacy import contacts
from bot.privacy.mask import mask
from bot.web.rates import Buckets

logger = logging.getLogger(__name__)

__all__ = ["Gateway", "Limits", "clean_text"]

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def clean_text(text: str) -> str:
    """NFC-normalise, drop control characters and trim the text."""
    return _CONTROL_RE.sub("", unicodedata.normalize("NFC", text)).strip()


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


@dataclass(frozen=True)
class Limits:
    """How much the gateway takes on before it answers "busy" (settings)."""

    max_chars: int = 1500
    max_in_flight: int = 16
    max_waiting: int = 400
    queue_timeout_s: float = 8.0
    per_minute: float = 30.0  # one citizen's messages (past them: the "slow down" reply)
    burst: int = 15

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits configured for this process."""
        return cls(
            max_chars=settings.max_message_chars,
            max_in_flight=settings.rasa_max_in_flight,
            max_waiting=settings.rasa_max_waiting,
            queue_timeout_s=settings.rasa_queue_timeout_s,
            per_minute=settings.chat_rate_per_minute,
            burst=settings.chat_burst,
        )


@dataclass(frozen=True)
class _Prepared:
    """What the first unit of work found: an answer already, or the text for Rasa."""

    text: str
    slow: bool = False
    shown: tuple[tuple[str, str], ...] = ()
    replies: list[OutgoingMessage] | None = None
    warnings: tuple[OutgoingMessage, ...] = ()  # the scam guard's, sent before Rasa's answer


class Gateway:
    """Answers citizen messages of every channel; never raises to the caller."""

    def __init__(
        self,
        db: Database,
        rasa: RasaClient,
        *,
        limits: Limits = Limits(),
        clock: Clock = utcnow,
        texts: ContentCache | None = None,
    ) -> None:
        """Share one database, one Rasa client, one set of limits and texts per process.

        ``texts``: the process's copy of the editable texts (None: the seed file's).
        """
        self._db = db
        self._rasa = rasa
        self._texts = texts
        self.limits = limits
        self._clock = clock
        self._slots = asyncio.Semaphore(limits.max_in_flight)
        self._waiting = 0
        self._senders = KeyedLocks()
        self._rates = Buckets(per_minute=limits.per_minute, burst=limits.burst)
        self._writes: dict[str, asyncio.Task[None]] = {}  # sender -> buttons being written

    @property
    def waiting(self) -> int:
        """Messages waiting for a free Rasa slot now (for /healthz and tests)."""
        return self._waiting

    async def answer(self, citizen: Citizen, text: str) -> list[OutgoingMessage]:
        """Answer one citizen message, whatever it holds."""
        text = clean_text(text)
        if not text:
            return [await self.say(messages.EMPTY)]
        if len(text) > self.limits.max_chars:
            return [await self.say(messages.TOO_LONG)]
        if not _has_words(text):
            return [await self.say(messages.NO_WORDS)]
        sender = citizen.sender
        if not self._rates.take(sender):  # faster than anyone reads: a script, or a flood
            return [await self.say(messages.SLOW_DOWN)]
        verdict = guard.inspect(text)
        async with self._senders.hold(sender):
            earlier = self._writes.get(sender)
            if earlier is not None:  # the buttons of this citizen's last reply
                await asyncio.wait({earlier})
            prepared = await self._db.run(
                partial(_prepare, sender=sender, text=text, now=self._clock(), verdict=verdict)
            )
            if prepared.replies is not None:
                return prepared.replies
            # Rasa (its tracker store, its logs, the action server) never sees an ID number,
            # a phone number, a code, a card or a password: the call-back number the
            # handoff form asks for was kept apart by _prepare.
            replies = await self._ask(citizen, mask(prepared.text), slow=prepared.slow)
            warnings = list(prepared.warnings)
            if replies is None:
                return [*warnings, await self.say(messages.BUSY)]
            out = [m for m in map(_to_message, replies) if m is not None]
            out = out or [await self.say(messages.NO_REPLY)]
            warned = {w.text for w in warnings}
            out = warnings + [m for m in out if m.text not in warned]
            shown = _shown(out)
            if _pairs(shown) != prepared.shown:
                self._remember_later(sender, shown)
            return out

    async def say(self, text: Fixed) -> OutgoingMessage:
        """One of the app's own replies, as currently worded (an admin may have edited it)."""
        return _outgoing(await text.fetch(self._texts))

    def _remember_later(self, sender: str, buttons: list[Button]) -> None:
        task = asyncio.create_task(self._remember(sender, buttons))
        self._writes[sender] = task
        task.add_done_callback(partial(self._written, sender))

    async def _remember(self, sender: str, buttons: list[Button]) -> None:
        try:
            await self._db.run(partial(_remember_buttons, sender=sender, buttons=buttons))
        except Exception:  # the reply has gone; typing "2" next falls back to the NLU
            logger.exception("buttons on screen not remembered")

    def _written(self, sender: str, task: asyncio.Task[None]) -> None:
        if self._writes.get(sender) is task:
            del self._writes[sender]

    async def settle(self) -> None:
        """Wait until the buttons of every reply given so far are written."""
        while self._writes:
            await asyncio.wait(set(self._writes.values()))

    async def _ask(self, citizen: Citizen, text: str, *, slow: bool) -> list[dict[str, Any]] | None:
        """Rasa's replies, or None when Rasa is down or the gateway is full."""
        if self._slots.locked() and self._waiting >= self.limits.max_waiting:
            logger.warning("gateway full: %d messages waiting for Rasa", self._waiting)
            return None
        self._waiting += 1
        try:
            async with asyncio.timeout(self.limits.queue_timeout_s):
                await self._slots.acquire()
        except TimeoutError:
            logger.warning("no Rasa slot within %.1fs", self.limits.queue_timeout_s)
            return None
        finally:
            self._waiting -= 1
        try:
            return await self._rasa.send(
                sender=citizen.sender, text=text, channel=citizen.channel.value, slow=slow
            )
        except RasaUnavailableError:
            return None
        finally:
            self._slots.release()


# What every message needs, in one statement built once: the buttons on screen, whether an
# officer has the conversation, whether a model swap is under way (three queries, each built
# anew, were two thirds of this unit's time).
_EVERY_MESSAGE = select(
    select(ConversationState.last_buttons)
    .where(ConversationState.sender == bindparam("sender"))
    .scalar_subquery(),
    handoff.active_ticket_id(bindparam("sender")).scalar_subquery(),
    locks.alive(locks.SERVING, bindparam("stale_before")).scalar_subquery(),
)


def _prepare(
    session: Session, *, sender: str, text: str, now: datetime, verdict: guard.Verdict | None
) -> _Prepared:
    on_screen, ticket_id, swapping = session.execute(
        _EVERY_MESSAGE, {"sender": sender, "stale_before": now - locks.STALE}
    ).one()
    last_buttons: list[dict[str, Any]] = on_screen or []
    citizen = Citizen.parse(sender)
    if citizen.channel is Channel.ZALO:  # the OA may message them for 48 hours after
        _keep_state(session, sender, last_message_at=now)
    shown = _pairs([Button(**b) for b in last_buttons])
    text = resolve_choice(text, last_buttons) or text
    if text == guard.AFTER_PAYLOAD:  # "Lỡ bị lừa rồi" under the warning
        return _served(session, sender, text, [_render(session, messages.SCAM_AFTER)])
    warnings = _warnings(session, verdict)
    if verdict is not None and verdict.only_code:  # nothing but a code: the warning is the answer
        return _served(session, sender, text, warnings)
    more = faq_service.parse_more(text)
    if more is not None:  # "Xem thêm" under a long answer: the next screen, no Rasa turn
        part = faq_service.render_more(session=session, key=more[0], part=more[1])
        screen = _render(session, messages.GONE) if part is None else _outgoing(part)
        return _served(session, sender, text, [screen])
    # "dừng nhắc", a session's "Nhắc tôi", "nhắc tôi sau 3 ngày": commands, answered here
    campaign_reply = campaign.answer(
        session, citizen=citizen, text=text, shown=last_buttons, now=now
    )
    if campaign_reply is not None:
        return _served(session, sender, text, [*warnings, _outgoing(campaign_reply)])
    ticket = None if ticket_id is None else session.get(HandoffTicket, ticket_id)
    if ticket is not None:  # an officer has the conversation: relay, do not answer
        replies = _relay(session=session, ticket=ticket, sender=sender, text=text, now=now)
        return _Prepared(text=text, replies=warnings + replies)
    if text == texts.CANCEL_PAYLOAD:  # an old "Hủy yêu cầu" button, the ticket already closed
        return _Prepared(text=text, replies=[_render(session, messages.NOTHING_TO_CANCEL)])
    payloads = [str(b.get("payload")) for b in last_buttons]
    contacts.keep_from(session, sender=sender, text=text, payloads=payloads, now=now)
    # a model swap under way: Rasa answers once the new model is loaded, not "busy"
    return _Prepared(text=text, slow=swapping is not None, shown=shown, warnings=tuple(warnings))


def _served(session: Session, sender: str, text: str, replies: list[OutgoingMessage]) -> _Prepared:
    """Replies the app gives itself, without Rasa: their buttons become the choices on screen."""
    _remember_buttons(session, sender=sender, buttons=_shown(replies))
    return _Prepared(text=text, replies=replies)


def _warnings(session: Session, verdict: guard.Verdict | None) -> list[OutgoingMessage]:
    """The scam guard's message for what it found: the steps when it already happened."""
    if verdict is None:
        return []
    if verdict.happened:
        return [_render(session, messages.SCAM_AFTER)]
    if guard.Sign.DISTRICT in verdict.signs:
        return [_render(session, messages.SCAM_DISTRICT)]
    return [_render(session, messages.SCAM_WARNING)]


def _render(session: Session, text: Fixed) -> OutgoingMessage:
    return _outgoing(text.render(session))


def _relay(
    *,
    session: Session,
    sender: str,
    ticket: HandoffTicket,
    text: str,
    now: datetime,
) -> list[OutgoingMessage]:
    officer = ticket.claimed_by.name if ticket.claimed_by else None
    if text == texts.CANCEL_PAYLOAD or texts.says_cancel(text):
        handoff.cancel(session, ticket, now=now)
        notice = texts.cancelled(session, ticket.code)
    elif text.startswith("/"):  # an old button or a command (/start, /menu): nothing to relay
        notice = texts.waiting(session, ticket.code, officer)
    else:
        handoff.citizen_message(session, ticket, text, now=now)
        notice = texts.relayed(session, ticket.code, officer)
    out = [_outgoing(notice)]
    _remember_buttons(session, sender=sender, buttons=_shown(out))
    return out


def _shown(replies: list[OutgoingMessage]) -> list[Button]:
    # The buttons of the last bubble that has any: those are the choices on screen.
    return next((m.buttons for m in reversed(replies) if m.buttons), [])


def _pairs(buttons: list[Button]) -> tuple[tuple[str, str], ...]:
    return tuple((b.title, b.payload) for b in buttons)


def _remember_buttons(session: Session, *, sender: str, buttons: list[Button]) -> None:
    """Keep the choices on screen, so that typing "2" or a title presses one."""
    _keep_state(
        session, sender, last_buttons=[b.model_dump() for b in buttons], updated_at=utcnow()
    )


def _keep_state(session: Session, sender: str, **values: Any) -> None:
    """Set these columns of the sender's conversation_state, the row made if missing."""
    # One statement whether or not the row exists: another process (or this one's write of
    # the last reply) may create it at the same moment.
    dialect = session.get_bind().dialect.name
    session.execute(_upsert_state(dialect, tuple(sorted(values))), {"sender": sender, **values})


@cache
def _upsert_state(dialect: str, columns: tuple[str, ...]) -> Any:
    """The upsert of these columns of conversation_state, built once per dialect.

    It runs after nearly every reply; building it anew was half the unit's time.
    """
    insert = dialect_insert(dialect, ConversationState.__table__)
    return insert.on_conflict_do_update(
        index_elements=["sender"], set_={name: insert.excluded[name] for name in columns}
    )


def _outgoing(response: BotResponse) -> OutgoingMessage:
    return OutgoingMessage(text=response.text, buttons=list(response.buttons))


def _to_message(reply: dict[str, Any]) -> OutgoingMessage | None:
    text = reply.get("text")
    if not isinstance(text, str) or not text.strip():
        return None
    buttons = [
        Button(title=str(b["title"]), payload=str(b["payload"]))
        for b in reply.get("buttons") or []
        if isinstance(b, dict) and b.get("title") and b.get("payload")
    ]
    return OutgoingMessage(text=text, buttons=buttons)
