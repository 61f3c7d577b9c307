"""The action server's database: one engine per process, made on first use."""

from __future__ import annotations

from functools import cache

from sqlalchemy.orm import Session, sessionmaker

from bot.config import get_settings
from bot.db import create_engine_from_url

__all__ = ["factory"]


@cache
def factory() -> sessionmaker[Session]:
    """Sessions of the app's database (DATABASE_URL), shared by every action."""
    return sessionmaker(create_engine_from_url(get_settings().database_url), expire_on_commit=False)
