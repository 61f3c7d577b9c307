"""Answer texts from the database: seeding and rendering for the NLG endpoint."""

from __future__ import annotations

import logging
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.faq.content import OFFICER_RELATED, RETRIEVAL_INTENT
from bot.faq.exceptions import ResponseMissingError
from bot.faq.models import FaqEntry, ResponseTemplate
from bot.faq.schemas import BotResponse, Button, FaqTopic, split_parts

logger = logging.getLogger(__name__)

OFFICER_BUTTON = Button(title="Gặp cán bộ", payload="/request_handoff")

__all__ = [
    "FLOW_TITLES",
    "MENU_BUTTON",
    "OFFICER_BUTTON",
    "faq_buttons",
    "fill_placeholders",
    "more_payload",
    "parse_more",
    "render_more",
    "render_response",
    "seed_content",
    "topic_buttons",
    "topic_titles",
]

MENU_BUTTON = Button(title="Chủ đề khác", payload="/show_menu")
# The flows a clarifying question may offer (nlu/clarify.py FLOWS), as the menu names them.
FLOW_TITLES = {
    "activation_guide": "Hướng dẫn kích hoạt",
    "request_handoff": OFFICER_BUTTON.title,
    "handoff_status": "Yêu cầu đã gửi cho cán bộ",
    "commune_lookup": "Xã tôi giờ là xã nào?",
}
_FAQ_PREFIX = f"utter_{RETRIEVAL_INTENT}/"
# The "Xem thêm" button of a long answer: answered by the app from the database (no Rasa turn).
_MORE_PREFIX = "/faq_more/"
_MORE_RE = re.compile(r"^/faq_more/(?P<key>[a-z][a-z0-9_]{1,62})/(?P<part>[1-9])$")


def more_payload(key: str, part: int) -> str:
    """Payload of the button that shows part ``part`` (0-based) of a topic's answer."""
    return f"{_MORE_PREFIX}{key}/{part}"


def parse_more(text: str) -> tuple[str, int] | None:
    """The topic and part a "Xem thêm" payload asks for, or None for any other text."""
    match = _MORE_RE.match(text)
    return (match["key"], int(match["part"])) if match else None


def seed_content(
    *, session: Session, topics: list[FaqTopic], responses: dict[str, BotResponse]
) -> tuple[int, int]:
    """Insert the seed topics and responses that are not in the database yet.

    Existing rows are left alone: they may hold an admin's edits.
    """
    have_keys = set(session.scalars(select(FaqEntry.key)))
    new_topics = [t for t in topics if t.key not in have_keys]
    session.add_all(
        FaqEntry(
            key=t.key,
            title=t.title,
            answer=t.answer.strip(),
            related=list(t.related),
            sources=list(t.sources),
            last_reviewed=t.last_reviewed,
        )
        for t in new_topics
    )
    have_names = set(session.scalars(select(ResponseTemplate.name)))
    new_names = [n for n in responses if n not in have_names]
    session.add_all(
        ResponseTemplate(
            name=n,
            text=responses[n].text,
            buttons=[b.model_dump() for b in responses[n].buttons],
        )
        for n in new_names
    )
    return len(new_topics), len(new_names)


_PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")


def fill_placeholders(text: str, arguments: dict[str, object]) -> str:
    """Replace ``{name}`` with the value Rasa passed; unknown names stay as they are."""
    return _PLACEHOLDER_RE.sub(
        lambda m: str(arguments[m.group(1)]) if m.group(1) in arguments else m.group(0), text
    )


def render_response(*, session: Session, name: str) -> BotResponse:
    """Render the text and buttons of a Rasa response name."""
    if name.startswith(_FAQ_PREFIX):
        return _render_faq(session=session, key=name.removeprefix(_FAQ_PREFIX))
    template = session.scalar(select(ResponseTemplate).where(ResponseTemplate.name == name))
    if template is None:
        raise ResponseMissingError(name)
    return BotResponse(
        text=template.text,
        buttons=[Button.model_validate(b) for b in template.buttons],
    )


def _render_faq(*, session: Session, key: str) -> BotResponse:
    entry = session.scalar(select(FaqEntry).where(FaqEntry.key == key))
    if entry is None:
        raise ResponseMissingError(f"{_FAQ_PREFIX}{key}")
    return _render_part(session, entry, 0)


def render_more(*, session: Session, key: str, part: int) -> BotResponse | None:
    """A later part of a topic's answer, or None when the topic or part is gone."""
    entry = session.scalar(select(FaqEntry).where(FaqEntry.key == key))
    if entry is None or part >= len(split_parts(entry.answer)):
        return None
    return _render_part(session, entry, part)


def _render_part(session: Session, entry: FaqEntry, part: int) -> BotResponse:
    """One screen of an answer; the button to the next screen first, then the usual ones."""
    parts = split_parts(entry.answer)
    buttons = [Button.model_validate(b) for b in faq_buttons(session, entry)]
    if part + 1 < len(parts):
        following = parts[part + 1]
        buttons.insert(0, Button(title=following.title, payload=more_payload(entry.key, part + 1)))
    return BotResponse(text=parts[part].text, buttons=buttons)


def topic_titles(session: Session) -> dict[str, str]:
    """Every topic's title, by key."""
    return {key: title for key, title in session.execute(select(FaqEntry.key, FaqEntry.title))}


def topic_buttons(labels: list[str], titles: dict[str, str]) -> list[Button]:
    """A button per label (``faq/<key>`` with its title, or a flow); unknown labels skipped."""
    buttons: list[Button] = []
    for label in labels:
        intent, _, key = label.partition("/")
        if intent == RETRIEVAL_INTENT and key in titles:
            buttons.append(Button(title=titles[key], payload=f"/{label}"))
        elif not key and label in FLOW_TITLES:
            buttons.append(Button(title=FLOW_TITLES[label], payload=f"/{label}"))
    return buttons


def faq_buttons(session: Session, entry: FaqEntry) -> list[dict[str, str]]:
    """The buttons under a topic's answer: related topics, an officer if useful, the menu."""
    rows = session.execute(
        select(FaqEntry.key, FaqEntry.title).where(FaqEntry.key.in_(entry.related))
    )
    titles = {key: title for key, title in rows}
    buttons = [
        {"title": titles[k], "payload": f"/{RETRIEVAL_INTENT}/{k}"}
        for k in entry.related
        if k in titles
    ]
    if OFFICER_RELATED in entry.related:
        buttons.append(OFFICER_BUTTON.model_dump())
    buttons.append(MENU_BUTTON.model_dump())
    return buttons
