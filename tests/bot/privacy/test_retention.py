"""Conversation content older than RETENTION_DAYS is purged, figures stay; files are private."""

from __future__ import annotations

import os
import stat
import sys
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import func, select

from bot import process
from bot.analytics.models import ChatTurn
from bot.channels import inbound
from bot.chat.models import ConversationState, WebInboxMessage
from bot.db import Database, create_engine_from_url, session_scope
from bot.handoff.models import HandoffTicket, TicketMessage, TicketStatus
from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.privacy import contacts
from bot.privacy.retention import Purger, purge_app, purge_tracker
from tests.auxil.clock import START, FakeClock

DAYS = 90
OLD = START - timedelta(days=DAYS + 1)
RECENT = START - timedelta(days=DAYS - 1)


def turn(n, at):
    return ChatTurn(
        message_id=f"m{n}",
        sender=f"tg:{n}",
        channel="telegram",
        text=f"câu hỏi {n} 0912*****78",
        intent="faq/fee",
        confidence=0.9,
        response="utter_faq/fee",
        unanswered=True,
        created_at=at,
    )


def ticket(code, status, closed_at):
    return HandoffTicket(
        channel="web",
        sender=f"web:{code}",
        description="không nhận được OTP",
        contact_phone="0912345678",
        transcript=[{"who": "citizen", "text": "otp ***"}],
        status=status,
        resolution_note="đã gọi lại",
        created_at=OLD - timedelta(days=1),
        closed_at=closed_at,
    )


def fill(session):
    session.add_all([turn(1, OLD), turn(2, RECENT)])
    old, recent = ticket(1, TicketStatus.RESOLVED, OLD), ticket(2, TicketStatus.RESOLVED, RECENT)
    active = ticket(3, TicketStatus.CLAIMED, None)  # still being helped, however old
    session.add_all([old, recent, active])
    session.flush()
    for t in (old, recent, active):
        session.add(TicketMessage(ticket_id=t.id, direction="citizen", text="x", created_at=OLD))
    session.add_all(
        [
            ConversationState(sender="web:a", last_buttons=[], updated_at=OLD),
            ConversationState(sender="web:b", last_buttons=[], updated_at=RECENT),
            WebInboxMessage(sender="web:a", payload={"text": "x"}, created_at=OLD),
            *[
                OutboxMessage(
                    dedupe_key=f"k{status}",
                    channel="web",
                    destination="web:a",
                    kind="relay",
                    payload={"text": "0912345678"},
                    status=status,
                    created_at=OLD,
                )
                for status in (OutboxStatus.SENT, OutboxStatus.DEAD, OutboxStatus.PENDING)
            ],
        ]
    )
    done = inbound.receive(session, "telegram", "1", {"message": {"text": "x"}})
    inbound.finish(session, done)
    inbound.receive(session, "telegram", "2", {"message": {"text": "y"}})
    session.execute(sa.update(inbound.InboundEvent).values(created_at=OLD))
    session.add(contacts.CallbackNumber(sender="web:c", phone="0912345678", given_at=OLD))
    return old.id, recent.id, active.id


def test_old_content_goes_figures_stay(session_factory):
    with session_scope(session_factory) as session:
        old, recent, active = fill(session)
    with session_scope(session_factory) as session:
        purged = purge_app(session, now=START, days=DAYS)
    assert (purged.turns, purged.tickets, purged.ticket_messages) == (1, 1, 1)
    assert (purged.screens, purged.web_inbox, purged.outbox, purged.inbound) == (1, 1, 2, 1)
    assert purged.callback_numbers == 1
    with session_scope(session_factory) as session:
        turns = {t.message_id: t for t in session.scalars(select(ChatTurn))}
        assert (turns["m1"].text, turns["m1"].sender, turns["m1"].intent) == ("", "", "faq/fee")
        assert turns["m1"].reviewed  # out of the unanswered inbox
        assert turns["m2"].text.startswith("câu hỏi 2")
        gone = session.get_one(HandoffTicket, old)
        assert (gone.description, gone.transcript, gone.contact_phone) == ("", [], None)
        assert (gone.sender, gone.resolution_note, gone.status) == ("", None, "resolved")
        for kept in (recent, active):
            assert session.get_one(HandoffTicket, kept).contact_phone == "0912345678"
        left = session.scalars(select(TicketMessage.ticket_id)).all()
        assert sorted(left) == sorted([recent, active])
        assert session.scalars(select(ConversationState.sender)).all() == ["web:b"]
        assert session.scalars(select(OutboxMessage.status)).all() == [OutboxStatus.PENDING]
        assert session.scalars(select(inbound.InboundEvent.event_id)).all() == ["2"]
    with session_scope(session_factory) as session:  # a second run finds nothing more
        assert str(purge_app(session, now=START, days=DAYS)) == "nothing"


