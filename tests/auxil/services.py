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


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty database on the TEST_DATABASE_URL server; its SQLAlchemy URL.

    TEST_DATABASE_URL names a database to connect to as a user who may create databases
    (``postgresql://`` or ``postgresql+psycopg://``). The new database is dropped after,
    even if something still holds connections to it.
    """
    raw = _configured(DATABASE_ENV, _DATABASE_EXAMPLE, "PostgreSQL")
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    admin_url = make_url(raw)
    if admin_url.get_backend_name() != "postgresql":
        pytest.fail(f"{DATABASE_ENV} must be a postgresql:// URL, not {admin_url.drivername}://")
    admin_dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"vneid_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        failure = str(exc).strip()
    else:
        failure = None
    if failure is not None:  # outside the except: no chained traceback in the report
        pytest.fail(
            f"{DATABASE_ENV} is set but PostgreSQL at {_where(raw)} is unreachable or refused "
            f"the connection: {failure}"
        )
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield (
            admin_url.set(drivername="postgresql+psycopg", database=name).render_as_string(
                hide_password=False
            )
        )
    finally:
        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=5) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


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
