"""Custom actions, with a real rasa-sdk dispatcher and tracker."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import ActionClarify, ActionCountMisses
from bot.actions._dialogue import consecutive_fallbacks


def user(intent):
    return {"event": "user", "text": "...", "parse_data": {"intent": {"name": intent}}}


def bot_said():
    return {"event": "bot", "text": "..."}


def tracker(events):
    # Rasa sends the latest message's parse apart from the events, as rasa-sdk reads it.
    latest = next((e["parse_data"] for e in reversed(events) if e["event"] == "user"), {})
    return Tracker("web:t", {}, latest, events, False, None, {}, "action_listen")


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


def unsure(ranking, topics=()):
    """The parse of a message the model did not dare answer (nlu_fallback)."""
    intents = [{"name": "nlu_fallback", "confidence": 0.6}]
    intents += [{"name": n, "confidence": c} for n, c in ranking]
    selector = {
        "faq": {"ranking": [{"intent_response_key": k, "confidence": c} for k, c in topics]}
    }
    return {
        "event": "user",
        "text": "...",
        "parse_data": {
            "intent": {"name": "nlu_fallback", "confidence": 0.6},
            "intent_ranking": intents,
            "response_selector": selector,
        },
    }


async def test_an_unsure_reading_is_asked_back_with_the_likeliest_topics():
    dispatcher = CollectingDispatcher()
    message = unsure(
        [("faq", 0.55), ("activation_guide", 0.3), ("greet", 0.1)],
        [("faq/fee", 0.5), ("faq/account_locked", 0.45), ("faq/children", 0.05)],
    )
    assert await ActionClarify().run(dispatcher, tracker([message]), {}) == []
    [said] = dispatcher.messages
    assert said["response"] == "utter_clarify"
    assert said["topics"] == ["activation_guide", "faq/fee", "faq/account_locked"]


async def test_nothing_likely_or_small_talk_is_not_understood_not_offered():
    for message in (
        user("nlu_fallback"),  # "/nlu_fallback": no ranking at all
        unsure([("out_of_scope", 0.35), ("faq", 0.3)], [("faq/fee", 1.0)]),
        unsure([("faq", 0.2)], [("faq/fee", 0.3), ("faq/children", 0.3)]),  # 0.06 each
    ):
        dispatcher = CollectingDispatcher()
        await ActionClarify().run(dispatcher, tracker([message]), {})
        assert [m["response"] for m in dispatcher.messages] == ["utter_default"]
