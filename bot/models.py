"""Every table, imported in one place for Alembic."""

from bot.accounts.models import ConsoleSession, UserAccount
from bot.admin.models import Revision
from bot.analytics.models import ChatTurn, TrainingQuestion
from bot.audit import AuditEntry
from bot.campaign.models import (
    CommuneQuestion,
    CommuneTarget,
    DailyFigure,
    OfficerDraft,
    RegistrationSession,
    Reminder,
)
from bot.channels.inbound import InboundEvent
from bot.channels.zalo.models import ZaloToken
from bot.chat.models import ConversationState, ShortPayload, WebInboxMessage
from bot.communes.models import Commune, FormerUnitRow
from bot.db import Base
from bot.faq.models import ContentVersion, FaqEntry, ResponseTemplate
from bot.handoff.models import AlertMessage, HandoffTicket, Officer, TicketMessage
from bot.locks import JobLock
from bot.modelops.models import ModelBuild
from bot.outbox.models import OutboxMessage
from bot.privacy.contacts import CallbackNumber

__all__ = [
    "AlertMessage",
    "AuditEntry",
    "ConsoleSession",
    "Base",
    "CallbackNumber",
    "CommuneQuestion",
    "CommuneTarget",
    "DailyFigure",
    "OfficerDraft",
    "RegistrationSession",
    "Reminder",
    "ChatTurn",
    "HandoffTicket",
    "InboundEvent",
    "JobLock",
    "ModelBuild",
    "Officer",
    "OutboxMessage",
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
