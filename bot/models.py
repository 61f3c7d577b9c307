"""Every table, imported in one place for Alembic."""

from bot.accounts.models import UserAccount
from bot.admin.models import AuditEntry, Revision
from bot.analytics.models import ChatTurn, TrainingQuestion
from bot.channels.zalo.models import InboundEvent, ZaloToken
from bot.chat.models import ConversationState, ShortPayload
from bot.communes.models import Commune, FormerUnitRow
from bot.db import Base
from bot.faq.models import ContentVersion, FaqEntry, ResponseTemplate
from bot.handoff.models import (
    AlertMessage,
    HandoffTicket,
    Officer,
    OutboxMessage,
    ProcessedUpdate,
    TicketMessage,
    WebInboxMessage,
)
from bot.locks import JobLock
from bot.modelops.models import ModelBuild

__all__ = [
    "AlertMessage",
    "AuditEntry",
    "Base",
    "ChatTurn",
    "HandoffTicket",
    "InboundEvent",
    "JobLock",
    "ModelBuild",
    "Officer",
    "OutboxMessage",
    "ProcessedUpdate",
    "TicketMessage",
    "TrainingQuestion",
    "WebInboxMessage",
    "ZaloToken",
    "Commune",
    "ContentVersion",
    "ConversationState",
    "FaqEntry",
    "FormerUnitRow",
    "ResponseTemplate",
    "Revision",
    "ShortPayload",
    "UserAccount",
]
