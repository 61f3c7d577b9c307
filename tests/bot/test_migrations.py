"""Migrations and seeding on a real PostgreSQL (the production engine)."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from bot import migrate
from bot.communes.models import Commune, FormerUnitRow
from bot.config import PROJECT_ROOT
from bot.db import create_engine_from_url, session_scope
from bot.faq.models import FaqEntry
from bot.seed import seed_database

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_url():
    name = f"vneid_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(ADMIN_DSN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL must run on 127.0.0.1:5432 for this test: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
