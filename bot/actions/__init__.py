"""Custom actions, served by rasa-sdk behind Rasa's token: ``python -m bot.actions.server``."""

from bot.actions.communes import ActionCommuneLookup
from bot.actions.fallback import ActionClarify, ActionCountMisses
from bot.actions.handoff import (
    ActionAskHoCommune,
    ActionAskHoConfirm,
    ActionAskHoContact,
    ActionAskHoDescription,
    ActionHandoffStatus,
    ActionSubmitHandoff,
    ValidateHandoffForm,
)
from bot.actions.walkthrough import ActionWalkthrough

__all__ = [
    "ActionAskHoCommune",
    "ActionAskHoConfirm",
    "ActionAskHoContact",
    "ActionAskHoDescription",
    "ActionClarify",
    "ActionCommuneLookup",
    "ActionCountMisses",
    "ActionHandoffStatus",
    "ActionSubmitHandoff",
    "ActionWalkthrough",
    "ValidateHandoffForm",
]
