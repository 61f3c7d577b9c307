"""The Zalo OA bridge against a local fake Zalo API: signatures, replays, tokens, faults.

Rasa is unreachable in these tests (the gateway's "busy" reply stands in for an answer);
answers from the real model over Zalo are in tests/e2e/test_zalo.py.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot import migrate
from bot.channels.inbound import InboundEvent
from bot.channels.zalo import merge_bubbles, signature, zalo_message
from bot.channels.zalo.models import ZaloToken
from bot.chat import messages
from bot.chat.schemas import OutgoingMessage
from bot.db import create_engine_from_url, session_scope
from bot.faq.schemas import Button
from bot.main import create_app
from bot.outbox import OutboxMessage, OutboxStatus
from tests.auxil.fake_zalo import APP_ID, APP_SECRET, FIRST_REFRESH, OA_SECRET_KEY, FakeZalo
from tests.auxil.settings import make_settings

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "zalo"
USER = "246845883529197922"


@pytest.fixture
def zalo():
    fake = FakeZalo().start()
    yield fake
    fake.stop()


def zalo_settings(db_url, zalo, **extra):
    return make_settings(
        db_url,
        rasa_url="http://127.0.0.1:9",
        rasa_timeout_s=1.0,
        zalo_app_id=APP_ID,
        zalo_oa_secret_key=OA_SECRET_KEY,
        zalo_app_secret=APP_SECRET,
        zalo_refresh_token=FIRST_REFRESH,
        zalo_api_url=zalo.url,
        zalo_oauth_url=zalo.url,
        zalo_timeout_s=1.0,
        outbox_poll_s=0.05,
        **extra,
    )


@pytest.fixture
def client(db_url, session_factory, zalo):
    with TestClient(create_app(zalo_settings(db_url, zalo))) as test_client:
        yield test_client


def event(name: str, **changes) -> dict:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    data["timestamp"] = str(int(time.time() * 1000))
    for key, value in changes.items():
        if key == "text":
            data["message"]["text"] = value
        elif key == "msg_id":
            data["message"]["msg_id"] = value
        else:
            data[key] = value
    return data


def post(client, data, *, secret=OA_SECRET_KEY, header=None):
    raw = json.dumps(data, ensure_ascii=False).encode()
    sig = header if header is not None else signature(APP_ID, raw, data["timestamp"], secret)
    return client.post(
        "/webhooks/zalo",
        content=raw,
        headers={"Content-Type": "application/json", "X-ZEvent-Signature": sig},
    )


def stored(session_factory) -> int:
    with session_scope(session_factory) as session:
        return session.scalar(select(func.count()).select_from(InboundEvent))


def test_a_signed_text_is_answered_once_even_when_replayed(client, zalo, session_factory):
    data = event("user_send_text")
    assert post(client, data).status_code == 200
    assert post(client, data).status_code == 200  # Zalo retries the same msg_id
    zalo.wait_for(lambda: len(zalo.to(USER)) == 1)
    time.sleep(0.5)
    assert len(zalo.to(USER)) == 1
    assert zalo.to(USER)[0]["text"] == messages.BUSY.text  # Rasa is down in this test
    assert stored(session_factory) == 1


@pytest.mark.parametrize(
    "how",
    ["missing", "wrong secret", "hmac instead of sha256", "body changed", "stale", "other app"],
)
def test_forged_or_stale_events_are_refused_and_not_processed(client, zalo, session_factory, how):
    data = event("user_send_text")
    if how == "missing":
        response = post(client, data, header="")
    elif how == "wrong secret":
        response = post(client, data, secret="guess")
    elif how == "hmac instead of sha256":
        import hashlib
        import hmac

        raw = json.dumps(data, ensure_ascii=False).encode()
        forged = "mac=" + hmac.new(OA_SECRET_KEY.encode(), raw, hashlib.sha256).hexdigest()
        response = post(client, data, header=forged)
    elif how == "body changed":
        raw = json.dumps(data, ensure_ascii=False).encode()
        good = signature(APP_ID, raw, data["timestamp"], OA_SECRET_KEY)
        data["message"]["text"] = "chuyen tien cho toi"
        response = post(client, data, header=good)
    elif how == "stale":  # a captured event replayed ten minutes later
        data["timestamp"] = str(int(time.time() * 1000) - 600_000)
        response = post(client, data)
    else:
        data["app_id"] = "999"
        response = post(client, data)
    assert response.status_code == 403
    assert stored(session_factory) == 0
    time.sleep(0.3)
    assert zalo.sent == []


def test_receipts_are_acknowledged_and_ignored(client, zalo, session_factory):
    for name in ("user_received_message", "user_seen_message"):
        assert post(client, event(name)).status_code == 200
    assert stored(session_factory) == 0


def test_photos_and_stickers_get_a_polite_reply_with_buttons(client, zalo):
    post(client, event("user_send_image"))
    post(client, event("user_send_sticker"))
    zalo.wait_for(lambda: len(zalo.to(USER)) == 2)
    photo, sticker = zalo.to(USER)
    assert photo["text"] == messages.PHOTO.text
    assert [(b["title"], b["type"], b["payload"]) for b in photo["buttons"]] == [
        ("Gặp cán bộ", "oa.query.hide", "/request_handoff"),
        ("Xem các chủ đề", "oa.query.hide", "/show_menu"),
    ]
    assert sticker["text"] == messages.NOT_TEXT.text


def test_expired_token_is_refreshed_once_and_the_rotation_is_stored(client, zalo, session_factory):
    post(client, event("user_send_text"))
    zalo.wait_for(lambda: len(zalo.sent) == 1)
    assert zalo.refreshes == [FIRST_REFRESH]  # first token fetched with the configured one
    zalo.expire_access_tokens()
    post(client, event("user_send_text", msg_id="second"))
    zalo.wait_for(lambda: len(zalo.sent) == 2)
    assert zalo.refreshes == [FIRST_REFRESH, "refresh-1"]  # each refresh token spent once
    with session_scope(session_factory) as session:
        row = session.get(ZaloToken, 1)
        assert row.refresh_token in zalo.valid_refresh and row.access_token in zalo.valid_access


@pytest.mark.parametrize("kind", ["429", "500", "hang"])
def test_zalo_outage_retries_without_loss_or_doubles(client, zalo, session_factory, kind):
    zalo.fail(kind, 2)
    post(client, event("user_send_text"))

    def sent_row():
        with session_scope(session_factory) as session:
            return session.scalar(select(OutboxMessage).where(OutboxMessage.channel == "zalo"))

    # backoff is a few seconds; pull the retry forward instead of waiting it out
    deadline = time.monotonic() + 30
    while not zalo.sent and time.monotonic() < deadline:
        row = sent_row()
        if row is not None and row.locked_until is None and row.status == OutboxStatus.PENDING:
            with session_scope(session_factory) as session:
                session.get(OutboxMessage, row.id).next_attempt_at = row.created_at
        time.sleep(0.1)
    zalo.wait_for(lambda: len(zalo.sent) == 1)
    time.sleep(0.5)
    assert len(zalo.sent) == 1
    row = sent_row()
    assert row.status == OutboxStatus.SENT and row.attempts == 3


def test_no_more_than_eight_bubbles_per_message():
    replies = [OutgoingMessage(text=f"bóng {i}") for i in range(11)]
    replies[-1] = OutgoingMessage(
        text="cuối", buttons=[Button(title="Xem các chủ đề", payload="/show_menu")]
    )
    merged = merge_bubbles(replies)
    assert len(merged) == 8
    assert merged[0].text == "\n\n".join(f"bóng {i}" for i in range(4))
    assert [m.text for m in merged[1:]] == [f"bóng {i}" for i in range(4, 10)] + ["cuối"]
    assert merged[-1].buttons and not merged[0].buttons


def test_many_choices_become_five_buttons_and_numbered_lines():
    buttons = [{"title": f"Chủ đề {i}", "payload": f"/faq/t{i}"} for i in range(1, 8)]
    message = zalo_message("Chọn chủ đề:", buttons)
    assert len(message["attachment"]["payload"]["buttons"]) == 5
    assert message["text"].endswith("Hoặc gõ số:\n6. Chủ đề 6\n7. Chủ đề 7")


def test_two_replicas_never_spend_the_same_refresh_token(pg_url, zalo):
    migrate.upgrade(pg_url)
    from bot.channels.zalo import ZaloTokens
    from bot.db import Database, utcnow

    settings = zalo_settings(pg_url, zalo)
    engines = [create_engine_from_url(pg_url) for _ in range(2)]
    with session_scope(sessionmaker(engines[0])) as session:  # a token both replicas hold
        session.add(
            ZaloToken(id=1, access_token="stale", refresh_token=FIRST_REFRESH, expires_at=utcnow())
        )
    results: list[str] = []

    def replica(engine):
        async def go():
            import httpx

            async with httpx.AsyncClient() as http:
                tokens = ZaloTokens(
                    Database(sessionmaker(engine), threads=2),
                    settings=settings,
                    http=http,
                    clock=utcnow,
                )
                results.append(await tokens.refresh(failed="stale"))

        asyncio.run(go())

    threads = [threading.Thread(target=replica, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert zalo.refreshes == [FIRST_REFRESH]  # spent once; the other replica used the result
    assert len(results) == 2 and results[0] == results[1]
    for e in engines:
        e.dispose()


@pytest.mark.parametrize(
    ("name", "answered"),
    [
        ("user_send_text", messages.BUSY.text),  # the assistant's answer (Rasa is down here)
        ("user_send_text_button", messages.BUSY.text),  # a button's payload, as text
        ("follow", messages.BUSY.text),  # the welcome
        ("user_send_image", messages.PHOTO.text),
        ("user_send_sticker", messages.NOT_TEXT.text),
        ("user_received_message", None),
        ("user_seen_message", None),
    ],
)
def test_every_recorded_payload_shape(client, zalo, session_factory, name, answered):
    assert post(client, event(name)).status_code == 200
    if answered is None:
        time.sleep(0.3)
        assert zalo.sent == [] and stored(session_factory) == 0
        return
    zalo.wait_for(lambda: len(zalo.to(USER)) == 1)
    assert zalo.to(USER)[0]["text"] == answered


def test_the_bridge_is_off_without_credentials(db_url, session_factory):
    settings = make_settings(db_url, rasa_url="http://127.0.0.1:9", zalo_app_id=APP_ID)
    with TestClient(create_app(settings)) as off:
        assert post(off, event("user_send_text")).status_code == 404


def test_two_replicas_answer_each_stored_event_once(db_url, session_factory, zalo):
    """Both app replicas poll the stored events: each event reaches Rasa once."""
    import httpx

    from bot.channels.zalo import ZaloBridge
    from bot.chat.rasa_client import RasaClient
    from bot.chat.service import Gateway
    from bot.db import Database, utcnow

    seen: list[str] = []

    async def rasa(request):
        seen.append(json.loads(request.content)["message"])
        await asyncio.sleep(0.05)  # the other replica polls meanwhile
        return httpx.Response(200, json=[{"text": "Chào bạn"}])

    async def go():
        settings = zalo_settings(db_url, zalo)
        db = Database(session_factory, threads=4)
        client = RasaClient(httpx.AsyncClient(transport=httpx.MockTransport(rasa)), "http://r")
        bridges = [
            ZaloBridge(
                db, gateway=Gateway(db, client), settings=settings, clock=utcnow, wake_outbox=str
            )
            for _ in range(2)
        ]
        for i in range(10):
            assert await bridges[0].store(f"m{i}", event("user_send_text", text=f"cau {i}"))
        await asyncio.gather(*(b.handle_pending() for b in bridges))

    asyncio.run(go())
    assert sorted(seen) == sorted(f"cau {i}" for i in range(10))
    with session_scope(session_factory) as session:
        statuses = session.scalars(select(InboundEvent.status)).all()
        assert statuses == ["done"] * 10
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 10


def test_citizens_are_answered_side_by_side_each_in_order(db_url, session_factory, zalo):
    import httpx

    from bot.channels.zalo import ZaloBridge
    from bot.chat.rasa_client import RasaClient
    from bot.chat.service import Gateway
    from bot.db import Database, utcnow

    seen: list[tuple[str, str]] = []
    running = [0, 0]  # now, most at once

    async def rasa(request):
        body = json.loads(request.content)
        running[0] += 1
        running[1] = max(running)
        await asyncio.sleep(0.05 if body["message"].endswith("0") else 0.01)
        running[0] -= 1
        seen.append((body["sender"], body["message"]))
        return httpx.Response(200, json=[{"text": "ok"}])

    async def go():
        db = Database(session_factory, threads=4)
        client = RasaClient(httpx.AsyncClient(transport=httpx.MockTransport(rasa)), "http://r")
        bridge = ZaloBridge(
            db,
            gateway=Gateway(db, client),
            settings=zalo_settings(db_url, zalo),
            clock=utcnow,
            wake_outbox=str,
        )
        for i in range(4):
            for user in ("111", "222", "333"):
                data = event("user_send_text", text=f"{user}-{i}")
                data["sender"]["id"] = user
                assert await bridge.store(f"{user}:{i}", data)
        await bridge.handle_pending()

    asyncio.run(go())
    for user in ("111", "222", "333"):
        assert [m for s, m in seen if s == f"zalo:{user}"] == [f"{user}-{i}" for i in range(4)]
    assert running[1] > 1  # the three citizens did not wait for each other
