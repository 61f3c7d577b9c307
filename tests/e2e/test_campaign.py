"""The campaign through the real stack: an officer announces a session on Telegram, citizens
find it by their commune's old name, subscribe, and get the reminder the day before, once,
never in the quiet hours, across a restart; "dung nhac" stops them; a citizen who paused at
"waiting for approval" gets the follow-up that opens the activation steps.

The stack's processes read their time from a file (``TEST_CLOCK_FILE``, tests only): the
test moves it to the day before a session instead of waiting for it.
"""

from __future__ import annotations

import itertools
import os
import time
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.analytics.models import ChatTurn
from bot.campaign import progress, when
from bot.campaign.models import Reminder
from bot.db import session_scope, utcnow
from bot.handoff.models import Officer
from bot.handoff.officers import find_commune
from bot.outbox.models import OutboxMessage
from tests.auxil.fake_telegram import callback_update, message_update, user
from tests.auxil.fake_zalo import FakeZalo
from tests.auxil.loopback import wait_until
from tests.auxil.stack import make_test_stack
from tests.e2e.conftest import RunningStack, channels_env
from tests.e2e.test_zalo import text_event

pytestmark = pytest.mark.e2e

OFFICER = user(6161, "Cán bộ Hùng")
_chats = itertools.count(930_001)


class Travel:
    """Moves the stack's time: it runs from the moment written, as real time does."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def to(self, moment: datetime) -> None:
        # written aside, then moved in place: a process never reads a half-written file
        part = self.path.with_suffix(".part")
        part.write_text(str((moment - utcnow()).total_seconds()), encoding="utf-8")
        os.replace(part, self.path)


def next_monday() -> date:
    today = when.vietnam_day(utcnow())
    return today + timedelta(days=7 - today.weekday())


MONDAY = next_monday()


def vn(offset_days: int, hour: int, minute: int = 0) -> datetime:
    """A moment of the test's week, in Vietnam's time."""
    return when.at_vietnam(MONDAY + timedelta(days=offset_days), clock_time(hour, minute))


@pytest.fixture(scope="module")
def own_zalo():
    """A Zalo fake of this module's own: the OA's refresh token rotates when a stack
    refreshes it, so two stacks on one fake would take each other's token away."""
    fake = FakeZalo().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def campaign(tmp_path_factory, telegram_fake, own_zalo):
    tmp = tmp_path_factory.mktemp("campaign")
    zalo_server = own_zalo
    travel = Travel(tmp / "clock")
    travel.to(vn(0, 10))  # Monday 10:00
    prepared = make_test_stack(
        tmp,
        channels_env(telegram_fake, zalo_server)
        | {
            "TEST_CLOCK_FILE": str(travel.path),
            "REMINDERS_EVERY_S": "0.5",
            "OUTBOX_POLL_S": "0.2",
        },
    )
    with session_scope(prepared.session_factory) as session:
        xop = find_commune(session, "Xốp")
        session.add(Officer(name="Hùng", telegram_user_id=OFFICER["id"], commune_id=xop.id))
    prepared.stack.start(timeout=300)
    config = prepared.config
    view = RunningStack(
        app_url=config.url(config.app_port),
        rasa_url=config.url(config.rasa_port),
        actions_url=config.url(config.actions_port),
        token=prepared.token,
        session_factory=prepared.session_factory,
        stack=prepared.stack,
        telegram=telegram_fake,
        zalo=zalo_server,
        models_dir=tmp / "models",
        root=tmp,
    )
    try:
        yield view, travel
    finally:
        view.close_browsers()
        prepared.stack.stop()


def where_is(stack: RunningStack, sender: str) -> str:
    """What became of the reminders, and of a citizen's messages: said when a wait times out."""
    with session_scope(stack.session_factory) as session:
        reminders = session.scalars(select(Reminder)).all()
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.destination == sender)
        ).all()
        turns = session.scalars(select(ChatTurn).where(ChatTurn.sender == sender)).all()
        return (
            f"{sender}: reminders "
            + repr(
                [(r.id, r.sender, r.status, r.outcome, r.due_at, r.expires_at) for r in reminders]
            )
            + "; outbox "
            + repr([(o.kind, o.status, o.attempts, o.next_attempt_at, o.last_error) for o in rows])
            + "; turns "
            + repr([(t.text, t.intent, t.created_at) for t in turns])
        )


def keyboard(message: dict) -> list[dict]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


