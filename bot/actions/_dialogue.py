"""Reading the conversation history of a Rasa tracker."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FALLBACK_INTENT = "nlu_fallback"


def consecutive_fallbacks(events: Iterable[dict[str, Any]]) -> int:
    """Count how many of the latest user messages in a row were not understood."""
    count = 0
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        intent = (event.get("parse_data") or {}).get("intent") or {}
        if intent.get("name") != FALLBACK_INTENT:
            break
        count += 1
    return count
