"""A migrated, seeded database for tests."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot import migrate
from bot.config import PROJECT_ROOT
from bot.db import create_engine_from_url, session_scope
from bot.seed import seed_database


def open_db(url: str) -> sessionmaker[Session]:
    """A session factory of the database at ``url``, as the app makes it."""
    return sessionmaker(create_engine_from_url(url), expire_on_commit=False)


def make_seeded_db(url: str) -> sessionmaker[Session]:
    """Migrate a fresh database, load the seed texts, return a session factory."""
    migrate.upgrade(url)
    factory = open_db(url)
    with session_scope(factory) as session:
        seed_database(session=session, root=PROJECT_ROOT)
    return factory
