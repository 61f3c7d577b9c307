"""Alembic environment: the URL comes from the caller or the app settings."""

from typing import Any

from alembic import context
from sqlalchemy import engine_from_config, pool

from bot.db import UtcDateTime
from bot.models import Base

config = context.config
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, _context: Any) -> str | bool:
    # Our UTC timestamp type is a plain timezone-aware DateTime in the schema.
    if type_ == "type" and isinstance(obj, type(UtcDateTime)):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    """Run migrations against the configured database."""
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from bot.config import get_settings

        url = get_settings().database_url
    connectable = engine_from_config(
        {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            render_item=_render_item,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
