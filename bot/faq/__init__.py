"""FAQ answers and bot texts: seed content, database, and Rasa's NLG endpoint."""

from bot.faq.models import FaqEntry, ResponseTemplate
from bot.faq.router import router

__all__ = ["FaqEntry", "ResponseTemplate", "router"]
