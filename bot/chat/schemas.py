"""Chat API shapes (DESIGN.md contract 2)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from bot.faq.schemas import Button

SENDER_PATTERN = r"^[A-Za-z0-9_.:\-]{1,64}$"


class ChatRequest(BaseModel):
    """A citizen's message: who sends it and what they typed (or a button payload)."""

    sender_id: str = Field(pattern=SENDER_PATTERN)
    # Long texts are refused politely by the service, not by validation, so
    # the citizen gets a reply in the chat instead of an HTTP error.
    text: str = Field(max_length=100_000)


class OutgoingMessage(BaseModel):
    """One bubble of the reply."""

    text: str
    buttons: list[Button] = Field(default_factory=list)


class ChatResponse(BaseModel):
    """All bubbles of the reply, in order."""

    messages: list[OutgoingMessage]


class SessionRequest(BaseModel):
    """The page's conversation id, if it has one (kept when this browser owns it)."""

    sender_id: str | None = Field(default=None, pattern=SENDER_PATTERN)


class SessionResponse(BaseModel):
    """The conversation id this browser now owns."""

    sender_id: str


class Update(OutgoingMessage):
    """A message that arrived later (an officer's reply); ``id`` acknowledges it."""

    id: int


class UpdatesResponse(BaseModel):
    """The messages not yet acknowledged, oldest first."""

    messages: list[Update]
