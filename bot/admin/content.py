"""Editing the texts citizens see: every change kept, any change revertible, all audited.

The NLG endpoint reads these rows on every message, so a saved edit is live at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.admin.models import Revision
from bot.analytics import service as analytics
from bot.analytics.models import TrainingQuestion
from bot.chat.render import split_text
from bot.faq.models import FaqEntry, ResponseTemplate
from bot.faq.schemas import BotResponse, FaqTopic, part_problems
from bot.modelops import workspace

__all__ = [
    "ContentError",
    "Preview",
    "add_questions",
    "catalogue",
    "create_topic",
    "delete_question",
    "questions_of",
    "template",
    "topic",
    "edit_faq",
    "edit_response",
    "history",
    "previews",
    "refresh_from_seed",
    "revert",
]

FAQ = "faq"
RESPONSE = "response"
SEED_USER = "seed"  # the author of revisions that bring a reviewed seed text in
TITLE_MAX = 40
ANSWER_MIN, ANSWER_MAX = 20, 1500  # in up to three screens (bot.faq.schemas.PART_MAX)
TEXT_MAX = 2000
BUTTON_MAX = 64


class ContentError(ValueError):
    """An edit that cannot be saved, with a message for the admin (Vietnamese)."""


# --- reading ---------------------------------------------------------------------------
def catalogue(session: Session) -> tuple[list[FaqEntry], list[ResponseTemplate]]:
    """Every topic (by title) and every other text (by name)."""
    entries = session.scalars(select(FaqEntry).order_by(FaqEntry.title))
    responses = session.scalars(select(ResponseTemplate).order_by(ResponseTemplate.name))
    return list(entries), list(responses)


def topic(session: Session, key: str) -> FaqEntry | None:
    """A topic by its key."""
    return session.scalar(select(FaqEntry).where(FaqEntry.key == key))


def template(session: Session, name: str) -> ResponseTemplate | None:
    """A text by its response name."""
    return session.scalar(select(ResponseTemplate).where(ResponseTemplate.name == name))


def questions_of(session: Session, key: str) -> list[TrainingQuestion]:
    """The example questions added to a topic in the console, oldest first."""
    label = f"faq/{key}"
    query = select(TrainingQuestion).where(TrainingQuestion.label == label)
    return list(session.scalars(query.order_by(TrainingQuestion.id)))


# --- topics and their questions -------------------------------------------------------------
def create_topic(
    session: Session,
    *,
    key: str,
    title: str,
    answer: str,
    questions: list[str],
    turn_ids: list[int],
    username: str,
) -> FaqEntry:
    """A new topic (else workspace.TopicError or ValueError); its inbox questions leave."""
    entry = workspace.create_topic(
        session, key=key, title=title, answer=answer, questions=questions, username=username
    )
    if turn_ids:
        analytics.dismiss(session, turn_ids)
    audit.record(session, username=username, action="topic_create", target=f"faq:{entry.key}")
    return entry


def add_questions(session: Session, key: str, lines: list[str], *, username: str) -> int:
    """Example questions for a topic (ContentError when it does not exist); how many new."""
    if topic(session, key) is None:
        raise ContentError(f"Không có chủ đề {key}.")
    added = analytics.add_questions(session, f"faq/{key}", lines, username=username)
    audit.record(
        session,
        username=username,
        action="questions_add",
        target=f"faq:{key}",
        detail={"added": added},
    )
    return added


def delete_question(session: Session, question_id: int, *, username: str) -> str:
    """Remove an example question added in the console; its topic's key (ContentError)."""
    question = session.get(TrainingQuestion, question_id)
    if question is None:
        raise ContentError("Không có câu hỏi này.")
    session.delete(question)
    audit.record(
        session,
        username=username,
        action="question_delete",
        target=question.label,
        detail={"text": question.text},
    )
    return question.label.removeprefix("faq/")


# --- edits ---------------------------------------------------------------------------
def _faq_state(entry: FaqEntry) -> dict[str, Any]:
    return {"title": entry.title, "answer": entry.answer}


def _response_state(template: ResponseTemplate) -> dict[str, Any]:
    return {"text": template.text, "buttons": [dict(b) for b in template.buttons]}


