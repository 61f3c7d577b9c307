"""A migrated, seeded database for tests."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot import migrate
from bot.config import PROJECT_ROOT
from bot.db import create_engine_from_url, session_scope
from bot.faq import content
from bot.faq import service as faq_service


def make_seeded_db(url: str) -> sessionmaker[Session]:
    """Migrate a fresh database, load the seed texts, return a session factory."""
    migrate.upgrade(url)
    factory = sessionmaker(create_engine_from_url(url), expire_on_commit=False)
    with session_scope(factory) as session:
        faq_service.seed_content(
            session=session,
            topics=content.load_topics(PROJECT_ROOT / "data" / "faq"),
            responses=content.load_domain_responses(PROJECT_ROOT / "domain.yml"),
        )
    return factory
