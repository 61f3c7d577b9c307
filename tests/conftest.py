"""Shared pytest setup; must import in both environments (app and Rasa)."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.auxil import services  # noqa: E402 - needs ROOT on sys.path; stdlib only


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database for one test (SQLAlchemy URL), dropped afterwards.

    The server is TEST_DATABASE_URL's (e.g. postgresql://postgres@127.0.0.1:5432/test):
    unset, the test is skipped; set but unreachable, it fails.
    """
    with services.postgres_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_url():
    """TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/0) once it answers PING; unset: skip.

    The database is shared: use keys (or a lock-store prefix) unique to the test.
    """
    return services.redis_server()


def pytest_configure(config):
    """SIGTERM (a CI timeout, `kill`) ends the run like Ctrl-C: fixtures are torn down, so
    the processes a test started (stacks, fake servers, app replicas) are stopped."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, interrupt)
