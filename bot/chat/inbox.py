"""The web chat's inbox: messages for a web citizen wait here until the page polls."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.chat.models import WebInboxMessage
from bot.outbox import Delivered, Job

__all__ = ["WebInboxSender"]


class WebInboxSender:
    """Web-chat citizens: the message waits in their inbox until the page polls it."""

    def prepare(self, session: Session, job: Job) -> Job:
        """Nothing to look up."""
        return job

    async def deliver(self, job: Job) -> Delivered:
        """Store the message for the web page (same transaction as marking it sent)."""
        return Delivered(store=(WebInboxMessage(sender=job.destination, payload=job.payload),))
