"""The web chat page (static, no external resources)."""

from bot.web.router import mount_static, router

__all__ = ["mount_static", "router"]
