"""The seed content on disk, in one place for `python -m bot init` and the tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from bot.admin import content as admin_content
from bot.communes.service import COMMUNES_CSV, seed_communes
from bot.faq import content as faq_content
from bot.faq import service as faq_service
from bot.faq.fixed import APP_TEXTS_FILE
from bot.walkthrough.content import walkthrough_responses
from bot.walkthrough.flow import load_flow

__all__ = ["APP_TEXTS_FILE", "WALKTHROUGH_FILE", "seed_database"]

WALKTHROUGH_FILE = Path("data") / "walkthrough.yml"


def seed_database(*, session: Session, root: Path) -> tuple[int, int, int]:
    """Insert the missing seed topics, texts and communes; refresh texts nobody edited.

    Returns the new topics, the new responses and the existing texts brought up to the
    reviewed seed (an admin's edits are kept: ``bot.admin.content.refresh_from_seed``).
    """
    responses = faq_content.load_domain_responses(root / "domain.yml")
    responses |= faq_content.load_domain_responses(root / APP_TEXTS_FILE)
    responses |= walkthrough_responses(load_flow(root / WALKTHROUGH_FILE))
    topics = faq_content.load_topics(root / "data" / "faq")
    seed_communes(session=session, csv_path=root / COMMUNES_CSV)
    updated = admin_content.refresh_from_seed(session, topics=topics, responses=responses)
    new_topics, new_responses = faq_service.seed_content(
        session=session, topics=topics, responses=responses
    )
    return new_topics, new_responses, updated
