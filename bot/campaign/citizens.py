"""What citizens say to the campaign, answered by the app itself (no Rasa turn).

- "dừng nhắc" (any spelling, or the "Dừng nhắc" button): every pending reminder stops;
- a session's "Nhắc tôi" button: a reminder the day before;
- "nhắc tôi sau 3 ngày" (or the button of the walkthrough's waiting step): one follow-up.

These are commands rather than questions: matched exactly, so they work whatever the
model, and while Rasa is down.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.campaign import reminders, sessions, when
from bot.campaign.listing import REMIND_INTENT
from bot.chat.identity import Channel, Citizen
from bot.faq.fixed import Fixed
from bot.faq.schemas import BotResponse
from nlu.text import fold

__all__ = ["LATER_INTENT", "answer", "later_payload"]

LATER_INTENT = "/remind_later"
DEFAULT_DAYS = 3
STOPPED = Fixed("utter_reminders_stopped")
NONE = Fixed("utter_reminders_none")
SUBSCRIBED = Fixed("utter_session_subscribed")
ALREADY = Fixed("utter_session_already")
TOO_LATE = Fixed("utter_session_too_late")
GONE = Fixed("utter_session_gone")
LATER_SET = Fixed("utter_remind_later_set")
LATER_SET_ZALO = Fixed("utter_remind_later_set_zalo")
SUBSCRIBED_ZALO = Fixed("utter_session_subscribed_zalo")
ZALO_DAYS = 1  # the longest delay Zalo's 48-hour window surely allows

_PAYLOAD_RE = re.compile(r"^(/session_remind|/remind_later)(\{.*)?$")
# "nhắc tôi …", "nhắc lại mình …", or a message that starts with "nhắc"; a question about
# reminders ("sao 3 ngày rồi không thấy nhắc?") is not a request for one
_STARTS_LATER_RE = re.compile(r"^(?:(?:hay|xin|ban|vui long|ad|em|toi|minh)\s+)*nhac\b")
_ASKS_LATER_RE = re.compile(r"\bnhac\s+(?:lai\s+)?(?:toi|minh|em|chau|con|giup|gium)\b")
_QUESTION_RE = re.compile(r"\b(?:sao|khong|ko|chua|bao gio|bao lau)\b")


def later_payload(days: int, step: str | None) -> str:
    """The payload of a "Nhắc tôi sau N ngày" button."""
    fields: dict[str, Any] = {"days": days}
    if step:
        fields["step"] = step
    return LATER_INTENT + json.dumps(fields, separators=(",", ":"))


def _fields(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _asks_later(text: str) -> int | None:
    """The delay of a typed "nhắc tôi sau 3 ngày" ("2 tuần nữa nhắc lại"), or None."""
    plain = " ".join(re.sub(r"[^a-z0-9 ]+", " ", fold(text.lower())).split())
    if len(plain) > 80:
        return None
    # "nhắc tôi sau 3 ngày (được không?)" asks for one; "sao 3 ngày rồi không thấy nhắc tôi?"
    # is a question about one
    asks = _STARTS_LATER_RE.search(plain) or (
        _ASKS_LATER_RE.search(plain) and not _QUESTION_RE.search(plain) and "?" not in text
    )
    if not asks:
        return None
    return when.parse_days(plain)


def _later_step(shown: list[dict[str, Any]]) -> str | None:
    """The step of a "Nhắc tôi sau…" button on screen: where the citizen paused."""
    for button in shown:
        found = _PAYLOAD_RE.match(str(button.get("payload", "")))
        if found and found.group(1) == LATER_INTENT:
            step = _fields(found.group(2)).get("step")
            return str(step) if step else None
    return None


def answer(
    session: Session,
    *,
    citizen: Citizen,
    text: str,
    shown: list[dict[str, Any]],
    now: datetime,
) -> BotResponse | None:
    """The campaign's answer to ``text``, or None when it is not for the campaign."""
    if reminders.is_stop(text):
        stopped = reminders.stop_all(session, citizen.sender, now=now)
        return (STOPPED if stopped else NONE).render(session, count=stopped)
    found = _PAYLOAD_RE.match(text.strip())
    if found and found.group(1) == REMIND_INTENT:
        try:
            session_id = int(_fields(found.group(2)).get("session_id", 0))
        except (TypeError, ValueError):
            session_id = 0
        return _subscribe(session, citizen=citizen, session_id=session_id, now=now)
    days: int | None
    if found and found.group(1) == LATER_INTENT:
        fields = _fields(found.group(2))
        try:
            days = int(fields.get("days", DEFAULT_DAYS))
        except (TypeError, ValueError):
            days = DEFAULT_DAYS
        step = str(fields["step"]) if fields.get("step") else None
    else:
        days = _asks_later(text)
        if days is None:
            return None
        step = _later_step(shown)
    if citizen.channel is Channel.ZALO and days > ZALO_DAYS:
        # Zalo lets the OA write only within 48 hours of the citizen's last message
        row = reminders.remind_later(session, citizen=citizen, days=ZALO_DAYS, step=step, now=now)
        return LATER_SET_ZALO.render(session, day=when.say_day(when.vietnam_day(row.due_at)))
    row = reminders.remind_later(session, citizen=citizen, days=days, step=step, now=now)
    return LATER_SET.render(session, day=when.say_day(when.vietnam_day(row.due_at)))


def _subscribe(
    session: Session, *, citizen: Citizen, session_id: int, now: datetime
) -> BotResponse:
    result = sessions.subscribe(session, citizen=citizen, session_id=session_id, now=now)
    if result.session is None:
        return GONE.render(session)
    values = {
        "when": when.say_when(result.session.starts_at, result.session.ends_at),
        "place": result.session.place,
        "day": when.say_day(when.vietnam_day(result.due_at)) if result.due_at else "",
    }
    if result.outcome is sessions.Subscribed.NEW:
        if (
            citizen.channel is Channel.ZALO
            and result.due_at is not None
            and result.due_at - now >= reminders.ZALO_WINDOW
        ):  # Zalo will not carry it unless the citizen writes again before then
            return SUBSCRIBED_ZALO.render(session, **values)
        return SUBSCRIBED.render(session, **values)
    if result.outcome is sessions.Subscribed.ALREADY:
        return ALREADY.render(session, **values)
    return TOO_LATE.render(session, **values)
