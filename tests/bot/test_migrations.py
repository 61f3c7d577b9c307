"""Migrations: seeding on a real PostgreSQL, the schema they build against the models."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker

from bot import migrate
from bot.channels import inbound
from bot.communes.models import Commune, FormerUnitRow
from bot.config import PROJECT_ROOT
from bot.db import Base, create_engine_from_url, session_scope, utcnow
from bot.faq.models import FaqEntry
from bot.seed import seed_database


def test_migrate_and_seed_twice_on_postgresql(pg_url):
    migrate.upgrade(pg_url)
    migrate.upgrade(pg_url)  # idempotent
    engine = create_engine_from_url(pg_url)
    factory = sessionmaker(engine)
    for _ in range(2):  # seeding twice adds nothing the second time
        with session_scope(factory) as session:
            seed_database(session=session, root=PROJECT_ROOT)
    with session_scope(factory) as session:
        assert session.scalar(select(func.count(FormerUnitRow.id))) == 102
        assert session.scalar(select(func.count(Commune.id))) == 40
        assert session.scalar(select(func.count(FaqEntry.id))) >= 33
    engine.dispose()


def _drift(url: str) -> list:
    """What the migrated schema lacks or has beyond the models (Alembic's autogenerate)."""
    import bot.models  # noqa: F401 - every table on Base.metadata

    engine = create_engine_from_url(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request, tmp_path):
    """A fresh database of each engine the app runs on."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'drift.db'}"
    else:
        yield request.getfixturevalue("pg_url")


def test_the_migrations_build_the_schema_the_models_describe(any_url):
    migrate.upgrade(any_url)
    assert _drift(any_url) == []


def test_telegram_updates_already_handled_stay_handled_across_0015(any_url):
    config = migrate.alembic_config(any_url)
    command.upgrade(config, "0014")
    engine = create_engine_from_url(any_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO processed_update (source, update_id, created_at) "
                "VALUES ('telegram', '41', :now)"
            ),
            {"now": utcnow()},
        )
    engine.dispose()
    command.upgrade(config, "head")
    engine = create_engine_from_url(any_url)
    with session_scope(sessionmaker(engine)) as session:
        assert not inbound.first_time(session, "telegram", "41")  # handled before the upgrade
        assert inbound.first_time(session, "telegram", "42")
    engine.dispose()
    command.downgrade(config, "0014")  # and back, keeping what was handled
    command.upgrade(config, "head")
    engine = create_engine_from_url(any_url)
    with session_scope(sessionmaker(engine)) as session:
        assert not inbound.first_time(session, "telegram", "42")
    engine.dispose()
    assert _drift(any_url) == []
