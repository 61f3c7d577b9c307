"""The chat API used by the web chat (DESIGN.md contract 2).

Async routes: the gateway runs database work in threads and holds no session across the
call to Rasa (see bot.chat.service).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.chat import web_session
from bot.chat.identity import Citizen
from bot.chat.models import WebInboxMessage
from bot.chat.schemas import (
    SENDER_PATTERN,
    ChatRequest,
    ChatResponse,
    OutgoingMessage,
    SessionRequest,
    SessionResponse,
    Update,
    UpdatesResponse,
)
from bot.chat.service import Gateway
from bot.chat.web_session import COOKIE
from bot.config import Settings
from bot.db import Database
from bot.web.problems import chat_problems
from bot.web.rates import per_address

# every endpoint of the web chat counts against its caller's address (bot/web/rates.py)
router = APIRouter(tags=["chat"], dependencies=[Depends(per_address)])

NOT_YOURS = "Cuộc trò chuyện này không thuộc trình duyệt của bạn. Bạn tải lại trang để bắt đầu."


@router.post("/api/chat", response_model=ChatResponse, responses=chat_problems())
async def chat(body: ChatRequest, request: Request) -> ChatResponse:
    """Answer one web-chat message."""
    gateway: Gateway = request.app.state.gateway
    replies = await gateway.answer(Citizen.web(body.sender_id), body.text)
    return ChatResponse(messages=replies)


@router.post("/api/chat/session", response_model=SessionResponse, responses=chat_problems())
async def session(body: SessionRequest, request: Request, response: Response) -> SessionResponse:
    """The conversation id this browser owns (its own again, or a new one), with its proof."""
    settings: Settings = request.app.state.settings
    secret = settings.secret_key.get_secret_value()
    given = body.sender_id
    owned = given is not None and web_session.owns(secret, given, request.cookies.get(COOKIE))
    sender_id = given if owned and given is not None else web_session.new_sender_id()
    response.set_cookie(
        COOKIE,
        web_session.proof(secret, sender_id),
        max_age=settings.retention_days * 86_400,
        path="/api/chat",
        httponly=True,
        samesite="strict",
        secure=settings.environment == "production",
    )
    return SessionResponse(sender_id=sender_id)


@router.get("/api/chat/updates", response_model=UpdatesResponse, responses=chat_problems(403))
async def updates(
    request: Request,
    sender_id: str = Query(pattern=SENDER_PATTERN),
    ack: str = Query(
        default="",
        pattern=r"^[0-9,]{0,400}$",
        description="ids the page has shown, comma-separated",
    ),
) -> UpdatesResponse:
    """What arrived for this browser's conversation (an officer's reply), not yet acknowledged.

    Only the browser that owns the conversation may read it (its cookie). The messages the
    page names in ``ack`` (it has shown them) are deleted; the others stay until it does.
    """
    settings: Settings = request.app.state.settings
    secret = settings.secret_key.get_secret_value()
    if not web_session.owns(secret, sender_id, request.cookies.get(COOKIE)):
        raise HTTPException(status_code=403, detail=NOT_YOURS)
    sender = Citizen.web(sender_id).sender
    shown = {int(i) for i in ack.split(",") if i}

    def take(session: Session) -> list[Update]:
        if shown:
            session.execute(
                delete(WebInboxMessage).where(
                    WebInboxMessage.sender == sender, WebInboxMessage.id.in_(shown)
                )
            )
        rows = session.scalars(
            select(WebInboxMessage)
            .where(WebInboxMessage.sender == sender)
            .order_by(WebInboxMessage.id)
        ).all()
        return [
            Update(id=r.id, **OutgoingMessage.model_validate(r.payload).model_dump()) for r in rows
        ]

    db: Database = request.app.state.db
    return UpdatesResponse(messages=await db.run(take))
