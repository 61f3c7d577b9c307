"""Officers work their commune's tickets in the console; admins manage communes and officers."""

from __future__ import annotations

from sqlalchemy import select

from bot.accounts import service as accounts_service
from bot.communes.models import Commune
from bot.db import session_scope, utcnow
from bot.handoff import service
from bot.handoff.models import HandoffTicket, Officer, OutboxMessage, TicketStatus
from tests.bot.test_admin import csrf_of, make_admin
from tests.bot.test_admin_content import log_in

PASSWORD = "officer-password-123"


def setup_officer(session_factory):
    with session_scope(session_factory) as session:
        xop = session.scalar(select(Commune).where(Commune.name == "Xốp"))
        bla = session.scalar(select(Commune).where(Commune.name == "Đăk Bla"))
        officer = Officer(name="Hùng", telegram_user_id=101, commune_id=xop.id)
        session.add(officer)
        session.flush()
        accounts_service.create_account(
            session=session,
            username="hung",
            password=PASSWORD,
            role="officer",
            officer_id=officer.id,
        )
        ids = {}
        for commune, sender in ((xop, "web:a"), (bla, "web:b")):
            ticket = service.open_ticket(
                session,
                service.NewTicket(
                    channel="web",
                    sender=sender,
                    commune_id=commune.id,
                    commune_label=f"xã {commune.name}",
                    description=f"cần giúp ở {commune.name}",
                ),
                now=utcnow(),
                routing=service.Routing(),
            )
            ids[commune.name] = ticket.id
        return ids


def test_an_officer_sees_only_their_commune_and_acts(client, session_factory):
    ids = setup_officer(session_factory)
    log_in(client, "hung", PASSWORD)
    assert client.get("/admin/", follow_redirects=False).headers["location"] == "/admin/tickets"
    page = client.get("/admin/tickets")
    assert "cần giúp ở Xốp" in page.text and "cần giúp ở Đăk Bla" not in page.text
    assert client.get(f"/admin/tickets/{ids['Đăk Bla']}").status_code == 404
    assert client.get("/admin/faq/fee").status_code == 403  # not for officers

    detail = client.get(f"/admin/tickets/{ids['Xốp']}")
    csrf = csrf_of(detail.text)
    client.post(f"/admin/tickets/{ids['Xốp']}/claim", data={"csrf": csrf})
    client.post(
        f"/admin/tickets/{ids['Xốp']}/reply", data={"csrf": csrf, "text": "Bác lên xã sáng mai nhé"}
    )
    done = client.post(
        f"/admin/tickets/{ids['Xốp']}/close",
        data={"csrf": csrf, "text": "đã hẹn"},
        follow_redirects=False,
    )
    assert done.headers["location"].endswith("result=done")
    other = client.post(
        f"/admin/tickets/{ids['Đăk Bla']}/claim", data={"csrf": csrf}, follow_redirects=False
    )
    assert other.status_code == 303 and other.headers["location"].endswith("result=forbidden")
    with session_scope(session_factory) as session:
        mine = session.get(HandoffTicket, ids["Xốp"])
        assert mine.status == TicketStatus.RESOLVED and mine.resolution_note == "đã hẹn"
        assert session.get(HandoffTicket, ids["Đăk Bla"]).status == TicketStatus.OPEN
        to_citizen = session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.destination == "web:a")
        ).all()
        assert [p["text"] for p in to_citizen][1] == "👮 Cán bộ Hùng: Bác lên xã sáng mai nhé"


def test_admin_manages_officers_and_groups(client, session_factory):
    log_in(client, "admin", make_admin(session_factory))
    page = client.get("/admin/communes")
    assert page.status_code == 200 and "Chưa có cán bộ" in page.text
    csrf = csrf_of(page.text)
    client.post(
        "/admin/officers",
        data={"csrf": csrf, "name": "Lan", "telegram_user_id": "202", "commune": "Xốp"},
    )
    with session_scope(session_factory) as session:
        xop = session.scalar(select(Commune).where(Commune.name == "Xốp"))
    client.post(f"/admin/communes/{xop.id}/group", data={"csrf": csrf, "chat_id": "-100555"})
    exported = client.get("/admin/export/officers.csv").text
    assert exported.splitlines()[1] == "Lan,202,Xốp,0,1"
    csv_body = (
        "name,telegram_user_id,commune,supervisor,active\nMai,303,Đăk Bla,0,1\nTỉnh,404,,1,1\n"
    )
    ok = client.post(
        "/admin/officers/import",
        data={"csrf": csrf},
        files={"file": ("officers.csv", csv_body.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    bad = client.post(
        "/admin/officers/import",
        data={"csrf": csrf},
        files={"file": ("o.csv", b"name,telegram_user_id,commune\nX,abc,Xop\n", "text/csv")},
    )
    assert bad.status_code == 400
    with session_scope(session_factory) as session:
        assert session.get(Commune, xop.id).officer_chat_id == -100555
        names = sorted(session.scalars(select(Officer.name)))
        assert names == ["Lan", "Mai", "Tỉnh"]
