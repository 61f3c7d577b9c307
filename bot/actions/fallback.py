"""What the assistant does when it did not understand."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import _dialogue

REPEATED_MISS = "repeated_miss"


class ActionCountMisses(Action):
    """Record whether the citizen was misunderstood twice or more in a row.

    The rules in data/rules/basics.yml then ask to rephrase the first time
    and offer an officer from the second time.
    """

    def name(self) -> str:
        """Return the action name used in the domain."""
        return "action_count_misses"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Set repeated_miss from the recent misunderstandings."""
        return [SlotSet(REPEATED_MISS, _dialogue.consecutive_fallbacks(tracker.events) >= 2)]
