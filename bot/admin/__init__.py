"""The admin console: texts, revisions, audit, the unanswered inbox, the dashboard."""

from bot.admin.router import router

__all__ = ["router"]
