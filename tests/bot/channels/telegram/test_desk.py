"""Officers on Telegram: python-telegram-bot against a local fake Bot API, the real app.

Tickets are opened through the service (the Rasa form that opens them is covered by the
end-to-end tests); everything after that goes through the app: the outbox worker, PTB,
the webhook, the web-chat gate and the inbox the web page polls.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.chat import web_session
from bot.communes.models import Commune
from bot.db import session_scope
from bot.handoff import service
from bot.handoff.models import HandoffTicket, Officer, TicketStatus
from bot.main import create_app
from bot.outbox import OutboxMessage, OutboxStatus
from tests.auxil.clock import FakeClock
from tests.auxil.fake_telegram import FakeTelegram, callback_update, message_update, user
from tests.auxil.settings import make_settings
from tests.auxil.web_chat import WebInboxReader

SECRET = "webhook-secret_0123456789"
PROVINCE_CHAT = -100900
HUNG = user(101, "Hùng")
LAN = user(102, "Lan")
STRANGER = user(555, "Ai đó")


@pytest.fixture
def telegram():
    fake = FakeTelegram().start()
    yield fake
    fake.stop()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def communes(session_factory):
    """Xốp has two officers (private chats); Đăk Bla has none; a supervisor for the province."""
    with session_scope(session_factory) as session:
        xop = session.scalar(select(Commune).where(Commune.name == "Xốp"))
        bla = session.scalar(select(Commune).where(Commune.name == "Đăk Bla"))
        session.add_all(
            [
                Officer(name="Hùng", telegram_user_id=HUNG["id"], commune_id=xop.id),
                Officer(name="Lan", telegram_user_id=LAN["id"], commune_id=xop.id),
                Officer(name="Tỉnh", telegram_user_id=900, is_supervisor=True),
            ]
        )
        return {"xop": xop.id, "bla": bla.id}


@pytest.fixture
def app_client(db_url, session_factory, communes, telegram, clock):
    settings = make_settings(
        db_url,
        rasa_url="http://127.0.0.1:9",  # never reached while an officer holds the chat
        rasa_timeout_s=1.0,
        telegram_bot_token=telegram.token,
        telegram_api_url=telegram.base_url,
        telegram_webhook_url="https://vneid.example/webhooks/telegram",
        telegram_webhook_secret=SECRET,
        telegram_timeout_s=1.0,
        handoff_province_chat_id=PROVINCE_CHAT,
        outbox_poll_s=0.05,
    )
    with TestClient(create_app(settings, clock=clock)) as client:
        yield client


def open_ticket(session_factory, clock, commune_id, sender="web:citizen-1", label="xã Xốp"):
    with session_scope(session_factory) as session:
        ticket = service.open_ticket(
            session,
            service.NewTicket(
                channel="web",
                sender=sender,
                commune_id=commune_id,
                commune_label=label,
                description="Tôi đổi số điện thoại 0912 345 678 rồi, không nhận được OTP",
                step_title="Bước nhập mã OTP",
                transcript=[{"who": "citizen", "text": "cccd 012345678901 của tôi"}],
            ),
            now=clock(),
            routing=service.Routing(province_chat_id=PROVINCE_CHAT),
        )
        return ticket.id, ticket.code


def post_update(client, update, secret=SECRET):
    return client.post(
        "/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}
    )


def web_updates(client, sender_id="citizen-1"):
    """What the citizen's browser fetches (it owns the conversation: its cookie's proof)."""
    readers = client.__dict__.setdefault("web_inboxes", {})
    if sender_id not in readers:
        secret = client.app.state.settings.secret_key.get_secret_value()
        cookie = f"{web_session.COOKIE}={web_session.proof(secret, sender_id)}"
        readers[sender_id] = WebInboxReader(client, cookie)
    return readers[sender_id].read(sender_id)


def wait_web(client, telegram, predicate, sender_id="citizen-1"):
    got: list[dict] = []

    def check():
        got.extend(web_updates(client, sender_id))
        return predicate(got)

    telegram.wait_for(check)
    return got


def test_webhook_is_registered_with_a_secret(app_client, telegram):
    assert telegram.webhook["url"] == "https://vneid.example/webhooks/telegram"
    assert telegram.webhook["secret_token"] == SECRET
    assert set(telegram.webhook["allowed_updates"]) == {"message", "callback_query"}


@pytest.mark.parametrize("secret", ["", "wrong", SECRET[:-1]])
def test_forged_webhook_calls_are_refused(app_client, session_factory, clock, communes, secret):
    ticket_id, _ = open_ticket(session_factory, clock, communes["xop"])
    update = callback_update(
        who=HUNG, chat_id=HUNG["id"], message_id=1, data=f"h:claim:{ticket_id}"
    )
    assert post_update(app_client, update, secret=secret).status_code == 403
    with session_scope(session_factory) as session:
        assert session.get(HandoffTicket, ticket_id).status == TicketStatus.OPEN


def test_alert_reaches_every_officer_of_the_commune_masked(
    app_client, telegram, session_factory, clock, communes
):
    _, code = open_ticket(session_factory, clock, communes["xop"])
    telegram.wait_for(lambda: len(telegram.sent) == 2)
    assert {m["chat_id"] for m in telegram.sent} == {HUNG["id"], LAN["id"]}
    alert = telegram.to(HUNG["id"])[0]
    assert code in alert["text"] and "xã Xốp" in alert["text"]
    assert "Bước nhập mã OTP" in alert["text"]
    assert "0912 345 678" not in alert["text"] and "012345678901" not in alert["text"]
    buttons = [b["text"] for row in alert["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["🙋 Nhận xử lý", "✅ Đã giải quyết"]


def test_first_claim_wins_and_the_others_see_who(
    app_client, telegram, session_factory, clock, communes
):
    ticket_id, code = open_ticket(session_factory, clock, communes["xop"])
    telegram.wait_for(lambda: len(telegram.sent) == 2)
    data = f"h:claim:{ticket_id}"
    hung_alert = telegram.to(HUNG["id"])[0]["message_id"]
    lan_alert = telegram.to(LAN["id"])[0]["message_id"]
    post_update(
        app_client, callback_update(who=HUNG, chat_id=HUNG["id"], message_id=hung_alert, data=data)
    )
    post_update(
        app_client, callback_update(who=LAN, chat_id=LAN["id"], message_id=lan_alert, data=data)
    )

    assert telegram.answers[0]["text"].startswith(f"Bạn đã nhận {code}")
    assert telegram.answers[1]["text"] == "Hùng đã nhận yêu cầu này."
    # both copies of the alert now say who took it, and lose the claim button
    telegram.wait_for(lambda: len(telegram.edits) == 2)
    for edit in telegram.edits:
        assert "Hùng</b> đã nhận xử lý" in edit["text"]
        keys = [b["text"] for row in edit["reply_markup"]["inline_keyboard"] for b in row]
        assert keys == ["✅ Đã giải quyết"]
    # and the citizen is told
    got = wait_web(app_client, telegram, lambda g: any("Hùng đã nhận" in m["text"] for m in g))
    assert code in got[0]["text"]


def test_full_conversation_reply_follow_up_close_resumes_the_bot(
    app_client, telegram, session_factory, clock, communes
):
    ticket_id, code = open_ticket(session_factory, clock, communes["xop"])
    telegram.wait_for(lambda: len(telegram.sent) == 2)
    alert = telegram.to(HUNG["id"])[0]["message_id"]

    # the officer replies to the alert: that claims it and reaches the web citizen
    post_update(
        app_client,
        message_update(
            who=HUNG, chat_id=HUNG["id"], text="Chào bác, bác còn giữ SIM cũ không?", reply_to=alert
        ),
    )
    got = wait_web(app_client, telegram, lambda g: any("SIM cũ" in m["text"] for m in g))
    assert any(m["text"] == "👮 Cán bộ Hùng: Chào bác, bác còn giữ SIM cũ không?" for m in got)

    # the citizen's follow-up is relayed to the officer, not answered by the bot
    reply = app_client.post(
        "/api/chat", json={"sender_id": "citizen-1", "text": "còn, số 0905111222"}
    )
    assert reply.json()["messages"][0]["text"] == f"Đã chuyển tin của bạn cho cán bộ Hùng ({code})."
    telegram.wait_for(lambda: any("người dân nhắn" in m["text"] for m in telegram.to(HUNG["id"])))
    relayed = [m for m in telegram.to(HUNG["id"]) if "người dân nhắn" in m["text"]][0]
    assert relayed["reply_to"] == alert
    assert "0905111222" not in relayed["text"]  # masked for the officer
    assert not any("người dân nhắn" in m["text"] for m in telegram.to(LAN["id"]))

    # the officer closes with a note
    post_update(
        app_client,
        message_update(
            who=HUNG, chat_id=HUNG["id"], text="/close Đã hẹn bác lên xã sáng mai", reply_to=alert
        ),
    )
    got = wait_web(
        app_client, telegram, lambda g: any("đã được giải quyết" in m["text"] for m in g)
    )
    assert "Đã hẹn bác lên xã sáng mai" in got[-1]["text"]
    with session_scope(session_factory) as session:
        ticket = session.get(HandoffTicket, ticket_id)
        assert ticket.status == TicketStatus.RESOLVED
        assert ticket.resolution_note == "Đã hẹn bác lên xã sáng mai"
    # the bot answers again (Rasa is down in this test: the gateway's busy reply proves it)
    after = app_client.post("/api/chat", json={"sender_id": "citizen-1", "text": "cảm ơn"})
    assert after.json()["messages"][0]["text"].startswith("Hệ thống đang bận")


def test_button_resolve_and_citizen_cancel(app_client, telegram, session_factory, clock, communes):
    ticket_id, code = open_ticket(session_factory, clock, communes["xop"])
    telegram.wait_for(lambda: len(telegram.sent) == 2)
    alert = telegram.to(LAN["id"])[0]["message_id"]
    post_update(
        app_client,
        callback_update(who=LAN, chat_id=LAN["id"], message_id=alert, data=f"h:done:{ticket_id}"),
    )
    assert telegram.answers[-1]["text"] == f"Đã đóng {code}."
    telegram.wait_for(lambda: sum("Đã giải quyết bởi" in e["text"] for e in telegram.edits) == 2)

    second_id, second = open_ticket(session_factory, clock, communes["xop"], sender="web:citizen-2")
    reply = app_client.post("/api/chat", json={"sender_id": "citizen-2", "text": "/handoff_cancel"})
    assert reply.json()["messages"][0]["text"].startswith(f"Đã hủy yêu cầu {second}")
    with session_scope(session_factory) as session:
        assert session.get(HandoffTicket, second_id).status == TicketStatus.CANCELLED
    third_id, third = open_ticket(session_factory, clock, communes["xop"], sender="web:citizen-3")
    button = app_client.post("/api/chat", json={"sender_id": "citizen-3", "text": "/show_menu"})
    assert button.json()["messages"][0]["text"].startswith(f"Đang chờ cán bộ nhận yêu cầu {third}")
    with session_scope(session_factory) as session:  # a payload is not relayed to officers
        assert (
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == "relay_to_officer")
            )
            == 0
        )
    again = app_client.post("/api/chat", json={"sender_id": "citizen-2", "text": "/handoff_cancel"})
    assert again.json()["messages"][0]["text"].startswith("Bạn không có yêu cầu nào")


def test_strangers_and_other_communes_cannot_act(
    app_client, telegram, session_factory, clock, communes
):
    with session_scope(session_factory) as session:
        other = session.scalar(select(Commune).where(Commune.name == "Đăk Bla"))
        session.add(Officer(name="Bla", telegram_user_id=777, commune_id=other.id))
    ticket_id, _ = open_ticket(session_factory, clock, communes["xop"])
    telegram.wait_for(lambda: len(telegram.sent) == 2)
    for who, expected in ((STRANGER, "chưa được đăng ký"), (user(777, "Bla"), "không thuộc xã")):
        post_update(
            app_client,
            callback_update(who=who, chat_id=who["id"], message_id=1, data=f"h:claim:{ticket_id}"),
        )
        assert expected in telegram.answers[-1]["text"]
    with session_scope(session_factory) as session:
        assert session.get(HandoffTicket, ticket_id).status == TicketStatus.OPEN


def test_duplicate_update_is_processed_once(app_client, telegram, session_factory, clock, communes):
    ticket_id, _ = open_ticket(session_factory, clock, communes["xop"])
    telegram.wait_for(lambda: len(telegram.sent) == 2)
    alert = telegram.to(HUNG["id"])[0]["message_id"]
    update = message_update(who=HUNG, chat_id=HUNG["id"], text="Bác chờ chút nhé", reply_to=alert)
    for _ in range(3):
        assert post_update(app_client, update).status_code == 200
    got = wait_web(app_client, telegram, lambda g: any("Bác chờ chút" in m["text"] for m in g))
    app_client.portal.call(app_client.app.state.outbox.drain)
    got += web_updates(app_client)
    assert sum("Bác chờ chút" in m["text"] for m in got) == 1
    with session_scope(session_factory) as session:
        relays = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "to_citizen")
        )
        assert relays == 2  # "Hùng has taken it" + the reply, once each


def test_unclaimed_ticket_is_realerted_then_escalated(
    app_client, telegram, session_factory, clock, communes
):
    ticket_id, code = open_ticket(session_factory, clock, communes["xop"])
    telegram.wait_for(lambda: len(telegram.sent) == 2)
    clock.advance(minutes=29)
    app_client.portal.call(app_client.app.state.outbox.drain)
    assert len(telegram.sent) == 2  # not yet

    clock.advance(minutes=2)  # 31 minutes: re-alert the commune
    telegram.wait_for(lambda: sum("Nhắc lại" in m["text"] for m in telegram.sent) == 2)
    assert not telegram.to(PROVINCE_CHAT)

    clock.advance(minutes=90)  # past two hours: the province chat
    telegram.wait_for(lambda: len(telegram.to(PROVINCE_CHAT)) == 1)
    escalation = telegram.to(PROVINCE_CHAT)[0]
    assert "Chuyển lên tỉnh" in escalation["text"] and code in escalation["text"]

    # the supervisor may take it from there
    post_update(
        app_client,
        callback_update(
            who=user(900, "Tỉnh"),
            chat_id=PROVINCE_CHAT,
            message_id=escalation["message_id"],
            data=f"h:claim:{ticket_id}",
        ),
    )
    with session_scope(session_factory) as session:
        assert session.get(HandoffTicket, ticket_id).status == TicketStatus.CLAIMED


def test_commune_without_officers_goes_straight_to_the_province(
    app_client, telegram, session_factory, clock, communes
):
    _, code = open_ticket(session_factory, clock, communes["bla"], label="phường Đăk Bla")
    telegram.wait_for(lambda: len(telegram.sent) == 1)
    assert telegram.sent[0]["chat_id"] == PROVINCE_CHAT
    assert code in telegram.sent[0]["text"]


def test_commune_group_chat_gets_one_alert(app_client, telegram, session_factory, clock, communes):
    with session_scope(session_factory) as session:
        session.get(Commune, communes["xop"]).officer_chat_id = -100123
    open_ticket(session_factory, clock, communes["xop"])
    telegram.wait_for(lambda: len(telegram.sent) == 1)
    assert telegram.sent[0]["chat_id"] == -100123


def test_queue_and_stats(app_client, telegram, session_factory, clock, communes):
    first, code1 = open_ticket(session_factory, clock, communes["xop"])
    _, code2 = open_ticket(session_factory, clock, communes["xop"], sender="web:citizen-2")
    telegram.wait_for(lambda: len(telegram.sent) == 4)
    alert = telegram.to(HUNG["id"])[0]["message_id"]
    clock.advance(minutes=10)
    post_update(
        app_client,
        callback_update(who=HUNG, chat_id=HUNG["id"], message_id=alert, data=f"h:claim:{first}"),
    )
    post_update(app_client, message_update(who=LAN, chat_id=LAN["id"], text="/queue"))
    queue = telegram.to(LAN["id"])[-1]["text"]
    assert "2 yêu cầu đang mở" in queue and code1 in queue and code2 in queue
    assert "Hùng đang xử lý" in queue and "chưa ai nhận" in queue
    post_update(app_client, message_update(who=LAN, chat_id=LAN["id"], text="/stats"))
    stats = telegram.to(LAN["id"])[-1]["text"]
    assert "Đang chờ nhận: 1" in stats and "Đang xử lý: 1" in stats
    assert "Thời gian nhận (trung vị): 10 phút" in stats


@pytest.mark.parametrize(
    ("kind", "kwargs"),
    [("500", {}), ("429", {"retry_after": 1}), ("hang", {"hang_s": 1.5})],
)
def test_outage_delays_alerts_but_loses_and_doubles_none(
    app_client, telegram, session_factory, clock, communes, kind, kwargs
):
    telegram.fail(kind, 3, **kwargs)
    ticket_id, _ = open_ticket(session_factory, clock, communes["xop"])

    def settled_after_a_try():
        # at least one attempt made, and no row in flight (a send holds a 30 s lease;
        # moving the clock past it mid-send would fake a crashed worker)
        with session_scope(session_factory) as session:
            rows = session.scalars(
                select(OutboxMessage).where(OutboxMessage.subject_id == ticket_id)
            ).all()
            in_flight = any(r.locked_until is not None for r in rows)
            return sum(r.attempts for r in rows) >= 1 and not in_flight

    deadline = 30
    while len(telegram.sent) < 2 and deadline:
        telegram.wait_for(settled_after_a_try, timeout=10)
        clock.advance(minutes=6)  # past any backoff: the worker tries again
        app_client.portal.call(app_client.app.state.outbox.drain)
        deadline -= 1
    telegram.wait_for(lambda: len(telegram.sent) == 2)
    app_client.portal.call(app_client.app.state.outbox.drain)
    assert sorted(m["chat_id"] for m in telegram.sent) == [HUNG["id"], LAN["id"]]
    with session_scope(session_factory) as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.subject_id == ticket_id)
        ).all()
        assert all(r.status == OutboxStatus.SENT for r in rows)
        assert sum(r.attempts for r in rows) == 5  # 3 failed + 2 delivered


def test_permanent_failure_is_dead_and_visible(
    app_client, telegram, session_factory, clock, communes
):
    with session_scope(session_factory) as session:
        session.add(Officer(name="Sai", telegram_user_id=31337, commune_id=communes["xop"]))
    telegram.unknown_chats.add(31337)  # Telegram: 400 "chat not found"
    open_ticket(session_factory, clock, communes["xop"])
    telegram.wait_for(lambda: len(telegram.sent) == 2)

    def dead():
        with session_scope(session_factory) as session:
            return session.scalars(
                select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.DEAD)
            ).all()

    telegram.wait_for(lambda: len(dead()) == 1)
    assert dead()[0].destination == "31337"
    assert "chat not found" in dead()[0].last_error.lower()


def test_officers_are_managed_from_the_command_line(db_url, session_factory, monkeypatch, capsys):
    from bot import cli
    from bot.config import get_settings

    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    monkeypatch.setenv("RASA_TOKEN", "t" * 24)
    get_settings.cache_clear()
    try:
        assert (
            cli.main(
                ["officer", "add", "--name", "Hùng", "--telegram-id", "11", "--commune", "xa xop"]
            )
            == 0
        )
        assert (
            cli.main(["officer", "add", "--name", "Tỉnh", "--telegram-id", "12", "--supervisor"])
            == 0
        )
        assert (
            cli.main(
                [
                    "officer",
                    "add",
                    "--name",
                    "Ai",
                    "--telegram-id",
                    "13",
                    "--commune",
                    "xa khong co",
                ]
            )
            == 2
        )
        assert cli.main(["officer", "group", "--commune", "Xốp", "--chat-id", "-100777"]) == 0
        assert cli.main(["officer", "remove", "--telegram-id", "11"]) == 0
        assert cli.main(["officer", "list"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr()
    assert "Không tìm thấy xã/phường mới tên 'xa khong co'" in out.err
    assert "11\tHùng\txã Xốp (đã nghỉ)" in out.out and "12\tTỉnh\ttỉnh" in out.out
    with session_scope(session_factory) as session:
        assert (
            session.scalar(select(Commune).where(Commune.name == "Xốp")).officer_chat_id == -100777
        )


def test_long_polling_when_no_webhook_is_set(db_url, session_factory, communes, telegram, clock):
    settings = make_settings(
        db_url,
        rasa_url="http://127.0.0.1:9",
        telegram_bot_token=telegram.token,
        telegram_api_url=telegram.base_url,
        telegram_timeout_s=1.0,
        outbox_poll_s=0.05,
    )
    with TestClient(create_app(settings, clock=clock)):
        assert "deleteWebhook" in telegram.calls
        telegram.updates.append(message_update(who=HUNG, chat_id=HUNG["id"], text="/id"))
        telegram.wait_for(
            lambda: any("Mã tài khoản Telegram của bạn: 101" in m["text"] for m in telegram.sent)
        )


FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "telegram"


def test_recorded_telegram_updates_are_understood(app_client, telegram):
    message = json.loads((FIXTURES / "message.json").read_text(encoding="utf-8"))
    chat = message["message"]["chat"]["id"]
    assert post_update(app_client, message).status_code == 200
    telegram.wait_for(lambda: len(telegram.to(chat)) == 1)
    assert telegram.to(chat)[0]["text"].startswith("Hệ thống đang bận")  # Rasa is down here

    callback = json.loads((FIXTURES / "callback_query.json").read_text(encoding="utf-8"))
    assert post_update(app_client, callback).status_code == 200
    assert telegram.answers[-1]["text"] == "Nút này đã cũ. Bạn gõ câu hỏi hoặc gửi /menu nhé."
    assert post_update(app_client, {"update_id": 5, "nonsense": True}).status_code == 200
    assert post_update(app_client, [1, 2]).status_code == 400


def test_an_officer_is_warned_when_a_zalo_citizen_is_past_48_hours(
    session_factory, clock, communes
):
    from datetime import timedelta as td

    with session_scope(session_factory) as session:
        ticket = service.open_ticket(
            session,
            service.NewTicket(
                channel="zalo",
                sender="zalo:42",
                commune_id=communes["xop"],
                commune_label="xã Xốp",
                description="không kích hoạt được",
            ),
            now=clock(),
            routing=service.Routing(),
        )
        hung = session.scalar(select(Officer).where(Officer.telegram_user_id == HUNG["id"]))
        assert (
            service.officer_reply(session, ticket, hung, "Chào bác", now=clock() + td(hours=47))
            is service.ActResult.DONE
        )
        late = service.officer_reply(
            session, ticket, hung, "Bác còn cần không?", now=clock() + td(hours=49)
        )
        assert late is service.ActResult.LATE
        service.citizen_message(session, ticket, "còn", now=clock() + td(hours=50))
        again = service.officer_reply(session, ticket, hung, "Vâng", now=clock() + td(hours=51))
        assert again is service.ActResult.DONE


def test_a_ticket_nobody_can_be_alerted_about_is_logged(session_factory, clock, caplog):
    with session_scope(session_factory) as session:
        bla = session.scalar(select(Commune).where(Commune.name == "Đăk Bla"))
        ticket = service.open_ticket(
            session,
            service.NewTicket(
                channel="web",
                sender="web:lonely",
                commune_id=bla.id,
                commune_label="phường Đăk Bla",
                description="cần giúp",
            ),
            now=clock(),
            routing=service.Routing(province_chat_id=None),
        )
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert f"{ticket.code} has nobody to alert" in caplog.text
