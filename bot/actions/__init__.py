"""Custom actions, served by rasa-sdk: ``python -m rasa_sdk --actions bot.actions``."""

from bot.actions.communes import ActionCommuneLookup
from bot.actions.fallback import ActionCountMisses
from bot.actions.handoff import (
    ActionAskHoConfirm,
    ActionHandoffStatus,
    ActionSubmitHandoff,
    ValidateHandoffForm,
)
from bot.actions.walkthrough import ActionWalkthrough

__all__ = [
    "ActionAskHoConfirm",
    "ActionCommuneLookup",
    "ActionCountMisses",
    "ActionHandoffStatus",
    "ActionSubmitHandoff",
    "ActionWalkthrough",
    "ValidateHandoffForm",
]
