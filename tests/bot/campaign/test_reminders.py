"""Sessions, subscriptions and reminders on a real (SQLite) database.

The scheduler's rules: the day before at 08:00, never in the quiet hours, one a day per
citizen, Zalo only inside the 48-hour window, never to a Telegram chat that blocked the
bot, once however many rounds (or replicas) run, and "dừng nhắc" stops everything.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot.analytics.models import ChatTurn
from bot.campaign import citizens, reminders, sessions, when
from bot.campaign.models import Reminder, ReminderStatus
from bot.chat.identity import Citizen
from bot.chat.service import Gateway
from bot.db import Database, session_scope
from bot.handoff.officers import find_commune
from bot.outbox import OutboxMessage, OutboxStatus
from tests.auxil.rasa_http import fake_rasa, never_called

MONDAY = date(2026, 12, 7)


def vn(day: date, hour: int, minute: int = 0) -> datetime:
    return when.at_vietnam(day, time(hour, minute))


NOW = vn(MONDAY, 10)
SESSION_DAY = MONDAY + timedelta(days=3)  # Thursday


@pytest.fixture
def xop(session_factory):
    """A session of xã Xốp on Thursday 7:30-11:00, announced on Monday."""
    with session_scope(session_factory) as session:
        commune = find_commune(session, "Xốp")
        draft = sessions.Draft(
            day=SESSION_DAY, start=time(7, 30), end=time(11), place="Nhà văn hóa thôn Đăk Choong"
        )
        found = sessions.announce(session, commune=commune, draft=draft, by="test", now=NOW)
        return found.id


def run(session_factory, now: datetime) -> reminders.Round:
    with session_scope(session_factory) as session:
        return reminders.run_due(session, now=now)


def outbox(session_factory) -> list[OutboxMessage]:
    with session_scope(session_factory) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def say(session_factory, citizen: Citizen, text: str, now: datetime = NOW, shown=()) -> str:
    with session_scope(session_factory) as session:
        reply = citizens.answer(session, citizen=citizen, text=text, shown=list(shown), now=now)
        return "" if reply is None else reply.text


def test_a_session_reminder_goes_the_day_before_at_eight_once(session_factory, xop):
    web = Citizen.web("abc")
    answer = say(session_factory, web, f'/session_remind{{"session_id":{xop}}}')
    assert "Thứ Tư 09/12" in answer and "Nhà văn hóa thôn Đăk Choong" in answer
    assert "Thứ Năm 10/12, 7:30-11:00" in answer
    # asking twice subscribes once
    assert "đã đăng ký" in say(session_factory, web, f'/session_remind{{"session_id":{xop}}}')
    assert run(session_factory, vn(SESSION_DAY - timedelta(days=1), 7, 59)).sent == 0
    assert run(session_factory, vn(SESSION_DAY - timedelta(days=1), 8)).sent == 1
    assert run(session_factory, vn(SESSION_DAY - timedelta(days=1), 9)).sent == 0
    [row] = outbox(session_factory)
    assert row.channel == "web" and row.destination == "web:abc"
    assert "Nhắc lịch: Thứ Năm 10/12, 7:30-11:00" in row.payload["text"]
    assert "xã Xốp" in row.payload["text"]
    assert "/stop_reminders" in [b["payload"] for b in row.payload["buttons"]]


def test_a_session_counts_its_subscribers_and_forgets_who_once_it_is_over(session_factory, xop):
    for n in range(3):
        say(session_factory, Citizen.telegram(1000 + n), f'/session_remind{{"session_id":{xop}}}')
    with session_scope(session_factory) as session:
        assert sessions.subscriber_counts(session, [xop]) == {xop: 3}
    run(session_factory, vn(SESSION_DAY - timedelta(days=1), 8))
    run(session_factory, vn(SESSION_DAY, 8))  # the session has started: it is over
    with session_scope(session_factory) as session:
        rows = list(session.scalars(select(Reminder)))
        assert {r.status for r in rows} == {ReminderStatus.SENT}
        assert {r.sender for r in rows} == {""}
        assert sessions.subscriber_counts(session, [xop]) == {xop: 3}


def test_quiet_hours_and_one_a_day(session_factory, xop):
    tg = Citizen.telegram(777)
    # subscribed at 22:00 the day before: nothing at night, the reminder at 07:00
    late = vn(SESSION_DAY - timedelta(days=1), 22)
    say(session_factory, tg, f'/session_remind{{"session_id":{xop}}}', now=late)
    assert run(session_factory, late + timedelta(minutes=5)).counts["quiet"] == 0
    assert run(session_factory, vn(SESSION_DAY, 6, 30)).sent == 0
    # and it would be too late then (the session starts at 7:30): it was never scheduled
    with session_scope(session_factory) as session:
        assert session.scalar(select(Reminder.id)) is None
    # an activation reminder due at 23:00 waits for 07:00
    with session_scope(session_factory) as session:
        reminders.remind_later(session, citizen=tg, days=1, step="waiting", now=vn(MONDAY, 23))
        due = session.scalar(select(Reminder.due_at))
    assert when.as_utc(due) == vn(MONDAY + timedelta(days=2), 7)
    assert run(session_factory, vn(MONDAY + timedelta(days=1), 23, 30)).sent == 0
    # two reminders due the same morning: one today, the other tomorrow
    with session_scope(session_factory) as session:
        session.add(
            Reminder(
                kind="activation",
                channel="telegram",
                sender=tg.sender,
                step="waiting",
                due_at=vn(MONDAY + timedelta(days=2), 7),
                expires_at=vn(MONDAY + timedelta(days=20), 7),
            )
        )
    first = run(session_factory, vn(MONDAY + timedelta(days=2), 7, 1))
    assert first.sent == 1 and first.counts["one_a_day"] == 1
    assert run(session_factory, vn(MONDAY + timedelta(days=2), 20)).sent == 0
    assert run(session_factory, vn(MONDAY + timedelta(days=3), 7, 1)).sent == 1
    assert len(outbox(session_factory)) == 2


def test_zalo_only_inside_the_48_hour_window(session_factory, xop):
    talked, silent = Citizen.zalo("111"), Citizen.zalo("222")
    for who in (talked, silent):
        say(session_factory, who, f'/session_remind{{"session_id":{xop}}}')
    due = vn(SESSION_DAY - timedelta(days=1), 8)
    with session_scope(session_factory) as session:
        session.add(
            ChatTurn(
                message_id="m1",
                sender=talked.sender,
                channel="zalo",
                text="hoi",
                intent="greet",
                confidence=1.0,
                response="utter_greet",
                unanswered=False,
                created_at=due - timedelta(hours=20),
            )
        )
    result = run(session_factory, due)
    assert result.sent == 1 and result.counts["zalo_window"] == 1
    [row] = outbox(session_factory)
    assert row.destination == talked.sender
    with session_scope(session_factory) as session:
        skipped = session.scalar(select(Reminder).where(Reminder.status == "skipped"))
        assert skipped.outcome == "zalo_window" and skipped.sender == ""


def press_remind(session_factory, citizen: Citizen, session_id: int, at: datetime) -> list:
    """The citizen presses "Nhắc tôi": the gateway answers it itself, Rasa is never asked."""
    gateway = Gateway(
        Database(session_factory, threads=1), fake_rasa(never_called), clock=lambda: at
    )

    async def press() -> list:
        try:
            return await gateway.answer(citizen, f'/session_remind{{"session_id":{session_id}}}')
        finally:
            await gateway.settle()

    return asyncio.run(press())


def test_zalo_window_counts_messages_the_app_answered_itself(session_factory, xop):
    # The citizen's only message was the "Nhắc tôi" button, answered without Rasa (so no
    # turn is recorded for the figures): it opens the 48-hour window all the same.
    due = vn(SESSION_DAY - timedelta(days=1), 8)
    near, far = Citizen.zalo("555"), Citizen.zalo("556")
    [reply] = press_remind(session_factory, near, xop, at=due - timedelta(hours=20))
    assert "Đã ghi nhận" in reply.text
    press_remind(session_factory, far, xop, at=due - timedelta(hours=49))
    result = run(session_factory, due)
    assert result.sent == 1 and result.counts["zalo_window"] == 1
    [row] = outbox(session_factory)
    assert row.destination == near.sender


def test_not_to_a_telegram_chat_that_blocked_the_bot(session_factory, xop):
    tg = Citizen.telegram(4242)
    say(session_factory, tg, f'/session_remind{{"session_id":{xop}}}')
    with session_scope(session_factory) as session:
        session.add(
            OutboxMessage(
                dedupe_key="old",
                channel="telegram",
                destination=tg.sender,
                kind="to_citizen",
                payload={"text": "x"},
                status=OutboxStatus.DEAD,
                last_error="Forbidden: bot was blocked by the user",
            )
        )
    assert run(session_factory, vn(SESSION_DAY - timedelta(days=1), 8)).counts["blocked"] == 1
    assert len(outbox(session_factory)) == 1  # only the old dead row


@pytest.mark.parametrize(
    "text",
    [
        "dừng nhắc",
        "dung nhac",
        "Dừng nhắc nữa",
        "thôi đừng nhắc nữa",
        "huy nhac nho",
        "/stop_reminders",
    ],
)
def test_stop_works_with_or_without_diacritics(session_factory, xop, text):
    web = Citizen.web("s1")
    say(session_factory, web, f'/session_remind{{"session_id":{xop}}}')
    say(session_factory, web, "nhắc tôi sau 3 ngày")
    assert "Đã dừng nhắc" in say(session_factory, web, text)
    assert "không có lời nhắc" in say(session_factory, web, text)
    assert run(session_factory, vn(SESSION_DAY + timedelta(days=5), 9)).sent == 0
    assert outbox(session_factory) == []


@pytest.mark.parametrize(
    "text", ["dừng lại", "nhắc lại câu trả lời", "tôi muốn dừng", "đăng ký nhắc"]
)
def test_other_words_are_not_commands(session_factory, text):
    assert say(session_factory, Citizen.web("s2"), text) == ""


def test_remind_later_opens_the_activation_at_the_step_where_the_citizen_paused(
    session_factory,
):
    web = Citizen.web("w1")
    waiting_buttons = [
        {"title": "Nhắc tôi sau 3 ngày", "payload": citizens.later_payload(3, "waiting")}
    ]
    answer = say(session_factory, web, "nhac toi sau 5 ngay nhe", shown=waiting_buttons)
    assert "Thứ Bảy 12/12" in answer
    assert run(session_factory, vn(MONDAY + timedelta(days=5), 9, 59)).sent == 0
    assert run(session_factory, vn(MONDAY + timedelta(days=5), 10)).sent == 1
    [row] = outbox(session_factory)
    payloads = [b["payload"] for b in row.payload["buttons"]]
    assert payloads[0] == '/wt_go{"wt_target":"act_open"}'
    # a new request replaces the pending one; a pause elsewhere resumes that step
    say(
        session_factory,
        web,
        citizens.later_payload(2, "l1_scan"),
        now=vn(MONDAY + timedelta(days=6), 9),
    )
    say(
        session_factory,
        web,
        citizens.later_payload(1, "l1_scan"),
        now=vn(MONDAY + timedelta(days=6), 9),
    )
    assert run(session_factory, vn(MONDAY + timedelta(days=7), 9)).sent == 1
    assert run(session_factory, vn(MONDAY + timedelta(days=8), 9)).sent == 0
    last = outbox(session_factory)[-1]
    assert "/wt_resume" in [b["payload"] for b in last.payload["buttons"]]


def test_cancelled_sessions_and_bad_buttons(session_factory, xop):
    web = Citizen.web("c1")
    say(session_factory, web, f'/session_remind{{"session_id":{xop}}}')
    with session_scope(session_factory) as session:
        assert sessions.cancel(session, xop, commune_id=None, now=NOW)
    assert run(session_factory, vn(SESSION_DAY - timedelta(days=1), 8)).sent == 0
    assert "đã qua hoặc đã hủy" in say(
        session_factory, web, f'/session_remind{{"session_id":{xop}}}'
    )
    for bad in [
        '/session_remind{"session_id":"x"}',
        "/session_remind{oops",
        '/session_remind{"session_id":99999}',
    ]:
        assert "đã qua hoặc đã hủy" in say(session_factory, web, bad)


def test_announcing_checks_the_day(session_factory):
    with session_scope(session_factory) as session:
        commune = find_commune(session, "Xốp")
        with pytest.raises(sessions.SessionError):
            sessions.announce(
                session,
                commune=commune,
                draft=sessions.Draft(day=MONDAY - timedelta(days=1), start=time(8), place="x"),
                by="t",
                now=NOW,
            )
        with pytest.raises(sessions.SessionError):
            sessions.announce(
                session, commune=commune, draft=sessions.Draft(day=MONDAY), by="t", now=NOW
            )
        # a phone number in the place is masked like everything else
        found = sessions.announce(
            session,
            commune=commune,
            draft=sessions.Draft(day=SESSION_DAY, start=time(8), place="Nhà anh Ba 0912345678"),
            by="t",
            now=NOW,
        )
        assert "0912345678" not in found.place


def test_on_zalo_a_delay_stays_inside_the_window_and_the_citizen_is_told(session_factory, xop):
    zalo = Citizen.zalo("333")
    answer = say(session_factory, zalo, "nhắc tôi sau 3 ngày")
    assert "Zalo chỉ cho tôi nhắn lại trong vòng 2 ngày" in answer
    assert "Thứ Ba 08/12" in answer
    # a session reminder more than 48 hours away: subscribed, and told why it may not come
    early = vn(MONDAY, 7)  # 49 hours before Wednesday 08:00
    answer = say(session_factory, zalo, f'/session_remind{{"session_id":{xop}}}', now=early)
    assert "Zalo chỉ cho tôi nhắn lại" in answer and "Thứ Tư 09/12" in answer
    # 46 hours before: inside the window, the plain confirmation
    other = Citizen.zalo("334")
    answer = say(session_factory, other, f'/session_remind{{"session_id":{xop}}}', now=NOW)
    assert answer.startswith("Đã ghi nhận. Tôi sẽ nhắc bạn Thứ Tư 09/12")


def test_a_sent_reminder_forgets_who_it_was_for_the_next_day(session_factory):
    web = Citizen.web("forget")
    say(session_factory, web, citizens.later_payload(1, "waiting"))
    assert run(session_factory, NOW + timedelta(days=1)).sent == 1
    with session_scope(session_factory) as session:
        assert session.scalar(select(Reminder.sender)) == web.sender  # still today
    run(session_factory, vn(MONDAY + timedelta(days=2), 0, 5))
    with session_scope(session_factory) as session:
        assert session.scalar(select(Reminder.sender)) == ""
        assert session.scalar(select(Reminder.status)) == ReminderStatus.SENT


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("nhắc tôi sau 3 ngày", 3),
        ("Nhắc mình tuần sau nha", 7),
        ("2 tuần nữa nhắc lại tôi nhé", 14),
        ("nhac lai em sau 5 ngay", 5),
        ("sao 3 ngày rồi không thấy nhắc", None),
        ("nhắc tôi sau 3 ngày được không?", 3),
        ("sao 3 ngày rồi không thấy nhắc tôi?", None),
        ("hẹn gặp lại sau 3 ngày", None),
        ("lời nhắc đến sau 2 ngày à", None),
    ],
)
def test_a_typed_request_for_a_reminder(session_factory, text, days):
    answer = say(session_factory, Citizen.web("typed"), text)
    if days is None:
        assert answer == ""
    else:
        assert answer.startswith("Được.")
        with session_scope(session_factory) as session:
            due = session.scalar(select(Reminder.due_at))
        assert when.vietnam_day(due) == MONDAY + timedelta(days=days)
