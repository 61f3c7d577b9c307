"""The app's own texts (busy, limits, photos, handoff notices) are editable like the answers:
an admin's edit reaches citizens, fields are filled, the seed text stands in when needed."""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import delete
from sqlalchemy.orm import sessionmaker

from bot.admin import content
from bot.chat import messages
from bot.chat.identity import Citizen
from bot.chat.rasa_client import RasaClient
from bot.chat.service import Gateway
from bot.config import PROJECT_ROOT
from bot.db import Database, session_scope
from bot.faq.cache import ContentCache
from bot.faq.fixed import defaults, fill
from bot.faq.models import ResponseTemplate
from bot.handoff import texts


def down(request: httpx.Request) -> httpx.Response:
    return httpx.Response(503)


def test_an_admin_edit_of_the_busy_reply_reaches_citizens(session_factory):
    edited = "Hệ thống đang quá tải (đã sửa). Bạn đến Công an xã/phường gần nhất nhé."
    with session_scope(session_factory) as session:
        content.edit_response(
            session, "utter_app_busy", text=edited, button_titles=[], username="admin"
        )
    db = Database(session_factory, threads=2)
    rasa = RasaClient(httpx.AsyncClient(transport=httpx.MockTransport(down)), "http://rasa")

    async def go():
        gateway = Gateway(db, rasa, texts=ContentCache(db))
        return await gateway.answer(Citizen.web("busy"), "otp khong ve")

    assert [m.text for m in asyncio.run(go())] == [edited]


def test_a_handoff_notice_fills_the_code_and_the_officer_into_the_edited_text(session_factory):
    with session_scope(session_factory) as session:
        content.edit_response(
            session,
            "utter_handoff_claimed",
            text="Chị {officer} (công an xã) đã nhận {code}, chị nhắn lại ngay đây ạ.",
            button_titles=["Thôi, hỏi trợ lý"],
            username="admin",
        )
    with session_scope(session_factory) as session:
        notice = texts.claimed(session, "HT-000042", "Lan")
    assert notice.text == "Chị Lan (công an xã) đã nhận HT-000042, chị nhắn lại ngay đây ạ."
    assert [(b.title, b.payload) for b in notice.buttons] == [
        ("Thôi, hỏi trợ lý", texts.CANCEL_PAYLOAD)  # the label is the admin's, the action is not
    ]


def test_fields_an_edit_broke_are_shown_as_written_and_values_are_not_read_as_fields():
    values = {"code": "HT-1", "officer": "Lan {code}"}
    assert (
        fill("{officer}: {code} {oops} { {0} {code", values)
        == "Lan {code}: HT-1 {oops} { {0} {code"
    )


def test_the_seed_text_answers_when_the_database_has_none_or_is_down(session_factory):
    with session_scope(session_factory) as session:  # a database seeded before the text existed
        session.execute(delete(ResponseTemplate).where(ResponseTemplate.name == "utter_app_gone"))
    with session_scope(session_factory) as session:
        assert messages.GONE.render(session).text == messages.GONE.text
    broken = Database(sessionmaker(), threads=1)  # no engine: every read fails

    async def go():
        return await messages.BUSY.fetch(ContentCache(broken))

    assert asyncio.run(go()).text == messages.BUSY.text
    assert "SIM chính chủ" in messages.BUSY.text  # the in-person route, even then


def test_every_text_of_the_seed_file_is_used_by_the_app():
    code = "\n".join(p.read_text("utf-8") for p in (PROJECT_ROOT / "bot").rglob("*.py"))
    used = set(re.findall(r'Fixed\("(\w+)"\)', code))
    assert used == set(defaults())
