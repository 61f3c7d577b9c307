"""Migrations and seeding on a real PostgreSQL (the production engine)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot import migrate
from bot.communes.models import Commune, FormerUnitRow
from bot.config import PROJECT_ROOT
from bot.db import create_engine_from_url, session_scope
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
