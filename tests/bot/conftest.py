"""Fixtures of the app tests: a seeded SQLite database and a test client.

PostgreSQL (``pg_url``) and Redis (``redis_url``) come from tests/conftest.py.
"""

from __future__ import annotations

import os
import shutil

import pytest
from fastapi.testclient import TestClient
from hypothesis import settings

from bot.main import create_app
from tests.auxil.db import make_seeded_db, open_db
from tests.auxil.settings import make_settings

# Property tests are deterministic in `make test` (the same examples every run, no example
# database); HYPOTHESIS_PROFILE=deep searches much further, with fresh examples.
settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.register_profile("deep", max_examples=5000, database=None, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory):
    """One migrated, seeded database file per run; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "app.db"
    factory = make_seeded_db(f"sqlite:///{path}")
    factory.kw["bind"].dispose()  # the last connection closes: the WAL is folded in
    return path


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'app.db'}"


@pytest.fixture
def session_factory(db_url, seeded_template, tmp_path):
    shutil.copyfile(seeded_template, tmp_path / "app.db")
    factory = open_db(db_url)
    yield factory
    factory.kw["bind"].dispose()


@pytest.fixture
def settings(db_url, session_factory, tmp_path):
    # Rasa is deliberately unreachable here: these tests never need it. Console trainings'
    # workspaces and logs go under the test's directory, not the checkout's var/.
    return make_settings(
        db_url,
        rasa_url="http://127.0.0.1:9",
        rasa_timeout_s=2.0,
        training_dir=tmp_path / "training",
    )


@pytest.fixture
def client(settings):
    with TestClient(create_app(settings)) as test_client:
        yield test_client
