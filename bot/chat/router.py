"""The chat API used by the web chat (DESIGN.md contract 2)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from bot.chat import service as chat_service
from bot.chat.schemas import ChatRequest, ChatResponse
from bot.dependencies import SessionDep, SettingsDep

router = APIRouter(tags=["chat"])

WEB_CHANNEL = "web"


@router.post("/api/chat", response_model=ChatResponse)
async def chat(
    body: ChatRequest, request: Request, settings: SettingsDep, session: SessionDep
) -> ChatResponse:
    """Answer one web-chat message."""
    replies = await chat_service.handle_message(
        session=session,
        rasa=request.app.state.rasa,
        sender=f"{WEB_CHANNEL}:{body.sender_id}",
        text=body.text,
        channel=WEB_CHANNEL,
        max_chars=settings.max_message_chars,
    )
    return ChatResponse(messages=replies)