def edit_faq(session: Session, key: str, *, title: str, answer: str, username: str) -> Revision:
    """Change a topic's button label and answer."""
    entry = session.scalar(select(FaqEntry).where(FaqEntry.key == key))
    if entry is None:
        raise ContentError(f"Không có chủ đề {key}.")
    title, answer = title.strip(), answer.strip().replace("\r\n", "\n")
    if not 2 <= len(title) <= TITLE_MAX:
        raise ContentError(f"Tên nút cần 2–{TITLE_MAX} ký tự.")
    if not ANSWER_MIN <= len(answer) <= ANSWER_MAX:
        raise ContentError(f"Câu trả lời cần {ANSWER_MIN}–{ANSWER_MAX} ký tự.")
    problems = part_problems(answer)
    if problems:
        raise ContentError(" ".join(problems))
    return _apply(
        session, f"{FAQ}:{key}", _faq_state(entry), {"title": title, "answer": answer}, username
    )


def edit_response(
    session: Session, name: str, *, text: str, button_titles: list[str], username: str
) -> Revision:
    """Change a bot text and the labels of its buttons (their payloads stay)."""
    template = session.scalar(select(ResponseTemplate).where(ResponseTemplate.name == name))
    if template is None:
        raise ContentError(f"Không có câu {name}.")
    text = text.strip().replace("\r\n", "\n")
    if not 1 <= len(text) <= TEXT_MAX:
        raise ContentError(f"Nội dung cần 1–{TEXT_MAX} ký tự.")
    if name.startswith(OFFICER_TEXTS) and (problem := markup_problem(text)):
        raise ContentError(problem)
    if len(button_titles) != len(template.buttons):
        raise ContentError("Số nút không khớp.")
    buttons = []
    for button, title in zip(template.buttons, button_titles, strict=True):
        title = title.strip()
        if not 1 <= len(title) <= BUTTON_MAX:
            raise ContentError(f"Tên nút cần 1–{BUTTON_MAX} ký tự.")
        buttons.append({**button, "title": title})
    after = {"text": text, "buttons": buttons}
    return _apply(session, f"{RESPONSE}:{name}", _response_state(template), after, username)


def refresh_from_seed(
    session: Session, *, topics: list[FaqTopic], responses: dict[str, BotResponse]
) -> int:
    """Bring reviewed seed texts into rows that no one has edited; return how many changed.

    A text an admin edited in the console (a revision by anyone but the seed) is kept.
    The structure that belongs to the code is refreshed either way: a topic's related
    topics and sources, a bot text's buttons when their payloads changed (the admin's
    button labels are kept while the payloads stay the same). Each text change is a
    revision by "seed", so the console shows it and can revert it.
    """
    edited = set(
        session.scalars(select(Revision.target).where(Revision.username != SEED_USER).distinct())
    )
    changed = 0
    entries = {e.key: e for e in session.scalars(select(FaqEntry))}
    for topic in topics:
        entry = entries.get(topic.key)
        if entry is None:
            continue
        entry.related, entry.sources = list(topic.related), list(topic.sources)
        after = {"title": topic.title, "answer": topic.answer.strip()}
        target = f"{FAQ}:{topic.key}"
        if target in edited:
            continue
        entry.last_reviewed = topic.last_reviewed
        if _faq_state(entry) != after:
            _apply(session, target, _faq_state(entry), after, SEED_USER)
            changed += 1
    templates = {t.name: t for t in session.scalars(select(ResponseTemplate))}
    for name, response in responses.items():
        template = templates.get(name)
        if template is None:
            continue
        buttons = [b.model_dump() for b in response.buttons]
        seed: dict[str, Any] = {"text": response.text, "buttons": buttons}
        target = f"{RESPONSE}:{name}"
        if target in edited:
            payloads = [b["payload"] for b in buttons]
            if [b.get("payload") for b in template.buttons] != payloads:
                template.buttons = buttons
        elif _response_state(template) != seed:
            _apply(session, target, _response_state(template), seed, SEED_USER)
            changed += 1
    return changed


