"""Handing a citizen over to the officers of their commune police."""

from bot.handoff.redact import redact

__all__ = ["redact"]