def test_a_handled_platform_event_keeps_its_id_not_what_was_typed(session_factory):
    with session_scope(session_factory) as session:
        row = inbound.receive(session, "zalo", "m1", {"message": {"text": "cccd 062201012345"}})
        inbound.finish(session, row)
        dead = inbound.receive(session, "zalo", "m2", {"message": {"text": "otp 482913"}})
        inbound.failed(session, dead, RuntimeError("boom"), max_attempts=1)
    with session_scope(session_factory) as session:
        events = {e.event_id: e for e in session.scalars(select(inbound.InboundEvent))}
        assert events["m1"].payload == {}
        assert events["m2"].payload == {"message": {"text": "otp ***"}}
        assert not inbound.first_time(session, "zalo", "m1")  # a re-delivery is still known


def tracker_db(path):
    engine = create_engine_from_url(f"sqlite:///{path}")
    events = sa.Table(  # the columns of Rasa's SQLTrackerStore that matter here
        "events",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), index=True),
        sa.Column("timestamp", sa.Float),
        sa.Column("data", sa.Text),
    )
    events.metadata.create_all(engine)
    rows = [("web:old", OLD), ("web:old", OLD + timedelta(hours=1))]
    rows += [("web:back", OLD), ("web:back", RECENT), ("web:new", RECENT)]
    with engine.begin() as connection:
        connection.execute(
            events.insert(),
            [{"sender_id": s, "timestamp": at.timestamp(), "data": "{}"} for s, at in rows],
        )
    return engine, events


def test_rasa_loses_the_conversations_that_ended_long_ago(tmp_path):
    engine, events = tracker_db(tmp_path / "tracker.db")
    assert purge_tracker(engine, now=START, days=DAYS) == 1
    with engine.connect() as connection:
        left = connection.execute(
            select(events.c.sender_id, func.count()).group_by(events.c.sender_id)
        ).all()
    assert sorted(left) == [("web:back", 2), ("web:new", 1)]  # a returning citizen: all kept


def test_no_tracker_store_yet_is_nothing_to_purge(tmp_path):
    engine = create_engine_from_url(f"sqlite:///{tmp_path / 'empty.db'}")
    assert purge_tracker(engine, now=START, days=DAYS) == 0


async def test_the_purge_runs_on_its_schedule_and_reaches_both_stores(session_factory, tmp_path):
    tracker_db(tmp_path / "tracker.db")
    with session_scope(session_factory) as session:
        fill(session)
    clock = FakeClock()
    purger = Purger(
        Database(session_factory, threads=1),
        days=DAYS,
        tracker_url=f"sqlite:///{tmp_path / 'tracker.db'}",
        every=timedelta(hours=1),
        clock=clock,
    )
    first = await purger.maybe_run()
    assert first is not None and first.turns == 1 and first.tracker_conversations == 1
    clock.advance(minutes=59)
    assert await purger.maybe_run() is None  # not yet
    clock.advance(minutes=2)
    assert await purger.maybe_run() is not None
    purger.close()


async def test_a_tracker_store_rasa_has_not_created_is_not_created_by_the_purge(
    session_factory, tmp_path
):
    missing = tmp_path / "var" / "rasa_tracker.db"
    purger = Purger(
        Database(session_factory, threads=1),
        days=DAYS,
        tracker_url=f"sqlite:///{missing}",
        every=timedelta(hours=1),
        clock=FakeClock(),
    )
    assert (await purger.run()).tracker_conversations == 0
    assert not missing.exists()


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_what_a_service_writes_is_readable_by_its_user_only(tmp_path):
    log = tmp_path / "var" / "log" / "svc.log"
    made = tmp_path / "var" / "svc.db"
    child = process.spawn(
        [sys.executable, "-c", f"open({str(made)!r}, 'w').write('x'); print('hi')"],
        cwd=tmp_path,
        env=dict(os.environ),
        log=log,
    )
    assert child.wait(timeout=30) == 0
    assert (mode(log), mode(made), mode(log.parent)) == (0o600, 0o600, 0o700)


def test_an_older_install_is_made_private(tmp_path):
    var = tmp_path / "var"
    (var / "log").mkdir(parents=True)
    (var / "log" / "app.log").write_text("x")
    (var / "vneid.db").write_text("x")
    for path in (var, var / "log", var / "log" / "app.log", var / "vneid.db"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    process.make_private(var)
    assert [mode(p) for p in (var, var / "log")] == [0o700, 0o700]
    assert [mode(p) for p in (var / "log" / "app.log", var / "vneid.db")] == [0o600, 0o600]
