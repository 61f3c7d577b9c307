"""Channel-neutral helpers to render replies: splitting long texts, short button keys."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy.orm import Session

from bot.chat.models import ShortPayload

__all__ = ["expand_key", "short_key", "split_text"]

_SENTENCE_END = re.compile(r"(?<=[.!?…:])\s+|\n+")


def split_text(text: str, limit: int) -> list[str]:
    """Cut ``text`` into parts of at most ``limit`` characters, at sentence boundaries."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit):
        joined = f"{current} {piece}".strip() if current else piece
        if len(joined) <= limit:
            current = joined
        else:
            parts.append(current)
            current = piece
    if current:
        parts.append(current)
    return parts


def _pieces(text: str, limit: int) -> list[str]:
    out: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        while len(sentence) > limit:  # one huge sentence: cut at the last space
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            out.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            out.append(sentence)
    return out


def short_key(session: Session, payload: str, *, prefix: str = "k:") -> str:
    """A stable short key for ``payload`` (stored once), e.g. ``k:3f2a…`` (22 bytes)."""
    key = prefix + hashlib.sha256(payload.encode()).hexdigest()[:20]
    if session.get(ShortPayload, key) is None:
        session.merge(ShortPayload(key=key, payload=payload))
    return key


def expand_key(session: Session, key: str) -> str | None:
    """The payload behind a short key, or None if unknown."""
    row = session.get(ShortPayload, key)
    return row.payload if row else None
