"""Shapes of the seed content and of the NLG exchange."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, field_validator

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")
PART_MAX = 450  # one screen of a small phone
PARTS_MAX = 3
MORE_TITLE_MAX = 30
# A line "--- <button label>" starts the next part of an answer ("Xem thêm").
_PART_RE = re.compile(r"^---[ \t]*(.*?)[ \t]*$", re.MULTILINE)
DEFAULT_MORE_TITLE = "Xem thêm"


class Part(BaseModel):
    """One screen of an answer, and the label of the button that shows it (not the first)."""

    title: str
    text: str


def split_parts(answer: str) -> list[Part]:
    """The screens of an answer: the first, then each "--- label" part."""
    pieces = _PART_RE.split(answer.strip())
    parts = [Part(title="", text=pieces[0].strip())]
    for title, text in zip(pieces[1::2], pieces[2::2], strict=True):
        parts.append(Part(title=title.strip() or DEFAULT_MORE_TITLE, text=text.strip()))
    return parts


def first_screen(answer: str) -> str:
    """What a citizen sees first of an answer (the rest is behind its buttons)."""
    return split_parts(answer)[0].text


def part_problems(answer: str) -> list[str]:
    """What is wrong with the parts of an answer (empty, too long, too many), in Vietnamese."""
    parts = split_parts(answer)
    problems = []
    if len(parts) > PARTS_MAX:
        problems.append(f"Tối đa {PARTS_MAX} phần (mỗi phần bắt đầu bằng dòng '--- tên nút').")
    for n, part in enumerate(parts, 1):
        if not part.text:
            problems.append(f"Phần {n} trống.")
        elif len(part.text) > PART_MAX:
            problems.append(f"Phần {n} dài {len(part.text)} ký tự, tối đa {PART_MAX}.")
        if len(part.title) > MORE_TITLE_MAX:
            problems.append(f"Tên nút của phần {n} dài quá {MORE_TITLE_MAX} ký tự.")
    return problems


class Button(BaseModel):
    """A reply button: the label shown and the payload sent back when pressed."""

    title: str = Field(min_length=1, max_length=64)
    payload: str = Field(min_length=1, max_length=256)


class FaqTopic(BaseModel):
    """One topic of ``data/faq/*.yml``."""

    key: str
    title: str = Field(min_length=2, max_length=40)
    answer: str = Field(min_length=20, max_length=PARTS_MAX * (PART_MAX + 40))
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

    @field_validator("answer")
    @classmethod
    def _parts_fit(cls, value: str) -> str:
        problems = part_problems(value)
        if problems:
            raise ValueError(" ".join(problems))
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
