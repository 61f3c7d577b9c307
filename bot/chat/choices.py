"""Pressing a button without buttons: a number ("2") or the label typed out."""

from __future__ import annotations

import difflib
import re
from typing import Any

from nlu.text import expand, fold

__all__ = ["resolve_choice"]

_NUMBER_RE = re.compile(r"^\s*(?:số\s*|so\s*|chọn\s*|chon\s*)?(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE)
_SIMILAR = 0.88


def _key(text: str) -> str:
    return " ".join(fold(expand(text)).split())


def resolve_choice(text: str, buttons: list[dict[str, Any]]) -> str | None:
    """Return the payload of the button the text picks, or None.

    "2", "số 2" or "chọn 2" pick the second button; the label typed with or
    without diacritics ("xong buoc tiep") picks that button. Anything else is
    left to the NLU.
    """
    if not buttons:
        return None
    match = _NUMBER_RE.match(text)
    if match:
        index = int(match.group(1)) - 1
        return str(buttons[index]["payload"]) if 0 <= index < len(buttons) else None
    typed = _key(text)
    if len(typed) < 2:
        return None
    for button in buttons:
        label = _key(str(button["title"]))
        if typed == label or _similar(typed, label):
            return str(button["payload"])
    return None


def _similar(typed: str, label: str) -> bool:
    # The two quick ratios are upper bounds of ratio(): a question much longer than a
    # label (most messages) is ruled out without the quadratic comparison.
    matcher = difflib.SequenceMatcher(None, typed, label)
    return (
        matcher.real_quick_ratio() >= _SIMILAR
        and matcher.quick_ratio() >= _SIMILAR
        and matcher.ratio() >= _SIMILAR
    )
