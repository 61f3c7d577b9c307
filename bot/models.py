"""Every table, imported in one place for Alembic."""

from bot.accounts.models import UserAccount
from bot.db import Base
from bot.faq.models import FaqEntry, ResponseTemplate

__all__ = ["Base", "FaqEntry", "ResponseTemplate", "UserAccount"]
