"""The chat API used by the web chat (DESIGN.md contract 2).

Async routes: the gateway runs database work in threads and holds no session across the
call to Rasa (see bot.chat.service).
"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.chat.identity import Citizen
from bot.chat.models import WebInboxMessage
from bot.chat.schemas import SENDER_PATTERN, ChatRequest, ChatResponse, OutgoingMessage
from bot.chat.service import Gateway
from bot.db import Database

router = APIRouter(tags=["chat"])


@router.post("/api/chat", response_model=ChatResponse)
async def chat(body: ChatRequest, request: Request) -> ChatResponse:
    """Answer one web-chat message."""
    gateway: Gateway = request.app.state.gateway
    replies = await gateway.answer(Citizen.web(body.sender_id), body.text)
    return ChatResponse(messages=replies)


@router.get("/api/chat/updates", response_model=ChatResponse)
async def updates(request: Request, sender_id: str = Query(pattern=SENDER_PATTERN)) -> ChatResponse:
    """Messages that arrived for a web-chat citizen (an officer's reply), handed out once."""
    sender = Citizen.web(sender_id).sender

    def take(session: Session) -> list[OutgoingMessage]:
        rows = session.scalars(
            select(WebInboxMessage)
            .where(WebInboxMessage.sender == sender)
            .order_by(WebInboxMessage.id)
        ).all()
        if rows:
            ids = [r.id for r in rows]
            session.execute(delete(WebInboxMessage).where(WebInboxMessage.id.in_(ids)))
        return [OutgoingMessage.model_validate(r.payload) for r in rows]

    db: Database = request.app.state.db
    return ChatResponse(messages=await db.run(take))
