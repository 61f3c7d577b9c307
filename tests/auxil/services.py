"""PostgreSQL and Redis for tests, from TEST_DATABASE_URL and TEST_REDIS_URL.

Unset: the tests that need them are skipped. Set but unreachable: they fail, saying so.
Only the standard library is imported at module level (tests/conftest.py imports this in
the Rasa environment too); psycopg and SQLAlchemy are imported when a database is made.
"""

from __future__ import annotations

import os
import socket
import ssl
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import unquote, urlsplit

import pytest

__all__ = ["DATABASE_ENV", "REDIS_ENV", "postgres_database", "redis_server"]

DATABASE_ENV = "TEST_DATABASE_URL"
REDIS_ENV = "TEST_REDIS_URL"
_DATABASE_EXAMPLE = "postgresql://postgres@127.0.0.1:5432/test"
_REDIS_EXAMPLE = "redis://127.0.0.1:6379/0"


def _configured(name: str, example: str, what: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        pytest.skip(f"{name} is not set: this test needs {what} (e.g. {name}={example})")
    return value


def _where(url: str) -> str:
    """host:port of a URL, for messages (never the password)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.hostname or '?'}:{port or '(default port)'}"


def _admin_connection(dsn: str):  # type: ignore[no-untyped-def]
    """An autocommit connection (psycopg 3 in the app environment, psycopg2 in Rasa's), the
    driver's name for SQLAlchemy URLs and its ``sql`` module. Refused: OperationalError."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError:  # the Rasa environment
        import psycopg2
        from psycopg2 import sql

        connection = psycopg2.connect(dsn, connect_timeout=5)
        connection.autocommit = True
        return connection, "postgresql+psycopg2", sql
    return psycopg.connect(dsn, autocommit=True, connect_timeout=5), "postgresql+psycopg", sql


def _run_admin(dsn: str, statement: str, name: str) -> None:
    connection, _, sql = _admin_connection(dsn)
    try:
        connection.cursor().execute(sql.SQL(statement).format(sql.Identifier(name)))
    finally:
        connection.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database on the TEST_DATABASE_URL server; its SQLAlchemy URL.

    TEST_DATABASE_URL names a database to connect to as a user who may create databases
    (``postgresql://`` or ``postgresql+psycopg://``). The URL names the driver of the
    environment (psycopg, or psycopg2 in Rasa's). The new database is dropped after, even if
    something still holds connections to it.
    """
    raw = _configured(DATABASE_ENV, _DATABASE_EXAMPLE, "PostgreSQL")
    from sqlalchemy.engine import make_url

    admin_url = make_url(raw)
    if admin_url.get_backend_name() != "postgresql":
        pytest.fail(f"{DATABASE_ENV} must be a postgresql:// URL, not {admin_url.drivername}://")
    admin_dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"vneid_test_{uuid.uuid4().hex[:12]}"
    failure = None
    try:
        connection, driver, sql = _admin_connection(admin_dsn)
    except Exception as exc:  # the driver's OperationalError: refused or unreachable
        if type(exc).__name__ != "OperationalError":
            raise
        failure = str(exc).strip()
    if failure is not None:  # outside the except: no chained traceback in the report
        pytest.fail(
            f"{DATABASE_ENV} is set but PostgreSQL at {_where(raw)} is unreachable or refused "
            f"the connection: {failure}"
        )
    try:
        connection.cursor().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()
    try:
        yield admin_url.set(drivername=driver, database=name).render_as_string(hide_password=False)
    finally:
        _run_admin(admin_dsn, "DROP DATABASE IF EXISTS {} WITH (FORCE)", name)


def _command(*words: str) -> bytes:
    """One command in Redis's protocol (RESP)."""
    out = [f"*{len(words)}\r\n".encode()]
    for word in words:
        data = word.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _ping(url: str, timeout: float = 3.0) -> str:
    """The server's answer to PING (after AUTH and SELECT when the URL has them)."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"not a redis:// or rediss:// URL ({parts.scheme}://)")
    host, port = parts.hostname or "127.0.0.1", parts.port or 6379
    commands = []
    if parts.password is not None:
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password)
        commands.append(_command("AUTH", user, password) if user else _command("AUTH", password))
    db = parts.path.strip("/")
    if db:
        commands.append(_command("SELECT", db))
    commands.append(_command("PING"))
    with socket.create_connection((host, port), timeout=timeout) as raw:
        sock = (
            ssl.create_default_context().wrap_socket(raw, server_hostname=host)
            if parts.scheme == "rediss"
            else raw
        )
        with sock.makefile("rb") as replies:
            for command in commands:
                sock.sendall(command)
                reply = replies.readline().decode(errors="replace").strip()
                if not reply.startswith("+"):
                    return reply
    return reply


def redis_server() -> str:
    """TEST_REDIS_URL, once the server there answers PING."""
    url = _configured(REDIS_ENV, _REDIS_EXAMPLE, "Redis")
    try:
        reply = _ping(url)
    except (OSError, ValueError) as exc:
        reply = f"unreachable: {exc}"
    if reply != "+PONG":
        pytest.fail(f"{REDIS_ENV} is set but Redis at {_where(url)} does not answer PING: {reply}")
    return url