def revert(session: Session, revision_id: int, *, username: str) -> Revision:
    """Put a text back as it was before ``revision_id`` (itself a new, revertible change)."""
    revision = session.get(Revision, revision_id)
    if revision is None:
        raise ContentError("Không có thay đổi này.")
    current = _current(session, revision.target)
    new = _apply(session, revision.target, current, dict(revision.before), username)
    new.reverts_id = revision.id
    return new


def history(session: Session, target: str) -> list[Revision]:
    """Changes of one text, newest first."""
    return list(
        session.scalars(
            select(Revision).where(Revision.target == target).order_by(Revision.id.desc())
        )
    )


def _current(session: Session, target: str) -> dict[str, Any]:
    kind, _, name = target.partition(":")
    if kind == FAQ:
        entry = session.scalar(select(FaqEntry).where(FaqEntry.key == name))
        if entry is not None:
            return _faq_state(entry)
    elif kind == RESPONSE:
        template = session.scalar(select(ResponseTemplate).where(ResponseTemplate.name == name))
        if template is not None:
            return _response_state(template)
    raise ContentError(f"Không còn {target}.")


OFFICER_TEXTS = "utter_officer_"  # sent to Telegram as HTML
_TAGS = {"b", "i", "u", "s", "code"}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS or attrs:
            self.problems.append(f"<{tag}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"</{tag}>")


def markup_problem(text: str) -> str | None:
    """Why Telegram would refuse ``text`` as HTML, or None.

    Only <b>, <i>, <u>, <s>, <code>, closed in order; a lone "<" or "&" as &lt; and &amp;.
    """
    tags = _Tags()
    tags.feed(text)
    tags.close()
    stray = re.search(r"<(?![/a-z])|&(?!(?:lt|gt|amp|quot);)", text)
    if tags.problems or tags.open or stray:
        return (
            "Tin cho cán bộ dùng HTML của Telegram: chỉ <b>, <i>, <u>, <s>, <code>, mở rồi đóng "
            "đúng thứ tự; dấu < và & viết là &lt; và &amp;."
        )
    return None


def _apply(
    session: Session, target: str, before: dict[str, Any], after: dict[str, Any], username: str
) -> Revision:
    kind, _, name = target.partition(":")
    if kind == FAQ:
        entry = session.scalar(select(FaqEntry).where(FaqEntry.key == name))
        assert entry is not None  # noqa: S101 - checked by the callers
        entry.title, entry.answer = after["title"], after["answer"]
    else:
        template = session.scalar(select(ResponseTemplate).where(ResponseTemplate.name == name))
        assert template is not None  # noqa: S101 - checked by the callers
        template.text, template.buttons = after["text"], after["buttons"]
    revision = Revision(target=target, before=before, after=after, username=username)
    session.add(revision)
    session.flush()
    audit.record(
        session, username=username, action="edit", target=target, detail={"revision": revision.id}
    )
    return revision


# --- how it looks on each channel ---------------------------------------------------------
@dataclass(frozen=True)
class Preview:
    """One channel's rendering: the bubbles (text) and the buttons under the last one."""

    channel: str
    bubbles: list[str]
    buttons: list[str]
    note: str = ""


def previews(text: str, buttons: list[dict[str, Any]]) -> list[Preview]:
    """The same reply as the web chat, Telegram and Zalo show it (always as plain text)."""
    from bot.channels.zalo import MAX_TEMPLATE_BUTTONS, zalo_message

    titles = [str(b["title"]) for b in buttons]
    zalo = zalo_message(text, buttons)
    zalo_buttons = [
        b["title"] for b in (zalo.get("attachment") or {}).get("payload", {}).get("buttons", [])
    ]
    return [
        Preview("Web chat", [text], titles),
        Preview(
            "Telegram",
            split_text(text, 4096) or [text],
            [t[:64] for t in titles],
            "Mỗi nút một dòng; bấm xong bàn phím biến mất.",
        ),
        Preview(
            "Zalo",
            [zalo["text"]],
            zalo_buttons,
            f"Zalo hiện tối đa {MAX_TEMPLATE_BUTTONS} nút; lựa chọn còn lại thành dòng đánh số.",
        ),
    ]
