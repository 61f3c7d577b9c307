"""Logging in: the right password opens, a wrong one is refused, many wrong ones throttle;
every attempt is in the audit log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import audit
from bot.accounts import service
from bot.audit import AuditEntry
from bot.db import session_scope
from tests.auxil.clock import START


def attempt(session_factory, password, *, ip="10.0.0.1", username="lan", minutes=0):
    with session_scope(session_factory) as session:
        result = service.log_in(
            session,
            username=username,
            password=password,
            ip=ip,
            now=START + timedelta(minutes=minutes),
        )
        return result if isinstance(result, service.Refused) else result.username


def audit_actions(session_factory):
    with session_scope(session_factory) as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_the_right_password_opens_and_a_wrong_one_is_refused(session_factory):
    with session_scope(session_factory) as session:
        service.create_account(
            session=session, username="lan", password="mat-khau-du-dai", role="viewer"
        )
    assert attempt(session_factory, "mat-khau-du-dai") == "lan"
    assert attempt(session_factory, "sai") is service.Refused.WRONG
    assert attempt(session_factory, "x", username="nobody") is service.Refused.WRONG
    assert audit_actions(session_factory) == ["login", "login_failed", "login_failed"]


def test_five_failures_throttle_that_account_from_that_address_only(session_factory):
    with session_scope(session_factory) as session:
        service.create_account(
            session=session, username="lan", password="mat-khau-du-dai", role="viewer"
        )
    for _ in range(5):
        assert attempt(session_factory, "sai", ip="10.6.6.6") is service.Refused.WRONG
    # the guesser's address is throttled, even with the right password ...
    assert attempt(session_factory, "mat-khau-du-dai", ip="10.6.6.6") is service.Refused.THROTTLED
    # ... the real user at another address is not locked out
    assert attempt(session_factory, "mat-khau-du-dai", ip="10.0.0.1") == "lan"
    assert attempt(session_factory, "mat-khau-du-dai", ip="10.6.6.6", minutes=16) == "lan"
    assert audit_actions(session_factory)[-3:] == ["login_throttled", "login", "login"]


def test_an_address_trying_many_accounts_is_throttled_for_all(session_factory):
    with session_scope(session_factory) as session:
        service.create_account(
            session=session, username="lan", password="mat-khau-du-dai", role="viewer"
        )
    for i in range(20):  # a few guesses at each of many names
        attempt(session_factory, "sai", ip="10.7.7.7", username=f"user{i % 7}")
    assert attempt(session_factory, "mat-khau-du-dai", ip="10.7.7.7") is service.Refused.THROTTLED
    assert attempt(session_factory, "mat-khau-du-dai", ip="10.0.0.2") == "lan"


def test_the_wait_doubles_with_each_failure_in_a_row(session_factory):
    with session_scope(session_factory) as session:
        service.create_account(
            session=session, username="lan", password="mat-khau-du-dai", role="viewer"
        )
    for _ in range(5):
        attempt(session_factory, "sai", ip="10.8.8.8")
    t = 0.0  # minutes; 5 failures: wait 1 minute, then 2, 4, 8 after each further failure
    for wait in (1, 2, 4, 8):
        assert attempt(session_factory, "sai", ip="10.8.8.8", minutes=t + wait - 0.1) is (
            service.Refused.THROTTLED
        )
        t += wait
        assert attempt(session_factory, "sai", ip="10.8.8.8", minutes=t) is service.Refused.WRONG
    # 9 failures: 16 minutes; then the right password opens and the count starts again
    assert attempt(session_factory, "mat-khau-du-dai", ip="10.8.8.8", minutes=t + 15) is (
        service.Refused.THROTTLED
    )
    assert attempt(session_factory, "mat-khau-du-dai", ip="10.8.8.8", minutes=t + 16) == "lan"
    assert attempt(session_factory, "sai", ip="10.8.8.8", minutes=t + 16) is service.Refused.WRONG
    assert attempt(session_factory, "sai", ip="10.8.8.8", minutes=t + 16) is service.Refused.WRONG


def test_the_back_off_is_capped_at_a_day():
    assert [audit.backoff(n).total_seconds() / 60 for n in (4, 5, 6, 7)] == [0, 1, 2, 4]
    assert audit.backoff(40) == timedelta(hours=24)
