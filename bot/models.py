"""Every table, imported in one place for Alembic."""

from bot.accounts.models import UserAccount
from bot.chat.models import ConversationState
from bot.db import Base
from bot.faq.models import FaqEntry, ResponseTemplate

__all__ = ["Base", "ConversationState", "FaqEntry", "ResponseTemplate", "UserAccount"]
