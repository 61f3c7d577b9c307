"""Custom actions, served by rasa-sdk: ``python -m rasa_sdk --actions bot.actions``."""

from bot.actions.fallback import ActionCountMisses

__all__ = ["ActionCountMisses"]