class TelegramChat:
    """One private chat with the bot, as the person in it sees it."""

    def __init__(self, stack: RunningStack, who: dict) -> None:
        self.stack, self.who, self.chat = stack, who, who["id"]

    @property
    def received(self) -> list[dict]:
        return self.stack.telegram.to(self.chat)

    def send(self, text: str, *, reply_to: int | None = None, expect: str = "") -> list[dict]:
        before = len(self.received)
        update = message_update(who=self.who, chat_id=self.chat, text=text, reply_to=reply_to)
        assert self.stack.telegram_update(update) == 200
        return self._wait(before, expect)

    def press(self, message: dict, title: str, *, expect: str = "") -> list[dict]:
        button = next(b for b in keyboard(message) if b["text"] == title)
        before = len(self.received)
        update = callback_update(
            who=self.who,
            chat_id=self.chat,
            message_id=message["message_id"],
            data=button["callback_data"],
        )
        assert self.stack.telegram_update(update) == 200
        return self._wait(before, expect)

    def _wait(self, before: int, expect: str) -> list[dict]:
        wait_until(lambda: any(expect in m["text"] for m in self.received[before:]), timeout=30)
        return self.received[before:]

    def count(self, needle: str) -> int:
        return sum(needle in m["text"] for m in self.received)


def test_an_announced_session_reaches_subscribers_the_day_before_once(campaign):
    stack, travel = campaign
    officer = TelegramChat(stack, OFFICER)
    thursday, friday = MONDAY + timedelta(days=3), MONDAY + timedelta(days=4)

    # the officer announces Thursday's session one question at a time, replying to each
    [asked] = officer.send("/lichmoi", expect="Ngày nào?")
    assert "xã Xốp" in asked["text"]
    assert (asked["reply_markup"] or {}).get("force_reply") is True
    [asked] = officer.send(f"{thursday:%d/%m}", reply_to=asked["message_id"], expect="Mấy giờ?")
    [asked] = officer.send("7h30-11h", reply_to=asked["message_id"], expect="Ở đâu?")
    [done] = officer.send(
        "Nhà văn hóa thôn Đăk Choong", reply_to=asked["message_id"], expect="Đã đăng đợt"
    )
    assert f"{thursday:%d/%m}, 7:30-11:00" in done["text"]
    # and Friday's in one line
    officer.send(f"/lichmoi {friday:%d/%m} 14h-16h30 Trường tiểu học Xốp", expect="Đã đăng đợt")

    # a citizen types the old name of the commune, without diacritics
    citizen = TelegramChat(stack, user(next(_chats), "Bà Y Hoa"))
    got = citizen.send(
        "xa dak choong khi nao co dot lam dinh danh", expect="Lịch làm định danh điện tử"
    )
    listing = next(m for m in got if "Lịch làm định danh điện tử" in m["text"])
    assert "Công an xã Xốp" in listing["text"]
    assert "Nhà văn hóa thôn Đăk Choong" in listing["text"]
    assert "Trường tiểu học Xốp" in listing["text"]
    thursday_button = f"Nhắc tôi đợt Thứ Năm {thursday:%d/%m}"
    friday_button = f"Nhắc tôi đợt Thứ Sáu {friday:%d/%m}"
    assert {thursday_button, friday_button} <= {b["text"] for b in keyboard(listing)}
    citizen.press(listing, thursday_button, expect="Đã ghi nhận")
    citizen.press(listing, friday_button, expect="Đã ghi nhận")

    # the officer sees counts, not who
    [listed] = officer.send("/lich", expect="Các đợt sắp tới")
    assert listed["text"].count("1 người đăng ký nhắc") == 2
    assert str(citizen.chat) not in listed["text"]

    # the day's figures in one message: the progress table has them
    [reported] = officer.send("/baocao 120 45 80", expect="Đã ghi số liệu")
    assert "hồ sơ mức 1 120, mức 2 45, kích hoạt 80" in reported["text"]
    officer.send(f"/baocao {MONDAY - timedelta(days=1):%d/%m} 10 5 20", expect="Đã ghi số liệu")
    with session_scope(stack.session_factory) as session:
        row = next(c for c in progress.report(session).communes if c.name == "xã Xốp")
    assert (row.files_level1, row.files_level2, row.activated) == (130, 50, 100)
    assert row.last_day == MONDAY
    [usage] = officer.send("/baocao nhieu lam", expect="Cách dùng")

    # the app restarts; nothing is sent before the day before at 08:00
    stack.stack.restart_one("app")
    reminder = f"Nhắc lịch: Thứ Năm {thursday:%d/%m}"
    travel.to(vn(2, 7, 55))
    time.sleep(3)
    assert citizen.count("Nhắc lịch") == 0
    travel.to(vn(2, 8, 0))
    wait_until(lambda: citizen.count(reminder) == 1, timeout=30)
    time.sleep(3)
    assert citizen.count(reminder) == 1

    # "dung nhac" stops Friday's: Thursday morning passes without it
    citizen.send("dung nhac", expect="Đã dừng nhắc")
    travel.to(vn(3, 8, 0))
    time.sleep(3)
    assert citizen.count("Nhắc lịch") == 1


