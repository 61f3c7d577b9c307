"""The outbox: messages to deliver on any channel, retried until sent or dead.

Producers write rows in the transaction that caused them; a worker delivers them through
each channel's sender (``worker``'s docstring). The outbox knows nothing of what a row is
about: producers add their rules as hooks (the handoff's: ``bot.handoff.alerting``).
"""

from bot.outbox.models import OutboxMessage, OutboxStatus
from bot.outbox.worker import (
    Clock,
    Delivered,
    Hook,
    Job,
    OutboxWorker,
    PermanentError,
    Poller,
    RetryLater,
    Sender,
    backoff_s,
    enqueue,
)

__all__ = [
    "Clock",
    "Delivered",
    "Hook",
    "Job",
    "OutboxMessage",
    "OutboxStatus",
    "OutboxWorker",
    "PermanentError",
    "Poller",
    "RetryLater",
    "Sender",
    "backoff_s",
    "enqueue",
]
