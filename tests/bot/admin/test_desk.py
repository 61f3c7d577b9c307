"""Officers work their commune's tickets in the console; admins manage communes and officers."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from bot.accounts import service as accounts_service
from bot.communes.models import Commune
from bot.db import session_scope, utcnow
from bot.handoff import service
from bot.handoff.models import HandoffTicket, Officer, TicketStatus
from bot.outbox import OutboxMessage
from tests.auxil.console import csrf_of, log_in, make_admin

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


def test_communes_are_exported_and_their_alert_groups_imported(client, session_factory):
    log_in(client, "admin", make_admin(session_factory))
    csrf = csrf_of(client.get("/admin/communes").text)
    client.post(
        "/admin/officers",
        data={"csrf": csrf, "name": '=HYPERLINK("x")', "telegram_user_id": "7", "commune": "Xốp"},
    )
    exported = client.get("/admin/export/communes.csv")
    assert exported.status_code == 200
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    xop = next(r for r in rows if r["name"] == "Xốp")
    assert xop["province"] == "tỉnh Quảng Ngãi" and xop["active_officers"] == "1"
    assert "Đăk Choong" in xop["former_units"]
    # a citizen-typed or admin-typed formula is exported inert
    officers = client.get("/admin/export/officers.csv").text
    assert "'=HYPERLINK" in officers

    # the exported file, edited in a spreadsheet, sets the alert groups back
    xop["officer_chat_id"] = "-100777"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    upload = {"file": ("communes.csv", out.getvalue().encode("utf-8-sig"), "text/csv")}
    ok = client.post("/admin/communes/import", data={"csrf": csrf}, files=upload)
    assert ok.status_code == 200 and f"Đã lưu ({len(rows)} dòng)" in ok.text
    with session_scope(session_factory) as session:
        groups = dict(session.execute(select(Commune.name, Commune.officer_chat_id)).all())
    assert groups["Xốp"] == -100777
    assert sum(1 for v in groups.values() if v is not None) == 1

    # typed in a spreadsheet without diacritics, with the province as people say it
    typed = b"province,name,officer_chat_id\nQuang Ngai,xa ia chim,-100888\n"
    answer = client.post(
        "/admin/communes/import",
        data={"csrf": csrf},
        files={"file": ("c.csv", typed, "text/csv")},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    with session_scope(session_factory) as session:
        assert (
            session.scalar(select(Commune.officer_chat_id).where(Commune.name == "Ia Chim"))
            == -100888
        )

    # a wrong row: nothing is saved, the admin is told which line
    bad = "name,officer_chat_id\nXốp,-1\nKhông Có,-2\nĐăk Tô,abc\n".encode()
    answer = client.post(
        "/admin/communes/import",
        data={"csrf": csrf},
        files={"file": ("c.csv", bad, "text/csv")},
    )
    assert answer.status_code == 400
    assert "dòng 3" in answer.text and "dòng 4" in answer.text
    no_column = client.post(
        "/admin/communes/import",
        data={"csrf": csrf},
        files={"file": ("c.csv", b"ten,nhom\nXop,1\n", "text/csv")},
    )
    assert no_column.status_code == 400 and "Thiếu cột" in no_column.text
    not_utf8 = client.post(
        "/admin/communes/import",
        data={"csrf": csrf},
        files={"file": ("c.csv", b"name,officer_chat_id\nX\xf4p,1\n", "text/csv")},  # Latin-1
    )
    assert not_utf8.status_code == 400 and "UTF-8" in not_utf8.text
    huge = client.post(
        "/admin/communes/import",
        data={"csrf": csrf},
        files={"file": ("c.csv", b"name,officer_chat_id\n" + b"X,1\n" * 300_000, "text/csv")},
    )
    assert huge.status_code == 400 and "quá lớn" in huge.text
    forged = client.post(
        "/admin/communes/import",
        data={"csrf": "forged"},
        files={"file": ("c.csv", b"name,officer_chat_id\n", "text/csv")},
    )
    assert forged.status_code == 403
    with session_scope(session_factory) as session:
        assert (
            session.scalar(select(Commune.officer_chat_id).where(Commune.name == "Xốp")) == -100777
        )
