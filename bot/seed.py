"""The seed content on disk, in one place for `python -m bot init` and the tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from bot.communes.service import COMMUNES_CSV, seed_communes
from bot.faq import content as faq_content
from bot.faq import service as faq_service
from bot.walkthrough.content import walkthrough_responses
from bot.walkthrough.flow import load_flow

__all__ = ["WALKTHROUGH_FILE", "seed_database"]

WALKTHROUGH_FILE = Path("data") / "walkthrough.yml"


def seed_database(*, session: Session, root: Path) -> tuple[int, int]:
    """Insert the seed topics, texts and communes that are missing; keep existing rows."""
    responses = faq_content.load_domain_responses(root / "domain.yml")
    responses |= walkthrough_responses(load_flow(root / WALKTHROUGH_FILE))
    seed_communes(session=session, csv_path=root / COMMUNES_CSV)
    return faq_service.seed_content(
        session=session,
        topics=faq_content.load_topics(root / "data" / "faq"),
        responses=responses,
    )
