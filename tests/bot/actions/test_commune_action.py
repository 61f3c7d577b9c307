"""The commune lookup action and the placeholders of its texts."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import communes as communes_action
from bot.actions import db as actions_db
from bot.campaign import sessions, when
from bot.communes.resolver import Directory
from bot.config import PROJECT_ROOT
from bot.db import session_scope
from bot.faq.service import fill_placeholders
from bot.handoff.officers import find_commune

NOW = when.at_vietnam(date(2026, 12, 7), time(10))


@pytest.fixture(autouse=True)
def directory(monkeypatch, session_factory):
    found = Directory.from_csv(PROJECT_ROOT / "data" / "communes" / "kontum_communes_2025.csv")
    monkeypatch.setattr(communes_action, "directory", lambda: found)
    monkeypatch.setattr(actions_db, "factory", lambda: session_factory)
    monkeypatch.setattr(communes_action, "_clock", lambda: lambda: NOW)


def tracker(text, entities=()):
    latest = {"intent": {"name": "commune_lookup"}, "entities": list(entities), "text": text}
    return Tracker("web:t", {}, latest, [], False, None, {}, "action_listen")


async def run(text, entities=()):
    dispatcher = CollectingDispatcher()
    await communes_action.ActionCommuneLookup().run(dispatcher, tracker(text, entities), {})
    return dispatcher.messages


async def test_found_names_old_and_new():
    [message] = await run("xa dak choong cu gio la xa nao")
    assert message["response"] == "utter_commune_found"
    assert message["old"] == "Xã Đăk Choong (huyện Đăk Glei) cũ"
    assert message["new"] == "xã Xốp, tỉnh Quảng Ngãi"
    assert message["new_short"] == "xã Xốp"


async def test_the_communes_next_sessions_follow_with_a_button_each(session_factory):
    with session_scope(session_factory) as session:
        xop = find_commune(session, "Xốp")
        for days, place in ((9, "Nhà rông làng Đăk Xú"), (3, "Nhà văn hóa thôn 2")):
            draft = sessions.Draft(
                day=date(2026, 12, 7) + timedelta(days=days), start=time(7, 30), place=place
            )
            sessions.announce(session, commune=xop, draft=draft, by="t", now=NOW)
    found, coming = await run("xa dak choong cu gio la xa nao")
    assert found["response"] == "utter_commune_found"
    assert coming["response"] == "utter_sessions_list"
    assert coming["commune"] == "xã Xốp"
    # soonest first, one line and one "Nhắc tôi" button per session
    assert coming["lines"].splitlines() == [
        "• Thứ Năm 10/12, 7:30: Nhà văn hóa thôn 2",
        "• Thứ Tư 16/12, 7:30: Nhà rông làng Đăk Xú",
    ]
    assert [b["title"] for b in coming["buttons"]] == [
        "Nhắc tôi đợt Thứ Năm 10/12",
        "Nhắc tôi đợt Thứ Tư 16/12",
    ]
    assert coming["buttons"][0]["payload"].startswith('/session_remind{"session_id":')
    # another commune's sessions are not shown
    [other] = await run("phuong quang trung gio la phuong nao")
    assert other["response"] == "utter_commune_found"


async def test_ambiguous_offers_each_place_as_a_button_that_resolves():
    [message] = await run("xã Đăk Long giờ thuộc đâu")
    assert message["response"] == "utter_commune_ambiguous"
    titles = [b["title"] for b in message["buttons"]]
    assert titles == ["xã Đăk Long (huyện Đăk Glei)", "xã Đăk Long (huyện Đăk Hà)"]
    chosen = message["buttons"][1]["title"]
    [answer] = await run(
        message["buttons"][1]["payload"], [{"entity": "commune_query", "value": chosen}]
    )
    assert answer["new"] == "xã Đăk Pxi, tỉnh Quảng Ngãi"


@pytest.mark.parametrize(
    ("text", "response"),
    [
        ("tinh kon tum cu nhap vao dau", "utter_commune_province"),
        ("xa abc xyz o dau", "utter_commune_not_found"),
        ("/commune_lookup", "utter_commune_ask"),
    ],
)
async def test_other_outcomes(text, response):
    assert [m["response"] for m in await run(text)] == [response]


def test_placeholders_are_filled_and_unknown_ones_kept():
    text = "{old} nay thuộc {new}. {missing}"
    assert (
        fill_placeholders(text, {"old": "Xã A", "new": "xã B"}) == "Xã A nay thuộc xã B. {missing}"
    )
