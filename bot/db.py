"""Database engine, sessions and the declarative base."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import DateTime, Dialect, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

__all__ = [
    "VIETNAM",
    "Base",
    "Clock",
    "Database",
    "UtcDateTime",
    "as_utc",
    "create_engine_from_url",
    "dialect_insert",
    "insert_or_else",
    "local_time",
    "session_scope",
    "utcnow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model; constraint names follow one convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite forgets)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


UtcDateTime = _UtcDateTime()


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


# what tells the time: utcnow in service, a test's fake clock (tests/auxil/clock.py) in tests
Clock = Callable[[], datetime]


# Vietnam keeps UTC+7 all year (no daylight saving): a fixed offset needs no tz database.
VIETNAM = timezone(timedelta(hours=7), "ICT")


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes: they are UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def local_time(value: datetime) -> datetime:
    """A stored timestamp (UTC; naive means UTC) as the time people read in Vietnam."""
    return as_utc(value).astimezone(VIETNAM)


def create_engine_from_url(
    url: str, *, pool_size: int = 5, max_overflow: int = 10, pool_timeout_s: float = 30.0
) -> Engine:
    """Create an engine; SQLite gets WAL and foreign keys for safe concurrency."""
    engine = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout_s,
    )
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            # what is deleted (a purged conversation, a taken call-back number) is overwritten,
            # not left readable in the file's free pages (Debian's SQLite does so by default;
            # other builds do not)
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

    return engine


def insert_or_else(session: Session, model: type[Base]) -> Any:
    """An INSERT of ``model`` in the session's dialect, with ``on_conflict_do_nothing``.

    And ``on_conflict_do_update``: what to do when the row exists (SQLite and PostgreSQL).
    """
    return dialect_insert(session.get_bind().dialect.name, model)


def dialect_insert(dialect: str, target: Any) -> Any:
    """An INSERT of ``target`` (a model or a table) in ``dialect`` (``insert_or_else``'s)."""
    return (sqlite.insert if dialect == "sqlite" else postgresql.insert)(target)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open one session for a unit of work; commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


T = TypeVar("T")


class Database:
    """Database work for async code, off the event loop.

    Each unit of work runs in a worker thread, in its own short session (committed on
    success), so the event loop never waits on the database.

    At most ``threads`` units run at once (the engine's pool size plus its overflow), so
    a worker never queues for a connection it cannot get.
    """

    def __init__(self, factory: sessionmaker[Session], *, threads: int) -> None:
        """Wrap a session factory; ``threads`` bounds concurrent units of work."""
        self.factory = factory
        self._limiter: anyio.CapacityLimiter | None = None
        self._threads = threads

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in a thread, inside one committed transaction."""
        if self._limiter is None:  # created lazily: it belongs to the running event loop
            self._limiter = anyio.CapacityLimiter(self._threads)

        def unit() -> T:
            with session_scope(self.factory) as session:
                return work(session)

        return await anyio.to_thread.run_sync(unit, limiter=self._limiter)
