"""Console accounts (admins, officers, viewers)."""

from bot.accounts.models import UserAccount

__all__ = ["UserAccount"]
