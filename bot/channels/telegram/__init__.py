"""Telegram through python-telegram-bot 22: citizens' chats, the officers' desk, delivery.

- ``app``: the PTB application and ``POST /webhooks/telegram`` (long polling without it).
- ``citizens``: private chats of citizens, through the same gateway as the web chat.
- ``desk``: officers get alerts with "Nhận xử lý" / "Đã giải quyết" buttons, reply to an
  alert to write to the citizen, and use /queue, /stats, /close and /id.
- ``sender``: outbox rows delivered to Telegram chats.
- ``updates``: every update is handled once (its ``update_id`` is stored in the same
  transaction as what it changed).
"""

from bot.channels.telegram.app import ALLOWED_UPDATES, build_application, webhook_router
from bot.channels.telegram.desk import OfficerDesk
from bot.channels.telegram.sender import TelegramSender
from bot.channels.telegram.updates import first_time

__all__ = [
    "ALLOWED_UPDATES",
    "OfficerDesk",
    "TelegramSender",
    "build_application",
    "first_time",
    "webhook_router",
]
