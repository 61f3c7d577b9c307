"""The likeliest topics of a message the assistant did not dare answer.

When the model is unsure (``nlu_fallback``: low confidence, or two topics too close), the
assistant asks "Bạn muốn hỏi về: ...?" with the two or three likeliest topics as buttons
instead of answering one of them or only saying it did not understand. This module picks
them from Rasa's parse result; the action server (bot/actions/fallback.py) and
``make eval`` (scripts/evaluate.py) use the same choice. Pure Python: it runs in both
environments.

A topic's score is the probability the model gives it: a plain intent's confidence, or for
an FAQ topic the confidence of the ``faq`` intent times the topic's share of the response
selector's ranking. Small talk, the menu and the walkthrough's own buttons are never
offered, and nothing is offered when the likeliest reading is small talk or out of scope
(a question about the weather gets "I only answer VNeID questions", not VNeID topics).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["FLOWS", "LIMIT", "MIN_SCORE", "candidates"]

FALLBACK = "nlu_fallback"
RETRIEVAL = "faq"
# Plain intents a citizen may have meant (the others are small talk or buttons).
FLOWS = ("activation_guide", "request_handoff", "handoff_status", "commune_lookup")
LIMIT = 3
MIN_SCORE = 0.1  # below this a topic is noise, not a reading of the message


def _scores(parse: Mapping[str, Any]) -> dict[str, float]:
    ranking = [r for r in parse.get("intent_ranking") or [] if isinstance(r, Mapping)]
    scores: dict[str, float] = {}
    for row in ranking:
        name, confidence = str(row.get("name") or ""), float(row.get("confidence") or 0.0)
        if name == FALLBACK:
            continue
        if name != RETRIEVAL:
            scores[name] = confidence
            continue
        selector = (parse.get("response_selector") or {}).get(RETRIEVAL) or {}
        for topic in selector.get("ranking") or []:
            key = str(topic.get("intent_response_key") or "")
            if key.startswith(f"{RETRIEVAL}/"):
                scores[key] = confidence * float(topic.get("confidence") or 0.0)
    return scores


def candidates(
    parse: Mapping[str, Any], *, limit: int = LIMIT, min_score: float = MIN_SCORE
) -> list[str]:
    """Labels (``faq/<key>`` or a flow intent) to offer as buttons, likeliest first.

    Empty when nothing is likely enough, or when the likeliest reading is not a topic
    (small talk, out of scope): then the assistant says it did not understand.
    """
    scores = _scores(parse)
    if not scores:
        return []
    ordered = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    if not _is_topic(ordered[0][0]):
        return []
    return [label for label, score in ordered if _is_topic(label) and score >= min_score][:limit]


def _is_topic(label: str) -> bool:
    return label.startswith(f"{RETRIEVAL}/") or label in FLOWS
