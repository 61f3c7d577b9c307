"""The walkthrough action: one turn of the guided activation."""

from __future__ import annotations

from functools import cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.config import PROJECT_ROOT
from bot.faq.content import RETRIEVAL_INTENT
from bot.seed import WALKTHROUGH_FILE
from bot.walkthrough import service as wt_service
from bot.walkthrough.flow import TARGET_ENTITY, Flow, load_flow

INTENT_MOVES = {
    "activation_guide": wt_service.Move.START,
    "wt_go": wt_service.Move.GO,
    "wt_next": wt_service.Move.NEXT,
    "wt_error": wt_service.Move.ERROR,
    "wt_stop": wt_service.Move.STOP,
    "wt_resume": wt_service.Move.RESUME,
    "wt_restart": wt_service.Move.RESTART,
}


@cache
def flow() -> Flow:
    """The walkthrough, loaded once per process."""
    return load_flow(PROJECT_ROOT / WALKTHROUGH_FILE)


def _faq_topic(tracker: Tracker) -> str | None:
    """The FAQ topic Rasa's response selector chose for the latest message."""
    selector = (tracker.latest_message.get("response_selector") or {}).get(RETRIEVAL_INTENT) or {}
    key = str((selector.get("response") or {}).get("intent_response_key") or "")
    prefix = f"{RETRIEVAL_INTENT}/"
    return key.removeprefix(prefix) if key.startswith(prefix) else None


class ActionWalkthrough(Action):
    """Move the walkthrough on from what the citizen pressed or typed."""

    def name(self) -> str:
        """Return the action name used in the domain."""
        return "action_walkthrough"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send the next step and store where the citizen is."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        move = INTENT_MOVES.get(intent or "", wt_service.Move.OFFER)
        state = wt_service.State(
            step=tracker.get_slot("wt_step"),
            active=bool(tracker.get_slot("wt_active")),
            error_step=tracker.get_slot("wt_error_step"),
        )
        target = next(tracker.get_latest_entity_values(TARGET_ENTITY), None)
        text = str(tracker.latest_message.get("text") or "")
        if move is wt_service.Move.START:
            target = flow().entry(text)
        elif intent == RETRIEVAL_INTENT:  # a question (or a topic button) while the guide runs
            pressed = text.startswith("/")
            move = wt_service.Move.TOPIC if pressed else wt_service.Move.ASK
            target = _faq_topic(tracker)
        outcome = wt_service.advance(flow(), state, move, target)
        for response in outcome.responses:
            dispatcher.utter_message(response=response)
        return [
            SlotSet("wt_step", outcome.state.step),
            SlotSet("wt_active", outcome.state.active),
            SlotSet("wt_error_step", outcome.state.error_step),
        ]
