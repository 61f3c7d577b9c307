"""The chat API used by the web chat (DESIGN.md contract 2)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy import delete, select

from bot.chat import service as chat_service
from bot.chat.schemas import SENDER_PATTERN, ChatRequest, ChatResponse, OutgoingMessage
from bot.dependencies import SessionDep, SettingsDep
from bot.handoff.models import WebInboxMessage

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
        clock=request.app.state.clock,
    )
    return ChatResponse(messages=replies)


@router.get("/api/chat/updates", response_model=ChatResponse)
async def updates(
    session: SessionDep, sender_id: str = Query(pattern=SENDER_PATTERN)
) -> ChatResponse:
    """Messages that arrived for a web-chat citizen (an officer's reply), handed out once."""
    sender = f"{WEB_CHANNEL}:{sender_id}"
    rows = session.scalars(
        select(WebInboxMessage).where(WebInboxMessage.sender == sender).order_by(WebInboxMessage.id)
    ).all()
    if rows:
        session.execute(delete(WebInboxMessage).where(WebInboxMessage.id.in_([r.id for r in rows])))
    return ChatResponse(messages=[OutgoingMessage.model_validate(r.payload) for r in rows])
