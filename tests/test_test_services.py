"""PostgreSQL and Redis for tests: skipped when not configured, a clear failure when down."""

from __future__ import annotations

import pytest

from tests.auxil import services
from tests.auxil.net import free_port


def test_unset_urls_skip(monkeypatch):
    monkeypatch.delenv(services.DATABASE_ENV, raising=False)
    monkeypatch.delenv(services.REDIS_ENV, raising=False)
    with (
        pytest.raises(pytest.skip.Exception, match="TEST_DATABASE_URL is not set"),
        services.postgres_database(),
    ):
        pass
    with pytest.raises(pytest.skip.Exception, match="TEST_REDIS_URL is not set"):
        services.redis_server()


def test_unreachable_servers_fail_saying_where(monkeypatch):
    port = free_port()  # nothing listens there
    monkeypatch.setenv(services.DATABASE_ENV, f"postgresql://postgres:pw@127.0.0.1:{port}/x")
    monkeypatch.setenv(services.REDIS_ENV, f"redis://127.0.0.1:{port}/0")
    with (
        pytest.raises(pytest.fail.Exception, match=f"127.0.0.1:{port}") as failed,
        services.postgres_database(),
    ):
        pass
    assert "unreachable" in str(failed.value) and "pw" not in str(failed.value)
    with pytest.raises(pytest.fail.Exception, match=f"Redis at 127.0.0.1:{port}"):
        services.redis_server()


def test_each_database_is_new_and_dropped_after():
    import psycopg
    from sqlalchemy.engine import make_url

    with services.postgres_database() as url:  # skipped when TEST_DATABASE_URL is unset
        parsed = make_url(url)
        assert parsed.drivername == "postgresql+psycopg"
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn) as conn:  # a connection left open does not stop the drop
            tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            assert tables.fetchone() == (0,)
            with services.postgres_database() as other:
                assert make_url(other).database != parsed.database
    admin = make_url(services.os.environ[services.DATABASE_ENV]).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False)) as conn:
        left = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,))
        assert left.fetchone() is None


def test_redis_answers(redis_url):
    assert services.redis_server() == redis_url
