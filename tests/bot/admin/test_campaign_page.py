"""The console's campaign page: CSV imports (all or nothing), progress, laggards, export,
sessions announced and cancelled."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import func, select

from bot.campaign.models import DailyFigure, RegistrationSession, Reminder
from bot.communes.models import Commune
from bot.db import session_scope, utcnow
from tests.auxil.console import csrf_of, log_in, make_admin


def _upload(rows: list[list[object]]) -> dict:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return {"file": ("f.csv", out.getvalue().encode("utf-8-sig"), "text/csv")}


def _admin(client, session_factory) -> str:
    assert log_in(client, "admin", make_admin(session_factory)).status_code == 303
    return csrf_of(client.get("/admin/campaign").text)


def test_targets_and_figures_make_the_progress_table_and_the_laggards(client, session_factory):
    csrf = _admin(client, session_factory)
    targets = [["commune", "target"], ["Xốp", 1000], ["xa Dak Pxi", 1000], ["Kon Tum", 4000]]
    response = client.post(
        "/admin/campaign/targets",
        data={"csrf": csrf},
        files=_upload(targets),
        follow_redirects=False,
    )
    assert response.status_code == 303
    figures = [
        ["commune", "date", "files_level1", "files_level2", "activated"],
        ["Xốp", "2026-12-01", 120, 40, 500],
        ["Đăk Pxi", "01/12/2026", 30, 10, 50],
        ["Kon Tum", "2026-12-01", 900, 300, "2.000"],
    ]
    response = client.post(
        "/admin/campaign/figures",
        data={"csrf": csrf},
        files=_upload(figures),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = client.get("/admin/campaign").text
    # the province: 2,550 of 6,000 (43%); Đăk Pxi at 5% is under 80% of that, Xốp is not
    assert "2.550 / 6.000" in page
    laggards = page.split('id="laggards"')[1].split("</table>")[0]
    assert "xã Đăk Pxi" in laggards and "Xốp" not in laggards
    exported = client.get("/admin/export/campaign.csv")
    rows = {r["commune"]: r for r in csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")))}
    assert rows["xã Xốp"]["activated"] == "500" and rows["xã Xốp"]["lagging"] == "0"
    assert rows["xã Đăk Pxi"]["lagging"] == "1"


def test_a_wrong_file_changes_nothing_and_says_which_lines(client, session_factory):
    csrf = _admin(client, session_factory)
    figures = [
        ["commune", "date", "files_level1", "files_level2", "activated"],
        ["Xốp", "2026-12-01", 1, 1, 1],
        ["Nowhere", "2026-12-01", 1, 1, 1],
        ["Xốp", "hôm qua", 1, 1, 1],
    ]
    response = client.post("/admin/campaign/figures", data={"csrf": csrf}, files=_upload(figures))
    assert response.status_code == 400
    assert "dòng 3" in response.text and "dòng 4" in response.text
    assert "dòng 2" not in response.text
    missing = client.post(
        "/admin/campaign/figures", data={"csrf": csrf}, files=_upload([["xa", "ngay"], ["X", 1]])
    )
    assert missing.status_code == 400 and "Thiếu cột" in missing.text
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count(DailyFigure.id))) == 0


def test_a_session_announced_and_cancelled_from_the_console(client, session_factory):
    csrf = _admin(client, session_factory)
    with session_scope(session_factory) as session:
        xop = session.scalar(select(Commune.id).where(Commune.name == "Xốp"))
    form = {"csrf": csrf, "commune_id": xop, "day": "mai", "hours": "7h30-11h", "place": "Nhà rông"}
    assert client.post("/admin/campaign/sessions", data=form).status_code == 200  # followed
    page = client.get("/admin/campaign").text
    assert "Nhà rông" in page and "7:30-11:00" in page
    bad = client.post("/admin/campaign/sessions", data={**form, "hours": "sáng"})
    assert bad.status_code == 400
    with session_scope(session_factory) as session:
        session_id = session.scalar(select(RegistrationSession.id))
    cancelled = client.post(f"/admin/campaign/sessions/{session_id}/cancel", data={"csrf": csrf})
    assert cancelled.status_code == 200
    assert "Nhà rông" not in client.get("/admin/campaign").text


def test_the_page_counts_what_became_of_the_reminders(client, session_factory):
    now = utcnow()
    with session_scope(session_factory) as session:
        # the pending one is due tomorrow: the app's own reminder worker (running in the
        # test client) would send one due now before the page is read
        for status, outcome, due_in in [
            ("sent", None, 0),
            ("sent", None, 0),
            ("pending", None, 1),
            ("skipped", "zalo_window", 0),
            ("skipped", "blocked", 0),
            ("cancelled", "stopped", 0),
        ]:
            session.add(
                Reminder(
                    kind="activation",
                    channel="zalo",
                    sender="",
                    due_at=now + timedelta(days=due_in),
                    expires_at=now + timedelta(days=2),
                    status=status,
                    outcome=outcome,
                )
            )
    _admin(client, session_factory)
    page = client.get("/admin/campaign").text
    card = page.split('id="reminders"')[1].split("</div></div>")[0]
    assert "<strong" in card and ">2</strong>" in card
    assert "chờ gửi 1" in card and "người dân dừng 1" in card
    assert "Zalo quá 48 giờ, không gửi 1" in card and "đã chặn bot 1" in card
