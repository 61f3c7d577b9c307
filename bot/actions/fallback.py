"""What the assistant does when it did not understand."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import _dialogue


class ActionFallback(Action):
    """Ask to rephrase; after two misunderstandings in a row, offer an officer."""

    def name(self) -> str:
        """Return the action name used in the domain."""
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Pick the fallback reply from the recent misunderstandings."""
        misses = _dialogue.consecutive_fallbacks(tracker.events)
        response = "utter_default_handoff" if misses >= 2 else "utter_default"
        dispatcher.utter_message(response=response)
        return []
