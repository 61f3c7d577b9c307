"""The admin console (login and content overview; editing comes with its issue)."""

from bot.admin.router import router

__all__ = ["router"]
