"""No raw personal data anywhere: what a citizen types on any channel reaches no table, no
Rasa tracker, no log as typed; only the call-back number they chose to give is kept, and only
where the officers need it (the ticket and the alert that carries it)."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from bot.db import session_scope
from bot.handoff.models import HandoffTicket
from tests.auxil.loopback import wait_until
from tests.e2e.conftest import PROVINCE_CHAT
from tests.e2e.test_handoff_channels import on_telegram, on_web, on_zalo

pytestmark = pytest.mark.e2e

# where the chosen call-back number may be: the ticket, and the alert that tells officers
CALLBACK_PLACES = {("handoff_ticket", "contact_phone"), ("outbox", "payload")}


def _luhn(body: str) -> str:
    total = 0
    for i, char in enumerate(reversed(body)):
        d = int(char) * (1 if i % 2 else 2)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def _secrets(rnd: random.Random) -> dict[str, str]:
    """Fresh values for one run: nothing else in the stack can hold them."""
    digits = lambda n: "".join(rnd.choice("0123456789") for _ in range(n))  # noqa: E731
    word = "".join(rnd.choice("bcdfghjkmnpqrstvwxz") for _ in range(10))
    return {
        "id": "079" + digits(9),
        "cmnd": "2" + digits(8),
        "phone": "09" + digits(8),
        "otp": digits(6),
        "password": f"Vn{word[:4]}@{digits(5)}",
        "card": _luhn("4" + digits(14)),
        "email": f"{word}@gmail.com",
        "callback": "08" + digits(8),
    }


def _typed(s: dict[str, str]) -> dict[str, str]:
    """How citizens type them: spaced, dotted, in brackets."""
    return {
        **s,
        "id": f"{s['id'][:3]} {s['id'][3:6]} {s['id'][6:9]} {s['id'][9:]}",
        "phone": f"({s['phone'][:3]}) {s['phone'][3:6]}-{s['phone'][6:]}",
        "card": " ".join(s["card"][i : i + 4] for i in range(0, 16, 4)),
        "callback": f"{s['callback'][:4]}.{s['callback'][4:7]}.{s['callback'][7:]}",
    }


def _messages(t: dict[str, str]) -> list[str]:
    """Messages around them (after a label, glued to it, mid-sentence)."""
    return [
        f"số căn cước của tôi là {t['id']}",
        f"cmnd cu {t['cmnd']} con dung duoc khong",
        f"so dien thoai cua toi {t['phone']}",
        f"otp{t['otp']} nhap vao dau",
        f"mật khẩu mới là {t['password']} sao không vào được",
        f"the ngan hang {t['card']}",
        f"gui ve email {t['email']} duoc khong",
    ]


def _forms(name: str, value: str, typed: str) -> set[str]:
    """What must not be found: the value as typed, and its digits however grouped."""
    forms = {value, typed}
    if name == "email":
        forms.add(value.split("@")[0])
    if name in ("phone", "callback"):
        forms.add(value[1:])  # +84 9...
    return forms


def _holds(haystack: str, form: str) -> bool:
    """Whether ``form`` is in ``haystack``; a number only as a whole number.

    Rasa stores floats with 16-19 digits (confidences, timestamps): a random six-digit
    code turns up inside one now and then, and that is not the code."""
    if not form.replace(" ", "").isdigit():
        return form in haystack
    return re.search(rf"(?<![0-9]){re.escape(form)}(?![0-9])", haystack) is not None


def _files(root: Path, *patterns: str) -> list[Path]:
    return sorted(p for pattern in patterns for p in root.glob(pattern) if p.is_file())


def _where_in_tables(url: str, needle: str) -> set[tuple[str, str]]:
    """Every (table, column) of the database at ``url`` whose values hold ``needle``."""
    found = set()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            for table in sa.inspect(connection).get_table_names():
                rows = connection.execute(sa.text(f'select * from "{table}"'))  # noqa: S608
                for row in rows.mappings():
                    found |= {
                        (table, k)
                        for k, v in row.items()
                        if v is not None and _holds(str(v), needle)
                    }
    finally:
        engine.dispose()
    return found


def _check_stores(values, typed, *, app_db: str, tracker_db: str, files: list[Path]) -> None:
    """None of ``values`` in the files (Rasa's store, logs) or the tracker's tables; in the
    app's tables only the call-back number, where officers need it."""
    for path in files:
        raw = path.read_bytes().decode("utf-8", errors="replace")
        for name, value in values.items():
            for form in _forms(name, value, typed[name]):
                assert not _holds(raw, form), f"{name} ({form}) found in {path.name}"
    for name, value in values.items():
        for form in _forms(name, value, typed[name]):
            places = _where_in_tables(app_db, form) | _where_in_tables(tracker_db, form)
            allowed = CALLBACK_PLACES if name == "callback" else set()
            assert places <= allowed, f"{name} ({form}) found in {places - allowed}"
    assert ("handoff_ticket", "contact_phone") in _where_in_tables(app_db, values["callback"])


def _hand_over(citizen, values, typed) -> str:
    """The handoff form, with an ID in the description and a call-back number; the code."""
    citizen.say("toi muon gap can bo", "Bạn ở xã, phường nào?")
    citizen.say("Tôi không rõ xã", "Bạn đang gặp khó khăn gì?")
    citizen.say(f"khong kich hoat duoc, cccd {values['id']}", "số điện thoại")
    created = citizen.say(typed["callback"], "Mã yêu cầu")
    return re.search(r"HT-\d{6}", created).group(0)


CHANNELS = pytest.mark.parametrize(
    "open_as", [on_web, on_telegram, on_zalo], ids=["web", "telegram", "zalo"]
)


def _type_everything(stack, open_as) -> tuple[dict[str, str], dict[str, str]]:
    """A citizen of the channel types every secret, then asks for an officer with a
    call-back number; the ticket holds that number and a masked description."""
    values = _secrets(random.Random())  # noqa: S311 - fresh values, not secrets
    typed = _typed(values)
    citizen = open_as(stack)
    for text in _messages(typed):
        before = len(citizen.received())
        citizen.send(text)
        wait_until(lambda before=before: len(citizen.received()) > before, timeout=20)
    code = _hand_over(citizen, values, typed)
    with session_scope(stack.session_factory) as session:
        ticket = session.scalar(select(HandoffTicket).where(HandoffTicket.id == int(code[3:])))
        assert ticket.sender == citizen.sender
        assert ticket.contact_phone == values["callback"]  # given on purpose: for the call-back
        assert values["id"] not in ticket.description and values["id"][:3] in ticket.description
    wait_until(lambda: [m for m in stack.telegram.to(PROVINCE_CHAT) if code in m["text"]])
    return values, typed


@CHANNELS
def test_nothing_typed_is_kept_raw_but_the_chosen_call_back_number(stack, open_as):
    values, typed = _type_everything(stack, open_as)
    files = _files(stack.root, "tracker.db*", "logs/*.log")
    assert any(p.name == "tracker.db" for p in files)
    _check_stores(
        values,
        typed,
        app_db=f"sqlite:///{stack.root / 'app.db'}",
        tracker_db=f"sqlite:///{stack.root / 'tracker.db'}",
        files=files,
    )


@CHANNELS
def test_on_postgresql_nothing_typed_is_kept_raw_either(scaled, open_as):
    """The scaled topology: app data and Rasa's tracker store on PostgreSQL."""
    values, typed = _type_everything(scaled.running, open_as)
    _check_stores(
        values,
        typed,
        app_db=scaled.app_db,
        tracker_db=scaled.tracker_db,
        files=_files(scaled.root, "logs/*.log"),
    )


def test_the_app_database_file_holds_no_deleted_secret(stack):
    """A Telegram update is stored as received until it is answered; then its payload is
    dropped, and nothing of it is left in the file (once the write-ahead log is folded in)."""
    values = _secrets(random.Random())  # noqa: S311
    citizen = on_telegram(stack)
    before = len(citizen.received())
    citizen.send(f"otp cua toi {values['otp']} va cccd {values['id']}")
    wait_until(lambda: len(citizen.received()) > before, timeout=20)
    # on a connection of its own, closed after: not one of the tests' pooled connections
    engine = sa.create_engine(f"sqlite:///{stack.root / 'app.db'}", poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        connection.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)")).all()
    engine.dispose()
    # SQLite's locks are POSIX locks: closing any descriptor of the file drops this process's
    # locks on it, so no connection of the tests may be open while the bytes are read
    stack.session_factory.kw["bind"].dispose()
    raw = b"".join(p.read_bytes() for p in _files(stack.root, "app.db*"))
    assert values["otp"].encode() not in raw and values["id"].encode() not in raw
