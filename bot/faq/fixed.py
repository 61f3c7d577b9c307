"""Texts the app sends itself, without a Rasa turn: one place for all of them.

Their wording lives in ``data/app_texts.yml``, seeded into ``response_template`` like
Rasa's responses, so an admin edits them in the console with the same preview and
revision history. The app reads the edited text (in memory, ``bot.faq.cache``); the seed
file's text is the fallback when the database has none or cannot be read, so a busy or
broken database never leaves a citizen without an answer.

A text may hold ``{name}`` fields (the ticket's code, the officer's name), filled when it
is sent; a field an admin's edit broke or left out is shown as written, never an error.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.config import PROJECT_ROOT
from bot.faq import service as faq_service
from bot.faq.content import load_domain_responses
from bot.faq.schemas import BotResponse, Button

if TYPE_CHECKING:  # the cache imports the service layer this module uses
    from bot.faq.cache import ContentCache

__all__ = ["APP_TEXTS_FILE", "Fixed", "defaults"]

logger = logging.getLogger(__name__)

APP_TEXTS_FILE = Path("data") / "app_texts.yml"  # under the project's root


@cache
def defaults() -> dict[str, BotResponse]:
    """The seed file's texts, by response name (read once per process)."""
    return load_domain_responses(PROJECT_ROOT / APP_TEXTS_FILE)


_FIELD = re.compile(r"\{(\w+)\}")


def fill(text: str, values: dict[str, Any]) -> str:
    """``text`` with its ``{name}`` fields filled; any other brace is left as written."""
    if not values:
        return text
    return _FIELD.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


@dataclass(frozen=True)
class Fixed:
    """One text of ``data/app_texts.yml``, by its response name."""

    name: str

    def __post_init__(self) -> None:
        if self.name not in defaults():
            raise KeyError(f"{self.name} is not in {APP_TEXTS_FILE.name}")

    @property
    def default(self) -> BotResponse:
        """The seed file's text and buttons."""
        return defaults()[self.name]

    @property
    def text(self) -> str:
        """The seed file's text (as sent when nobody edited it)."""
        return self.default.text.strip()

    @property
    def buttons(self) -> list[Button]:
        """The seed file's buttons."""
        return list(self.default.buttons)

    def seeded(self, **values: Any) -> BotResponse:
        """The seed file's text with its fields filled (no database at hand)."""
        return _filled(self.default, values)

    def render(self, session: Session, **values: Any) -> BotResponse:
        """The current text, in the caller's unit of work (a database thread)."""
        try:
            current = faq_service.render_response(session=session, name=self.name)
        except Exception:  # missing (a database seeded before the text existed), unreadable
            logger.warning("%s: the seed text is used (run `python -m bot init`)", self.name)
            current = self.default
        return _filled(current, values)

    async def fetch(self, texts: ContentCache | None, **values: Any) -> BotResponse:
        """The current text from the process's copy (async code, no unit of work)."""
        current = self.default
        if texts is not None:
            try:
                current = await texts.response(self.name)
            except Exception:  # the database is busy or down: the seed text still answers
                logger.warning("%s: the seed text is used", self.name, exc_info=True)
        return _filled(current, values)


def _filled(response: BotResponse, values: dict[str, Any]) -> BotResponse:
    return BotResponse(text=fill(response.text.strip(), values), buttons=list(response.buttons))
