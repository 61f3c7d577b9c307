"""Custom actions, with a real rasa-sdk dispatcher and tracker."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import ActionCountMisses
from bot.actions._dialogue import consecutive_fallbacks


def user(intent):
    return {"event": "user", "text": "...", "parse_data": {"intent": {"name": intent}}}


def bot_said():
    return {"event": "bot", "text": "..."}


def tracker(events):
    return Tracker("web:t", {}, {}, events, False, None, {}, "action_listen")


def test_consecutive_fallbacks_counts_only_the_latest_run():
    assert consecutive_fallbacks([]) == 0
    assert consecutive_fallbacks([user("nlu_fallback")]) == 1
    events = [
        user("nlu_fallback"),
        bot_said(),
        user("faq"),
        bot_said(),
        user("nlu_fallback"),
        bot_said(),
        user("nlu_fallback"),
    ]
    assert consecutive_fallbacks(events) == 2


async def test_first_miss_is_not_repeated_second_is():
    dispatcher = CollectingDispatcher()
    first = await ActionCountMisses().run(
        dispatcher, tracker([user("greet"), user("nlu_fallback")]), {}
    )
    assert first == [{"event": "slot", "timestamp": None, "name": "repeated_miss", "value": False}]
    again = await ActionCountMisses().run(
        dispatcher, tracker([user("nlu_fallback"), bot_said(), user("nlu_fallback")]), {}
    )
    assert again[0]["value"] is True
    assert dispatcher.messages == []  # the rules choose what to say
