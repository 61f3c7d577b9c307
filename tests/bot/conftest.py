"""Fixtures of the app tests: a seeded SQLite database and a test client."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient

from bot.main import create_app
from tests.auxil.db import make_seeded_db
from tests.auxil.settings import make_settings


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def session_factory(db_url):
    return make_seeded_db(db_url)


@pytest.fixture
def settings(db_url, session_factory):
    # Rasa is deliberately unreachable here: these tests never need it.
    return make_settings(db_url, rasa_url="http://127.0.0.1:9", rasa_timeout_s=2.0)


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as test_client:
        yield test_client


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
