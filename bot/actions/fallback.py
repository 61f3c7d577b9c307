"""What the assistant does when it did not understand."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import _dialogue
from nlu import clarify

REPEATED_MISS = "repeated_miss"
CLARIFY = "utter_clarify"
DEFAULT = "utter_default"


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


class ActionClarify(Action):
    """Ask which topic the citizen meant, instead of guessing or only saying "not understood".

    The likeliest two or three topics of the message (nlu/clarify.py) go to the NLG as
    ``topics``; the app turns them into buttons with the topics' current titles. Nothing
    likely enough (or small talk, or a question from outside VNeID): "not understood".
    """

    def name(self) -> str:
        """Return the action name used in the domain."""
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Offer the likeliest topics, or ask the citizen to rephrase."""
        offered = clarify.candidates(tracker.latest_message or {})
        if offered:
            dispatcher.utter_message(response=CLARIFY, topics=offered)
        else:
            dispatcher.utter_message(response=DEFAULT)
        return []
