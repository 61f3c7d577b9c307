"""Shapes of the seed content and of the NLG exchange."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


class Button(BaseModel):
    """A reply button: the label shown and the payload sent back when pressed."""

    title: str = Field(min_length=1, max_length=64)
    payload: str = Field(min_length=1, max_length=256)


class FaqTopic(BaseModel):
    """One topic of ``data/faq/*.yml``."""

    key: str
    title: str = Field(min_length=2, max_length=40)
    answer: str = Field(min_length=20, max_length=1200)
    # up to three related topics, plus "officer" for the "Gặp cán bộ" button
    related: list[str] = Field(default_factory=list, max_length=4)
    sources: list[str] = Field(default_factory=list)
    last_reviewed: date
    questions: list[str] = Field(default_factory=list)

    @field_validator("key")
    @classmethod
    def _key_shape(cls, value: str) -> str:
        if not KEY_RE.match(value):
            raise ValueError(f"bad topic key {value!r}")
        return value

    @field_validator("related")
    @classmethod
    def _three_topics(cls, value: list[str]) -> list[str]:
        if len([k for k in value if k != "officer"]) > 3:
            raise ValueError("at most three related topics")
        return value


class BotResponse(BaseModel):
    """A rendered reply, as Rasa's NLG endpoint returns it."""

    text: str
    buttons: list[Button] = Field(default_factory=list)


class NlgRequest(BaseModel):
    """The body Rasa posts to the NLG endpoint."""

    response: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    tracker: dict[str, Any] = Field(default_factory=dict)
    channel: dict[str, Any] = Field(default_factory=dict)