def test_no_reminder_in_the_quiet_hours_and_the_web_chat_shows_it_on_the_next_visit(
    campaign,
):
    stack, travel = campaign
    saturday = MONDAY + timedelta(days=5)
    officer = TelegramChat(stack, OFFICER)
    travel.to(vn(3, 12))  # Thursday noon
    officer.send(f"/lichmoi {saturday:%d/%m} 13h30-16h Nhà rông làng Xốp", expect="Đã đăng đợt")
    sid = stack.web_id()
    listing = stack.chat(sid, "xã Xốp có đợt làm căn cước không")[-1]
    button = next(b for b in listing["buttons"] if b["title"].endswith(f"{saturday:%d/%m}"))
    travel.to(vn(4, 22, 30))  # subscribed Friday 22:30: the reminder waits for the morning
    [confirmed] = stack.chat(sid, button["payload"])
    assert "Thứ Bảy" in confirmed["text"] and "Đã ghi nhận" in confirmed["text"]
    travel.to(vn(4, 23, 30))
    time.sleep(3)
    assert stack.inbox(sid) == []
    travel.to(vn(5, 6, 55))
    time.sleep(3)
    assert stack.inbox(sid) == []
    travel.to(vn(5, 7, 1))
    got = wait_until(lambda: stack.inbox(sid), timeout=30)
    assert [m["text"].split("\n")[0] for m in got] == [
        f"🔔 Nhắc lịch: Thứ Bảy {saturday:%d/%m}, 13:30-16:00, Công an xã Xốp làm định danh "
        "điện tử tại Nhà rông làng Xốp."
    ]


def test_paused_at_waiting_for_approval_the_follow_up_opens_the_activation(campaign):
    stack, travel = campaign
    travel.to(vn(7, 9))  # the next Monday, 09:00
    sid = stack.web_id()
    where = stack.chat(sid, "hướng dẫn tôi kích hoạt")[-1]
    waiting = next(b for b in where["buttons"] if b["title"] == "Đã đăng ký, đang chờ duyệt")
    step = stack.chat(sid, waiting["payload"])[-1]
    later = next(b for b in step["buttons"] if b["title"] == "Nhắc tôi sau 3 ngày")
    [set_] = stack.chat(sid, later["payload"])
    assert "Thứ Năm" in set_["text"]
    travel.to(vn(9, 9, 30))
    time.sleep(3)
    assert stack.inbox(sid) == []
    travel.to(vn(10, 9, 1))
    [follow_up] = wait_until(lambda: stack.inbox(sid), timeout=30)
    assert "đã có tin nhắn duyệt chưa" in follow_up["text"]
    opened = next(b for b in follow_up["buttons"] if b["title"] == "Đã có tin nhắn duyệt")
    activation = stack.chat(sid, opened["payload"])
    assert any("Kích hoạt, bước 1" in m["text"] for m in activation)


def test_zalo_reminders_only_inside_the_48_hour_window(campaign):
    stack, travel = campaign
    officer = TelegramChat(stack, OFFICER)
    travel.to(vn(14, 10))  # two weeks on, Monday 10:00
    wednesday, friday = MONDAY + timedelta(days=16), MONDAY + timedelta(days=18)
    officer.send(f"/lichmoi {wednesday:%d/%m} 7h30-11h Nhà văn hóa thôn 5", expect="Đã đăng đợt")
    officer.send(f"/lichmoi {friday:%d/%m} 7h30-11h Nhà văn hóa thôn 6", expect="Đã đăng đợt")
    zalo = stack.zalo
    near, far = f"93{next(_chats)}", f"94{next(_chats)}"

    def send(uid: str, text: str, expect: str) -> dict:
        before = len(zalo.to(uid))
        assert stack.zalo_event(text_event(uid, text)) == 200
        wait_until(lambda: any(expect in m["text"] for m in zalo.to(uid)[before:]), timeout=30)
        return next(m for m in zalo.to(uid)[before:] if expect in m["text"])

    for uid, day in ((near, wednesday), (far, friday)):
        listing = send(uid, "xa xop co dot lam dinh danh khong", "Lịch làm định danh")
        # Zalo sends a button back as a text whose body is the payload
        button = next(b for b in listing["buttons"] if b["title"].endswith(f"{day:%d/%m}"))
        confirmed = send(uid, button["payload"], "Đã ghi nhận")
        if uid == far:  # Thursday 08:00 is 70 hours away: the citizen is told why
            assert "Zalo chỉ cho tôi nhắn lại trong vòng 2 ngày" in confirmed["text"]
    travel.to(vn(15, 8, 1))  # Tuesday 08:01, 22 hours after the near citizen wrote
    wait_until(
        lambda: any("Nhắc lịch" in m["text"] for m in zalo.to(near)),
        timeout=30,
        describe=lambda: where_is(stack, f"zalo:{near}"),
    )
    travel.to(vn(17, 8, 1))  # Thursday 08:01, 70 hours after the far one: not sent, counted
    time.sleep(3)
    assert not any("Nhắc lịch" in m["text"] for m in zalo.to(far))
    with session_scope(stack.session_factory) as session:
        assert progress.reminder_counts(session).get("zalo_window") == 1
