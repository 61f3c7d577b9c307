"""Rasa's NLG endpoint: Rasa asks for a response by name, we return its text."""

from __future__ import annotations

import logging
from functools import partial

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from bot.analytics import service as analytics
from bot.db import Database
from bot.faq import service as faq_service
from bot.faq.exceptions import ResponseMissingError
from bot.faq.schemas import BotResponse, NlgRequest

logger = logging.getLogger(__name__)

router = APIRouter(tags=["nlg"])

_MISSING_TEXT = (
    "Xin lỗi, câu trả lời cho mục này đang được cập nhật. Bạn có thể hỏi cán bộ "
    "Công an xã/phường nơi bạn ở."
)


@router.post("/nlg", response_model=BotResponse)
async def nlg(body: NlgRequest, request: Request) -> BotResponse:
    """Return the current text of the response Rasa asks for (and note the citizen's turn).

    Rasa waits for this on every reply: the database work goes through the same worker
    threads (and limits) as the chat gateway's.
    """
    db: Database = request.app.state.db
    return await db.run(partial(_render, body=body))


def _render(session: Session, *, body: NlgRequest) -> BotResponse:
    try:
        with session.begin_nested():
            analytics.record_turn(session, body.tracker, body.response)
    except Exception:  # figures must never cost a citizen their answer
        logger.exception("turn not recorded")
    try:
        response = faq_service.render_response(session=session, name=body.response)
    except ResponseMissingError:
        logger.error("No text stored for response %s", body.response)
        return BotResponse(text=_MISSING_TEXT, buttons=[faq_service.MENU_BUTTON])
    if body.arguments:
        response.text = faq_service.fill_placeholders(response.text, body.arguments)
    return response
